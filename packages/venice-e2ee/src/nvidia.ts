import {
  type GpuEvidenceVerification,
  NvidiaAttestationError,
  type VerifyGpuEvidenceOptions,
  verifyGpuEvidence,
} from '@confidential-ai/nvidia-attestation';
import { VeniceE2eeError } from './errors.js';

/** The NVIDIA evidence gate (`attestation.require_nvidia`). */
export type NvidiaPolicy = 'never' | 'when_present' | 'required';

/** How the NVIDIA gate ended: the value of `X-Venice-Proxy-NVIDIA-Verified`. */
export type NvidiaStatus = 'not-present' | 'ignored' | 'verified';

/**
 * Collateral and policy for the GPU evidence check, passed to `@confidential-ai/nvidia-attestation`: driver and
 * VBIOS RIMs, OCSP responses, CRLs, stricter requirements. The nonce and the time come from the attestation.
 */
export type NvidiaVerificationOptions = Omit<VerifyGpuEvidenceOptions, 'nonce' | 'at' | 'root'>;

/** Options of {@link nvidiaGate}. */
export interface NvidiaGateOptions {
  /** The 32-byte nonce sent with the attestation request, lowercase hex: every GPU report must answer it. */
  nonce: string;
  /** Verification time; default now. */
  now?: Date;
  /** DER of a device trust anchor replacing the pinned NVIDIA Device Identity CA (tests and the embedded fake). */
  root?: Uint8Array;
  /** RIMs, revocation data and stricter policy for the GPU evidence. */
  verification?: NvidiaVerificationOptions;
}

/** The outcome of {@link nvidiaGate}. */
export interface NvidiaGateResult {
  /** The `X-Venice-Proxy-NVIDIA-Verified` value. */
  status: NvidiaStatus;
  /** The GPU verification, when the evidence was verified. */
  verification?: GpuEvidenceVerification;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string, cause?: unknown): never {
  throw new VeniceE2eeError(
    'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
    message,
    cause === undefined ? {} : { cause },
  );
}

/** The payload as an object, or `undefined` when it counts as absent (missing, empty, or an empty evidence list). */
function readPayload(payload: unknown): Record<string, unknown> | undefined {
  if (payload === undefined || payload === null || payload === '') return undefined;
  let value: unknown = payload;
  if (typeof payload === 'string') {
    try {
      value = JSON.parse(payload);
    } catch (cause) {
      invalid('nvidia_payload is not JSON', cause);
    }
  }
  if (!isObject(value)) invalid('nvidia_payload is neither a JSON object nor a JSON string of one');
  const list = value['evidence_list'];
  // The gateway's placeholder for "no GPU evidence" is an empty evidence list (spec D2): it counts as absent.
  if (Array.isArray(list) && list.length === 0) return undefined;
  return value;
}

function isPresent(payload: unknown): boolean {
  return payload !== undefined && payload !== null && payload !== '';
}

/**
 * The NVIDIA gate (spec D2): `never` ignores the payload; otherwise a payload (an `nvidia_payload` JSON string or
 * object whose `evidence_list` is not empty) is verified offline with `@confidential-ai/nvidia-attestation`:
 * every GPU report bound to the attestation nonce (and the payload's own `nonce` equal to it), each certificate
 * chain to the pinned NVIDIA Device Identity CA, each SPDM signature, plus the RIMs and revocation data given in
 * `options.verification`. `required` without a payload fails with `ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE`; a
 * payload that does not verify fails with `ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE` (its cause carries the
 * `ERR_NVIDIA_*` code).
 * @throws VeniceE2eeError as described; TypeError for an invalid policy or root.
 */
export async function nvidiaGate(
  payload: unknown,
  policy: NvidiaPolicy,
  options: NvidiaGateOptions,
): Promise<NvidiaGateResult> {
  if (policy !== 'never' && policy !== 'when_present' && policy !== 'required') {
    throw new TypeError('requireNvidia must be never, when_present or required');
  }
  if (policy === 'never') {
    let present = isPresent(payload);
    try {
      present = readPayload(payload) !== undefined;
    } catch {
      // An unreadable payload is still a payload, which `never` ignores.
    }
    return { status: present ? 'ignored' : 'not-present' };
  }
  const value = readPayload(payload);
  if (value === undefined) {
    if (policy === 'required') {
      throw new VeniceE2eeError(
        'ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE',
        'NVIDIA evidence is required but absent',
      );
    }
    return { status: 'not-present' };
  }
  try {
    const verification = await verifyGpuEvidence(value as Parameters<typeof verifyGpuEvidence>[0], {
      ...options.verification,
      nonce: options.nonce,
      ...(options.now === undefined ? {} : { at: options.now }),
      ...(options.root === undefined ? {} : { root: options.root }),
    });
    return { status: 'verified', verification };
  } catch (cause) {
    if (NvidiaAttestationError.isInstance(cause)) {
      invalid(`NVIDIA evidence does not verify (${cause.code})`, cause);
    }
    throw cause;
  }
}
