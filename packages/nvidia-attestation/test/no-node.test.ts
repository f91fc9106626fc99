import { afterAll, beforeAll, expect, it } from 'vitest';
import { hopper545 } from './vectors.js';

// Simulates a runtime without Node built-ins (a browser or edge runtime): with `process.getBuiltinModule` gone the
// package must verify on WebCrypto alone. Vitest gives every test file a fresh module graph, so the lazy detection
// of `node:crypto` starts from scratch here.
const processWithBuiltins = process as { getBuiltinModule?: unknown };
const original = processWithBuiltins.getBuiltinModule;

beforeAll(() => {
  processWithBuiltins.getBuiltinModule = undefined;
});
afterAll(() => {
  processWithBuiltins.getBuiltinModule = original;
});

it('verifies real evidence and RIMs with WebCrypto only', async () => {
  const lib = await import('../src/index.js');
  expect(lib.nativeEcdsaAvailable()).toBe(false);
  const result = await lib.verifyGpuEvidence(
    { report: hopper545.report, certificateChain: hopper545.certificateChain },
    { nonce: hopper545.nonce, at: hopper545.at, rims: [hopper545.driverRim, hopper545.vbiosRim] },
  );
  expect(result.measurements).toBe('matched');
  await expect(
    lib.verifyGpuEvidence(
      { report: hopper545.report, certificateChain: hopper545.certificateChain },
      { nonce: hopper545.nonce, ecdsa: 'native' },
    ),
  ).rejects.toThrow(/node:crypto is not available/);
});
