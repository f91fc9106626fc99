// Throughput of TDX quote verification against a raw ECDSA-P256 verify measured in the same run.
// The ratio column is how many raw WebCrypto verifies one operation costs. Offline verification checks
// 5 signatures (quote, QE report, PCK leaf, PCK CA, root self-signature); with collateral 5 more (root CA
// CRL, PCK CRL, TCB signing certificate, TCB info, QE identity), shared certificates being checked once.
// Usage: node bench/run.mjs [--json] [--seconds N]   (needs a fresh `npx tsup` build in dist/)
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseTdxQuote, verifyTdxQuote } from '../dist/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const secondsIndex = args.indexOf('--seconds');
const seconds = secondsIndex >= 0 ? Number(args[secondsIndex + 1]) : 1;

const quote = new Uint8Array(readFileSync(new URL('../test/fixtures/tdx_quote.bin', import.meta.url)));
const collateral = readFileSync(
  new URL('../test/fixtures/tdx_quote_collateral.json', import.meta.url),
  'utf8',
);
const now = new Date('2025-07-01T00:00:00Z');
const parsed = parseTdxQuote(quote);

const subtle = globalThis.crypto.subtle;
const key = await subtle.importKey(
  'raw',
  new Uint8Array([4, ...parsed.attestationKey]),
  { name: 'ECDSA', namedCurve: 'P-256' },
  false,
  ['verify'],
);

async function measure(name, run) {
  for (let i = 0; i < 5; i++) await run(); // warm-up
  let count = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  while (performance.now() < deadline) {
    await run();
    count++;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { name, opsPerSecond: count / elapsed, iterations: count };
}

const baseline = await measure('raw ECDSA-P256 verify (WebCrypto, 632-byte message)', async () => {
  if (!(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, parsed.signature, parsed.signedData))) {
    throw new Error('baseline verify failed');
  }
});
const nodeKey = createPublicKey({
  key: {
    kty: 'EC',
    crv: 'P-256',
    x: Buffer.from(parsed.attestationKey.subarray(0, 32)).toString('base64url'),
    y: Buffer.from(parsed.attestationKey.subarray(32)).toString('base64url'),
  },
  format: 'jwk',
});
const results = [
  baseline,
  await measure('raw ECDSA-P256 verify (node:crypto, sync)', async () => {
    if (
      !nodeVerify('sha256', parsed.signedData, { key: nodeKey, dsaEncoding: 'ieee-p1363' }, parsed.signature)
    ) {
      throw new Error('baseline verify failed');
    }
  }),
  await measure('parseTdxQuote', async () => parseTdxQuote(quote)),
  await measure('verifyTdxQuote offline (5 ECDSA verifies)', async () => verifyTdxQuote(quote, { now })),
  await measure('verifyTdxQuote + collateral (10 ECDSA verifies)', async () =>
    verifyTdxQuote(quote, { now, collateral }),
  ),
].map((result) => ({ ...result, costInBaselineVerifies: baseline.opsPerSecond / result.opsPerSecond }));

if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, seconds, results })}\n`);
} else {
  process.stdout.write(`node ${process.version}, ${seconds}s per case\n`);
  for (const result of results) {
    process.stdout.write(
      `${result.name.padEnd(56)} ${result.opsPerSecond.toFixed(0).padStart(9)} ops/s   ${result.costInBaselineVerifies.toFixed(2).padStart(7)} x baseline cost\n`,
    );
  }
}
