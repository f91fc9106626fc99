/** Stable codes of the page's own failures (verification failures are the verifier's `VerifierError`). */
export type ChatPageErrorCode =
  | 'ERR_CHAT_E2EE_KEY'
  | 'ERR_CHAT_E2EE_NOT_APPLIED'
  | 'ERR_CHAT_E2EE_DECRYPT'
  | 'ERR_CHAT_RESPONSE_MALFORMED'
  | 'ERR_CHAT_HTTP'
  | 'ERR_CHAT_POLICY_INVALID';

const MARKER = Symbol.for('confidential-ai.error.chat-ui');

/**
 * A failure of the chat page itself: an E2EE layer that was not applied or does not decrypt, a malformed answer,
 * an HTTP error, an invalid policy. Messages never contain prompts, answers or the token.
 */
export class ChatPageError extends Error {
  /** Stable code. */
  readonly code: ChatPageErrorCode;
  /** HTTP status, for `ERR_CHAT_HTTP`. */
  readonly status: number | undefined;

  /**
   * @param code - Stable code.
   * @param message - Safe message.
   * @param options - `cause` and the HTTP `status`.
   */
  constructor(code: ChatPageErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatPageError';
    this.code = code;
    this.status = options.status;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a {@link ChatPageError} from any copy of this code. */
  static isInstance(value: unknown): value is ChatPageError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}
