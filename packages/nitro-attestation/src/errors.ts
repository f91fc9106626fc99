const MARKER = Symbol.for('confidential-ai.error.nitro-attestation');

/**
 * Stable codes of {@link NitroAttestationError}. Switch on these, not on messages.
 *
 * | code | reason | meaning |
 * | --- | --- | --- |
 * | `ERR_NITRO_INPUT_ENCODING` | `malformed` | the input is not bytes, base64 or hex, or is empty / too large |
 * | `ERR_NITRO_CBOR_MALFORMED` | `malformed` | the bytes are not one well-formed CBOR item |
 * | `ERR_NITRO_COSE_MALFORMED` | `malformed` | not a COSE_Sign1 with an ES384 protected header and a 96-byte signature |
 * | `ERR_NITRO_PAYLOAD_INVALID` | `malformed` | a payload field is missing, of the wrong type or size, or unknown |
 * | `ERR_NITRO_CERTIFICATE_MALFORMED` | `malformed` | a certificate is not DER X.509 v3 with an EC P-384 key signed with ecdsa-with-SHA384 |
 * | `ERR_NITRO_ROOT_UNTRUSTED` | `chain` | the trust anchor does not match the pinned SHA-256 fingerprint |
 * | `ERR_NITRO_CHAIN_INVALID` | `chain` | a certificate signature, issuer name, basicConstraints, pathLen, keyUsage or critical extension check failed |
 * | `ERR_NITRO_CERTIFICATE_EXPIRED` | `expired` | a certificate (root included) is not valid at the verification time |
 * | `ERR_NITRO_SIGNATURE_INVALID` | `signature` | the COSE_Sign1 ES384 signature does not verify with the leaf key |
 * | `ERR_NITRO_TIMESTAMP_INVALID` | `timestamp` | the document is older than `maxAge` or too far in the future |
 * | `ERR_NITRO_DEBUG_MODE` | `debug` | PCR0, PCR1 and PCR2 are all zero and debug enclaves are not allowed |
 * | `ERR_NITRO_PCR_MISMATCH` | `pcr` | an expected PCR value differs or is missing |
 * | `ERR_NITRO_NONCE_MISMATCH` | `nonce` | the document nonce differs from the expected one or is missing |
 * | `ERR_NITRO_USER_DATA_INVALID` | `user-data` | `user_data` is not nitriding's 68-byte multihash layout |
 * | `ERR_NITRO_USER_DATA_MISMATCH` | `user-data` | `user_data` does not bind the given TLS certificate, signing key or bytes |
 * | `ERR_NITRO_MEASUREMENTS_INVALID` | `malformed` | a measurements file is neither nitro-cli's `{"Measurements": …}` nor `{"pcrs": …}` |
 * | `ERR_NITRO_FETCH_FAILED` | `fetch` | a gateway request failed: network, TLS, timeout, status other than 200, oversized body |
 * | `ERR_NITRO_GATEWAY_RESPONSE_INVALID` | `malformed` | the gateway's `/signing-key` answer is not the expected JSON, PEM key and matching `tee_id` |
 */
export type NitroAttestationErrorCode =
  | 'ERR_NITRO_INPUT_ENCODING'
  | 'ERR_NITRO_CBOR_MALFORMED'
  | 'ERR_NITRO_COSE_MALFORMED'
  | 'ERR_NITRO_PAYLOAD_INVALID'
  | 'ERR_NITRO_CERTIFICATE_MALFORMED'
  | 'ERR_NITRO_ROOT_UNTRUSTED'
  | 'ERR_NITRO_CHAIN_INVALID'
  | 'ERR_NITRO_CERTIFICATE_EXPIRED'
  | 'ERR_NITRO_SIGNATURE_INVALID'
  | 'ERR_NITRO_TIMESTAMP_INVALID'
  | 'ERR_NITRO_DEBUG_MODE'
  | 'ERR_NITRO_PCR_MISMATCH'
  | 'ERR_NITRO_NONCE_MISMATCH'
  | 'ERR_NITRO_USER_DATA_INVALID'
  | 'ERR_NITRO_USER_DATA_MISMATCH'
  | 'ERR_NITRO_MEASUREMENTS_INVALID'
  | 'ERR_NITRO_FETCH_FAILED'
  | 'ERR_NITRO_GATEWAY_RESPONSE_INVALID';

