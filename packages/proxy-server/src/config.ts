import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import {
  strictBoolean as boolean,
  configIssuesOf,
  httpUrl,
  isPlainObject,
} from '@confidential-ai/server-kit';
import {
  TEE_GATEWAY_ENV,
  type TeeGatewayConfig,
  teeGatewayConfigSchema,
} from '@confidential-ai/tee-gateway/config';
import { loadVeniceProxyConfig, type VeniceProxyConfig } from '@confidential-ai/venice-proxy/config';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';

/** Log levels accepted by `log.level` / `LOG_LEVEL`. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The validated, frozen configuration of the proxy. Built once at startup by {@link loadConfig}; every other
 * module receives it read-only. Secrets (`auth.token`, `chutes.apiKey`, `redis.password`, `signing.keySeed`)
 * are plain strings here and must never be logged (the logger redacts them).
 */
export interface ProxyConfig {
  /** Listener settings. */
  readonly server: {
    /** Interface to bind (`server.host`, env `PROXY_HOST`). Default `127.0.0.1`. */
    readonly host: string;
    /** TCP port (`server.port`, env `PROXY_PORT`); 0 picks a free port. Default 8000. */
    readonly port: number;
    /** Largest accepted request body in bytes (`server.max_request_bytes`, env `VLLM_PROXY_MAX_REQUEST_SIZE`); larger bodies get 413. Default 10 MiB. */
    readonly maxRequestBytes: number;
    /** Grace period for in-flight requests on shutdown, in ms (`server.shutdown_timeout_ms`). Default 10000. */
    readonly shutdownTimeoutMs: number;
  };
  /** Inbound authentication. */
  readonly auth: {
    /** Bearer token clients must send (`auth.token`, env `TOKEN`). Unset: every authenticated route answers 401. */
    readonly token: string | undefined;
  };
  /** The local vLLM backend. */
  readonly vllm: {
    /** Base URL of vLLM (`vllm.base_url`, env `VLLM_BASE_URL`). Unset: the built-in fake vLLM is started. */
    readonly baseUrl: string | undefined;
    /** Model name used as cache namespace (`vllm.model_name`, env `MODEL_NAME`). */
    readonly modelName: string | undefined;
  };
  /** Outbound HTTP (undici) settings shared by every upstream. */
  readonly upstream: {
    /** TCP/TLS connect timeout in ms (`upstream.connect_timeout_ms`, env `UPSTREAM_CONNECT_TIMEOUT_MS`). Default 10000. */
    readonly connectTimeoutMs: number;
    /** Time to wait for response headers in ms (`upstream.headers_timeout_ms`, env `UPSTREAM_HEADERS_TIMEOUT_MS`). Default 600000. */
    readonly headersTimeoutMs: number;
    /** Longest silence inside a response body in ms (`upstream.body_timeout_ms`, env `UPSTREAM_BODY_TIMEOUT_MS`). Default 600000. */
    readonly bodyTimeoutMs: number;
    /** Pooled connections per upstream origin (`upstream.max_connections`, env `VLLM_PROXY_MAX_CONNECTIONS`). Default 1000. */
    readonly maxConnections: number;
  };
  /** Client-facing E2EE (vllm-proxy v1/v2). */
  readonly e2ee: {
    /** Accepted clock skew of v2 timestamps in seconds (`e2ee.replay_window_seconds`, env `E2EE_REPLAY_WINDOW_SECONDS`). Default 300. */
    readonly replayWindowSeconds: number;
    /** Bound of the in-memory replay LRU (`e2ee.replay_cache_size`, env `E2EE_REPLAY_CACHE_SIZE`). Default 100000. */
    readonly replayCacheSize: number;
    /**
     * Refuse an E2EE response that contains a tool call (whose name and arguments E2EE carries in the clear, D3)
     * with 502 `e2ee_tool_call_refused` (`e2ee.refuse_tool_calls`, env `E2EE_REFUSE_TOOL_CALLS`). Default false.
     */
    readonly refuseToolCalls: boolean;
  };
  /** Response signing (also the E2EE model keys). */
  readonly signing: {
    /** Signature record TTL in seconds (`signing.chat_cache_expiration`, env `CHAT_CACHE_EXPIRATION`). Default 1200. */
    readonly chatCacheExpirationSeconds: number;
    /** Bound of the in-memory signature LRU (`signing.chat_cache_size`, env `CHAT_CACHE_SIZE`). Default 100000. */
    readonly chatCacheSize: number;
    /** Secret hex seed (>= 32 bytes) making signing keys stable (`signing.key_seed`, env `SIGNING_KEY_SEED`). Unset: per-process keys. */
    readonly keySeed: string | undefined;
  };
  /** Attestation report behaviour. */
  readonly attestation: {
    /** Serve a clearly marked simulated report outside a TEE (`attestation.simulate`, env `ATTESTATION_SIMULATE`); false gives 503. Default true. */
    readonly simulate: boolean;
  };
  /** Optional shared Redis for replay claims and signatures (several replicas). */
  readonly redis: {
    /** Host (`redis.host`, env `REDIS_HOST`); Redis is used only when set. */
    readonly host: string | undefined;
    /** Port (`redis.port`, env `REDIS_PORT`). Default 6379. */
    readonly port: number;
    /** Password (`redis.password`, env `REDIS_PASSWORD`). */
    readonly password: string | undefined;
    /** Database index (`redis.db`, env `REDIS_DB`). Default 0. */
    readonly db: number;
    /** Connect and command timeout in ms (`redis.timeout_ms`, env `REDIS_TIMEOUT_MS`). Default 500. */
    readonly timeoutMs: number;
  };
  /** Chutes sidecar routes (`/v1/chutes/*`). */
  readonly chutes: {
    /** Enables the routes (`chutes.enabled`, env `CHUTES_ENABLED`). Default false. */
    readonly enabled: boolean;
    /** Chutes inference API (`chutes.base_url`, env `CHUTES_BASE_URL`). Unset: `https://llm.chutes.ai` (the real API). */
    readonly baseUrl: string | undefined;
    /**
     * Answer the Chutes routes from the BUILT-IN SIMULATED Chutes server on loopback instead of Chutes
     * (`chutes.simulate`, env `CHUTES_SIMULATE`; demos and tests). Default false: a configured key is never sent
     * to, and never answered by, a simulator. Cannot be combined with `chutes.base_url` / `chutes.api_base_url`.
     */
    readonly simulate: boolean;
    /** Outbound Chutes bearer (`chutes.api_key`, env `CHUTES_API_KEY`). */
    readonly apiKey: string | undefined;
    /** Send the upstream leg through Chutes ML-KEM E2EE (`chutes.e2ee`, env `CHUTES_E2EE`). Default false. */
    readonly e2ee: boolean;
    /** Chutes platform API: instance discovery with `chutes.e2ee` and the `GET /v1/attestation/chain` calls (`chutes.api_base_url`, env `CHUTES_ATTESTATION_BASE_URL`). Default `https://api.chutes.ai`, or the simulated server with `chutes.simulate`. */
    readonly apiBaseUrl: string | undefined;
    /** Pooled connections per origin of the Chutes E2EE transport's own connection pool (`chutes.max_connections`, env `CHUTES_MAX_CONNECTIONS`). Default 256. */
    readonly maxConnections: number;
    /** Lifetime of the model → chute_id cache of `/v1/attestation/chain`, in seconds; 0 disables it (`chutes.chute_id_cache_ttl_seconds`, env `CHUTES_CHUTE_ID_CACHE_TTL_SECONDS`). Default 3600. */
    readonly chuteIdCacheTtlSeconds: number;
    /** Timeout of each Chutes platform call of `/v1/attestation/chain`, in ms (`chutes.attestation_timeout_ms`, env `CHUTES_ATTESTATION_TIMEOUT_MS`). Default 30000. */
    readonly attestationTimeoutMs: number;
    /**
     * Proxy-mode verification requires verified NVIDIA GPU evidence (`gpu_evidence`) from every instance
     * (`chutes.attestation_require_gpu`, env `CHUTES_ATTESTATION_REQUIRE_GPU`). Default true; with false an instance
     * without GPU evidence passes (reported `absent`), but evidence that is present must still verify.
     */
    readonly attestationRequireGpu: boolean;
    /**
     * Device trust anchor (PEM or DER file) replacing NVIDIA's pinned Device Identity CA for the GPU evidence of
     * Chutes instances (`chutes.nvidia_root_file`, env `CHUTES_NVIDIA_ROOT_FILE`): for test platforms only. The
     * receipt then names this root and never claims NVIDIA's. With `chutes.simulate` the built-in simulated
     * server's TEST root is trusted for that server without it.
     */
    readonly nvidiaRootFile: string | undefined;
    /**
     * NVIDIA reference integrity manifests as collateral (`chutes.nvidia_rim_file`, env `CHUTES_NVIDIA_RIM_FILE`): a
     * JSON array of RIM documents (signed SWID XML text), e.g. the driver and VBIOS RIMs of the deployed GPUs.
     * With it every GPU's measurements are compared (a GPU without a RIM of its versions fails); without it the
     * receipt says the measurements were not compared.
     */
    readonly nvidiaRimFile: string | undefined;
    /**
     * RIM trust anchor (PEM or DER file) replacing NVIDIA's pinned CoRIM signing root (`chutes.nvidia_rim_root_file`,
     * env `CHUTES_NVIDIA_RIM_ROOT_FILE`): for test RIMs only.
     */
    readonly nvidiaRimRootFile: string | undefined;
    /**
     * DCAP trust anchor (PEM or DER file) replacing the pinned Intel SGX Root CA for the offline verification of
     * Chutes TDX quotes (`chutes.tdx_root_file`, env `CHUTES_TDX_ROOT_FILE`). Setting it or
     * `tdxCollateralFile` turns on offline DCAP verification in `/v1/attestation/chain?verify_mode=proxy`.
     */
    readonly tdxRootFile: string | undefined;
    /**
     * DCAP collateral JSON file (dcap-qvl / PCCS shape; one object or an array of them, e.g. one per FMSPC) for the
     * offline TCB status of Chutes TDX quotes (`chutes.tdx_collateral_file`, env `CHUTES_TDX_COLLATERAL_FILE`).
     * With it, the TCB status comes from the quote's own verification instead of Chutes' `tdx_verification`.
     */
    readonly tdxCollateralFile: string | undefined;
    /** Signature-cache namespace fallback (`chutes.fallback_model_name`, env `CHUTES_FALLBACK_MODEL_NAME`). Default `chutes`. */
    readonly fallbackModelName: string;
  };
  /** Logging. */
  readonly log: {
    /** pino level (`log.level`, env `LOG_LEVEL`). Default `info`. */
    readonly level: LogLevel;
  };
  /** The Venice E2EE proxy face, mounted under `/venice` of the composed server. */
  readonly venice: {
    /** Mount it (`venice.enabled`, env `VENICE_ENABLED`). Default false. */
    readonly enabled: boolean;
    /**
     * Its own configuration in the `venice-e2ee-proxy` crate's format (`venice.config`, env `VENICE_CONFIG`: a
     * TOML file path; `VENICE_E2EE_PROXY__SECTION__KEY` variables apply on top). Loaded only when enabled; with
     * no Venice API key the built-in simulated Venice server is its upstream.
     */
    readonly proxy: VeniceProxyConfig | undefined;
  };
  /** The OpenGradient-compatible TEE gateway face, mounted under `/tee-gateway` (`[tee_gateway]`, its own keys). */
  readonly teeGateway: TeeGatewayConfig;
}

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
  { section: 'auth', key: 'token', env: 'TOKEN' },
  { section: 'vllm', key: 'base_url', env: 'VLLM_BASE_URL' },
  { section: 'vllm', key: 'model_name', env: 'MODEL_NAME' },
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
    })
    .strict(),
  auth: z.object({ token: text.optional() }).strict(),
  vllm: z.object({ base_url: httpUrl.optional(), model_name: text.optional() }).strict(),
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
    },
    auth: { token: value.auth.token },
    vllm: { baseUrl: value.vllm.base_url, modelName: value.vllm.model_name },
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
    vllm: { baseUrl: config.vllm.baseUrl ?? '(embedded fake vLLM)', modelName: config.vllm.modelName },
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
