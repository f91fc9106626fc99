import type { VerifierErrorCode } from './errors.js';
import type { ResolvedPolicy } from './policy.js';
import type { ServiceKind, StepName, VerdictBuilder } from './verdict.js';

/** GPU evidence handed to a {@link GpuEvidenceVerifier}. */
export interface GpuEvidenceInput {
  /** The service that produced it. */
  readonly service: ServiceKind;
  /**
   * The evidence as the service returned it: vllm-proxy / Venice `nvidia_payload` (parsed when it was a JSON
   * string: `{nonce, arch, evidence_list}`), or a Chutes instance's `{gpu_evidence, gpu_tokens}` (`gpu_evidence`
   * being the nvtrust SDK evidence list, one `{certificate, evidence, arch}` per GPU).
   */
  readonly evidence: unknown;
  /**
   * The nonce every GPU report must be bound to, lowercase hex (what the verifier must check): the client's nonce,
   * or for a Chutes instance SHA-256(nonce ‖ e2e_pubkey), the digest its quote's REPORTDATA[0:32] also carries.
   */
  readonly nonce: string;
}

/** What a {@link GpuEvidenceVerifier} concluded. */
export interface GpuEvidenceResult {
  /** `passed` (verified to the vendor root), `failed`, or `simulated` (test or canned evidence). */
  readonly status: 'passed' | 'failed' | 'simulated';
  /** One sentence for the verdict. */
  readonly message: string;
  /** Evidence details for the verdict (certificate subjects, measurements, nonce). */
  readonly evidence?: Readonly<Record<string, unknown>>;
  /** The failure code of a `failed` result; default `ERR_VERIFY_GPU_EVIDENCE`. */
  readonly code?: VerifierErrorCode;
}

/**
 * A pluggable GPU evidence verifier. The default (`policy.gpuVerifier` unset) is {@link createNvidiaGpuVerifier},
 * built from the policy; a custom one replaces it, and `gpuVerifier: false` turns GPU verification off (the step
 * is then `skipped`, "not checked").
 *
 * @example
 * ```ts
 * const gpuVerifier: GpuEvidenceVerifier = {
 *   name: 'my-gpu-check',
 *   async verify({ evidence, nonce }) {
 *     const ok = await myCheck(evidence, nonce);
 *     return ok ? { status: 'passed', message: 'checked' } : { status: 'failed', message: 'refused' };
 *   },
 * };
 * ```
 */
export interface GpuEvidenceVerifier {
  /** Short name shown in verdicts. */
  readonly name: string;
  /** Verifies one piece of evidence; a thrown error counts as a failure. */
  verify(input: GpuEvidenceInput): Promise<GpuEvidenceResult>;
}

/** Runs the GPU step of a verdict: the configured verifier, or "not checked" when GPU verification is off. */
export async function runGpuStep(
  builder: VerdictBuilder,
  step: StepName,
  input: GpuEvidenceInput,
  present: boolean,
  policy: ResolvedPolicy,
  summary: Record<string, unknown>,
): Promise<void> {
  const verifier = policy.gpuVerifier;
  if (!verifier) {
    if (policy.requireGpu) {
      builder.fail(
        step,
        'ERR_VERIFY_POLICY_MISSING',
        'GPU evidence is required but GPU verification is turned off (gpuVerifier: false).',
        summary,
      );
    } else {
      builder.skip(
        step,
        present
          ? 'Not checked: GPU evidence is present but GPU verification is turned off (gpuVerifier: false).'
          : 'Not checked: the service sent no GPU evidence and GPU verification is turned off (gpuVerifier: false).',
        summary,
      );
    }
    return;
  }
  if (!present) {
    if (policy.requireGpu)
      builder.fail(step, 'ERR_VERIFY_GPU_EVIDENCE', 'The service sent no GPU evidence.', summary);
    else builder.skip(step, 'Not checked: the service sent no GPU evidence.', summary);
    return;
  }
  let result: GpuEvidenceResult;
  try {
    result = await verifier.verify(input);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    builder.fail(step, 'ERR_VERIFY_GPU_EVIDENCE', `${verifier.name} rejected the GPU evidence.`, {
      ...summary,
      verifier: verifier.name,
      ...(typeof code === 'string' ? { verifierCode: code } : {}),
    });
    return;
  }
  const evidence = { ...summary, verifier: verifier.name, ...result.evidence };
  if (result.status === 'passed') builder.pass(step, result.message, evidence);
  else if (result.status === 'simulated') builder.simulate(step, result.message, evidence);
  else builder.fail(step, result.code ?? 'ERR_VERIFY_GPU_EVIDENCE', result.message, evidence);
}
