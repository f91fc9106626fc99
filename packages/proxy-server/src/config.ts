import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import {
  strictBoolean as boolean,
  configIssuesOf,
  httpUrl,
  isPlainObject,
} from '@confidential-ai/server-kit';
import { TEE_GATEWAY_ENV, teeGatewayConfigSchema } from '@confidential-ai/tee-gateway/config';
import { loadVeniceProxyConfig, type VeniceProxyConfig } from '@confidential-ai/venice-proxy/config';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import type { ProxyConfig } from './config-types.js';
import { ConfigError, type ConfigIssue } from './errors.js';

export type { LogLevel, ProxyConfig } from './config-types.js';

/** Where {@link loadConfig} reads from; every field is optional. */
export interface LoadConfigOptions {
  /** Path of a TOML file. */
  file?: string;
  /** TOML text (instead of `file`), mainly for tests. */
  toml?: string;
  /** Environment variables; default `process.env`. Pass `{}` to ignore the environment. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Highest-precedence values (CLI flags), as nested TOML-shaped keys, e.g. `{ server: { port: 0 } }`. */
  overrides?: Record<string, Record<string, unknown>>;
}

interface Setting {
  section: string;
  key: string;
  env?: string;
}

/** Every setting with its TOML key and environment variable (the reference's names where one exists). */
const SETTINGS: readonly Setting[] = [
  { section: 'server', key: 'host', env: 'PROXY_HOST' },
  { section: 'server', key: 'port', env: 'PROXY_PORT' },
  { section: 'server', key: 'max_request_bytes', env: 'VLLM_PROXY_MAX_REQUEST_SIZE' },
  { section: 'server', key: 'shutdown_timeout_ms', env: 'SHUTDOWN_TIMEOUT_MS' },
  { section: 'server', key: 'shutdown_drain_ms', env: 'SHUTDOWN_DRAIN_MS' },
  { section: 'auth', key: 'token', env: 'TOKEN' },
  { section: 'vllm', key: 'base_url', env: 'VLLM_BASE_URL' },
  { section: 'vllm', key: 'model_name', env: 'MODEL_NAME' },
  { section: 'vllm', key: 'simulate', env: 'VLLM_SIMULATE' },
  { section: 'upstream', key: 'connect_timeout_ms', env: 'UPSTREAM_CONNECT_TIMEOUT_MS' },
  { section: 'upstream', key: 'headers_timeout_ms', env: 'UPSTREAM_HEADERS_TIMEOUT_MS' },
  { section: 'upstream', key: 'body_timeout_ms', env: 'UPSTREAM_BODY_TIMEOUT_MS' },
  { section: 'upstream', key: 'max_connections', env: 'VLLM_PROXY_MAX_CONNECTIONS' },
  { section: 'e2ee', key: 'replay_window_seconds', env: 'E2EE_REPLAY_WINDOW_SECONDS' },
  { section: 'e2ee', key: 'replay_cache_size', env: 'E2EE_REPLAY_CACHE_SIZE' },
  { section: 'e2ee', key: 'refuse_tool_calls', env: 'E2EE_REFUSE_TOOL_CALLS' },
  { section: 'signing', key: 'chat_cache_expiration', env: 'CHAT_CACHE_EXPIRATION' },
  { section: 'signing', key: 'chat_cache_size', env: 'CHAT_CACHE_SIZE' },
  { section: 'signing', key: 'key_seed', env: 'SIGNING_KEY_SEED' },
  { section: 'attestation', key: 'simulate', env: 'ATTESTATION_SIMULATE' },
  { section: 'redis', key: 'host', env: 'REDIS_HOST' },
  { section: 'redis', key: 'port', env: 'REDIS_PORT' },
  { section: 'redis', key: 'password', env: 'REDIS_PASSWORD' },
  { section: 'redis', key: 'db', env: 'REDIS_DB' },
  { section: 'redis', key: 'timeout_ms', env: 'REDIS_TIMEOUT_MS' },
  { section: 'chutes', key: 'enabled', env: 'CHUTES_ENABLED' },
  { section: 'chutes', key: 'base_url', env: 'CHUTES_BASE_URL' },
  { section: 'chutes', key: 'api_key', env: 'CHUTES_API_KEY' },
  { section: 'chutes', key: 'simulate', env: 'CHUTES_SIMULATE' },
  { section: 'chutes', key: 'e2ee', env: 'CHUTES_E2EE' },
  { section: 'chutes', key: 'api_base_url', env: 'CHUTES_ATTESTATION_BASE_URL' },
  { section: 'chutes', key: 'max_connections', env: 'CHUTES_MAX_CONNECTIONS' },
  { section: 'chutes', key: 'chute_id_cache_ttl_seconds', env: 'CHUTES_CHUTE_ID_CACHE_TTL_SECONDS' },
  { section: 'chutes', key: 'attestation_timeout_ms', env: 'CHUTES_ATTESTATION_TIMEOUT_MS' },
  { section: 'chutes', key: 'attestation_require_gpu', env: 'CHUTES_ATTESTATION_REQUIRE_GPU' },
  { section: 'chutes', key: 'tdx_root_file', env: 'CHUTES_TDX_ROOT_FILE' },
  { section: 'chutes', key: 'tdx_collateral_file', env: 'CHUTES_TDX_COLLATERAL_FILE' },
  { section: 'chutes', key: 'nvidia_root_file', env: 'CHUTES_NVIDIA_ROOT_FILE' },
  { section: 'chutes', key: 'nvidia_rim_file', env: 'CHUTES_NVIDIA_RIM_FILE' },
  { section: 'chutes', key: 'nvidia_rim_root_file', env: 'CHUTES_NVIDIA_RIM_ROOT_FILE' },
  { section: 'chutes', key: 'fallback_model_name', env: 'CHUTES_FALLBACK_MODEL_NAME' },
  { section: 'log', key: 'level', env: 'LOG_LEVEL' },
  { section: 'venice', key: 'enabled', env: 'VENICE_ENABLED' },
  { section: 'venice', key: 'config', env: 'VENICE_CONFIG' },
  { section: 'tee_gateway', key: 'enabled', env: 'TEE_GATEWAY_ENABLED' },
  ...TEE_GATEWAY_ENV.map(([env, key]) => ({ section: 'tee_gateway', key, env })),
];

