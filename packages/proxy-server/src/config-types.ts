// The shape of the proxy's validated configuration (what `loadConfig` in config.ts builds).
import type { TeeGatewayConfig } from '@confidential-ai/tee-gateway/config';
import type { VeniceProxyConfig } from '@confidential-ai/venice-proxy/config';

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
    /**
     * Drain period at the start of a SIGTERM shutdown, in ms (`server.shutdown_drain_ms`, env `SHUTDOWN_DRAIN_MS`):
     * requests are still served while `GET /health` answers 503 `{"status":"draining"}`, so that a load balancer
     * takes the replica out of rotation before it stops accepting. Set it to the balancer's time to notice (haproxy:
     * `inter` × `fall`; Kubernetes: endpoint removal). Default 0 (none).
     */
    readonly shutdownDrainMs: number;
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
    /**
     * Whether the BUILT-IN SIMULATED vLLM may answer when `baseUrl` is unset (`vllm.simulate`, env
     * `VLLM_SIMULATE`). Default true (demos, the quick start); false makes a missing `vllm.base_url` stop
     * start-up, as the shipped image's configuration does. A configured `baseUrl` is always used.
     */
    readonly simulate: boolean;
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
