#!/usr/bin/env node
// Benchmark of @confidential-ai/chutes-crypto against the node:crypto baseline, measured in the same run.
// Usage: node bench/run.mjs [--json] [--quick]   (needs a build: npx tsup)
// Each row alternates short rounds of "ours" and "baseline" and reports the median rate of each in operations
// per CPU-second of this process, so both sides see the same machine load and other processes matter little. ratio = baseline rate / our rate (1.00 = as fast as native; the goal on
// Node >= 24.7 is <= 1.30). Where native ML-KEM is missing (Node < 24.7) the ML-KEM baseline is the pure
// library (@noble/post-quantum) called directly, and the table says so.
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import * as ours from '../dist/index.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const quick = args.has('--quick');
const ROUNDS = quick ? 3 : 21;
const ROUND_MS = quick ? 60 : 80;

const support = ours.nativeSupport();
const nativeKem = support.mlKem768;

function rate(fn) {
  // Runs fn repeatedly for about ROUND_MS of wall time and returns operations per CPU-second of this
  // process (user + system time), which is far less sensitive to other processes on a busy machine than
  // wall-clock time.
  let ops = 0;
  const deadline = process.hrtime.bigint() + BigInt(ROUND_MS * 1e6);
  const cpuStart = process.cpuUsage();
  do {
    for (let i = 0; i < 8; i++) fn();
    ops += 8;
  } while (process.hrtime.bigint() < deadline);
  const cpu = process.cpuUsage(cpuStart);
  return ops / ((cpu.user + cpu.system) / 1e6);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function compare(fnOurs, fnBaseline, fnPure) {
  for (let i = 0; i < 50; i++) {
    fnOurs();
    fnBaseline();
    fnPure?.();
  }
  const a = [];
  const b = [];
  const c = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(rate(fnOurs));
    b.push(rate(fnBaseline));
    if (fnPure) c.push(rate(fnPure));
  }
  return { ours: median(a), baseline: median(b), pure: fnPure ? median(c) : undefined };
}

const rows = [];
function row(name, unit, perOp, result, baselineName, note) {
  const scale = perOp ?? 1; // bytes per op for MB/s rows
  const convert = (value) =>
    value === undefined ? undefined : unit === 'MB/s' ? (value * scale) / 1e6 : value;
  rows.push({
    name,
    unit,
    ours: convert(result.ours),
    baseline: convert(result.baseline),
    pureJs: convert(result.pure),
    ratio: result.baseline / result.ours,
    baselineName,
    note,
  });
}

// ---- ML-KEM-768 -----------------------------------------------------------------------------------------
const instance = ours.generateKeyPair(new Uint8Array(64).fill(7), { backend: 'js' });
const kemBaselineName = nativeKem ? 'node:crypto' : '@noble/post-quantum (native ML-KEM absent)';
let nativePublic;
let nativePrivate;
let pkcs8;
if (nativeKem) {
  nativePublic = crypto.createPublicKey({
    key: instance.publicKey,
    format: 'raw-public',
    asymmetricKeyType: 'ml-kem-768',
  });
  // Wrap the expanded key as PKCS#8 (expandedKey form) exactly like a native-only implementation would.
  const header = (tag, length) => [tag, 0x82, length >> 8, length & 0xff];
  const algorithm = [0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x02];
  pkcs8 = Buffer.from([
    ...header(0x30, 3 + 13 + 2408),
    2,
    1,
    0,
    ...algorithm,
    ...header(4, 2404),
    ...header(4, 2400),
    ...instance.secretKey,
  ]);
  nativePrivate = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}
const sampleCiphertext = ours.encapsulate(instance.publicKey, { backend: 'js' }).ciphertext;

