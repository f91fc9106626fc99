import type { ConfigIssue } from '@confidential-ai/server-kit';

const MARKER = Symbol.for('confidential-ai.error.tee-gateway');

/** Stable codes of {@link TeeGatewayError}. */
export type TeeGatewayErrorCode =
  /** The `[tee_gateway]` configuration (flags, env, TOML, defaults) failed validation ({@link TeeGatewayConfigError}). */
  | 'ERR_CONFIG_INVALID'
  /** A request-level failure answered with the flat `{"error": ...}` body ({@link GatewayHttpError}). */
  | 'ERR_API'
  /** The gateway's listener could not be started. */
  | 'ERR_SERVER_START'
  /** x402 is on but its payment packages (`@x402/core`, `@x402/evm`, `viem`) are not installed. */
  | 'ERR_X402_UNAVAILABLE';

/**
 * Base class of every error this package throws on purpose. `code` is stable and safe to switch on; messages
 * never contain provider keys, prompts or payment secrets.
 */
export class TeeGatewayError extends Error {
  /** Stable machine-readable code. */
  readonly code: TeeGatewayErrorCode;
  constructor(code: TeeGatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'TeeGatewayError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `TeeGatewayError` (or subclass) from any copy of this package. */
  static isInstance(error: unknown): error is TeeGatewayError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/** Raised at startup when the configuration is invalid; lists every issue with its TOML key and env var. */
export class TeeGatewayConfigError extends TeeGatewayError {
  /** Every problem found. */
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const lines = issues.map(
      (issue) => `  - ${issue.tomlKey}${issue.envVar ? ` (env ${issue.envVar})` : ''}: ${issue.message}`,
    );
    super('ERR_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`, options);
    this.name = 'TeeGatewayConfigError';
    this.issues = issues;
  }
}

/**
 * A gateway request failure answered as the reference's flat JSON error body `{"error": message}` with an
 * HTTP status (tee-gateway.md §4). Messages never carry provider keys, prompts or payment secrets.
 */
export class GatewayHttpError extends TeeGatewayError {
  /** HTTP status of the answer. */
  readonly status: number;
  /** Extra top-level fields of the body (e.g. `message`). */
  readonly extra: Record<string, unknown> | undefined;
  constructor(
    status: number,
    message: string,
    options?: { cause?: unknown; extra?: Record<string, unknown> },
  ) {
    super('ERR_API', message, { cause: options?.cause });
    this.name = 'GatewayHttpError';
    this.status = status;
    this.extra = options?.extra;
  }
}
