const MARKER = Symbol.for('confidential-ai.error.encoding');

/** Stable codes for encoding failures. */
export type EncodingErrorCode = 'ERR_ENCODING_BASE64' | 'ERR_ENCODING_HEX' | 'ERR_ENCODING_UTF8';

/**
 * Raised when text is not valid in the encoding a caller asked for. The message names the encoding and what
 * is wrong, never the offending value (it may be secret).
 */
export class EncodingError extends Error {
  readonly code: EncodingErrorCode;
  constructor(code: EncodingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EncodingError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for an `EncodingError` from any copy of this package. */
  static isInstance(error: unknown): error is EncodingError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
