import { writeSync } from 'node:fs';
import { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger, pino } from 'pino';

/** Log levels of {@link createLogger} (pino's, plus `silent`). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The censor string that replaces every redacted value. */
export const REDACTED = '[REDACTED]';

/**
 * The redaction paths applied to every log line and to child loggers' bindings (headers, config objects, key
 * material), in pino's `redact` syntax. The `*.<key>` paths (a secret-named property of any top-level object
 * field) are applied by the logger itself rather than by pino, which would run them on every field of every line;
 * the result is the same (censored with {@link REDACTED}), except in objects interpolated into a message
 * (`logger.info('%o', object)`), where only the other paths apply.
 */
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

/** The keys that `*.<key>` paths of {@link REDACT_PATHS} censor one level below any top-level field. */
const NESTED_SECRET_KEYS: readonly string[] = REDACT_PATHS.filter((path) => path.startsWith('*.')).map(
  (path) => path.slice(2),
);

/**
 * The paths pino's `redact` applies: every path of {@link REDACT_PATHS} but the `*.<key>` ones. pino runs a
 * wildcard-first path on every field of every line (6-20 µs per access line); {@link censorNestedSecrets} does
 * the same for them in a loop that costs nothing on a flat line.
 */
const PINO_REDACT_PATHS: readonly string[] = REDACT_PATHS.filter((path) => !path.startsWith('*.'));

/**
 * A copy of `value` (same prototype and own properties, so an `Error` stays one) with `keys` censored. Own
 * accessors are copied as the values they give on `value`: V8 (Node 22+) makes an error's `stack` an own accessor
 * that reads the original object's internal slot, so a copied getter would give the copy an empty stack.
 */
function censoredCopy(value: object, keys: readonly string[]): object {
  const descriptors: PropertyDescriptorMap = Object.getOwnPropertyDescriptors(value);
  for (const key of Reflect.ownKeys(descriptors) as Array<string | symbol>) {
    const descriptor = descriptors[key as string]!;
    if (descriptor.get === undefined && descriptor.set === undefined) continue;
    descriptors[key as string] = {
      value: Reflect.get(value, key),
      enumerable: descriptor.enumerable === true,
      writable: true,
      configurable: true,
    };
  }
  const copy = Object.create(Object.getPrototypeOf(value), descriptors) as Record<string, unknown>;
  for (const key of keys) {
    const descriptor = Object.getOwnPropertyDescriptor(copy, key)!;
    Object.defineProperty(copy, key, {
      value: REDACTED,
      enumerable: descriptor.enumerable === true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/**
 * The `*.<key>` redaction of {@link REDACT_PATHS} (pino's `formatters.log`, and the logger's `child` /
 * `setBindings` for bindings): a line (or a child logger's bindings) whose top-level fields hold an object with an own secret-named property gets a copy
 * of that field with the property censored; a flat line (no object-valued field) is returned as it is, untouched.
 * Runs before pino's serializers, as the censor keeps the field's prototype (an `Error` is still serialized as one).
 */
function censorNestedSecrets<T extends object>(object: T): T {
  let out: Record<string, unknown> | undefined;
  for (const field in object) {
    const value = (object as Record<string, unknown>)[field];
    if (typeof value !== 'object' || value === null) continue;
    let found: string[] | undefined;
    for (const key of NESTED_SECRET_KEYS) {
      if (!Object.hasOwn(value, key)) continue;
      found ??= [];
      found.push(key);
    }
    if (found === undefined) continue;
    out ??= { ...(object as Record<string, unknown>) };
    out[field] = censoredCopy(value, found);
  }
  return (out ?? object) as T;
}

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
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { name: options.name ?? 'confidential-proxy' },
      redact: { paths: [...PINO_REDACT_PATHS], censor: REDACTED },
      formatters: { log: censorNestedSecrets },
      ...(scrub ? { hooks: { streamWrite: scrub } } : {}),
    },
    options.destination ?? createStderrDestination(),
  );
  // Child bindings are serialized once, when the child is made (pino gives children no bindings formatter):
  // censor them there. Children inherit these from the root, so grandchildren are covered too.
  type ChildFunction = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const child = logger.child as unknown as ChildFunction;
  const setBindings = logger.setBindings as (this: Logger, bindings: Bindings) => void;
  const censoredChild: ChildFunction = function (this, bindings, childOptions) {
    return child.call(this, censorNestedSecrets(bindings), childOptions);
  };
  logger.child = censoredChild as unknown as Logger['child'];
  logger.setBindings = function (this: Logger, bindings: Bindings) {
    setBindings.call(this, censorNestedSecrets(bindings));
  };
  return logger;
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
