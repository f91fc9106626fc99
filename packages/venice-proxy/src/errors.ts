import type { ConfigIssue } from '@confidential-ai/server-kit';

const MARKER = Symbol.for('confidential-ai.error.venice-proxy');

/** Stable codes of {@link VeniceProxyError}. */
export type VeniceProxyErrorCode =
  /** The crate-format configuration (file, `VENICE_E2EE_PROXY__*` env) failed validation ({@link VeniceProxyConfigError}). */
  | 'ERR_CONFIG_INVALID'
  /** A request-level failure answered in the crate's envelope (`VeniceProxyHttpError`). */
  | 'ERR_API'
  /** The proxy could not start (no Venice key for a real upstream, port in use, embedded fake failed). */
  | 'ERR_SERVER_START';

/**
 * Base class of every error this package throws on purpose. `code` is stable and safe to switch on; messages
 * never contain the Venice key, prompts or ciphertext.
 */
export class VeniceProxyError extends Error {
  /** Stable machine-readable code. */
  readonly code: VeniceProxyErrorCode;
  constructor(code: VeniceProxyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'VeniceProxyError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `VeniceProxyError` (or subclass) from any copy of this package. */
  static isInstance(error: unknown): error is VeniceProxyError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/** Raised at startup when the configuration is invalid; lists every issue with its TOML key and env var. */
export class VeniceProxyConfigError extends VeniceProxyError {
  /** Every problem found. */
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const lines = issues.map(
      (issue) => `  - ${issue.tomlKey}${issue.envVar ? ` (env ${issue.envVar})` : ''}: ${issue.message}`,
    );
    super('ERR_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`, options);
    this.name = 'VeniceProxyConfigError';
    this.issues = issues;
  }
}

/**
 * A request-level failure of the Venice proxy, answered with the reference proxy's envelope
 * `{"error":{"message","type","code"}}` and the `X-Venice-Proxy-Error-Code` header (spec section 5.9).
 */
export class VeniceProxyHttpError extends VeniceProxyError {
  /** HTTP status. */
  readonly status: number;
  /** Envelope `type`, e.g. `invalid_request_error`. */
  readonly type: string;
  /** Envelope `code` (and `X-Venice-Proxy-Error-Code`), e.g. `invalid_session_header`. */
  readonly proxyCode: string;
  /**
   * @param status - HTTP status.
   * @param type - Envelope `type`.
   * @param proxyCode - Envelope `code`.
   * @param message - Client-safe message (no secrets, no plaintext).
   */
  constructor(status: number, type: string, proxyCode: string, message: string) {
    super('ERR_API', message);
    this.name = 'VeniceProxyHttpError';
    this.status = status;
    this.type = type;
    this.proxyCode = proxyCode;
  }
}
