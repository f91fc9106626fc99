#!/usr/bin/env node
// Signatures signed/verified per second for both schemes, each against a node:crypto baseline measured in
// the same run. Usage: node bench/run.mjs [--json] [--duration <ms per case>]. Needs a built dist/.
import { constants, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  buildChatCanonicalRequest,
  canonicalRequestBytes,
  computeTeeMessageHash,
  createOpenGradientSigner,
  createVllmProxySigner,
  ed25519VerifyText,
  recoverPersonalSignAddress,
  verifyResponse,
  verifyTeeMessageHashSignature,
} from '../dist/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const durationIndex = args.indexOf('--duration');
const duration = durationIndex === -1 ? 1000 : Number(args[durationIndex + 1]);
if (!Number.isFinite(duration) || duration <= 0) {
  process.stderr.write('--duration must be a positive number of milliseconds\n');
  process.exit(2);
}

async function measure(fn) {
  for (let i = 0; i < 5; i++) await fn(); // warm-up
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < duration) {
    for (let i = 0; i < 4; i++) await fn();
    count += 4;
    elapsed = performance.now() - start;
  }
  return (count * 1000) / elapsed;
}

const results = [];
async function compare(name, ours, baseline, baselineName) {
  const oursRate = await measure(ours);
  const baseRate = await measure(baseline);
  results.push({
    name,
    opsPerSecond: oursRate,
    baseline: baselineName,
    baselineOpsPerSecond: baseRate,
    ratio: oursRate / baseRate,
  });
}

// --- OpenGradient: RSA-2048 PSS (WebCrypto) vs node:crypto ---
const { privateKey: rsaPrivate, publicKey: rsaPublic } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPrivatePem = rsaPrivate.export({ type: 'pkcs8', format: 'pem' });
const signer = await createOpenGradientSigner({ privateKey: rsaPrivatePem });
const requestText = JSON.stringify({
  model: 'gpt-4.1',
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'Héllo 👋, what is the weather in Paris?' },
  ],
  temperature: 0.7,
  max_tokens: 100,
});
const canonicalRequest = buildChatCanonicalRequest(requestText);
const content = 'It is sunny in Paris. '.repeat(20);
const { msgHash } = computeTeeMessageHash(canonicalRequestBytes(canonicalRequest), content, 1747000000);
const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
const nodeRsaSignature = nodeSign('sha256', msgHash, { key: rsaPrivate, ...pss });
const ourRsaSignature = await signer.signMessageHash(msgHash);
const fields = await signer.signResponse({
  canonicalRequest,
  responseContent: content,
  timestamp: 1747000000,
});
const response = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
  ...fields,
};
const responseText = JSON.stringify(response);

await compare(
  'opengradient sign msg_hash (RSA-PSS, WebCrypto)',
  () => signer.signMessageHash(msgHash),
  () => nodeSign('sha256', msgHash, { key: rsaPrivate, ...pss }),
  'node:crypto sign',
);
await compare(
  'opengradient signResponse (canonical JSON + keccak + RSA-PSS)',
  () => signer.signResponse({ canonicalRequest, responseContent: content, timestamp: 1747000000 }),
  () => nodeSign('sha256', msgHash, { key: rsaPrivate, ...pss }),
  'node:crypto sign',
);
await compare(
  'opengradient verify msg_hash signature',
  () => verifyTeeMessageHashSignature(signer.publicKey, msgHash, ourRsaSignature),
  () => nodeVerify('sha256', msgHash, { key: rsaPublic, ...pss }, nodeRsaSignature),
  'node:crypto verify',
);
await compare(
  'opengradient verifyResponse (whole JSON response)',
  () => verifyResponse({ request: requestText, response: responseText, signingKey: signer.publicKey }),
  () => nodeVerify('sha256', msgHash, { key: rsaPublic, ...pss }, nodeRsaSignature),
  'node:crypto verify',
);

// --- vllm-proxy: secp256k1 EIP-191 and Ed25519 (@noble/curves) vs node:crypto ---
const text = `${'a'.repeat(64)}:${'b'.repeat(64)}`;
const textBytes = Buffer.from(text);
const ecdsa = createVllmProxySigner({ algorithm: 'ecdsa' });
const ecdsaSignature = ecdsa.sign(text);
const { privateKey: k1Private, publicKey: k1Public } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
const k1Signature = nodeSign('sha256', textBytes, k1Private);
await compare(
  'vllm ecdsa personal_sign (noble secp256k1 + keccak)',
  () => ecdsa.sign(text),
  () => nodeSign('sha256', textBytes, k1Private),
  'node:crypto secp256k1 sign (DER, not recoverable)',
);
await compare(
  'vllm ecdsa recover + compare address',
  () => {
    if (recoverPersonalSignAddress(text, ecdsaSignature) !== ecdsa.signingAddress) throw new Error('bad');
  },
  () => nodeVerify('sha256', textBytes, k1Public, k1Signature),
  'node:crypto secp256k1 verify',
);

const ed = createVllmProxySigner({ algorithm: 'ed25519' });
const edSignature = ed.sign(text);
const { privateKey: edPrivate, publicKey: edPublic } = generateKeyPairSync('ed25519');
const nodeEdSignature = nodeSign(null, textBytes, edPrivate);
await compare(
  'vllm ed25519 sign (noble)',
  () => ed.sign(text),
  () => nodeSign(null, textBytes, edPrivate),
  'node:crypto ed25519 sign',
);
await compare(
  'vllm ed25519 verify (noble, strict)',
  () => ed25519VerifyText(ed.signingPublicKey, text, edSignature),
  () => nodeVerify(null, textBytes, edPublic, nodeEdSignature),
  'node:crypto ed25519 verify',
);

if (json) {
  process.stdout.write(
    `${JSON.stringify({ node: process.version, durationMsPerCase: duration, results }, null, 2)}\n`,
  );
} else {
  process.stdout.write(`tee-signing bench (node ${process.version}, ${duration} ms per case)\n`);
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(62)} ${r.opsPerSecond.toFixed(0).padStart(8)} ops/s | ${r.baseline.padEnd(48)} ${r.baselineOpsPerSecond
        .toFixed(0)
        .padStart(8)} ops/s | ratio ${r.ratio.toFixed(2)}\n`,
    );
  }
}
