const MARKER = Symbol.for('confidential-ai.error.chutes-transport');

/**
 * Stable codes of {@link ChutesTransportError}. Switch on `error.code`; the messages may change.
 *
 * - `ERR_REQUEST_INVALID`: the request cannot be encrypted (for example a non-string `model`, no API key).
 * - `ERR_REQUEST_ENCRYPT`: sealing the request failed (for example the payload is too large).
 * - `ERR_MODEL_NOT_FOUND`: the model name is not in the `/v1/models` list, even after a refresh.
 * - `ERR_DISCOVERY_INVALID`: `/e2e/instances` answered 200 with a body that is not the documented shape.
 * - `ERR_NO_INSTANCES`: discovery returned no usable instance (no valid public key, no nonces).
 * - `ERR_NONCE_TIMEOUT`: the request waited `nonceWaitTimeoutMs` for a nonce without getting one (too many
 *   concurrent requests for the nonces the relay hands out); a 503 condition.
 * - `ERR_NONCE_QUEUE_FULL`: `maxWaitingRequests` requests were already waiting for a nonce of the chute; the
 *   request was refused at once (back-pressure); a 503 condition.
 * - `ERR_INSTANCE_FILTER_EMPTY`: the instance filter rejected every instance (no fallback).
 * - `ERR_RESPONSE_DECRYPT`: a non-stream response blob failed to open (size, tag, gzip or JSON).
 * - `ERR_STREAM_DECRYPT`: an `e2e_init` or `e2e` event failed to open (size, base64, tag, UTF-8).
 * - `ERR_STREAM_MALFORMED`: the stream broke the protocol (chunk before `e2e_init`, second `e2e_init`,
 *   oversized line, invalid UTF-8).
 * - `ERR_STREAM_TRUNCATED`: the stream ended, or its connection failed, before a decrypted `[DONE]`.
 * - `ERR_UPSTREAM`: the relay answered in a way that cannot be used (the `/v1/models` list failed, a 200
 *   stream without a body).
 */
export type ChutesTransportErrorCode =
  | 'ERR_REQUEST_INVALID'
  | 'ERR_REQUEST_ENCRYPT'
  | 'ERR_MODEL_NOT_FOUND'
  | 'ERR_DISCOVERY_INVALID'
  | 'ERR_NO_INSTANCES'
  | 'ERR_NONCE_TIMEOUT'
  | 'ERR_NONCE_QUEUE_FULL'
  | 'ERR_INSTANCE_FILTER_EMPTY'
  | 'ERR_RESPONSE_DECRYPT'
  | 'ERR_STREAM_DECRYPT'
  | 'ERR_STREAM_MALFORMED'
  | 'ERR_STREAM_TRUNCATED'
  | 'ERR_UPSTREAM';

/** Extra facts attached to a {@link ChutesTransportError}. */
export interface ChutesTransportErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** HTTP status of the relay answer that caused the error, when there is one. */
  status?: number;
  /** Chute id the request was for, when known. */
  chuteId?: string;
}

/**
 * The one error class of `@confidential-ai/chutes-transport`. Messages never contain API keys, nonces, keys
 * or plaintext.
 *
 * When thrown from the fetch returned by `createChutesFetch`, the OpenAI SDK wraps it in its
 * `APIConnectionError` (available as `error.cause`); inside a stream, the SDK's iteration throws it directly.
 */
export class ChutesTransportError extends Error {
  /** Stable code; see {@link ChutesTransportErrorCode}. */
  readonly code: ChutesTransportErrorCode;
  /** HTTP status of the relay answer behind the error, if any. */
  readonly status: number | undefined;
  /** Chute id of the request, if known. */
  readonly chuteId: string | undefined;

  constructor(code: ChutesTransportErrorCode, message: string, options: ChutesTransportErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'ChutesTransportError';
    this.code = code;
    this.status = options.status;
    this.chuteId = options.chuteId;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `ChutesTransportError` from any copy of this package. */
  static isInstance(error: unknown): error is ChutesTransportError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
