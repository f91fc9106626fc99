import type { StepStatus, Verdict } from './verdict.js';

const MARK: Readonly<Record<StepStatus, string>> = {
  passed: 'pass',
  failed: 'FAIL',
  skipped: 'skip',
  simulated: 'SIM ',
};

/**
 * Renders a verdict as plain text, one line per step (`pass`, `FAIL`, `skip`, `SIM `), with the failure code and
 * message of each failed step. For terminals and logs; pages render {@link Verdict.steps} themselves.
 *
 * @example
 * ```ts
 * console.log(formatVerdict(verdict));
 * // vllm-proxy: simulated
 * //   pass attestation-report    attestation evidence fetched with a fresh nonce: Report fetched …
 * ```
 */
export function formatVerdict(verdict: Verdict): string {
  const width = Math.max(...verdict.steps.map((step) => step.name.length));
  const lines = [
    `${verdict.service}: ${verdict.status}${verdict.failedStep ? ` (failed step: ${verdict.failedStep.name})` : ''}`,
  ];
  for (const step of verdict.steps) {
    const code = step.code ? ` [${step.code}]` : '';
    lines.push(`  ${MARK[step.status]} ${step.name.padEnd(width)}  ${step.message}${code}`);
  }
  return lines.join('\n');
}
