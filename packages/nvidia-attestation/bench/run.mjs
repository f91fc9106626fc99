// CPU cost of NVIDIA GPU evidence verification as a ratio against one raw ECDSA P-384 verify measured in the
// same run. Cases run in alternating rounds (so that machine load affects every case alike); each reports the
// process CPU time (user + system, all threads) per operation and how many raw verifies that costs.
//   cold = `reuseCertificateChecks: false` (every certificate signature checked again)
//   warm = the default (certificate signatures verified earlier in the process are reused; the report and
//          RIM signatures, names, constraints and validity are still checked every time)
// Usage: node bench/run.mjs [--json] [--seconds N] [--rounds N]   (needs a fresh `npx tsup` build in dist/)
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseGpuAttestationReport, verifyGpuEvidence } from '../dist/index.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const seconds = option('--seconds', 2);
const rounds = option('--rounds', 4);

const load = (name) => JSON.parse(readFileSync(new URL(`../test/vectors/${name}`, import.meta.url), 'utf8'));
const h100 = load('hopper-545-go-nvtrust.json');
const hgx = load('hgx-8gpu-ppcie-nvtrust.json');
const evidence = { report: h100.report, certificateChain: h100.certificateChain };
const rims = [h100.driverRim, h100.vbiosRim];
const report = parseGpuAttestationReport(Uint8Array.from(Buffer.from(h100.report, 'hex')));
const leafPem = h100.certificateChain.match(
  /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/,
)[0];
const leafKey = createPublicKey(leafPem);
const spki = leafKey.export({ type: 'spki', format: 'der' });
const webKey = await globalThis.crypto.subtle.importKey(
  'spki',
  spki,
  { name: 'ECDSA', namedCurve: 'P-384' },
  false,
  ['verify'],
);

const cases = [
  {
    name: 'raw ECDSA P-384 verify, node:crypto (baseline)',
    run: async () => {
      if (
        !nodeVerify(
          'sha384',
          report.signedData,
          { key: leafKey, dsaEncoding: 'ieee-p1363' },
          report.response.signature,
        )
      )
        throw new Error('baseline verify failed');
    },
  },
  {
    name: 'raw ECDSA P-384 verify, WebCrypto',
    run: async () => {
      const ok = await globalThis.crypto.subtle.verify(
        { name: 'ECDSA', hash: 'SHA-384' },
        webKey,
        report.response.signature,
        report.signedData,
      );
      if (!ok) throw new Error('baseline verify failed');
    },
  },
  { name: 'parseGpuAttestationReport', run: async () => parseGpuAttestationReport(report.raw) },
  {
    name: '1 GPU: report + chain, cold (5 verifies)',
    run: () => verifyGpuEvidence(evidence, { nonce: h100.nonce, at: h100.at, reuseCertificateChecks: false }),
  },
  {
    name: '1 GPU + driver and VBIOS RIMs, cold (10 verifies, 2 x C14N)',
    run: () =>
      verifyGpuEvidence(evidence, { nonce: h100.nonce, at: h100.at, rims, reuseCertificateChecks: false }),
  },
  {
    name: '1 GPU + driver and VBIOS RIMs, warm (3 verifies)',
    run: () => verifyGpuEvidence(evidence, { nonce: h100.nonce, at: h100.at, rims }),
  },
  {
    name: '8 GPUs (HGX evidence list), cold (26 verifies)',
    run: () => verifyGpuEvidence(hgx.evidenceList, { nonce: hgx.nonce, reuseCertificateChecks: false }),
  },
  {
    name: '8 GPUs (HGX evidence list), warm (8 verifies)',
    run: () => verifyGpuEvidence(hgx.evidenceList, { nonce: hgx.nonce }),
  },
];

for (const item of cases) for (let i = 0; i < 3; i++) await item.run(); // warm-up (JIT, key import)
const totals = cases.map(() => ({ cpuMicros: 0, operations: 0 }));
const budget = (seconds * 1000) / rounds;
for (let round = 0; round < rounds; round++) {
  for (const [index, item] of cases.entries()) {
    const before = process.cpuUsage();
    const deadline = performance.now() + budget;
    let count = 0;
    while (performance.now() < deadline) {
      await item.run();
      count++;
    }
    const used = process.cpuUsage(before);
    totals[index].cpuMicros += used.user + used.system;
    totals[index].operations += count;
  }
}
const perOperation = totals.map((total) => total.cpuMicros / total.operations);
const results = cases.map((item, index) => ({
  name: item.name,
  operations: totals[index].operations,
  cpuMicrosPerOperation: perOperation[index],
  rawVerifies: perOperation[index] / perOperation[0],
}));

if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, seconds, rounds, results })}\n`);
} else {
  process.stdout.write(
    `node ${process.version}, ${seconds}s per case in ${rounds} alternating rounds, CPU time per operation\n`,
  );
  for (const result of results) {
    process.stdout.write(
      `${result.name.padEnd(64)} ${result.cpuMicrosPerOperation.toFixed(0).padStart(8)} µs   ${result.rawVerifies.toFixed(2).padStart(7)} x raw verify\n`,
    );
  }
}