row(
  'ML-KEM-768 keygen',
  'ops/s',
  undefined,
  compare(
    () => ours.generateKeyPair(),
    nativeKem
      ? () => {
          // The API hands out both keys as bytes, so native must export the expanded key too.
          const pair = crypto.generateKeyPairSync('ml-kem-768');
          pair.publicKey.export({ format: 'raw-public' });
          pair.privateKey.export({ format: 'der', type: 'pkcs8' });
        }
      : () => ml_kem768.keygen(),
    () => ours.generateKeyPair(undefined, { backend: 'js' }),
  ),
  kemBaselineName,
);
row(
  'ML-KEM-768 encapsulate (same key)',
  'ops/s',
  undefined,
  compare(
    () => ours.encapsulate(instance.publicKey),
    nativeKem ? () => crypto.encapsulate(nativePublic) : () => ml_kem768.encapsulate(instance.publicKey),
    () => ours.encapsulate(instance.publicKey, { backend: 'js' }),
  ),
  kemBaselineName,
);
row(
  'ML-KEM-768 encapsulate (new key bytes each call)',
  'ops/s',
  undefined,
  compare(
    () => ours.encapsulate(instance.publicKey.slice()),
    nativeKem
      ? () =>
          crypto.encapsulate(
            crypto.createPublicKey({
              key: instance.publicKey,
              format: 'raw-public',
              asymmetricKeyType: 'ml-kem-768',
            }),
          )
      : () => ml_kem768.encapsulate(instance.publicKey.slice()),
  ),
  kemBaselineName,
);
row(
  'ML-KEM-768 decapsulate (same key)',
  'ops/s',
  undefined,
  compare(
    () => ours.decapsulate(sampleCiphertext, instance.secretKey),
    nativeKem
      ? () => crypto.decapsulate(nativePrivate, sampleCiphertext)
      : () => ml_kem768.decapsulate(sampleCiphertext, instance.secretKey),
    () => ours.decapsulate(sampleCiphertext, instance.secretKey, { backend: 'js' }),
  ),
  kemBaselineName,
);
row(
  'ML-KEM-768 decapsulate (new key bytes each call)',
  'ops/s',
  undefined,
  compare(
    () => ours.decapsulate(sampleCiphertext, instance.secretKey.slice()),
    nativeKem
      ? () =>
          crypto.decapsulate(
            crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
            sampleCiphertext,
          )
      : () => ml_kem768.decapsulate(sampleCiphertext, instance.secretKey.slice()),
  ),
  kemBaselineName,
);

// ---- ChaCha20-Poly1305 ----------------------------------------------------------------------------------
const key = new Uint8Array(32).fill(1);
const nonce = new Uint8Array(12).fill(2);
function nativeSeal(plaintext) {
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}
function nativeOpen(sealed) {
  const decipher = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
}
for (const size of [1024, 65536]) {
  const plaintext = new Uint8Array(size).fill(3);
  const sealed = ours.chacha20Poly1305Seal(key, nonce, plaintext);
  const label = size === 1024 ? '1 KiB' : '64 KiB';
  row(
    `ChaCha20-Poly1305 seal ${label}`,
    'MB/s',
    size,
    compare(
      () => ours.chacha20Poly1305Seal(key, nonce, plaintext),
      () => nativeSeal(plaintext),
      () => ours.chacha20Poly1305Seal(key, nonce, plaintext, undefined, { backend: 'js' }),
    ),
    'node:crypto',
  );
  row(
    `ChaCha20-Poly1305 open ${label}`,
    'MB/s',
    size,
    compare(
      () => ours.chacha20Poly1305Open(key, nonce, sealed),
      () => nativeOpen(sealed),
      () => ours.chacha20Poly1305Open(key, nonce, sealed, undefined, { backend: 'js' }),
    ),
    'node:crypto',
  );
}

