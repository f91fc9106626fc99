import { VerifierError, type VerifierErrorCode } from './errors.js';

/**
 * How one step ended.
 * - `passed`: checked against real trust anchors and the policy.
 * - `failed`: checked and wrong (the step carries a `code`).
 * - `skipped`: not checked: an earlier step failed, the policy waived it (e.g. `measurements: 'any'`), or no
 *   verifier exists for it yet (GPU evidence); `message` says which.
 * - `simulated`: the evidence is simulated (a server outside a TEE) or verified only against a TEST root; never
 *   a verification of real hardware. Only with `acceptSimulated`; otherwise the step fails with
 *   `ERR_VERIFY_SIMULATED`.
 */
export type StepStatus = 'passed' | 'failed' | 'skipped' | 'simulated';

/** The kinds of service this package verifies. */
export type ServiceKind = 'vllm-proxy' | 'chutes' | 'tee-gateway' | 'venice';

/** Stable step names, in the order they run. */
export type StepName =
  | 'attestation-report'
  | 'signing-key'
  | 'attestation-document'
  | 'tdx-quote'
  | 'tcb-status'
  | 'measurements'
  | 'key-binding'
  | 'gpu-evidence'
  | 'binding-proof'
  | 'instance-evidence'
  | 'instance-tdx-quote'
  | 'instance-tcb-status'
  | 'instance-gpu-evidence'
  | 'encryption-key'
  | 'response-hash'
  | 'response-signature';

/** One step of a verification: what was checked, how it ended, and the evidence it used. */
export interface VerificationStep {
  /** Stable name. */
  readonly name: StepName;
  /** Human label, e.g. `TDX quote and certificate chain`. */
  readonly title: string;
  /** How it ended. */
  readonly status: StepStatus;
  /** Stable failure code, only on `failed`. */
  readonly code?: VerifierErrorCode;
  /** One sentence: what was verified, or why it failed or was skipped. Never contains prompts or answers. */
  readonly message: string;
  /** The evidence the step used (hashes, nonces, addresses, roots, measurements): JSON-serializable. */
  readonly evidence: Readonly<Record<string, unknown>>;
}

/**
 * The result of verifying one answer (or one attestation) of one service.
 * - `verified`: every step that ran passed against real roots, and everything the policy requires ran.
 * - `simulated`: nothing failed, but at least one step is simulated (demo servers, test roots).
 * - `failed`: at least one step failed; `failedStep` is the first one.
 */
export interface Verdict {
  /** The service kind. */
  readonly service: ServiceKind;
  /** Overall status (see above). */
  readonly status: 'verified' | 'simulated' | 'failed';
  /** `status !== 'failed'`. */
  readonly ok: boolean;
  /** Every step, in order (steps that could not run after a failure are `skipped`). */
  readonly steps: readonly VerificationStep[];
  /** The first failed step, when `status` is `failed`. */
  readonly failedStep: VerificationStep | undefined;
  /** When the verification finished (ISO 8601). */
  readonly verifiedAt: string;
}

/** Titles of the steps, for reports and pages. */
export const STEP_TITLES: Readonly<Record<StepName, string>> = Object.freeze({
  'attestation-report': 'attestation evidence fetched with a fresh nonce',
  'signing-key': 'signing key and its identity',
  'attestation-document': 'Nitro attestation document and certificate chain',
  'tdx-quote': 'TDX quote and certificate chain',
  'tcb-status': 'TCB status',
  measurements: 'measurements',
  'key-binding': 'signing key bound to the attestation',
  'gpu-evidence': 'GPU evidence',
  'binding-proof': 'proxy binding proof over the upstream evidence',
  'instance-evidence': 'upstream instance evidence and key binding',
  'instance-tdx-quote': 'upstream instance TDX quotes',
  'instance-tcb-status': 'upstream instance TCB status',
  'instance-gpu-evidence': 'upstream instance GPU evidence',
  'encryption-key': 'answer encrypted to the attested model key',
  'response-hash': 'signed hashes match the exact request and response bytes',
  'response-signature': 'response signature by the attested key',
});

/** Whether simulated evidence is acceptable (the `acceptSimulated` policy). */
export interface SimulationPolicy {
  /** Accept simulated evidence and test roots (demos); default false. */
  readonly acceptSimulated: boolean;
}

/**
 * Collects the steps of one verification in a fixed order. A step recorded twice keeps its worst outcome
 * (`failed` over `simulated` over `skipped` over `passed`). Steps never recorded are reported as `skipped`.
 */
export class VerdictBuilder {
  readonly service: ServiceKind;
  private readonly order: readonly StepName[];
  private readonly policy: SimulationPolicy;
  private readonly steps = new Map<StepName, VerificationStep>();

