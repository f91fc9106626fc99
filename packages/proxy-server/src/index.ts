export {
  type AppDependencies,
  type AppEnv,
  apiErrorOf,
  type CreateAppOptions,
  createApp,
  errorEnvelopeOf,
  errorStatusOf,
  mountAt,
  type RouteModule,
  requireBearer,
  sendError,
  type Upstream,
} from './app.js';
export {
  buildSimulatedReport,
  ownAttestationReport,
  SIMULATED_ATTESTATION_WARNING,
  SIMULATED_GPU_COUNT,
  SIMULATED_GPU_EVIDENCE_WARNING,
  type SimulatedReportInput,
  simulatedGpuPlatform,
} from './attestation.js';
export {
  CHUTES_E2E_PUBKEY_BYTES,
  CHUTES_VERIFICATION_POLICY,
  type CheckOutcome,
  type ChutesAttestationBundle,
  type ChutesAttestationEntry,
  type ChutesInstanceResult,
  type ChutesVerificationOptions,
  canonicalJsonCompact,
  type DcapMaterial,
  loadDcapMaterial,
  verifyChutesInstance,
} from './chutes-attestation.js';
export {
  type ChutesGpuResult,
  type ChutesGpuSummary,
  checkGpuTokenClaims,
  decodeJwtClaimsUnverified,
  type GpuTrustAnchor,
  loadNvidiaMaterial,
  type NvidiaMaterial,
  verifyChutesGpuEvidence,
} from './chutes-gpu-evidence.js';
export { type CliIo, createProgram, runCli } from './cli.js';
export { createCompletionFastPath } from './completion-fast-path.js';
export {
  type CompletionAnswer,
  type CompletionBackend,
  type CompletionRequest,
  EVENT_STREAM_HEADERS,
  handleCompletion,
  runCompletion,
  signatureKey,
} from './completions.js';
export {
  CONFIG_ENV_VARS,
  configSecrets,
  describeConfig,
  type LoadConfigOptions,
  type LogLevel,
  loadConfig,
  type ProxyConfig,
} from './config.js';
export {
  CLEAR_CONTENT_PART_TYPES,
  decryptChatRequest,
  E2EE_HEADERS,
  type E2eeAlgo,
  type E2eeContext,
  e2eeResponseHeaders,
  hasAnyE2eeHeader,
  MAX_NONCE_LENGTH,
  MIN_NONCE_LENGTH,
  parseE2eeHeaders,
  publicKeyHex,
} from './e2ee.js';
export {
  ENCRYPTED_CHOICE_FIELDS,
  ENCRYPTED_RESPONSE_FIELDS,
  type EncryptChatResponseOptions,
  encryptChatResponse,
} from './e2ee-response.js';
export {
  ApiError,
  ConfigError,
  type ConfigIssue,
  type ErrorEnvelope,
  errorEnvelope,
  ProxyServerError,
  type ProxyServerErrorCode,
} from './errors.js';
export { teeGatewayRouteModule, veniceRouteModule } from './faces.js';
export { createModelKeys, type ModelKeys, type ModelKeysOptions } from './keys.js';
export {
  type CreateProxyMetricsOptions,
  createProxyMetrics,
  type ProxyMetrics,
  VLLM_PROXY_METRICS_PREFIX,
} from './metrics.js';
export { attestationChainRoutes } from './routes/attestation-chain.js';
export { chutesSidecarRoutes, mapChutesTransportError } from './routes/chutes.js';
export {
  type ChatUiRoutesOptions,
  chatUiRoutes,
  UI_CONTENT_SECURITY_POLICY,
  UI_MOUNT_PATH,
} from './routes/ui.js';
export { vllmProxyRoutes } from './routes/vllm-proxy.js';
export {
  DEFAULT_CHUTES_API_BASE_URL,
  DEFAULT_CHUTES_BASE_URL,
  DEFAULT_MODULES,
  type RunningServer,
  type StartServerOptions,
  startServer,
  TEE_GATEWAY_MOUNT_PATH,
  VENICE_MOUNT_PATH,
} from './server.js';
export {
  createResponseSigner,
  type ResponseSigner,
  signatureRecord,
  type TextSignatures,
} from './signing.js';
export {
  createMemoryReplayStore,
  createMemorySignatureStore,
  createRedisClient,
  createRedisReplayStore,
  createRedisSignatureStore,
  type MemoryReplayStoreOptions,
  type MemorySignatureStoreOptions,
  REPLAY_KNOWN_SINCE_KEY,
  type RedisClientOptions,
  type RedisConnection,
  type RedisReplayStoreOptions,
  type ReplayClaim,
  type ReplayClaimResult,
  type ReplayStore,
  type SignatureRecord,
  type SignatureStore,
} from './stores.js';
export { upstreamFailure } from './upstream-failure.js';
