import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { type ConfigIssue, isHttpUrl, parseBooleanWord } from '@confidential-ai/server-kit';
import { parse as parseToml } from 'smol-toml';
import { VeniceProxyConfigError } from './errors.js';
import { parseHumantimeDuration } from './humantime.js';
import { checkLogLevel } from './log-filter.js';

export { parseHumantimeDuration } from './humantime.js';
export { pinoLevelFromFilter } from './log-filter.js';

/** Environment variable prefix of the Venice proxy configuration (figment-style, split on `__`). */
export const VENICE_ENV_PREFIX = 'VENICE_E2EE_PROXY__';

/**
 * The validated configuration of the Venice E2EE proxy, compatible with the `venice-e2ee-proxy` crate's
 * `config/default.toml` (same sections, keys, defaults and validation rules). Durations are in ms.
 * `venice.apiKey` is a secret and must never be logged.
 */
export interface VeniceProxyConfig {
  /** `[server]`. */
  readonly server: {
    /** `server.host`, default `0.0.0.0`; non-empty. */
    readonly host: string;
    /** `server.port`, default 8080. */
    readonly port: number;
    /**
     * `server.auth_token` (secret; this project's addition, the crate has no client authentication): when
     * non-empty, the standalone proxy answers every request without `Authorization: Bearer <token>` with 401.
     * Empty (default): no client token. The composed server ignores it and uses its own `auth.token`.
     */
    readonly authToken: string;
    /**
     * `server.allow_unauthenticated_public_listen` (this project's addition), default false: let the standalone
     * proxy listen on a non-loopback address without `server.auth_token` (logged at warn). Without it, such a
     * configuration is refused at startup.
     */
    readonly allowUnauthenticatedPublicListen: boolean;
  };
  /** `[logging]`. */
  readonly logging: {
    /** `logging.level`: an EnvFilter directive list (`info`, `venice_e2ee_proxy=debug,tower_http=warn`). */
    readonly level: string;
  };
  /** `[venice]`. */
  readonly venice: {
    /** `venice.base_url`, default `https://api.venice.ai/api/v1`; must start `http://` or `https://`. */
    readonly baseUrl: string;
    /** `venice.api_key` (secret), default empty. */
    readonly apiKey: string;
    /** `venice.request_timeout` in ms, default 30 s. */
    readonly requestTimeoutMs: number;
    /**
     * `venice.simulate` (this package's addition to the crate's layout), default true: with no `venice.api_key`
     * and the default `venice.base_url`, the built-in simulated Venice answers (demos, tests). false: a missing
     * API key stops start-up instead, as the venice-e2ee-proxy image sets it.
     */
    readonly simulate: boolean;
  };
  /** `[keys]`. */
  readonly keys: {
    /** `keys.generate_proxy_instance_key_on_startup`, default true; false → every chat request is a 500. */
    readonly generateProxyInstanceKeyOnStartup: boolean;
  };
  /** `[session]`. */
  readonly session: {
    /** `session.idle_ttl` in ms, default 10 min; non-zero, ≤ max TTL. */
    readonly idleTtlMs: number;
    /** `session.max_ttl` in ms, default 30 min; non-zero. */
    readonly maxTtlMs: number;
    /** `session.max_requests`, default 100; > 0. */
    readonly maxRequests: number;
    /** `session.fallback_scope`: `agent` | `request` (default) | `disabled`. */
    readonly fallbackScope: 'agent' | 'request' | 'disabled';
    /** `[session.headers]`. */
    readonly headers: {
      /** `session.headers.incoming_session_id`, default `X-Venice-Proxy-Session-Id`; a valid header name. */
      readonly incomingSessionId: string;
    };
  };
  /** `[attestation]`. */
  readonly attestation: {
    /** `attestation.mode`: only `independent`. */
    readonly mode: 'independent';
    /** `attestation.require_tdx`, default false: when true the quote chain is verified offline (spec D2). */
    readonly requireTdx: boolean;
    /** `attestation.require_nvidia`: `required` | `when_present` | `never` (default). */
    readonly requireNvidia: 'required' | 'when_present' | 'never';
    /** `attestation.allow_debug`, default false. */
    readonly allowDebug: boolean;
    /** `attestation.pccs_url`: empty or an http(s) URL (accepted; not used for offline verification). */
    readonly pccsUrl: string;
  };
  /** `[e2ee]`. */
  readonly e2ee: {
    /** `e2ee.hkdf_info`, default `ecdsa_encryption`; non-empty. */
    readonly hkdfInfo: string;
    /** `e2ee.require_encrypted_response_content`, default true (spec D3). */
    readonly requireEncryptedResponseContent: boolean;
  };
  /** `[tools]`. */
  readonly tools: {
    /** `tools.enabled`, default true. */
    readonly enabled: boolean;
    /** `tools.mode`: `emulated` (default) | `none`. */
    readonly mode: 'emulated' | 'none';
    /** `tools.max_retries`, default 2. */
    readonly maxRetries: number;
    /** `tools.tool_call_max_bytes`, default 65536; > 0. */
    readonly toolCallMaxBytes: number;
    /** `tools.tool_call_marker_timeout` in ms, default 30 s; non-zero. */
    readonly toolCallMarkerTimeoutMs: number;
    /** `tools.validate_json_schema`, default true. */
    readonly validateJsonSchema: boolean;
  };
}

