const MARKER = Symbol.for('confidential-ai.error.nvidia-attestation');

/**
 * Stable codes for NVIDIA GPU evidence parsing and verification failures.
 *
 * - `ERR_NVIDIA_EVIDENCE_MALFORMED`: the evidence container (evidence list, `nvidia_payload` JSON), the SPDM
 *   request or response, a measurement block or the opaque data is truncated, inconsistent or not encoded as
 *   expected; a claim next to a report contradicts the signed report.
 * - `ERR_NVIDIA_EVIDENCE_UNSUPPORTED`: well-formed evidence of a kind this package does not verify (GPU
 *   architecture, SPDM version, measurement specification, request parameters, key or signature algorithm).
 * - `ERR_NVIDIA_NONCE_MISMATCH`: the nonce of the SPDM request (or a nonce claimed by the container) is not
 *   the expected nonce.
 * - `ERR_NVIDIA_REPORT_SIGNATURE`: the report signature does not verify with the attestation certificate key.
 * - `ERR_NVIDIA_CERT_CHAIN`: the device certificate chain is malformed, mis-signed, violates CA constraints
 *   or does not end at the trust anchor.
 * - `ERR_NVIDIA_CERT_EXPIRED`: a certificate of a device or RIM chain is not valid at the verification time.
 * - `ERR_NVIDIA_CERT_REVOKED`: OCSP or a CRL given as collateral lists a certificate as revoked.
 * - `ERR_NVIDIA_FWID_MISMATCH`: the firmware ID in the report's opaque data differs from the one in the
 *   attestation certificate.
 * - `ERR_NVIDIA_REVOCATION_INVALID`: an OCSP response or CRL is malformed, not signed by the certificate's
 *   issuer (or its delegated responder), not current, or reports an unknown status.
 * - `ERR_NVIDIA_REVOCATION_MISSING`: revocation checking was required but no current OCSP response or CRL
 *   covers a certificate.
 * - `ERR_NVIDIA_RIM_MALFORMED`: a RIM is not well-formed XML, not a SWID tag of the expected shape, or holds
 *   invalid measurement entries.
 * - `ERR_NVIDIA_RIM_SIGNATURE`: the XML signature of a RIM is missing, of an unsupported shape or algorithm,
 *   or its digest or signature value does not verify.
 * - `ERR_NVIDIA_RIM_CERT_CHAIN`: the certificate chain of a RIM signature does not verify to the RIM trust
 *   anchor.
 * - `ERR_NVIDIA_RIM_MISSING`: RIMs were given but none matches the driver or VBIOS version of a GPU.
 * - `ERR_NVIDIA_RIM_CONFLICT`: two RIMs claim the same version, or the driver and VBIOS RIMs both hold an
 *   active measurement at the same index.
 * - `ERR_NVIDIA_MEASUREMENT_MISMATCH`: a runtime measurement differs from every reference value of its RIM.
 * - `ERR_NVIDIA_POLICY`: the evidence verified but does not meet the caller's policy (measurements or
 *   revocation required but not checked, GPU count, the same GPU listed twice).
 */
export type NvidiaAttestationErrorCode =
  | 'ERR_NVIDIA_EVIDENCE_MALFORMED'
  | 'ERR_NVIDIA_EVIDENCE_UNSUPPORTED'
  | 'ERR_NVIDIA_NONCE_MISMATCH'
  | 'ERR_NVIDIA_REPORT_SIGNATURE'
  | 'ERR_NVIDIA_CERT_CHAIN'
  | 'ERR_NVIDIA_CERT_EXPIRED'
  | 'ERR_NVIDIA_CERT_REVOKED'
  | 'ERR_NVIDIA_FWID_MISMATCH'
  | 'ERR_NVIDIA_REVOCATION_INVALID'
  | 'ERR_NVIDIA_REVOCATION_MISSING'
  | 'ERR_NVIDIA_RIM_MALFORMED'
  | 'ERR_NVIDIA_RIM_SIGNATURE'
  | 'ERR_NVIDIA_RIM_CERT_CHAIN'
  | 'ERR_NVIDIA_RIM_MISSING'
  | 'ERR_NVIDIA_RIM_CONFLICT'
  | 'ERR_NVIDIA_MEASUREMENT_MISMATCH'
  | 'ERR_NVIDIA_POLICY';

/** Every code of {@link NvidiaAttestationErrorCode}, for exhaustive tests and documentation. */
export const NVIDIA_ATTESTATION_ERROR_CODES: readonly NvidiaAttestationErrorCode[] = [
  'ERR_NVIDIA_EVIDENCE_MALFORMED',
  'ERR_NVIDIA_EVIDENCE_UNSUPPORTED',
  'ERR_NVIDIA_NONCE_MISMATCH',
  'ERR_NVIDIA_REPORT_SIGNATURE',
  'ERR_NVIDIA_CERT_CHAIN',
  'ERR_NVIDIA_CERT_EXPIRED',
  'ERR_NVIDIA_CERT_REVOKED',
  'ERR_NVIDIA_FWID_MISMATCH',
  'ERR_NVIDIA_REVOCATION_INVALID',
  'ERR_NVIDIA_REVOCATION_MISSING',
  'ERR_NVIDIA_RIM_MALFORMED',
  'ERR_NVIDIA_RIM_SIGNATURE',
  'ERR_NVIDIA_RIM_CERT_CHAIN',
  'ERR_NVIDIA_RIM_MISSING',
  'ERR_NVIDIA_RIM_CONFLICT',
  'ERR_NVIDIA_MEASUREMENT_MISMATCH',
  'ERR_NVIDIA_POLICY',
];

/** Options of {@link NvidiaAttestationError}. */
export interface NvidiaAttestationErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Index of the GPU (in the evidence list) the failure concerns, when it concerns one. */
  gpuIndex?: number;
}

/**
 * Raised when NVIDIA GPU evidence or its collateral is malformed or does not verify. `code` is stable and can be
 * switched on; the message names the failing check, never secret material.
 */
export class NvidiaAttestationError extends Error {
  /** Stable failure code. */
  readonly code: NvidiaAttestationErrorCode;
  /** Index of the GPU the failure concerns, when it concerns one. */
  readonly gpuIndex: number | undefined;

  constructor(
    code: NvidiaAttestationErrorCode,
    message: string,
    options: NvidiaAttestationErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'NvidiaAttestationError';
    this.code = code;
    this.gpuIndex = options.gpuIndex;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `NvidiaAttestationError` from any copy of this package. */
  static isInstance(error: unknown): error is NvidiaAttestationError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/** Shorthand used by the modules of this package. @internal */
export function nvidiaError(
  code: NvidiaAttestationErrorCode,
  message: string,
  cause?: unknown,
): NvidiaAttestationError {
  return new NvidiaAttestationError(code, message, cause === undefined ? {} : { cause });
}
