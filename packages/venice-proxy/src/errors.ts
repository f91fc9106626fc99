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