  constructor(service: ServiceKind, order: readonly StepName[], policy: SimulationPolicy) {
    this.service = service;
    this.order = order;
    this.policy = policy;
  }

  private record(step: VerificationStep): void {
    const rank = { passed: 0, skipped: 1, simulated: 2, failed: 3 } as const;
    const previous = this.steps.get(step.name);
    if (previous && rank[previous.status] >= rank[step.status]) return;
    this.steps.set(step.name, step);
  }

  /** Records a passed step. */
  pass(name: StepName, message: string, evidence: Record<string, unknown> = {}): void {
    this.record({ name, title: STEP_TITLES[name], status: 'passed', message, evidence });
  }

  /** Records a failed step. */
  fail(
    name: StepName,
    code: VerifierErrorCode,
    message: string,
    evidence: Record<string, unknown> = {},
  ): void {
    this.record({ name, title: STEP_TITLES[name], status: 'failed', code, message, evidence });
  }

  /** Records a skipped step (waived by policy or not checkable). */
  skip(name: StepName, message: string, evidence: Record<string, unknown> = {}): void {
    this.record({ name, title: STEP_TITLES[name], status: 'skipped', message, evidence });
  }

  /**
   * Records simulated evidence: `simulated` under `acceptSimulated`, otherwise a failure with
   * `ERR_VERIFY_SIMULATED`.
   */
  simulate(name: StepName, message: string, evidence: Record<string, unknown> = {}): void {
    if (this.policy.acceptSimulated) {
      this.record({ name, title: STEP_TITLES[name], status: 'simulated', message, evidence });
    } else {
      this.fail(
        name,
        'ERR_VERIFY_SIMULATED',
        `${message} Simulated evidence is not accepted (acceptSimulated is false).`,
        evidence,
      );
    }
  }

  /** True once any step failed. */
  get failed(): boolean {
    for (const step of this.steps.values()) if (step.status === 'failed') return true;
    return false;
  }

  /** The steps recorded so far (without the `skipped` fillers of {@link VerdictBuilder.finish}). */
  recorded(): ReadonlyMap<StepName, VerificationStep> {
    return new Map(this.steps);
  }

  /** The recorded status of a step, if any. */
  statusOf(name: StepName): StepStatus | undefined {
    return this.steps.get(name)?.status;
  }

  /** Builds the verdict; unrecorded steps become `skipped`. */
  finish(): Verdict {
    const steps: VerificationStep[] = this.order.map(
      (name) =>
        this.steps.get(name) ?? {
          name,
          title: STEP_TITLES[name],
          status: 'skipped',
          message: this.failed ? 'Not run: an earlier step failed.' : 'Not run.',
          evidence: {},
        },
    );
    const failedStep = steps.find((step) => step.status === 'failed');
    const status = failedStep
      ? 'failed'
      : steps.some((step) => step.status === 'simulated')
        ? 'simulated'
        : 'verified';
    return Object.freeze({
      service: this.service,
      status,
      ok: status !== 'failed',
      steps: Object.freeze(steps),
      failedStep,
      verifiedAt: new Date().toISOString(),
    });
  }
}

/**
 * Throws the verdict's first failure as a {@link VerifierError} (code and step of the failed step, the verdict
 * attached); returns the verdict when nothing failed.
 *
 * @example
 * ```ts
 * const verdict = assertVerified(await verifyVllmProxyAnswer(options));
 * ```
 * @throws VerifierError when `verdict.ok` is false.
 */
export function assertVerified(verdict: Verdict): Verdict {
  const failed = verdict.failedStep;
  if (!failed) return verdict;
  throw new VerifierError(
    failed.code ?? 'ERR_VERIFY_EVIDENCE_MALFORMED',
    `${verdict.service}: step "${failed.name}" failed: ${failed.message}`,
    { step: failed.name, verdict },
  );
}

/**
 * Joins the verdicts of the parts of one verification (e.g. a cached attestation verdict and the signature steps
 * of one answer) into one: their steps in order, the status recomputed.
 *
 * @example
 * ```ts
 * const verdict = combineVerdicts('vllm-proxy', [attestation.verdict, signature]);
 * ```
 */
export function combineVerdicts(service: ServiceKind, parts: readonly Verdict[]): Verdict {
  const steps = parts.flatMap((part) => part.steps);
  const failedStep = steps.find((step) => step.status === 'failed');
  const status = failedStep
    ? 'failed'
    : steps.some((step) => step.status === 'simulated')
      ? 'simulated'
      : 'verified';
  return Object.freeze({
    service,
    status,
    ok: status !== 'failed',
    steps: Object.freeze(steps),
    failedStep,
    verifiedAt: new Date().toISOString(),
  });
}