type FieldKind = 'string' | 'boolean' | 'integer' | 'duration';

interface FieldSpec {
  kind: FieldKind;
  /** Default as written in the TOML file. */
  fallback: string | number | boolean;
  /** Extra check; returns an error message or undefined. */
  check?: (value: never) => string | undefined;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function oneOf(...values: string[]) {
  return (value: string) => (values.includes(value) ? undefined : `must be one of ${values.join(', ')}`);
}

interface Schema {
  [key: string]: FieldSpec | Schema;
}

const SCHEMA: Schema = {
  server: {
    host: {
      kind: 'string',
      fallback: '0.0.0.0',
      check: (v: string) => (v.trim() ? undefined : 'must not be empty'),
    },
    port: {
      kind: 'integer',
      fallback: 8080,
      check: (v: number) => (v >= 0 && v <= 65535 ? undefined : 'must be a port number 0-65535'),
    },
    auth_token: { kind: 'string', fallback: '' },
    allow_unauthenticated_public_listen: { kind: 'boolean', fallback: false },
  },
  logging: { level: { kind: 'string', fallback: 'info', check: checkLogLevel } },
  venice: {
    base_url: {
      kind: 'string',
      fallback: 'https://api.venice.ai/api/v1',
      check: (v: string) => (isHttpUrl(v) ? undefined : 'must be an http(s) URL without credentials'),
    },
    api_key: { kind: 'string', fallback: '' },
    request_timeout: { kind: 'duration', fallback: '30s' },
    simulate: { kind: 'boolean', fallback: true },
  },
  keys: { generate_proxy_instance_key_on_startup: { kind: 'boolean', fallback: true } },
  session: {
    idle_ttl: {
      kind: 'duration',
      fallback: '10m',
      check: (v: number) => (v > 0 ? undefined : 'must be non-zero'),
    },
    max_ttl: {
      kind: 'duration',
      fallback: '30m',
      check: (v: number) => (v > 0 ? undefined : 'must be non-zero'),
    },
    max_requests: {
      kind: 'integer',
      fallback: 100,
      check: (v: number) => (v > 0 ? undefined : 'must be > 0'),
    },
    fallback_scope: { kind: 'string', fallback: 'request', check: oneOf('agent', 'request', 'disabled') },
    headers: {
      incoming_session_id: {
        kind: 'string',
        fallback: 'X-Venice-Proxy-Session-Id',
        check: (v: string) => (HEADER_NAME.test(v) ? undefined : 'must be a valid HTTP header name'),
      },
    },
  },
  attestation: {
    mode: { kind: 'string', fallback: 'independent', check: oneOf('independent') },
    require_tdx: { kind: 'boolean', fallback: false },
    require_nvidia: { kind: 'string', fallback: 'never', check: oneOf('required', 'when_present', 'never') },
    allow_debug: { kind: 'boolean', fallback: false },
    pccs_url: {
      kind: 'string',
      fallback: '',
      check: (v: string) =>
        v === '' || isHttpUrl(v) ? undefined : 'must be empty or an http(s) URL without credentials',
    },
  },
  e2ee: {
    hkdf_info: {
      kind: 'string',
      fallback: 'ecdsa_encryption',
      check: (v: string) => (v ? undefined : 'must not be empty'),
    },
    require_encrypted_response_content: { kind: 'boolean', fallback: true },
  },
  tools: {
    enabled: { kind: 'boolean', fallback: true },
    mode: { kind: 'string', fallback: 'emulated', check: oneOf('emulated', 'none') },
    max_retries: {
      kind: 'integer',
      fallback: 2,
      check: (v: number) => (v >= 0 ? undefined : 'must be >= 0'),
    },
    tool_call_max_bytes: {
      kind: 'integer',
      fallback: 65536,
      check: (v: number) => (v > 0 ? undefined : 'must be > 0'),
    },
    tool_call_marker_timeout: {
      kind: 'duration',
      fallback: '30s',
      check: (v: number) => (v > 0 ? undefined : 'must be non-zero'),
    },
    validate_json_schema: { kind: 'boolean', fallback: true },
  },
};

/** Options of {@link loadVeniceProxyConfig}. */
export interface LoadVeniceProxyConfigOptions {
  /**
   * Path of the TOML file (resolved against the working directory). Omitted: defaults plus environment only.
   * A missing or unreadable file is an error naming the path (no silent empty configuration).
   */
  path?: string;
  /** TOML text used instead of reading `path` (tests, embedding). */
  text?: string;
  /** Environment (default `process.env`); `VENICE_E2EE_PROXY__SECTION__KEY` variables override the file. */
  env?: Readonly<Record<string, string | undefined>>;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function isSpec(value: FieldSpec | Schema): value is FieldSpec {
  return typeof (value as FieldSpec).kind === 'string';
}

function envName(path: readonly string[]): string {
  return VENICE_ENV_PREFIX + path.map((part) => part.toUpperCase()).join('__');
}

/** Converts an environment string the way figment's env provider would for the field kind. */
function fromEnv(kind: FieldKind, raw: string): unknown {
  const text = raw.trim();
  // The composed configuration's one strict boolean reading (a superset of figment's true/false); an unknown
  // word stays a string and is reported as "must be a boolean".
  if (kind === 'boolean') return parseBooleanWord(text) ?? raw;
  if (kind === 'integer') return /^[+-]?\d+$/.test(text) ? Number(text) : raw;
  return raw;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return isTable(value) ? 'a table' : `a ${typeof value}`;
}

/**
 * Loads the Venice proxy configuration like the crate does (figment: TOML file, then environment variables
 * `VENICE_E2EE_PROXY__SECTION__KEY` on top): every section and key is optional with the crate's default,
 * unknown sections and keys are rejected (also through the environment), durations are humantime strings.
 * All problems are reported at once.
 * @throws VeniceProxyConfigError listing every issue (TOML key, env var, what is wrong; never a value), including a
 *   missing or unreadable file, which names its path.
 * @example
 * ```ts
 * const config = loadVeniceProxyConfig({ path: 'config/default.toml' });
 * console.log(config.venice.baseUrl, config.session.idleTtlMs);
 * ```
 */
export function loadVeniceProxyConfig(options: LoadVeniceProxyConfigOptions = {}): VeniceProxyConfig {
  const env = options.env ?? process.env;
  const issues: ConfigIssue[] = [];
  let document: Record<string, unknown> = {};
  let text = options.text;
  if (text === undefined && options.path !== undefined) {
    const absolute = resolvePath(options.path);
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (cause) {
      const reason = (cause as { code?: string }).code === 'ENOENT' ? 'file not found' : 'cannot be read';
      throw new VeniceProxyConfigError(
        [{ tomlKey: '(file)', envVar: undefined, message: `configuration file ${absolute}: ${reason}` }],
        { cause },
      );
    }
  }
  if (text !== undefined) {
    try {
      document = parseToml(text) as Record<string, unknown>;
    } catch (cause) {
      const where = cause as { line?: number; column?: number };
      throw new VeniceProxyConfigError(
        [
          {
            tomlKey: '(file)',
            envVar: undefined,
            message: `invalid TOML${where.line ? ` at line ${where.line}, column ${where.column}` : ''}${
              options.path ? ` in ${resolvePath(options.path)}` : ''
            }`,
          },
        ],
        { cause },
      );
    }
  }

  // Environment overrides, merged into a copy of the document (unknown names are reported below).
  const merged: Record<string, unknown> = structuredClone(document);
  const fromEnvironment = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !name.toUpperCase().startsWith(VENICE_ENV_PREFIX)) continue;
    const path = name
      .slice(VENICE_ENV_PREFIX.length)
      .split('__')
      .map((part) => part.toLowerCase());
    if (path.some((part) => part === '')) {
      issues.push({ tomlKey: path.join('.'), envVar: name, message: 'malformed variable name' });
      continue;
    }
    let table: Record<string, unknown> = merged;
    let specs: Schema | undefined = SCHEMA;
    let spec: FieldSpec | undefined;
    for (const [index, part] of path.entries()) {
      const entry: FieldSpec | Schema | undefined = specs?.[part];
      if (index === path.length - 1) {
        spec = entry && isSpec(entry) ? entry : undefined;
        table[part] = spec ? fromEnv(spec.kind, raw) : raw;
      } else {
        if (!isTable(table[part])) table[part] = {};
        table = table[part] as Record<string, unknown>;
        specs = entry && !isSpec(entry) ? entry : undefined;
      }
    }
    fromEnvironment.set(path.join('.'), name);
  }

