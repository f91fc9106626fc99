const MARKER = Symbol.for('confidential-ai.error.proxy-server');

/** Stable codes of {@link ProxyServerError}. */
export type ProxyServerErrorCode =
  /** The merged configuration (flags, env, TOML, defaults) failed validation. */
  | 'ERR_CONFIG_INVALID'
  /** A request-level failure that maps to an HTTP response (see {@link ApiError}). */
  | 'ERR_API'
  /** The configured replay store (Redis) cannot be reached. */
  | 'ERR_REPLAY_STORE_UNAVAILABLE'
  /** The server could not start (port in use, embedded upstream failed, ...). */
  | 'ERR_SERVER_START';

/**
 * Base class of every error this package throws on purpose. `code` is stable and safe to switch on; messages
 * never contain secrets, tokens, keys or prompt plaintext.
 */
export class ProxyServerError extends Error {
  /** Stable machine-readable code. */
  readonly code: ProxyServerErrorCode;
  constructor(code: ProxyServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'ProxyServerError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `ProxyServerError` (or subclass) from any copy of this package. */
  static isInstance(error: unknown): error is ProxyServerError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/** One problem found while validating the configuration. */
export interface ConfigIssue {
  /** TOML key, e.g. `chutes.base_url`. */
  tomlKey: string;
  /** Environment variable that sets the same value, when there is one. */
  envVar: string | undefined;
  /** What is wrong (never the value itself: it may be a secret). */
  message: string;
}

/** Raised once at startup when the configuration is invalid; lists every issue with its TOML key and env var. */
export class ConfigError extends ProxyServerError {
  /** Every problem found, in schema order. */
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const lines = issues.map(
      (issue) => `  - ${issue.tomlKey}${issue.envVar ? ` (env ${issue.envVar})` : ''}: ${issue.message}`,
    );
    super('ERR_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * A request-level failure with the HTTP status and OpenAI error `type` it is answered with. Thrown inside route
 * handlers and turned into `{"error":{"message","type","param","code"}}` by the app's single error handler.
 *
 * @example
 * ```ts
 * throw new ApiError(400, 'e2ee_header_missing', 'X-Client-Pub-Key is required');
 * ```
 */
export class ApiError extends ProxyServerError {
  /** HTTP status of the response. */
  readonly status: number;
  /** OpenAI envelope `type`, e.g. `e2ee_decryption_failed`. */
  readonly type: string;
  /** OpenAI envelope `param`, when one request field is at fault. */
  readonly param: string | null;
  /** Seconds for a `Retry-After` response header, when waiting helps. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    status: number,
    type: string,
    message: string,
    options?: { cause?: unknown; param?: string; retryAfterSeconds?: number },
  ) {
    super('ERR_API', message, options);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.param = options?.param ?? null;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** The OpenAI error envelope every error response of this server uses. */
export interface ErrorEnvelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * Builds the OpenAI error envelope.
 *
 * @example
 * ```ts
 * errorEnvelope('Invalid token', 'authentication_error');
 * // { error: { message: 'Invalid token', type: 'authentication_error', param: null, code: null } }
 * ```
 */
export function errorEnvelope(message: string, type: string, param: string | null = null): ErrorEnvelope {
  return { error: { message, type, param, code: null } };
}
