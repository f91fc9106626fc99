// Field-cipher throughput versus a node:crypto baseline measured in the same run.
// Usage: npm run build && node bench/run.mjs [--json] [--ms 600]
import { createCipheriv, createDecipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { decryptField, encryptField, generateFieldKeyPair } from '../dist/index.js';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, ms: { type: 'string', default: '600' } },
});
const budget = Number(values.ms);
const plaintext = 'The quick brown fox jumps over the lazy dog. '.repeat(6); // ~270 bytes, a typical message

function measure(fn) {
  for (let i = 0; i < 20; i++) fn(); // warm up
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < budget) {
    for (let i = 0; i < 20; i++) fn();
    count += 20;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

const recipient = generateFieldKeyPair();
const recipientPublic = Buffer.from(recipient.publicKey);

function baselineEncrypt() {
  const ephemeral = createECDH('secp256k1');
  ephemeral.generateKeys();
  const key = Buffer.from(
    hkdfSync('sha256', ephemeral.computeSecret(recipientPublic), Buffer.alloc(0), 'ecdsa_encryption', 32),
  );
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([ephemeral.getPublicKey(), nonce, body]).toString('hex');
}

const sample = baselineEncrypt();
function baselineDecrypt() {
  const bytes = Buffer.from(sample, 'hex');
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(Buffer.from(recipient.privateKey));
  const key = Buffer.from(
    hkdfSync('sha256', ecdh.computeSecret(bytes.subarray(0, 65)), Buffer.alloc(0), 'ecdsa_encryption', 32),
  );
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(65, 77));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(77, bytes.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}

if (decryptField(sample, recipient.privateKey) !== plaintext || baselineDecrypt() !== plaintext) {
  throw new Error('self-check failed');
}

const results = [];
const baseEncrypt = measure(baselineEncrypt);
const baseDecrypt = measure(baselineDecrypt);
for (const [name, native] of [
  ['field cipher (node:crypto fast path)', true],
  ['field cipher (pure noble)', false],
]) {
  const encrypt = measure(() => encryptField(plaintext, recipient.publicKey, { native }));
  const decrypt = measure(() => decryptField(sample, recipient.privateKey, { native }));
  results.push({
    name,
    operation: 'encrypt',
    opsPerSecond: encrypt,
    baselineOpsPerSecond: baseEncrypt,
    ratio: encrypt / baseEncrypt,
  });
  results.push({
    name,
    operation: 'decrypt',
    opsPerSecond: decrypt,
    baselineOpsPerSecond: baseDecrypt,
    ratio: decrypt / baseDecrypt,
  });
}

if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ plaintextBytes: Buffer.byteLength(plaintext), results }, null, 2)}\n`,
  );
} else {
  process.stdout.write(
    `plaintext ${Buffer.byteLength(plaintext)} bytes; baseline = node:crypto ECDH + hkdfSync + aes-256-gcm\n`,
  );
  for (const row of results) {
    process.stdout.write(
      `${row.name.padEnd(38)} ${row.operation.padEnd(8)} ${row.opsPerSecond.toFixed(0).padStart(8)} ops/s  baseline ${row.baselineOpsPerSecond.toFixed(0).padStart(8)} ops/s  ratio ${row.ratio.toFixed(2)}\n`,
    );
  }
}