// ---- Full exchange ---------------------------------------------------------------------------------------
// Client seals a request, instance opens it and seals the response, client opens the response. The baseline
// is the same pipeline written directly on node:crypto + node:zlib (+ noble ML-KEM where native is missing),
// without this package's validation and copying.
const payload = {
  model: 'deepseek-ai/DeepSeek-V3-0324',
  messages: [{ role: 'user', content: 'Write one sentence about the sea.' }],
  max_tokens: 64,
};
const responseBody = JSON.stringify({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'The sea remembers every storm.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
});
const REQ = Buffer.from('e2e-req-v1');
const RESP = Buffer.from('e2e-resp-v1');
function baselineEncapsulate(publicKeyOrObject) {
  if (nativeKem) {
    const object =
      publicKeyOrObject instanceof Uint8Array
        ? crypto.createPublicKey({
            key: publicKeyOrObject,
            format: 'raw-public',
            asymmetricKeyType: 'ml-kem-768',
          })
        : publicKeyOrObject;
    const { ciphertext, sharedKey } = crypto.encapsulate(object);
    return { ciphertext, sharedSecret: sharedKey };
  }
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKeyOrObject);
  return { ciphertext: cipherText, sharedSecret };
}
function baselineDecapsulate(ciphertext, secret) {
  return nativeKem ? crypto.decapsulate(secret, ciphertext) : ml_kem768.decapsulate(ciphertext, secret);
}
function baselineSeal(recipient, plaintext, info) {
  const { ciphertext, sharedSecret } = baselineEncapsulate(recipient);
  const k = Buffer.from(crypto.hkdfSync('sha256', sharedSecret, ciphertext.subarray(0, 16), info, 32));
  const n = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('chacha20-poly1305', k, n, { authTagLength: 16 });
  return Buffer.concat([ciphertext, n, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}
function baselineOpen(blob, secret, info) {
  const ct = blob.subarray(0, 1088);
  const sharedSecret = baselineDecapsulate(ct, secret);
  const k = Buffer.from(crypto.hkdfSync('sha256', sharedSecret, ct.subarray(0, 16), info, 32));
  const decipher = crypto.createDecipheriv('chacha20-poly1305', k, blob.subarray(1088, 1100), {
    authTagLength: 16,
  });
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([decipher.update(blob.subarray(1100, blob.length - 16)), decipher.final()]);
}
const instanceTarget = nativeKem ? nativePublic : instance.publicKey;
const instanceSecret = nativeKem ? nativePrivate : instance.secretKey;
function baselineExchange() {
  let responsePublic;
  let responseSecret;
  if (nativeKem) {
    const pair = crypto.generateKeyPairSync('ml-kem-768');
    responsePublic = pair.publicKey.export({ format: 'raw-public' });
    responseSecret = pair.privateKey;
  } else {
    const pair = ml_kem768.keygen();
    responsePublic = pair.publicKey;
    responseSecret = pair.secretKey;
  }
  const body = Buffer.from(
    JSON.stringify({ ...payload, e2e_response_pk: Buffer.from(responsePublic).toString('base64') }),
  );
  const blob = baselineSeal(instanceTarget, zlib.gzipSync(body), REQ);
  const opened = JSON.parse(zlib.gunzipSync(baselineOpen(blob, instanceSecret, REQ)).toString('utf8'));
  const clientKey = Buffer.from(opened.e2e_response_pk, 'base64');
  const reply = baselineSeal(clientKey, zlib.gzipSync(Buffer.from(responseBody)), RESP);
  return JSON.parse(zlib.gunzipSync(baselineOpen(reply, responseSecret, RESP)).toString('utf8'));
}
function oursExchange(options) {
  const { blob, responseKeyPair } = ours.sealRequest(instance.publicKey, payload, options);
  const { responsePublicKey } = ours.openRequest(blob, instance.secretKey, options);
  const reply = ours.sealResponse(responseBody, responsePublicKey, options);
  return ours.openResponse(reply, responseKeyPair.secretKey, options);
}
row(
  'full exchange: request seal + open, response seal + open',
  'ops/s',
  undefined,
  compare(
    () => oursExchange(),
    baselineExchange,
    () => oursExchange({ backend: 'js' }),
  ),
  nativeKem ? 'node:crypto + node:zlib' : 'node:crypto + node:zlib + @noble/post-quantum',
);
row(
  'client only: sealRequest + openResponse',
  'ops/s',
  undefined,
  (() => {
    // Pre-build responses for a pool of requests so only the client's two calls are timed.
    const pool = Array.from({ length: 64 }, () => {
      const sealedRequest = ours.sealRequest(instance.publicKey, payload);
      const reply = ours.sealResponse(responseBody, sealedRequest.responseKeyPair.publicKey);
      return { reply, secretKey: sealedRequest.responseKeyPair.secretKey };
    });
    const baselinePool = pool.map(({ reply, secretKey }) => ({
      reply: Buffer.from(reply),
      secret: nativeKem
        ? crypto.createPrivateKey({
            key: Buffer.concat([pkcs8.subarray(0, pkcs8.length - 2400), secretKey]),
            format: 'der',
            type: 'pkcs8',
          })
        : secretKey,
    }));
    let i = 0;
    let j = 0;
    return compare(
      () => {
        ours.sealRequest(instance.publicKey, payload);
        const item = pool[i++ & 63];
        return ours.openResponse(item.reply, item.secretKey);
      },
      () => {
        let responsePublic;
        if (nativeKem) {
          const pair = crypto.generateKeyPairSync('ml-kem-768');
          responsePublic = pair.publicKey.export({ format: 'raw-public' });
          pair.privateKey.export({ format: 'der', type: 'pkcs8' });
        } else {
          responsePublic = ml_kem768.keygen().publicKey;
        }
        const body = Buffer.from(
          JSON.stringify({ ...payload, e2e_response_pk: Buffer.from(responsePublic).toString('base64') }),
        );
        baselineSeal(instanceTarget, zlib.gzipSync(body), REQ);
        const item = baselinePool[j++ & 63];
        return JSON.parse(zlib.gunzipSync(baselineOpen(item.reply, item.secret, RESP)).toString('utf8'));
      },
    );
  })(),
  nativeKem ? 'node:crypto + node:zlib' : 'node:crypto + node:zlib + @noble/post-quantum',
  'response blobs pre-sealed to a pool of 64 request keys; both sides decapsulate with an already imported key',
);

// ---- SSE chunks ------------------------------------------------------------------------------------------
const line =
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764460800,"model":"deepseek-ai/DeepSeek-V3-0324","choices":[{"index":0,"delta":{"content":" storm"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":12,"total_tokens":19,"completion_tokens":7}}\n';
const streamKey = new Uint8Array(32).fill(5);
const events = Array.from({ length: 64 }, () =>
  Buffer.from(ours.sealStreamChunk(line, streamKey)).toString('base64'),
);
let e1 = 0;
let e2 = 0;
let e3 = 0;
row(
  `SSE e2e chunks decrypted (${line.length}-byte line, base64 in, text out)`,
  'chunks/s',
  undefined,
  compare(
    () => ours.openStreamChunk(events[e1++ & 63], streamKey),
    () => {
      const data = Buffer.from(events[e2++ & 63], 'base64');
      const decipher = crypto.createDecipheriv('chacha20-poly1305', streamKey, data.subarray(0, 12), {
        authTagLength: 16,
      });
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString(
        'utf8',
      );
    },
    () => ours.openStreamChunk(events[e3++ & 63], streamKey, { backend: 'js' }),
  ),
  'node:crypto + Buffer base64',
);

// ---- Report ----------------------------------------------------------------------------------------------
const environment = {
  node: process.version,
  openssl: process.versions.openssl,
  nativeSupport: support,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
};
if (json) {
  process.stdout.write(`${JSON.stringify({ environment, rows }, null, 2)}\n`);
} else {
  const format = (value) =>
    value === undefined ? '-' : value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
  console.log(`chutes-crypto benchmark: Node ${process.version}, OpenSSL ${process.versions.openssl}`);
  console.log(`native primitives in use: ${JSON.stringify(support)}`);
  if (!nativeKem)
    console.log(
      'native ML-KEM is absent in this runtime: ML-KEM rows compare against @noble/post-quantum directly',
    );
  console.log(
    'rates are per CPU-second of this process; ratio = baseline / ours (1.00 = parity, > 1 = ours slower)\n',
  );
  const header = ['benchmark', 'unit', 'ours', 'baseline', 'ratio', 'pure js', 'baseline is'];
  const table = rows.map((r) => [
    r.name,
    r.unit,
    format(r.ours),
    format(r.baseline),
    r.ratio.toFixed(2),
    format(r.pureJs),
    r.baselineName,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const print = (cells) =>
    console.log(
      cells.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  '),
    );
  print(header);
  for (const t of table) print(t);
  for (const r of rows) if (r.note) console.log(`note (${r.name}): ${r.note}`);
}
