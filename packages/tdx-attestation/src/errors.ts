const MARKER = Symbol.for('confidential-ai.error.tdx-attestation');

/**
 * Stable codes for TDX quote parsing and verification failures.
 *
 * - `ERR_TDX_QUOTE_MALFORMED`: the quote bytes are truncated, lengths are inconsistent or a field is invalid.
 * - `ERR_TDX_QUOTE_UNSUPPORTED`: a well-formed quote of a kind this package does not verify (version,
 *   attestation key type, TEE type, QE vendor, v5 body type, certification data type).
 * - `ERR_TDX_QUOTE_SIGNATURE`: the quote signature does not verify with the attestation key.
 * - `ERR_TDX_QE_REPORT_SIGNATURE`: the QE report signature does not verify with the PCK leaf key.
 * - `ERR_TDX_ATTESTATION_KEY_BINDING`: the QE report does not bind the attestation key and QE auth data.
 * - `ERR_TDX_CERT_CHAIN`: a certificate chain is malformed, mis-signed or does not end at the pinned root.
 * - `ERR_TDX_CERT_EXPIRED`: a certificate is not valid at the verification time.
 * - `ERR_TDX_CERT_REVOKED`: a certificate is listed on a CRL.
 * - `ERR_TDX_COLLATERAL_MALFORMED`: collateral JSON, CRL or certificate text is not well-formed.
 * - `ERR_TDX_COLLATERAL_SIGNATURE`: TCB info, QE identity or a CRL is not signed by its issuer.
 * - `ERR_TDX_COLLATERAL_EXPIRED`: TCB info, QE identity or a CRL is outside its validity window.
 * - `ERR_TDX_COLLATERAL_REQUIRED`: no collateral was given, so the TCB status is unknown, and the caller did not
 *   ask for a signature-chain-only verification (`chainOnly: true`, CLI `--chain-only`).
 * - `ERR_TDX_COLLATERAL_MISMATCH`: the collateral does not describe this platform (FMSPC, PCE-ID, TEE type).
 * - `ERR_TDX_QE_IDENTITY_MISMATCH`: the QE report does not match the QE identity (MRSIGNER, ISVPRODID,
 *   MISCSELECT, ATTRIBUTES).
 * - `ERR_TDX_TCB_REVOKED`: the TCB level of the platform, TDX module or QE is revoked.
 * - `ERR_TDX_TCB_UNRECOGNIZED`: no TCB level of the collateral matches the platform, the TDX module or the QE.
 * - `ERR_TDX_TCB_STATUS`: the TCB status is valid but not accepted by the caller's policy.
 * - `ERR_TDX_DEBUG`: the TD runs in debug mode (TD_ATTRIBUTES bit 0) and debug was not allowed.
 * - `ERR_TDX_TD_ATTRIBUTES`: TD_ATTRIBUTES has a reserved bit set or SEPT_VE_DISABLE (bit 28) clear.
 * - `ERR_TDX_SERVICE_TD`: a TD report 1.5 has a non-zero MR_SERVICETD and service TDs were not allowed.
 * - `ERR_TDX_REPORT_DATA_MISMATCH`: REPORTDATA differs from what the caller expected.
 * - `ERR_TDX_EVENT_LOG_MALFORMED`: a dstack event log is not a list of well-formed entries.
 */
export type TdxAttestationErrorCode =
  | 'ERR_TDX_QUOTE_MALFORMED'
  | 'ERR_TDX_QUOTE_UNSUPPORTED'
  | 'ERR_TDX_QUOTE_SIGNATURE'
  | 'ERR_TDX_QE_REPORT_SIGNATURE'
  | 'ERR_TDX_ATTESTATION_KEY_BINDING'
  | 'ERR_TDX_CERT_CHAIN'
  | 'ERR_TDX_CERT_EXPIRED'
  | 'ERR_TDX_CERT_REVOKED'
  | 'ERR_TDX_COLLATERAL_MALFORMED'
  | 'ERR_TDX_COLLATERAL_SIGNATURE'
  | 'ERR_TDX_COLLATERAL_EXPIRED'
  | 'ERR_TDX_COLLATERAL_REQUIRED'
  | 'ERR_TDX_COLLATERAL_MISMATCH'
  | 'ERR_TDX_QE_IDENTITY_MISMATCH'
  | 'ERR_TDX_TCB_REVOKED'
  | 'ERR_TDX_TCB_UNRECOGNIZED'
  | 'ERR_TDX_TCB_STATUS'
  | 'ERR_TDX_DEBUG'
  | 'ERR_TDX_TD_ATTRIBUTES'
  | 'ERR_TDX_SERVICE_TD'
  | 'ERR_TDX_REPORT_DATA_MISMATCH'
  | 'ERR_TDX_EVENT_LOG_MALFORMED';

/** Every code of {@link TdxAttestationErrorCode}, for exhaustive tests and documentation. */
export const TDX_ATTESTATION_ERROR_CODES: readonly TdxAttestationErrorCode[] = [
  'ERR_TDX_QUOTE_MALFORMED',
  'ERR_TDX_QUOTE_UNSUPPORTED',
  'ERR_TDX_QUOTE_SIGNATURE',
  'ERR_TDX_QE_REPORT_SIGNATURE',
  'ERR_TDX_ATTESTATION_KEY_BINDING',
  'ERR_TDX_CERT_CHAIN',
  'ERR_TDX_CERT_EXPIRED',
  'ERR_TDX_CERT_REVOKED',
  'ERR_TDX_COLLATERAL_MALFORMED',
  'ERR_TDX_COLLATERAL_SIGNATURE',
  'ERR_TDX_COLLATERAL_EXPIRED',
  'ERR_TDX_COLLATERAL_REQUIRED',
  'ERR_TDX_COLLATERAL_MISMATCH',
  'ERR_TDX_QE_IDENTITY_MISMATCH',
  'ERR_TDX_TCB_REVOKED',
  'ERR_TDX_TCB_UNRECOGNIZED',
  'ERR_TDX_TCB_STATUS',
  'ERR_TDX_DEBUG',
  'ERR_TDX_TD_ATTRIBUTES',
  'ERR_TDX_SERVICE_TD',
  'ERR_TDX_REPORT_DATA_MISMATCH',
  'ERR_TDX_EVENT_LOG_MALFORMED',
];

/** Options of {@link TdxAttestationError}. */
export interface TdxAttestationErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * Raised when a TDX quote or its collateral is malformed or does not verify. `code` is stable and can be
 * switched on; the message names the failing check, never secret material.
 */
export class TdxAttestationError extends Error {
  /** Stable failure code. */
  readonly code: TdxAttestationErrorCode;

  constructor(code: TdxAttestationErrorCode, message: string, options: TdxAttestationErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'TdxAttestationError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `TdxAttestationError` from any copy of this package. */
  static isInstance(error: unknown): error is TdxAttestationError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