/** Environment variables read by {@link loadConfig}, for documentation and `--help`. */
export const CONFIG_ENV_VARS: readonly string[] = SETTINGS.flatMap((setting) =>
  setting.env ? [setting.env] : [],
);

function integer(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: `expected an integer between ${min} and ${max}` })
      .int({ error: 'expected an integer' })
      .min(min, { error: `must be >= ${min}` })
      .max(max, { error: `must be <= ${max}` }),
  );
}

const text = z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });

const schema = z.object({
  server: z
    .object({
      host: text.default('127.0.0.1'),
      port: integer(0, 65535).default(8000),
      max_request_bytes: integer(1024, 1024 ** 3).default(10 * 1024 * 1024),
      shutdown_timeout_ms: integer(0, 600_000).default(10_000),
      shutdown_drain_ms: integer(0, 600_000).default(0),
    })
    .strict(),
  auth: z.object({ token: text.optional() }).strict(),
  vllm: z
    .object({ base_url: httpUrl.optional(), model_name: text.optional(), simulate: boolean.default(true) })
    .strict(),
  upstream: z
    .object({
      connect_timeout_ms: integer(1, 600_000).default(10_000),
      headers_timeout_ms: integer(1, 3_600_000).default(600_000),
      body_timeout_ms: integer(1, 3_600_000).default(600_000),
      max_connections: integer(1, 100_000).default(1000),
    })
    .strict(),
  e2ee: z
    .object({
      replay_window_seconds: integer(1, 86_400).default(300),
      replay_cache_size: integer(1, 100_000_000).default(100_000),
      refuse_tool_calls: boolean.default(false),
    })
    .strict(),
  signing: z
    .object({
      chat_cache_expiration: integer(1, 30 * 86_400).default(1200),
      chat_cache_size: integer(1, 100_000_000).default(100_000),
      key_seed: z
        .string({ error: 'expected a hex string' })
        .regex(/^(?:[0-9a-fA-F]{2}){32,}$/, { error: 'expected at least 32 bytes as hex (64+ hex digits)' })
        .optional(),
    })
    .strict(),
  attestation: z.object({ simulate: boolean.default(true) }).strict(),
  redis: z
    .object({
      host: text.optional(),
      port: integer(1, 65535).default(6379),
      password: text.optional(),
      db: integer(0, 1_000_000).default(0),
      timeout_ms: integer(10, 60_000).default(500),
    })
    .strict(),
  chutes: z
    .object({
      enabled: boolean.default(false),
      base_url: httpUrl.optional(),
      api_key: text.optional(),
      simulate: boolean.default(false),
      e2ee: boolean.default(false),
      api_base_url: httpUrl.optional(),
      max_connections: integer(1, 100_000).default(256),
      chute_id_cache_ttl_seconds: integer(0, 30 * 86_400).default(3600),
      attestation_timeout_ms: integer(100, 600_000).default(30_000),
      attestation_require_gpu: boolean.default(true),
      tdx_root_file: text.optional(),
      tdx_collateral_file: text.optional(),
      nvidia_root_file: text.optional(),
      nvidia_rim_file: text.optional(),
      nvidia_rim_root_file: text.optional(),
      fallback_model_name: text.default('chutes'),
    })
    .strict(),
  log: z
    .object({
      level: z
        .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
          error: 'expected one of fatal, error, warn, info, debug, trace, silent',
        })
        .default('info'),
    })
    .strict(),
  venice: z.object({ enabled: boolean.default(false), config: text.optional() }).strict(),
  tee_gateway: teeGatewayConfigSchema,
});

