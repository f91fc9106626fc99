const MARKER = Symbol.for('confidential-ai.error.server-kit');

/** Stable codes of {@link ServerKitError}. */
export type ServerKitErrorCode =
  /** A listener could not be started (port in use, address not available, ...). */
  'ERR_SERVER_START';

/**
 * Base class of every error this package throws on purpose. `code` is stable and safe to switch on; messages
 * never contain secrets or client input.
 */
export class ServerKitError extends Error {
  /** Stable machine-readable code. */
  readonly code: ServerKitErrorCode;
  constructor(code: ServerKitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'ServerKitError';
    this.code = code;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `ServerKitError` (or subclass) from any copy of this package. */
  static isInstance(error: unknown): error is ServerKitError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/**
 * One problem found while validating a configuration: the shape every face's configuration error carries (each
 * package throws its own error class with `code: 'ERR_CONFIG_INVALID'` and `issues`).
 */
export interface ConfigIssue {
  /** TOML key, e.g. `chutes.base_url`. */
  tomlKey: string;
  /** Environment variable that sets the same value, when there is one. */
  envVar: string | undefined;
  /** What is wrong (never the value itself: it may be a secret). */
  message: string;
}

/**
 * The issues of a configuration error of any face (an error whose `code` is `ERR_CONFIG_INVALID` and that carries
 * an `issues` array), else undefined.
 * @example
 * ```ts
 * const issues = configIssuesOf(error);
 * if (issues) console.error(formatConfigIssues(issues));
 * ```
 */
export function configIssuesOf(error: unknown): readonly ConfigIssue[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { code?: unknown; issues?: unknown };
  return candidate.code === 'ERR_CONFIG_INVALID' && Array.isArray(candidate.issues)
    ? (candidate.issues as ConfigIssue[])
    : undefined;
}

/**
 * The issues as one line: `key (env VAR): message; ...`.
 * @example
 * ```ts
 * formatConfigIssues([{ tomlKey: 'server.port', envVar: 'PROXY_PORT', message: 'must be <= 65535' }]);
 * // 'server.port (env PROXY_PORT): must be <= 65535'
 * ```
 */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues
    .map((issue) => `${issue.tomlKey}${issue.envVar ? ` (env ${issue.envVar})` : ''}: ${issue.message}`)
    .join('; ');
}

/**
 * True for an error thrown on purpose by any `@confidential-ai/*` package (each marks its errors with
 * `Symbol.for('confidential-ai.error.<package>')`): its message is written to be shown and holds no secret.
 * @example
 * ```ts
 * isToolkitError(new ServerKitError('ERR_SERVER_START', 'cannot listen')); // true
 * isToolkitError(new TypeError('x')); // false
 * ```
 */
export function isToolkitError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    Object.getOwnPropertySymbols(error).some((symbol) =>
      symbol.description?.startsWith('confidential-ai.error.'),
    )
  );
}
