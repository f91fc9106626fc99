import type { ResolvedPolicy } from './policy.js';
import type { ServiceKind, StepName, VerdictBuilder } from './verdict.js';

/** GPU evidence handed to a {@link GpuEvidenceVerifier}. */
export interface GpuEvidenceInput {
  /** The service that produced it. */
  readonly service: ServiceKind;
  /**
   * The evidence as the service returned it: vllm-proxy / Venice `nvidia_payload` (parsed when it was a JSON
   * string: `{nonce, arch, evidence_list}`), or a Chutes instance's `{gpu_evidence, gpu_tokens}`.
   */
  readonly evidence: unknown;
  /** The nonce the evidence must be bound to, lowercase hex (what the verifier must check). */
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
}

/**
 * A pluggable GPU evidence verifier (for instance NVIDIA's, from `@confidential-ai/nvidia-attestation` once it
 * exists). The verifier package never trusts GPU evidence by itself: without a verifier the GPU step is
 * reported as `skipped` ("not checked").
 *
 * @example
 * ```ts
 * const gpuVerifier: GpuEvidenceVerifier = {
 *   name: 'nvidia',
 *   async verify({ evidence, nonce }) {
 *     const result = await verifyNvidiaEvidence(evidence, { nonce });
 *     return { status: 'passed', message: 'SPDM report verified to the NVIDIA root', evidence: result };
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

/** Runs the GPU step of a verdict: the configured verifier, or "not checked". */
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
        'GPU evidence is required but no GPU verifier is configured.',
        summary,
      );
    } else {
      builder.skip(
        step,
        present
          ? 'Not checked: GPU evidence is present but no GPU verifier is configured.'
          : 'Not checked: the service sent no GPU evidence and no GPU verifier is configured.',
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
  else builder.fail(step, 'ERR_VERIFY_GPU_EVIDENCE', result.message, evidence);
}
