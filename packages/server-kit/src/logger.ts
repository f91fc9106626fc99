import { writeSync } from 'node:fs';
import { type DestinationStream, type Logger, pino } from 'pino';

/** Log levels of {@link createLogger} (pino's, plus `silent`). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The censor string that replaces every redacted value. */
export const REDACTED = '[REDACTED]';

/** pino `redact` paths applied to every log line (headers, config objects, key material). */
export const REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'req.headers["x-client-pub-key"]',
  'req.headers["x-model-pub-key"]',
  'req.headers["x-e2ee-nonce"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'authorization',
  'token',
  'apiKey',
  'api_key',
  'password',
  'privateKey',
  'keySeed',
  'key_seed',
  '*.token',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.privateKey',
  '*.keySeed',
  '*.key_seed',
  '*.authorization',
];

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Minimum level. Default `info`. */
  level?: LogLevel;
  /** Where lines go; default {@link createStderrDestination} (stdout stays free for the CLI's ready line and `--json`). */
  destination?: DestinationStream;
  /**
   * Secret values (token, provider keys, passwords, seeds) scrubbed from every serialized line, wherever they
   * appear (messages, error stacks, nested fields). Values shorter than 4 characters are ignored.
   */
  secrets?: readonly string[];
  /** The `name` field of every line (which program wrote it). Default `confidential-proxy`. */
  name?: string;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Lines are written at the latest once this many bytes are waiting (else at the end of the event-loop turn). */
const FLUSH_BYTES = 64 * 1024;

/** Destinations with lines waiting, flushed synchronously when the process exits (crash and `process.exit` too). */
const unflushed = new Set<{ flush(): void }>();
let exitHookInstalled = false;

function flushAllOnExit(): void {
  for (const destination of unflushed) destination.flush();
}

/**
 * A synchronous stderr destination that never blocks shutdown: a full non-blocking pipe is retried briefly
 * (then the line is dropped), and a closed pipe (EPIPE) or any other write error turns logging off instead of
 * throwing or retrying forever. (pino's default sonic-boom destination retries a broken pipe endlessly in its
 * exit-time flush, which kept an orphaned server from stopping on SIGTERM.) Lines of one event-loop turn are
 * written together (one system call, at the end of the turn or once 64 KiB wait); `flush()` (pino's
 * `logger.flush()`) and process exit write what is waiting at once.
 */
export function createStderrDestination(fd = 2): DestinationStream & { flush(): void } {
  let broken = false;
  let pending: string[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  const writeAll = (text: string) => {
    let data = Buffer.from(text, 'utf8');
    let waits = 0;
    while (data.length > 0) {
      try {
        data = data.subarray(writeSync(fd, data));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && waits < 100) {
          waits++;
          Atomics.wait(pause, 0, 0, 1);
          continue;
        }
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') broken = true;
        return;
      }
    }
  };
  const destination = {
    write(line: string) {
      if (broken) return;
      pending.push(line);
      pendingBytes += line.length;
      if (pendingBytes >= FLUSH_BYTES) {
        destination.flush();
        return;
      }
      if (!scheduled) {
        scheduled = true;
        unflushed.add(destination);
        setImmediate(destination.flush).unref();
      }
    },
    flush() {
      scheduled = false;
      unflushed.delete(destination);
      if (pending.length === 0) return;
      const text = pending.length === 1 ? pending[0]! : pending.join('');
      pending = [];
      pendingBytes = 0;
      if (!broken) writeAll(text);
    },
  };
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', flushAllOnExit);
  }
  return destination;
}

function escapeForJson(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * Creates the app's pino logger: JSON lines, `redact` over headers and secret-named fields with a fixed censor,
 * and a final scrubber that replaces any configured secret value in the serialized line.
 *
 * @example
 * ```ts
 * const logger = createLogger({ level: 'info', secrets: [config.auth.token ?? ''] });
 * logger.info({ route: '/v1/models' }, 'request');
 * ```
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const secrets = [...new Set((options.secrets ?? []).filter((secret) => secret.length >= 4))]
    // Longest first, so a secret that contains another is replaced whole.
    .sort((left, right) => right.length - left.length)
    .flatMap((secret) => [...new Set([secret, escapeForJson(secret)])]);
  const scrub =
    secrets.length === 0
      ? undefined
      : (line: string): string => {
          let out = line;
          for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
          return out;
        };
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: options.name ?? 'confidential-proxy' },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      ...(scrub ? { hooks: { streamWrite: scrub } } : {}),
    },
    options.destination ?? createStderrDestination(),
  );
}

/** A logger that discards everything (for tests and library-style embedding). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * A log-safe view of an error: name, code and stack frames, never the message (messages of parsers and
 * crypto libraries can quote input, i.e. prompt plaintext).
 * @example
 * ```ts
 * logger.error({ err: errorForLog(error) }, 'request failed');
 * ```
 */
export function errorForLog(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { type: typeof error };
  const record = error as { name?: unknown; code?: unknown; stack?: unknown; type?: unknown };
  const frames =
    typeof record.stack === 'string'
      ? record.stack
          .split('\n')
          .filter((line) => line.trimStart().startsWith('at '))
          .slice(0, 8)
          .map((line) => line.trim())
      : undefined;
  return { name: record.name, code: record.code, type: record.type, frames };
}

export type { Logger } from 'pino';
