/**
 * A logger with the four methods the toolkit calls. A pino instance, `console` or the OpenAI SDK's logger
 * fit as they are.
 */
export interface Logger {
  /** Failures the caller sees as errors (a stream that failed to decrypt). */
  error(message: string, ...details: unknown[]): void;
  /** Dropped instances, failed discovery or evidence calls. */
  warn(message: string, ...details: unknown[]): void;
  /** Retries. */
  info(message: string, ...details: unknown[]): void;
  /** Discovery, model list refreshes, each invocation (ids only). */
  debug(message: string, ...details: unknown[]): void;
}

/** How much reaches the {@link Logger}: everything at or above this level. */
export type LogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };

/** Header names whose values never reach a log. */
const SECRET_HEADERS = new Set([
  'authorization',
  'api-key',
  'x-api-key',
  'cookie',
  'set-cookie',
  'proxy-authorization',
  'x-e2e-nonce',
]);

/**
 * Copies headers for logging with secret values (authorization, API keys, cookies, the E2E nonce) replaced by
 * `***`.
 */
export function redactHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? '***' : value;
  });
  return out;
}

/** A logger that filters by level; every method is safe to call. */
export interface LevelLogger {
  /** Logs at error level. */
  error(message: string, details?: Record<string, unknown>): void;
  /** Logs at warn level. */
  warn(message: string, details?: Record<string, unknown>): void;
  /** Logs at info level. */
  info(message: string, details?: Record<string, unknown>): void;
  /** Logs at debug level. */
  debug(message: string, details?: Record<string, unknown>): void;
}

/** Wraps an optional logger so that calls below `level` are dropped and logger failures are swallowed. */
export function createLevelLogger(logger: Logger | undefined, level: LogLevel): LevelLogger {
  const make =
    (method: keyof Logger) =>
    (message: string, details?: Record<string, unknown>): void => {
      if (!logger || RANK[method] > RANK[level]) return;
      try {
        if (details === undefined) logger[method](`[chutes-transport] ${message}`);
        else logger[method](`[chutes-transport] ${message}`, details);
      } catch {
        // A failing logger must never break a request.
      }
    };
  return { error: make('error'), warn: make('warn'), info: make('info'), debug: make('debug') };
}
