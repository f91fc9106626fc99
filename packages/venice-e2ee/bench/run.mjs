// Field-cipher cost versus a node:crypto baseline measured in the same run (not a test).
// Usage: npm run build && node bench/run.mjs [--json] [--quick]
// Each row alternates short rounds of ours, the baseline and the pure (noble) path, and reports the median CPU
// time per operation of this process (user + system), which is far less sensitive to other processes on a busy
// machine than wall-clock time. ratio = ours / baseline (1.00 = as fast as the node:crypto baseline).
// The baselines are the same operations written directly on node:crypto with the best native shape (a model key
// imported once); node:crypto has no Ed25519-to-X25519 conversion, so the Ed25519 baselines start from X25519 keys.
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  createFieldDecryptor,
  createFieldEncryptor,
  createFieldKeyAgreement,
  decryptField,
  ed25519PrivateKeyToX25519,
  ed25519PublicKeyToX25519,
  encryptField,
  fieldCipherBackends,
  generateFieldKeyPair,
} from '../dist/index.js';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false } },
});
const ROUNDS = values.quick ? 3 : 15;
const ROUND_MS = values.quick ? 60 : 100;
const plaintext = 'The quick brown fox jumps over the lazy dog. '.repeat(6); // ~270 bytes, a typical message
const token = ' storm'; // one streamed token
const AAD =
  'v2|resp|algo=ecdsa|model=fake-model|id=chatcmpl-0123456789abcdef|choice=0|field=content|n=0123456789abcdef|ts=1700000000';
const EMPTY = Buffer.alloc(0);

function rate(fn) {
  let ops = 0;
  const deadline = process.hrtime.bigint() + BigInt(ROUND_MS * 1e6);
  const cpuStart = process.cpuUsage();
  do {
    for (let i = 0; i < 4; i++) fn();
    ops += 4;
  } while (process.hrtime.bigint() < deadline);
  const cpu = process.cpuUsage(cpuStart);
  return ops / ((cpu.user + cpu.system) / 1e6);
}

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const rows = [];
function row(name, ours, baseline, pure) {
  for (let i = 0; i < 10; i++) {
    ours();
    baseline();
    pure?.();
  }
  const a = [];
  const b = [];
  const c = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(rate(ours));
    b.push(rate(baseline));
    if (pure) c.push(rate(pure));
  }
  const micros = (list) => (list.length === 0 ? undefined : 1e6 / median(list));
  rows.push({
    name,
    oursMicroseconds: micros(a),
    baselineMicroseconds: micros(b),
    pureMicroseconds: micros(c),
    ratio: median(b) / median(a),
  });
}

// ---- secp256k1 (Venice, vllm-proxy ecdsa) ----------------------------------------------------------------
const recipient = generateFieldKeyPair();
const recipientPublic = Buffer.from(recipient.publicKey);
const modelEcdh = createECDH('secp256k1');
modelEcdh.setPrivateKey(Buffer.from(recipient.privateKey));

function baselineEncrypt() {
  const ephemeral = createECDH('secp256k1');
  ephemeral.generateKeys();
  const key = Buffer.from(
    hkdfSync('sha256', ephemeral.computeSecret(recipientPublic), EMPTY, 'ecdsa_encryption', 32),
  );
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([ephemeral.getPublicKey(), nonce, body]).toString('hex');
}

function openWith(secret, bytes, prefix, info) {
  const key = Buffer.from(hkdfSync('sha256', secret, EMPTY, info, 32));
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(prefix, prefix + 12));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([
    decipher.update(bytes.subarray(prefix + 12, bytes.length - 16)),
    decipher.final(),
  ]).toString('utf8');
}

const sample = baselineEncrypt();
function baselineDecrypt() {
  const bytes = Buffer.from(sample, 'hex');
  return openWith(modelEcdh.computeSecret(bytes.subarray(0, 65)), bytes, 65, 'ecdsa_encryption');
}

// One agreement of the model key with a client's ephemeral point: ours (libsecp256k1's constant-time
// `secp256k1_ecdh` through the native addon when it loads, else node:crypto) against a held node:crypto ECDH
// object (OpenSSL's ladder, the fallback backend) and noble.
const modelAgreement = createFieldKeyAgreement(recipient.privateKey);
const pureModelAgreement = createFieldKeyAgreement(recipient.privateKey, { native: false });
const ephemeralPoint = Buffer.from(sample, 'hex').subarray(0, 65);

// ---- Ed25519 / X25519 (vllm-proxy ed25519) ---------------------------------------------------------------
const edModel = generateFieldKeyPair('ed25519');
const x25519Pkcs8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const modelX25519 = createPrivateKey({
  key: Buffer.concat([x25519Pkcs8, ed25519PrivateKeyToX25519(edModel.privateKey)]),
  format: 'der',
  type: 'pkcs8',
});
const edSample = encryptField(plaintext, edModel.publicKey, { suite: 'ed25519' });
const x25519Public = (raw) =>
  createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') },
    format: 'jwk',
  });
function baselineDecryptEd25519() {
  const bytes = Buffer.from(edSample, 'hex');
  const secret = diffieHellman({ privateKey: modelX25519, publicKey: x25519Public(bytes.subarray(0, 32)) });
  return openWith(secret, bytes, 32, 'ed25519_encryption');
}

