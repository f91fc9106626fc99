const MARKER = Symbol.for('confidential-ai.error.chutes-cli');

/** Stable codes for every failure the Chutes SDK and CLI raise on purpose. */
export type ChutesCliErrorCode =
  | 'ERR_CONFIG_MISSING'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_AUTH_REQUIRED'
  | 'ERR_WALLET_MISSING'
  | 'ERR_WALLET_INVALID'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_VALIDATION'
  | 'ERR_MODULE_LOAD'
  | 'ERR_HTTP'
  | 'ERR_NETWORK'
  | 'ERR_STREAM'
  | 'ERR_ABORTED'
  | 'ERR_DOCKER'
  | 'ERR_USAGE'
  | 'ERR_WALLET_EXISTS'
  | 'ERR_CONFIG_WRITE'
  | 'ERR_PYTHON_MISSING';

/** Options for {@link ChutesCliError}. */
export interface ChutesCliErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** HTTP status for `ERR_HTTP`. */
  status?: number;
  /** The server's `detail` text for `ERR_HTTP` (never contains secrets we sent). */
  detail?: string;
}

/**
 * The one error class of `@confidential-ai/chutes-cli`. `code` is stable and switchable; messages never contain
 * secrets (seeds, API keys, signatures).
 *
 * @example
 * ```ts
 * try { await client.getImage('x'); } catch (error) {
 *   if (ChutesCliError.isInstance(error) && error.code === 'ERR_HTTP' && error.status === 404) { ... }
 * }
 * ```
 */
export class ChutesCliError extends Error {
  /** Stable code. */
  readonly code: ChutesCliErrorCode;
  /** HTTP status for `ERR_HTTP` errors. */
  readonly status: number | undefined;
  /** Server-provided detail for `ERR_HTTP` errors. */
  readonly detail: string | undefined;

  constructor(code: ChutesCliErrorCode, message: string, options: ChutesCliErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'ChutesCliError';
    this.code = code;
    this.status = options.status;
    this.detail = options.detail;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `ChutesCliError` from any copy of this package. */
  static isInstance(error: unknown): error is ChutesCliError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/**
 * Process exit codes of the `chutes` CLI, stable for scripts.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | unexpected internal error |
 * | 2 | bad command-line usage |
 * | 3 | configuration, authentication or wallet problem (local), e.g. a wallet that already exists or a config.ini that cannot be written |
 * | 4 | the API rejected the credentials (401/403) |
 * | 5 | not found (404) |
 * | 6 | conflict (409), e.g. the image or key already exists |
 * | 7 | payment required (402), e.g. the deployment fee notice without `--accept-fee` |
 * | 8 | other API error (other 4xx/5xx, malformed response or stream) |
 * | 9 | network error (API unreachable) |
 * | 10 | aborted by the user (confirmation declined) |
 * | 11 | invalid chute/image definition or argument |
 * | 12 | a required program is missing or failed: docker (`build --local`), python3 (`.py` chute modules) |
 */
export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  unauthorized: 4,
  notFound: 5,
  conflict: 6,
  paymentRequired: 7,
  api: 8,
  network: 9,
  aborted: 10,
  validation: 11,
  docker: 12,
} as const;

/** Maps an error to the CLI exit code of {@link EXIT_CODES}. */
export function exitCodeFor(error: unknown): number {
  if (!ChutesCliError.isInstance(error)) return EXIT_CODES.internal;
  switch (error.code) {
    case 'ERR_CONFIG_MISSING':
    case 'ERR_CONFIG_INVALID':
    case 'ERR_AUTH_REQUIRED':
    case 'ERR_WALLET_MISSING':
    case 'ERR_WALLET_INVALID':
    case 'ERR_WALLET_EXISTS':
    case 'ERR_CONFIG_WRITE':
      return EXIT_CODES.config;
    case 'ERR_HTTP':
      if (error.status === 401 || error.status === 403) return EXIT_CODES.unauthorized;
      if (error.status === 404) return EXIT_CODES.notFound;
      if (error.status === 409) return EXIT_CODES.conflict;
      if (error.status === 402) return EXIT_CODES.paymentRequired;
      return EXIT_CODES.api;
    case 'ERR_STREAM':
    case 'ERR_SIGNATURE_INVALID':
      return EXIT_CODES.api;
    case 'ERR_NETWORK':
      return EXIT_CODES.network;
    case 'ERR_ABORTED':
      return EXIT_CODES.aborted;
    case 'ERR_VALIDATION':
    case 'ERR_MODULE_LOAD':
      return EXIT_CODES.validation;
    case 'ERR_DOCKER':
    case 'ERR_PYTHON_MISSING':
      return EXIT_CODES.docker;
    case 'ERR_USAGE':
      return EXIT_CODES.usage;
    default:
      return EXIT_CODES.internal;
  }
}
