import {
  type GpuEvidenceInput,
  type GpuEvidenceVerification,
  NvidiaAttestationError,
  type NvidiaAttestationErrorCode,
  type VerifyGpuEvidenceOptions,
  verifyGpuEvidence,
} from '@confidential-ai/nvidia-attestation';

/**
 * The GPU evidence check of the attestation gate: each instance's `gpu_evidence` (the nvtrust attestation SDK's
 * evidence list, one `{certificate, evidence, arch}` per GPU) verified offline with
 * `@confidential-ai/nvidia-attestation`, every report bound to the same digest as the quote's REPORTDATA[0:32],
 * SHA-256(nonce_hex ‖ e2e_pubkey). Everything but the nonce is passed to `verifyGpuEvidence`: `root` (default
 * NVIDIA's pinned Device Identity CA; a TEST root only for fakes), `rims` and `rimRoot` (measurements compared only
 * when RIMs are given), `ocsp` / `crls`, `requireMeasurements`, `expectedGpuCount`, `at`.
 */
export interface GpuEvidenceGateOptions extends Omit<VerifyGpuEvidenceOptions, 'nonce'> {
  /**
   * Require GPU evidence from every instance (the proxy's `attestation_require_gpu`). Default true: an instance
   * whose evidence entry carries no `gpu_evidence` (or an empty list) is dropped. With false such an instance is
   * kept (reported `absent`); evidence that is present must verify either way.
   */
  required?: boolean;
}

/** The outcome of the GPU check of one instance. */
export type GpuEvidenceCheck =
  | {
      /** Every report verified, bound to the digest, chained to the trust anchor. */
      readonly status: 'verified';
      /** What nvidia-attestation established (GPUs, anchor, measurements). */
      readonly verification: GpuEvidenceVerification;
    }
  | {
      /** No GPU evidence, and none is required. */
      readonly status: 'absent';
    }
  | {
      /** Missing while required, or does not verify. */
      readonly status: 'failed';
      /** `ERR_GPU_EVIDENCE_MISSING`, or the `ERR_NVIDIA_*` code of the failed check. */
      readonly code: 'ERR_GPU_EVIDENCE_MISSING' | NvidiaAttestationErrorCode;
    };

/**
 * Verifies one instance's `gpu_evidence` against `digest` (32 bytes). Never throws for bad evidence.
 * @throws TypeError / RangeError for invalid options (a root that is not a certificate, a bad time).
 */
export async function checkInstanceGpuEvidence(
  gpuEvidence: unknown,
  digest: Uint8Array,
  options: GpuEvidenceGateOptions,
): Promise<GpuEvidenceCheck> {
  const { required, ...verification } = options;
  if (
    gpuEvidence === undefined ||
    gpuEvidence === null ||
    (Array.isArray(gpuEvidence) && gpuEvidence.length === 0)
  ) {
    return required === false ? { status: 'absent' } : { status: 'failed', code: 'ERR_GPU_EVIDENCE_MISSING' };
  }
  try {
    const result = await verifyGpuEvidence(gpuEvidence as GpuEvidenceInput, {
      ...verification,
      nonce: digest,
    });
    return { status: 'verified', verification: result };
  } catch (error) {
    if (NvidiaAttestationError.isInstance(error)) return { status: 'failed', code: error.code };
    throw error;
  }
}