// ---- per-request response encryptor and per-token encryption ---------------------------------------------
const client = generateFieldKeyPair();
const clientPublic = Buffer.from(client.publicKey);
const edClient = generateFieldKeyPair('ed25519');
const edClientX25519 = x25519Public(ed25519PublicKeyToX25519(edClient.publicKey));
function baselineEncryptorSecp256k1() {
  const ephemeral = createECDH('secp256k1');
  ephemeral.generateKeys();
  const key = hkdfSync('sha256', ephemeral.computeSecret(clientPublic), EMPTY, 'ecdsa_encryption', 32);
  return { prefix: ephemeral.getPublicKey('hex'), key: createSecretKey(Buffer.from(key)) };
}
function baselineEncryptorEd25519() {
  const pair = generateKeyPairSync('x25519');
  const secret = diffieHellman({ privateKey: pair.privateKey, publicKey: edClientX25519 });
  const key = hkdfSync('sha256', secret, EMPTY, 'ed25519_encryption', 32);
  return { prefix: pair.publicKey.export({ format: 'jwk' }).x, key: createSecretKey(Buffer.from(key)) };
}
const baselineStreamKey = baselineEncryptorSecp256k1();
const aadBytes = Buffer.from(AAD);
function baselineToken() {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', baselineStreamKey.key, nonce);
  cipher.setAAD(Buffer.from(AAD));
  const body = Buffer.concat([nonce, cipher.update(token, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return baselineStreamKey.prefix + body.toString('hex');
}
const encryptor = createFieldEncryptor(client.publicKey);
const pureEncryptor = createFieldEncryptor(client.publicKey, { native: false });

for (const check of [
  decryptField(sample, recipient.privateKey) === plaintext,
  baselineDecrypt() === plaintext,
  decryptField(edSample, edModel.privateKey, { suite: 'ed25519' }) === plaintext,
  baselineDecryptEd25519() === plaintext,
  Buffer.from(modelAgreement.sharedSecret(ephemeralPoint)).equals(modelEcdh.computeSecret(ephemeralPoint)),
  decryptField(encryptor.encrypt(token, AAD), client.privateKey, { aad: AAD }) === token,
  decryptField(baselineToken(), client.privateKey, { aad: aadBytes }) === token,
]) {
  if (!check) throw new Error('self-check failed');
}

// The rows printed before (secp256k1 one-shot encrypt and decrypt, fast and pure), then the vllm-proxy ingress.
row('field cipher (fast path) encrypt', () => encryptField(plaintext, recipient.publicKey), baselineEncrypt);
row('field cipher (fast path) decrypt', () => decryptField(sample, recipient.privateKey), baselineDecrypt);
row(
  'field cipher (pure noble) encrypt',
  () => encryptField(plaintext, recipient.publicKey, { native: false }),
  baselineEncrypt,
);
row(
  'field cipher (pure noble) decrypt',
  () => decryptField(sample, recipient.privateKey, { native: false }),
  baselineDecrypt,
);
row(
  'ed25519 field decrypt (model key imported once)',
  () => decryptField(edSample, edModel.privateKey, { suite: 'ed25519' }),
  baselineDecryptEd25519,
  () => decryptField(edSample, edModel.privateKey, { suite: 'ed25519', native: false }),
);
row(
  `secp256k1 agreement, model key held (ours: ${fieldCipherBackends().secp256k1})`,
  () => modelAgreement.sharedSecret(ephemeralPoint),
  () => modelEcdh.computeSecret(ephemeralPoint),
  () => pureModelAgreement.sharedSecret(ephemeralPoint),
);
row(
  'request: decryptor per request + 1 secp256k1 field',
  () => createFieldDecryptor(recipient.privateKey).decrypt(sample),
  baselineDecrypt,
);
row(
  'response encryptor per request, secp256k1 (keygen + ECDH + HKDF)',
  () => createFieldEncryptor(client.publicKey),
  baselineEncryptorSecp256k1,
  () => createFieldEncryptor(client.publicKey, { native: false }),
);
row(
  'response encryptor per request, ed25519 (keygen + X25519 + HKDF)',
  () => createFieldEncryptor(edClient.publicKey, { suite: 'ed25519' }),
  baselineEncryptorEd25519,
  () => createFieldEncryptor(edClient.publicKey, { suite: 'ed25519', native: false }),
);
row(
  'stream chunk: one token encrypted with v2 AAD',
  () => encryptor.encrypt(token, AAD),
  baselineToken,
  () => pureEncryptor.encrypt(token, AAD),
);

const environment = {
  node: process.version,
  openssl: process.versions.openssl,
  backends: fieldCipherBackends(),
};
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ environment, plaintextBytes: Buffer.byteLength(plaintext), rows }, null, 2)}\n`,
  );
} else {
  const f = (value) => (value === undefined ? '-' : value.toFixed(value < 10 ? 2 : 1));
  process.stdout.write(
    `venice-e2ee field cipher, Node ${process.version} (OpenSSL ${process.versions.openssl}); backends ${JSON.stringify(environment.backends)}\n`,
  );
  process.stdout.write(
    `plaintext ${Buffer.byteLength(plaintext)} bytes; CPU µs per operation (median of ${ROUNDS} alternating rounds); ratio = ours / node:crypto baseline\n`,
  );
  const width = Math.max(...rows.map((entry) => entry.name.length));
  process.stdout.write(`${'operation'.padEnd(width)} | ours µs | baseline µs | ratio | pure µs\n`);
  for (const entry of rows) {
    process.stdout.write(
      `${entry.name.padEnd(width)} | ${f(entry.oursMicroseconds).padStart(7)} | ${f(entry.baselineMicroseconds).padStart(11)} | ${entry.ratio.toFixed(2).padStart(5)} | ${f(entry.pureMicroseconds).padStart(7)}\n`,
    );
  }
}
