const MARKER = Symbol.for('confidential-ai.error.tee-signing');

/**
 * Stable codes for every failure this package raises on purpose.
 *
 * | Code | Meaning |
 * | --- | --- |
 * | `ERR_JSON_PARSE` | input is not JSON as Python's `json.loads` accepts it |
 * | `ERR_CANONICAL_JSON` | a value cannot be serialised like Python `json.dumps` (cycle, undefined, unsafe integer, …) |
 * | `ERR_REQUEST_UNSUPPORTED` | a request cannot be expressed as a gateway request (no model/messages, unknown role, …) |
 * | `ERR_RESPONSE_MALFORMED` | a signed response lacks or has malformed `tee_*` fields, or the SSE stream has no signed frame |
 * | `ERR_KEY_INVALID` | a key could not be imported or has the wrong type/size |
 * | `ERR_SIGNATURE_MALFORMED` | a signature has the wrong encoding or length |
 * | `ERR_SIGNATURE_INVALID` | a signature does not verify |
 * | `ERR_TEE_ID_MISMATCH` | the response's `tee_id` is not the signing key's (or the expected) tee_id |
 * | `ERR_REQUEST_HASH_MISMATCH` | the recomputed request hash differs from the signed one |
 * | `ERR_OUTPUT_HASH_MISMATCH` | the recomputed output hash differs from the signed one |
 * | `ERR_ADDRESS_MISMATCH` | the recovered or given signing address differs from the expected one |
 * | `ERR_TEXT_MISMATCH` | a vllm-proxy signed text does not match the recomputed request/response hashes |
 * | `ERR_CRYPTO_UNAVAILABLE` | WebCrypto (`globalThis.crypto.subtle`) is missing |
 */
export type TeeSigningErrorCode =
  | 'ERR_JSON_PARSE'
  | 'ERR_CANONICAL_JSON'
  | 'ERR_REQUEST_UNSUPPORTED'
  | 'ERR_RESPONSE_MALFORMED'
  | 'ERR_KEY_INVALID'
  | 'ERR_SIGNATURE_MALFORMED'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_TEE_ID_MISMATCH'
  | 'ERR_REQUEST_HASH_MISMATCH'
  | 'ERR_OUTPUT_HASH_MISMATCH'
  | 'ERR_ADDRESS_MISMATCH'
  | 'ERR_TEXT_MISMATCH'
  | 'ERR_CRYPTO_UNAVAILABLE';

/** Every code of {@link TeeSigningErrorCode}, for exhaustive tables and tests. */
export const TEE_SIGNING_ERROR_CODES: readonly TeeSigningErrorCode[] = Object.freeze([
  'ERR_JSON_PARSE',
  'ERR_CANONICAL_JSON',
  'ERR_REQUEST_UNSUPPORTED',
  'ERR_RESPONSE_MALFORMED',
  'ERR_KEY_INVALID',
  'ERR_SIGNATURE_MALFORMED',
  'ERR_SIGNATURE_INVALID',
  'ERR_TEE_ID_MISMATCH',
  'ERR_REQUEST_HASH_MISMATCH',
  'ERR_OUTPUT_HASH_MISMATCH',
  'ERR_ADDRESS_MISMATCH',
  'ERR_TEXT_MISMATCH',
  'ERR_CRYPTO_UNAVAILABLE',
]);

/**
 * The one error class of this package. Switch on `code`; messages never contain key material or message
 * contents.
 *
 * @example
 * ```ts
 * try {
 *   await verifyResponse({ request, response, signingKey });
 * } catch (error) {
 *   if (TeeSigningError.isInstance(error) && error.code === 'ERR_SIGNATURE_INVALID') reject();
 *   else throw error;
 * }
 * ```
 */
export class TeeSigningError extends Error {
  /** Stable machine-readable code. */
  readonly code: TeeSigningErrorCode;
  constructor(code: TeeSigningErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options === undefined ? undefined : { cause: options.cause });
    this.name = 'TeeSigningError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `TeeSigningError` from any copy of this package. */
  static isInstance(error: unknown): error is TeeSigningError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