/** Coarse category of a failure, shared with the other attestation packages' `reason` vocabulary. */
export type NitroAttestationFailureReason =
  | 'malformed'
  | 'chain'
  | 'expired'
  | 'signature'
  | 'timestamp'
  | 'debug'
  | 'pcr'
  | 'nonce'
  | 'user-data'
  | 'fetch';

/** The `reason` every code maps to. */
export const NITRO_ERROR_REASONS: Readonly<Record<NitroAttestationErrorCode, NitroAttestationFailureReason>> =
  Object.freeze({
    ERR_NITRO_INPUT_ENCODING: 'malformed',
    ERR_NITRO_CBOR_MALFORMED: 'malformed',
    ERR_NITRO_COSE_MALFORMED: 'malformed',
    ERR_NITRO_PAYLOAD_INVALID: 'malformed',
    ERR_NITRO_CERTIFICATE_MALFORMED: 'malformed',
    ERR_NITRO_ROOT_UNTRUSTED: 'chain',
    ERR_NITRO_CHAIN_INVALID: 'chain',
    ERR_NITRO_CERTIFICATE_EXPIRED: 'expired',
    ERR_NITRO_SIGNATURE_INVALID: 'signature',
    ERR_NITRO_TIMESTAMP_INVALID: 'timestamp',
    ERR_NITRO_DEBUG_MODE: 'debug',
    ERR_NITRO_PCR_MISMATCH: 'pcr',
    ERR_NITRO_NONCE_MISMATCH: 'nonce',
    ERR_NITRO_USER_DATA_INVALID: 'user-data',
    ERR_NITRO_USER_DATA_MISMATCH: 'user-data',
    ERR_NITRO_MEASUREMENTS_INVALID: 'malformed',
    ERR_NITRO_FETCH_FAILED: 'fetch',
    ERR_NITRO_GATEWAY_RESPONSE_INVALID: 'malformed',
  });

/** Options of {@link NitroAttestationError}. */
export interface NitroAttestationErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** For PCR mismatches: the PCR index that failed. */
  pcrIndex?: number;
}

/**
 * The one error class of this package: every failure to decode or verify an attestation document is a
 * `NitroAttestationError` with a stable {@link NitroAttestationErrorCode} and a coarse `reason`. Messages
 * describe what failed, never secret values. Bad arguments (wrong JavaScript types) throw `TypeError` /
 * `RangeError` instead.
 *
 * @example
 * ```ts
 * try {
 *   await verifyAttestationDocument(doc, { expectedNonce });
 * } catch (error) {
 *   if (NitroAttestationError.isInstance(error) && error.code === 'ERR_NITRO_NONCE_MISMATCH') retry();
 *   else throw error;
 * }
 * ```
 */
export class NitroAttestationError extends Error {
  /** Stable machine-readable code. */
  readonly code: NitroAttestationErrorCode;
  /** Coarse category derived from `code`. */
  readonly reason: NitroAttestationFailureReason;
  /** The PCR index concerned, for `ERR_NITRO_PCR_MISMATCH`. */
  readonly pcrIndex: number | undefined;

  constructor(code: NitroAttestationErrorCode, message: string, options: NitroAttestationErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'NitroAttestationError';
    this.code = code;
    this.reason = NITRO_ERROR_REASONS[code];
    this.pcrIndex = options.pcrIndex;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `NitroAttestationError` from any copy of this package. */
  static isInstance(error: unknown): error is NitroAttestationError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