  const values: Record<string, unknown> = {};
  const walk = (source: Record<string, unknown>, schema: Schema, prefix: string[]) => {
    for (const key of Object.keys(source)) {
      if (!(key in schema)) {
        const path = [...prefix, key];
        issues.push({
          tomlKey: path.join('.'),
          envVar: fromEnvironment.get(path.join('.')) ?? envName(path),
          message: `unknown ${prefix.length === 0 ? 'section' : 'key'} "${key}"`,
        });
      }
    }
    for (const [key, entry] of Object.entries(schema)) {
      const path = [...prefix, key];
      const dotted = path.join('.');
      const envVar = fromEnvironment.get(dotted) ?? envName(path);
      const present = source[key];
      if (!isSpec(entry)) {
        if (present !== undefined && !isTable(present)) {
          issues.push({ tomlKey: dotted, envVar, message: `must be a table, got ${describe(present)}` });
          walk({}, entry, path);
        } else {
          walk((present as Record<string, unknown> | undefined) ?? {}, entry, path);
        }
        continue;
      }
      const raw = present === undefined ? entry.fallback : present;
      let value: unknown;
      switch (entry.kind) {
        case 'string':
          if (typeof raw !== 'string') {
            issues.push({ tomlKey: dotted, envVar, message: `must be a string, got ${describe(raw)}` });
            continue;
          }
          value = raw;
          break;
        case 'boolean':
          if (typeof raw !== 'boolean') {
            issues.push({ tomlKey: dotted, envVar, message: `must be a boolean, got ${describe(raw)}` });
            continue;
          }
          value = raw;
          break;
        case 'integer':
          if (typeof raw === 'bigint') value = Number(raw);
          else if (typeof raw === 'number' && Number.isSafeInteger(raw)) value = raw;
          else {
            issues.push({ tomlKey: dotted, envVar, message: `must be an integer, got ${describe(raw)}` });
            continue;
          }
          if ((value as number) < 0) {
            issues.push({ tomlKey: dotted, envVar, message: 'must not be negative' });
            continue;
          }
          break;
        case 'duration':
          if (typeof raw !== 'string') {
            issues.push({
              tomlKey: dotted,
              envVar,
              message: `must be a duration string such as "30s", got ${describe(raw)}`,
            });
            continue;
          }
          try {
            value = parseHumantimeDuration(raw);
          } catch (error) {
            issues.push({ tomlKey: dotted, envVar, message: (error as Error).message });
            continue;
          }
          break;
      }
      const problem = entry.check?.(value as never);
      if (problem) {
        issues.push({ tomlKey: dotted, envVar, message: problem });
        continue;
      }
      values[dotted] = value;
    }
  };
  walk(merged, SCHEMA, []);
  const idle = values['session.idle_ttl'] as number | undefined;
  const max = values['session.max_ttl'] as number | undefined;
  if (idle !== undefined && max !== undefined && idle > max) {
    issues.push({
      tomlKey: 'session.idle_ttl',
      envVar: envName(['session', 'idle_ttl']),
      message: 'must not exceed session.max_ttl',
    });
  }
  if (issues.length > 0) throw new VeniceProxyConfigError(issues);

