// The crate's `logging.level` is a tracing EnvFilter directive list; these read it for pino.

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'off']);
const TARGET = /^[A-Za-z0-9_:.\-[\]{}]+$/;

/**
 * Validates an EnvFilter-style directive list (the crate's `logging.level`) (`info`, `warn,my_crate=debug`).
 * @returns An error message, or undefined when valid.
 */
export function checkLogLevel(value: string): string | undefined {
  if (value.trim() === '') return 'must not be empty';
  for (const raw of value.split(',')) {
    const directive = raw.trim();
    if (directive === '') continue;
    const equals = directive.indexOf('=');
    if (equals < 0) {
      if (LEVELS.has(directive.toLowerCase()) || TARGET.test(directive)) continue;
      return `invalid filter directive "${directive}"`;
    }
    const target = directive.slice(0, equals);
    const level = directive.slice(equals + 1).toLowerCase();
    if (!TARGET.test(target) || !LEVELS.has(level)) return `invalid filter directive "${directive}"`;
  }
  return undefined;
}

/**
 * The pino level for an EnvFilter directive list: the level of a `venice_e2ee_proxy` target if given, else
 * the bare default level, else `info` (`off` → `silent`, `warn` → `warn`).
 * @example
 * ```ts
 * pinoLevelFromFilter('venice_e2ee_proxy=debug,tower_http=warn'); // 'debug'
 * ```
 */
export function pinoLevelFromFilter(
  filter: string,
): 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent' {
  let bare: string | undefined;
  let own: string | undefined;
  for (const raw of filter.split(',')) {
    const directive = raw.trim().toLowerCase();
    const equals = directive.indexOf('=');
    if (equals < 0) {
      if (LEVELS.has(directive)) bare = directive;
    } else if (directive.slice(0, equals) === 'venice_e2ee_proxy') {
      own = directive.slice(equals + 1);
    }
  }
  const level = own ?? bare ?? 'info';
  return level === 'off' ? 'silent' : (level as 'trace' | 'debug' | 'info' | 'warn' | 'error');
}
