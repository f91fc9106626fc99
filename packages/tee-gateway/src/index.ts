export {
  type GatewayAccessOptions,
  gatewayAccessGuard,
  TEE_GATEWAY_PAID_ROUTES,
  TEE_GATEWAY_PUBLIC_ROUTES,
} from './access.js';
export {
  createTeeGateway,
  PROVIDER_KEY_FIELDS,
  TEE_GATEWAY_METRICS_PREFIX,
  type TeeGateway,
  type TeeGatewayOptions,
} from './app.js';
export {
  addTeeGatewayCommand,
  createTeeGatewayProgram,
  loadTeeGatewayClientToken,
  loadTeeGatewayConfig,
  runTeeGatewayCli,
  type TeeGatewayCliIo,
} from './cli.js';
export {
  DEFAULT_FACILITATOR_URL,
  DEFAULT_NITRIDING_INTERNAL_URL,
  DEFAULT_PAY_TO,
  DEFAULT_PRICE_FEED_URL,
  DEFAULT_PROVIDER_BASE_URLS,
  parseTeeGatewayConfig,
  type TeeGatewayConfig,
  type TeeGatewayConfigInput,
  teeGatewayConfigSchema,
} from './config.js';
export {
  GatewayHttpError,
  TeeGatewayConfigError,
  TeeGatewayError,
  type TeeGatewayErrorCode,
} from './errors.js';
export { type Heartbeat, type HeartbeatStatus, startHeartbeat } from './heartbeat.js';
export { type NitridingRegistration, registerWithNitriding } from './nitriding.js';
export type {
  PaymentDecision,
  PaymentGate,
  PaymentOutcome,
  PaymentTicket,
  SettlementType,
} from './payment-types.js';
export { isLoopbackAddress, peerAddressOf } from './peer.js';
export {
  ASSET_DECIMALS_BY_ADDRESS,
  calculateCost,
  createHttpPriceFeed,
  createStaticPriceFeed,
  type HttpPriceFeedOptions,
  type PriceFeed,
  type PriceFeedStatus,
  parseDecimal,
  type TokenUsage,
} from './pricing.js';
export { ANTHROPIC_VERSION, createAnthropicAdapter } from './providers/anthropic.js';
export { createGeminiAdapter } from './providers/gemini.js';
export { createOpenAiCompatibleAdapter } from './providers/openai-compatible.js';
export { createSimulatedAdapter } from './providers/simulated.js';
export type {
  GatewayMessage,
  GatewayTool,
  ProviderAdapter,
  ProviderChatRequest,
  ProviderEndpoint,
  ProviderResult,
  ProviderStreamEvent,
  ProviderToolCall,
  Usage,
} from './providers/types.js';
export { ProviderError } from './providers/types.js';
export {
  getModelConfig,
  listModelNames,
  MODEL_REGISTRY,
  type ModelConfig,
  type ProviderId,
} from './registry.js';
export {
  type RunningTeeGatewayServer,
  type StartTeeGatewayServerOptions,
  startTeeGatewayServer,
} from './server.js';
export { VERSION } from './version.js';
export { ethereumAddressOfPrivateKey, generateWalletAddress } from './wallet.js';
export {
  BASE_NETWORK,
  ERC20_APPROVAL_GAS_SPONSORING,
  OPG_ASSET,
  UPTO_MAX_AMOUNT,
} from './x402/constants.js';
export {
  createFacilitatorClient,
  type FacilitatorClient,
  type FacilitatorClientOptions,
  FacilitatorError,
  type PaymentPayload,
  type PaymentRequirements,
  type SettleResponse,
  type SupportedKind,
  toJsonSafe,
  type VerifyResponse,
} from './x402/facilitator.js';
export type { UptoSession, X402Gate, X402GateOptions } from './x402/gate.js';
export { loadX402Gate, X402_PACKAGES } from './x402/load.js';