  const get = <T>(key: string) => values[key] as T;
  return deepFreeze({
    server: {
      host: get<string>('server.host'),
      port: get<number>('server.port'),
      authToken: get<string>('server.auth_token'),
      allowUnauthenticatedPublicListen: get<boolean>('server.allow_unauthenticated_public_listen'),
    },
    logging: { level: get<string>('logging.level') },
    venice: {
      baseUrl: get<string>('venice.base_url'),
      apiKey: get<string>('venice.api_key'),
      requestTimeoutMs: get<number>('venice.request_timeout'),
      simulate: get<boolean>('venice.simulate'),
    },
    keys: { generateProxyInstanceKeyOnStartup: get<boolean>('keys.generate_proxy_instance_key_on_startup') },
    session: {
      idleTtlMs: get<number>('session.idle_ttl'),
      maxTtlMs: get<number>('session.max_ttl'),
      maxRequests: get<number>('session.max_requests'),
      fallbackScope: get<VeniceProxyConfig['session']['fallbackScope']>('session.fallback_scope'),
      headers: { incomingSessionId: get<string>('session.headers.incoming_session_id') },
    },
    attestation: {
      mode: 'independent',
      requireTdx: get<boolean>('attestation.require_tdx'),
      requireNvidia: get<VeniceProxyConfig['attestation']['requireNvidia']>('attestation.require_nvidia'),
      allowDebug: get<boolean>('attestation.allow_debug'),
      pccsUrl: get<string>('attestation.pccs_url'),
    },
    e2ee: {
      hkdfInfo: get<string>('e2ee.hkdf_info'),
      requireEncryptedResponseContent: get<boolean>('e2ee.require_encrypted_response_content'),
    },
    tools: {
      enabled: get<boolean>('tools.enabled'),
      mode: get<VeniceProxyConfig['tools']['mode']>('tools.mode'),
      maxRetries: get<number>('tools.max_retries'),
      toolCallMaxBytes: get<number>('tools.tool_call_max_bytes'),
      toolCallMarkerTimeoutMs: get<number>('tools.tool_call_marker_timeout'),
      validateJsonSchema: get<boolean>('tools.validate_json_schema'),
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
