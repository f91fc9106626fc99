import { chutesCryptoCases } from './chutes-crypto.js';
import { nitroCases } from './nitro.js';
import { tdxCases } from './tdx.js';
import type { CaseEnvironment, Outcome } from './types.js';
import { veniceCipherCases } from './venice-cipher.js';
import { verifierCases } from './verifier.js';

export type { CaseEnvironment, Load, Outcome } from './types.js';

/** Every case, in a fixed order, with the time each group took (ms). */
export async function runAllCases(
  env: CaseEnvironment,
): Promise<{ outcomes: Outcome[]; timings: Record<string, number> }> {
  const groups = [
    ['chutes-crypto', chutesCryptoCases],
    ['venice-e2ee', veniceCipherCases],
    ['nitro-attestation', nitroCases],
    ['tdx-attestation', tdxCases],
    ['verifier', verifierCases],
  ] as const;
  const outcomes: Outcome[] = [];
  const timings: Record<string, number> = {};
  for (const [name, run] of groups) {
    const started = performance.now();
    outcomes.push(...(await run(env)));
    timings[name] = Math.round(performance.now() - started);
  }
  return { outcomes, timings };
}
