// Cost of TDX quote verification (v4 and v5) as a ratio against a raw ECDSA-P256 signature verification measured
// in the same run. The cases run in alternating rounds (every case once per round, many rounds), and the cost is
// CPU time per operation (process.cpuUsage: user + system, all threads), so a busy machine skews every case alike.
// Chain-only verification checks 5 ECDSA signatures (quote, QE report, PCK leaf, PCK CA, root self-signature);
// with collateral 5 more (root CA CRL, PCK CRL, TCB signing certificate, TCB info, QE identity).
// Usage: node bench/run.mjs [--json] [--rounds N] [--round-ms M]   (needs a fresh `npx tsup` build in dist/)
import { readFileSync } from 'node:fs';
import { parseTdxQuote, verifyTdxQuote } from '../dist/index.js';
import { createTestTdxPlatform } from '../dist/testing.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const rounds = option('--rounds', 12);
const roundMs = option('--round-ms', 250);

const sample = (path) => readFileSync(new URL(path, import.meta.url));
const quoteV4 = new Uint8Array(sample('../samples/tdx_quote.bin'));
const collateralV4 = sample('../samples/tdx_quote_collateral.json').toString('utf8');
const quoteV5 = new Uint8Array(sample('../test/vectors/quotes/dcap-qvl-tdx_quote_outdated.bin'));
const atV4 = new Date('2025-07-01T00:00:00Z');
const atV5 = new Date('2026-03-01T00:00:00Z');

const platform = await createTestTdxPlatform();
const syntheticCollateral = await platform.createCollateral();
const syntheticV5 = await platform.createQuote({ version: 5, bodyType: 3 });
const syntheticV5Report10 = await platform.createQuote({ version: 5, bodyType: 2 });
const syntheticV4 = await platform.createQuote();
const now = new Date('2026-01-01T00:00:00Z');

// Baseline: one raw WebCrypto ECDSA-P256/SHA-256 verification of the v5 quote's own signature over its signed bytes.
const parsedV5 = parseTdxQuote(quoteV5);
const subtle = globalThis.crypto.subtle;
const key = await subtle.importKey(
  'raw',
  new Uint8Array([4, ...parsedV5.attestationKey]),
  { name: 'ECDSA', namedCurve: 'P-256' },
  false,
  ['verify'],
);
const ecdsa = { name: 'ECDSA', hash: 'SHA-256' };

const expectCode = (code) => (error) => {
  if (error?.code !== code) throw error;
};

const cases = [
  {
    name: 'raw ECDSA-P256 verify (WebCrypto, 702-byte message) [baseline]',
    run: async () => {
      if (!(await subtle.verify(ecdsa, key, parsedV5.signature, parsedV5.signedData)))
        throw new Error('baseline');
    },
  },
  { name: 'parseTdxQuote v5 (real)', run: async () => parseTdxQuote(quoteV5) },
  {
    name: 'verifyTdxQuote v4 real, chain only',
    run: () => verifyTdxQuote(quoteV4, { now: atV4, chainOnly: true }),
  },
  {
    name: 'verifyTdxQuote v4 real + collateral',
    run: () => verifyTdxQuote(quoteV4, { now: atV4, collateral: collateralV4 }),
  },
  {
    name: 'verifyTdxQuote v5 real (TD report 1.5), chain only',
    run: () => verifyTdxQuote(quoteV5, { now: atV5, chainOnly: true }),
  },
  {
    // Every check runs; the verdict is "no matching TCB level" (as dcap-qvl's), reached after the last signature.
    name: 'verifyTdxQuote v5 real + collateral (to the TCB verdict)',
    run: () =>
      verifyTdxQuote(quoteV5, {
        now: atV5,
        collateral: readCollateralV5(),
      }).then(() => {
        throw new Error('expected ERR_TDX_TCB_UNRECOGNIZED');
      }, expectCode('ERR_TDX_TCB_UNRECOGNIZED')),
  },
  {
    name: 'verifyTdxQuote v4 synthetic + collateral',
    run: () => verifyTdxQuote(syntheticV4, { root: platform.root, now, collateral: syntheticCollateral }),
  },
  {
    name: 'verifyTdxQuote v5 synthetic TD report 1.0 + collateral',
    run: () =>
      verifyTdxQuote(syntheticV5Report10, { root: platform.root, now, collateral: syntheticCollateral }),
  },
  {
    name: 'verifyTdxQuote v5 synthetic TD report 1.5 + collateral',
    run: () => verifyTdxQuote(syntheticV5, { root: platform.root, now, collateral: syntheticCollateral }),
  },
];

let collateralV5Text;
function readCollateralV5() {
  collateralV5Text ??= sample(
    '../test/vectors/collateral/dcap-qvl-tdx_quote_outdated_collateral.json',
  ).toString('utf8');
  return collateralV5Text;
}

async function round(item) {
  const start = process.cpuUsage();
  const wallEnd = performance.now() + roundMs;
  let count = 0;
  while (performance.now() < wallEnd) {
    await item.run();
    count++;
  }
  const used = process.cpuUsage(start);
  item.cpuMicros = (item.cpuMicros ?? 0) + used.user + used.system;
  item.count = (item.count ?? 0) + count;
}

for (const item of cases) for (let i = 0; i < 5; i++) await item.run(); // warm-up, and a check that each case runs
for (let index = 0; index < rounds; index++) {
  for (const item of index % 2 === 0 ? cases : [...cases].reverse()) await round(item);
}

const baseline = cases[0].cpuMicros / cases[0].count;
const results = cases.map((item) => {
  const perOperation = item.cpuMicros / item.count;
  return {
    name: item.name,
    operations: item.count,
    cpuMicrosPerOperation: Number(perOperation.toFixed(1)),
    costInBaselineVerifies: Number((perOperation / baseline).toFixed(2)),
  };
});

if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, rounds, roundMs, results })}\n`);
} else {
  process.stdout.write(`node ${process.version}, ${rounds} alternating rounds of ${roundMs} ms per case\n`);
  for (const result of results) {
    process.stdout.write(
      `${result.name.padEnd(64)} ${String(result.cpuMicrosPerOperation).padStart(9)} µs CPU/op   ${result.costInBaselineVerifies.toFixed(2).padStart(7)} x baseline\n`,
    );
  }
}