const SECTIONS = Object.keys(schema.shape);

function envVarFor(section: string, key: string | undefined): string | undefined {
  return SETTINGS.find((setting) => setting.section === section && setting.key === key)?.env;
}

function readToml(options: LoadConfigOptions): Record<string, unknown> {
  let source: string | undefined = options.toml;
  if (source === undefined && options.file !== undefined) {
    try {
      source = readFileSync(options.file, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(
        [{ tomlKey: '(file)', envVar: undefined, message: `cannot read ${options.file}: ${reason}` }],
        {
          cause: error,
        },
      );
    }
  }
  if (source === undefined) return {};
  try {
    return parseToml(source) as Record<string, unknown>;
  } catch (error) {
    // Only the position: smol-toml's own message quotes the offending line, which may hold a secret.
    const where =
      error instanceof TomlError ? `line ${error.line}, column ${error.column}` : 'unknown position';
    throw new ConfigError(
      [{ tomlKey: '(file)', envVar: undefined, message: `TOML syntax error at ${where}` }],
      {
        cause: undefined,
      },
    );
  }
}

/** Settings that name files: a relative path written in the TOML file is relative to that file. */
const FILE_SETTINGS: readonly (readonly [section: string, key: string])[] = [
  ['venice', 'config'],
  ['chutes', 'tdx_root_file'],
  ['chutes', 'tdx_collateral_file'],
  ['chutes', 'nvidia_root_file'],
  ['chutes', 'nvidia_rim_file'],
  ['chutes', 'nvidia_rim_root_file'],
];

function resolveFilePaths(fromFile: Record<string, Record<string, unknown>>, file: string | undefined): void {
  if (file === undefined) return;
  for (const [section, key] of FILE_SETTINGS) {
    const value = fromFile[section]?.[key];
    if (typeof value === 'string' && value !== '' && !isAbsolute(value)) {
      fromFile[section]![key] = resolvePath(dirname(file), value);
    }
  }
}

/**
 * Builds the configuration once: CLI overrides, then environment variables (the reference's names:
 * `TOKEN`, `VLLM_BASE_URL`, `MODEL_NAME`, `CHUTES_*`, `REDIS_*`, `E2EE_REPLAY_WINDOW_SECONDS`,
 * `CHAT_CACHE_EXPIRATION`, ...), then the TOML file, then defaults; validated with one zod schema. Empty
 * environment values count as unset. Unknown TOML sections or keys are errors (typos fail loudly). Relative file
 * paths written in the TOML file (`venice.config`, `chutes.tdx_root_file`, `chutes.tdx_collateral_file`,
 * `chutes.nvidia_root_file`, `chutes.nvidia_rim_file`, `chutes.nvidia_rim_root_file`) are relative to that file; from the environment or overrides, to the working directory.
 *
 * @example
 * ```ts
 * const config = loadConfig({ file: 'proxy.toml', overrides: { server: { port: 0 } } });
 * console.log(config.server.port, config.e2ee.replayWindowSeconds);
 * ```
 * @throws {ConfigError} `ERR_CONFIG_INVALID`, listing every issue with its TOML key and env var (never the value).
 */
/**
 * The one rule for the vLLM upstream: with `vllm.simulate` false, `vllm.base_url` is required (no simulator may
 * answer). `loadConfig` applies it to files and the environment, `startServer` to a configuration built in code.
 * @internal
 */
export function missingVllmUpstream(
  vllm: Pick<ProxyConfig['vllm'], 'baseUrl' | 'simulate'>,
): ConfigIssue | undefined {
  if (vllm.baseUrl !== undefined || vllm.simulate) return undefined;
  return {
    tomlKey: 'vllm.base_url',
    envVar: envVarFor('vllm', 'base_url'),
    message:
      'required when vllm.simulate (VLLM_SIMULATE) is false: without it only the built-in simulated vLLM could answer',
  };
}

export function loadConfig(options: LoadConfigOptions = {}): ProxyConfig {
  const raw = readToml(options);
  const issues: ConfigIssue[] = [];
  const merged: Record<string, Record<string, unknown>> = {};
  for (const [section, value] of Object.entries(raw)) {
    if (!SECTIONS.includes(section)) {
      issues.push({ tomlKey: section, envVar: undefined, message: 'unknown section' });
      continue;
    }
    if (!isPlainObject(value)) {
      issues.push({ tomlKey: section, envVar: undefined, message: 'expected a table' });
      continue;
    }
    merged[section] = { ...value };
  }
  resolveFilePaths(merged, options.file);
  for (const section of SECTIONS) merged[section] ??= {};
  const env = options.env ?? process.env;
  for (const setting of SETTINGS) {
    if (!setting.env) continue;
    const value = env[setting.env];
    if (value !== undefined && value !== '') merged[setting.section]![setting.key] = value;
  }
  for (const [section, values] of Object.entries(options.overrides ?? {})) {
    if (!SECTIONS.includes(section)) continue;
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined) merged[section]![key] = value;
    }
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const [section, key] = issue.path.map(String);
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [key];
      for (const name of keys) {
        issues.push({
          tomlKey: [section, name].filter(Boolean).join('.'),
          envVar: section ? envVarFor(section, name) : undefined,
          message: issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message,
        });
      }
    }
  }
  const vllmIssue = result.success
    ? missingVllmUpstream({ baseUrl: result.data.vllm.base_url, simulate: result.data.vllm.simulate })
    : undefined;
  if (vllmIssue) issues.push(vllmIssue);
  if (result.success && result.data.chutes.simulate) {
    for (const key of ['base_url', 'api_base_url'] as const) {
      if (result.data.chutes[key] !== undefined) {
        issues.push({
          tomlKey: `chutes.${key}`,
          envVar: envVarFor('chutes', key),
          message:
            'cannot be combined with chutes.simulate (CHUTES_SIMULATE): a simulator never stands in for a configured upstream',
        });
      }
    }
  }
  let venice: VeniceProxyConfig | undefined;
  if (result.success && result.data.venice.enabled) {
    try {
      const path = result.data.venice.config;
      venice = loadVeniceProxyConfig({ ...(path !== undefined ? { path } : {}), env });
    } catch (error) {
      const veniceIssues = configIssuesOf(error);
      if (!veniceIssues) throw error;
      for (const issue of veniceIssues) {
        issues.push({ ...issue, tomlKey: `venice.config: ${issue.tomlKey}` });
      }
    }
  }
  if (issues.length > 0 || !result.success) throw new ConfigError(issues);
  const value = result.data;
  const config: ProxyConfig = {
    server: {
      host: value.server.host,
      port: value.server.port,
      maxRequestBytes: value.server.max_request_bytes,
      shutdownTimeoutMs: value.server.shutdown_timeout_ms,
      shutdownDrainMs: value.server.shutdown_drain_ms,
    },
    auth: { token: value.auth.token },
    vllm: { baseUrl: value.vllm.base_url, modelName: value.vllm.model_name, simulate: value.vllm.simulate },
    upstream: {
      connectTimeoutMs: value.upstream.connect_timeout_ms,
      headersTimeoutMs: value.upstream.headers_timeout_ms,
      bodyTimeoutMs: value.upstream.body_timeout_ms,
      maxConnections: value.upstream.max_connections,
    },
    e2ee: {
      replayWindowSeconds: value.e2ee.replay_window_seconds,
      replayCacheSize: value.e2ee.replay_cache_size,
      refuseToolCalls: value.e2ee.refuse_tool_calls,
    },
    signing: {
      chatCacheExpirationSeconds: value.signing.chat_cache_expiration,
      chatCacheSize: value.signing.chat_cache_size,
      keySeed: value.signing.key_seed?.toLowerCase(),
    },
    attestation: { simulate: value.attestation.simulate },
    redis: {
      host: value.redis.host,
      port: value.redis.port,
      password: value.redis.password,
      db: value.redis.db,
      timeoutMs: value.redis.timeout_ms,
    },
    chutes: {
      enabled: value.chutes.enabled,
      baseUrl: value.chutes.base_url,
      apiKey: value.chutes.api_key,
      simulate: value.chutes.simulate,
      e2ee: value.chutes.e2ee,
      apiBaseUrl: value.chutes.api_base_url,
      maxConnections: value.chutes.max_connections,
      chuteIdCacheTtlSeconds: value.chutes.chute_id_cache_ttl_seconds,
      attestationTimeoutMs: value.chutes.attestation_timeout_ms,
      attestationRequireGpu: value.chutes.attestation_require_gpu,
      tdxRootFile: value.chutes.tdx_root_file,
      tdxCollateralFile: value.chutes.tdx_collateral_file,
      nvidiaRootFile: value.chutes.nvidia_root_file,
      nvidiaRimFile: value.chutes.nvidia_rim_file,
      nvidiaRimRootFile: value.chutes.nvidia_rim_root_file,
      fallbackModelName: value.chutes.fallback_model_name,
    },
    log: { level: value.log.level },
    venice: { enabled: value.venice.enabled, proxy: venice },
    teeGateway: value.tee_gateway,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (isPlainObject(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The secret values of a configuration (non-empty), for log scrubbing. */
export function configSecrets(config: ProxyConfig): string[] {
  return [
    config.auth.token,
    config.chutes.apiKey,
    config.redis.password,
    config.signing.keySeed,
    config.venice.proxy?.venice.apiKey,
    config.venice.proxy?.server.authToken,
  ].filter((value): value is string => typeof value === 'string' && value.length > 0);
}

/** A log-safe summary of the configuration: secrets replaced by whether they are set. */
export function describeConfig(config: ProxyConfig): Record<string, unknown> {
  return {
    server: config.server,
    auth: { tokenSet: config.auth.token !== undefined },
    vllm: {
      baseUrl: config.vllm.baseUrl ?? '(embedded fake vLLM)',
      modelName: config.vllm.modelName,
      simulate: config.vllm.simulate,
    },
    upstream: config.upstream,
    e2ee: config.e2ee,
    signing: {
      chatCacheExpirationSeconds: config.signing.chatCacheExpirationSeconds,
      chatCacheSize: config.signing.chatCacheSize,
      keySeedSet: config.signing.keySeed !== undefined,
    },
    attestation: config.attestation,
    redis: config.redis.host
      ? {
          host: config.redis.host,
          port: config.redis.port,
          db: config.redis.db,
          passwordSet: !!config.redis.password,
        }
      : { enabled: false },
    chutes: {
      enabled: config.chutes.enabled,
      baseUrl: config.chutes.baseUrl,
      apiKeySet: config.chutes.apiKey !== undefined,
      simulate: config.chutes.simulate,
      e2ee: config.chutes.e2ee,
      apiBaseUrl: config.chutes.apiBaseUrl,
      maxConnections: config.chutes.maxConnections,
      chuteIdCacheTtlSeconds: config.chutes.chuteIdCacheTtlSeconds,
      attestationRequireGpu: config.chutes.attestationRequireGpu,
      tdxRootFile: config.chutes.tdxRootFile,
      tdxCollateralFile: config.chutes.tdxCollateralFile,
      nvidiaRootFile: config.chutes.nvidiaRootFile,
      nvidiaRimFile: config.chutes.nvidiaRimFile,
      nvidiaRimRootFile: config.chutes.nvidiaRimRootFile,
    },
    log: config.log,
    venice: config.venice.proxy
      ? {
          enabled: true,
          baseUrl: config.venice.proxy.venice.baseUrl,
          apiKeySet: config.venice.proxy.venice.apiKey !== '',
        }
      : { enabled: false },
    teeGateway: config.teeGateway.enabled
      ? {
          enabled: true,
          simulate: config.teeGateway.simulate,
          x402Enabled: config.teeGateway.x402_enabled,
          nitridingUrl: config.teeGateway.nitriding_url,
        }
      : { enabled: false },
  };
}
