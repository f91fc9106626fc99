const MARKER = Symbol.for('confidential-ai.error.chutes-crypto');

/**
 * Stable codes of {@link ChutesCryptoError}.
 *
 * - `ERR_WIRE_MALFORMED`: a blob, chunk or stream init has the wrong size or shape.
 * - `ERR_BASE64_INVALID`: a base64 value is not strict standard base64 with padding.
 * - `ERR_DECRYPT_FAILED`: the AEAD tag did not verify (wrong key, tampered bytes, wrong KEM ciphertext).
 * - `ERR_DECOMPRESS_FAILED`: the decrypted payload is not valid gzip.
 * - `ERR_JSON_INVALID`: the decompressed payload is not valid UTF-8 JSON of the expected shape.
 * - `ERR_PAYLOAD_TOO_LARGE`: the decompressed payload exceeds `maxPlaintextBytes`.
 * - `ERR_KEY_INVALID`: a public, secret or stream key has the wrong size or fails validation.
 */
export type ChutesCryptoErrorCode =
  | 'ERR_WIRE_MALFORMED'
  | 'ERR_BASE64_INVALID'
  | 'ERR_DECRYPT_FAILED'
  | 'ERR_DECOMPRESS_FAILED'
  | 'ERR_JSON_INVALID'
  | 'ERR_PAYLOAD_TOO_LARGE'
  | 'ERR_KEY_INVALID';

/**
 * The one error class of this package for protocol failures. Messages describe what is wrong and never
 * contain key material or plaintext.
 *
 * @example
 * ```ts
 * try {
 *   openResponse(blob, secretKey);
 * } catch (error) {
 *   if (ChutesCryptoError.isInstance(error) && error.code === 'ERR_DECRYPT_FAILED') {
 *     // tampered or wrong key
 *   }
 * }
 * ```
 */
export class ChutesCryptoError extends Error {
  /** Stable machine-readable code. */
  readonly code: ChutesCryptoErrorCode;

  /**
   * @param code - Stable code.
   * @param message - Human-readable description without secrets.
   * @param options - `cause`, the underlying error if any.
   */
  constructor(code: ChutesCryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChutesCryptoError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `ChutesCryptoError` from any copy of this package. */
  static isInstance(error: unknown): error is ChutesCryptoError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
