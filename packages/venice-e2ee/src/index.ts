export { parseSigningAddress, signingAddress, signingAddressBytes } from './address.js';
export {
  type AttestationPolicy,
  type AttestationShape,
  type AttestedModelKey,
  attestModel,
  type FetchAttestationOptions,
  type FetchedAttestation,
  fetchAttestation,
  joinUrl,
  type VerifyAttestationOptions,
  verifyAttestation,
} from './attestation.js';
export {
  type ChatCallOptions,
  type ChatInfo,
  createVeniceClient,
  modelsFromVenice,
  proxyResponseHeaders,
  type SessionScope,
  type SessionSettings,
  VENICE_BASE_URL,
  type VeniceClient,
  type VeniceClientOptions,
  type VeniceModel,
} from './client.js';
export {
  describeErrorCode,
  type ErrorDescription,
  VeniceE2eeError,
  type VeniceE2eeErrorCode,
  type VeniceE2eeErrorOptions,
} from './errors.js';
export { createVeniceFetch, type FetchFunction, type VeniceFetch, type VeniceFetchOptions } from './fetch.js';
export {
  createFieldDecryptor,
  createFieldEncryptor,
  DEFAULT_ED25519_INFO,
  DEFAULT_SECP256K1_INFO,
  decryptField,
  decryptFieldBytes,
  deriveFieldKey,
  type EncryptFieldOptions,
  encryptField,
  encryptFieldBytes,
  FIELD_NONCE_LENGTH,
  FIELD_TAG_LENGTH,
  type FieldCipherOptions,
  type FieldDecryptor,
  type FieldDecryptorOptions,
  type FieldEncryptor,
  generateFieldKeyPair,
  getFieldPublicKey,
  looksLikeCiphertext,
  type PackedField,
  parsePackedField,
  SECP256K1_EPHEMERAL_LENGTH,
  SECP256K1_MIN_FIELD_HEX_LENGTH,
  X25519_EPHEMERAL_LENGTH,
} from './field-cipher.js';
export {
  createFieldKeyAgreement,
  ed25519PrivateKeyToX25519,
  ed25519PublicKeyToX25519,
  type FieldCipherBackends,
  type FieldKeyAgreement,
  type FieldKeyAgreementOptions,
  type FieldKeyPair,
  type FieldSuite,
  fieldCipherBackends,
  normalizeSecp256k1PublicKey,
} from './key-agreement.js';
export {
  buildUpstreamBody,
  type RenderedMessage,
  renderMessages,
  renderPreviousToolCalls,
  type UpstreamBodyOptions,
  veniceE2eeHeaders,
} from './messages.js';
export {
  type NvidiaGateOptions,
  type NvidiaGateResult,
  type NvidiaPolicy,
  type NvidiaStatus,
  type NvidiaVerificationOptions,
  nvidiaGate,
} from './nvidia.js';
export { createEnvProxyFetch, type ProxyEnvironment } from './outbound-proxy.js';
export { ALLOWED_REQUEST_FIELDS, validateChatRequest } from './request.js';
export { createSessionStore, type Session, type SessionStore, type SessionStoreOptions } from './sessions.js';
export { formatSseData, parseSse, type SseEvent } from './sse.js';
export {
  type CollectedText,
  type CollectOptions,
  CompletionMetadata,
  collectText,
  completionFromText,
  createUpstreamDecryptor,
  readUpstreamEvents,
  type ShapeChunksOptions,
  shapeChunks,
  type UpstreamDecryptor,
  type UpstreamDecryptorOptions,
  type UpstreamEvent,
} from './stream.js';
export {
  defaultTdxBackend,
  type TdxBackend,
  type TdxQuoteSummary,
  type TdxVerificationSummary,
  type TdxVerifyOptions,
} from './tdx.js';
export { buildControllerPrompt, buildCorrectionPrompt, toolsJson } from './tool-prompts.js';
export {
  appendToSystemMessage,
  checkSchemaSubset,
  classifyToolOutput,
  type ParsedOutput,
  type ParsedToolCall,
  parseGlmToolCalls,
  parseHermesToolCalls,
  parseQwenToolCalls,
  prepareToolContext,
  selectToolFormat,
  stableStringify,
  TOOL_CALL_MARKER,
  type ToolContext,
  type ToolFormat,
  type ToolOutcome,
  ToolParseError,
  type ToolSettings,
  ToolStreamScanner,
  truncateUtf8,
  validateAgainstSchema,
  validateToolCalls,
} from './tools.js';
export type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatMessage,
  ChatRequest,
  ChunkDelta,
  Logger,
  TextContentPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
} from './types.js';
export {
  buildRequestAad,
  buildResponseAad,
  fieldSuiteForAlgo,
  type RequestAadFields,
  type ResponseAadFields,
  vllmE2eeErrorType,
} from './vllm-e2ee.js';
