export { createProgram, run } from './cli.js';
export { buildKeyScopes, type KeyScopeOptions } from './commands/keys.js';
export {
  type ApiOptions,
  CliContext,
  type CliIo,
  closeStdinReader,
  defaultIo,
  type SpawnResult,
} from './context.js';
export {
  ChutesCliError,
  type ChutesCliErrorCode,
  type ChutesCliErrorOptions,
  EXIT_CODES,
  exitCodeFor,
} from './errors.js';
export {
  type BuildContext,
  encodeMultipart,
  expandContextFiles,
  IMAGE_FIELD_PLACEHOLDER,
  type ImageUploadOptions,
  imageUploadBody,
  logoUploadBody,
  type MultipartBody,
  type MultipartField,
  packBuildContext,
  sniffImageType,
} from './sdk/build-context.js';
export {
  Chute,
  type ChuteOptions,
  Cord,
  type CordOptions,
  type DeployBodyOptions,
  Job,
  type JobOptions,
  type JobPort,
  type JsonObject,
  normalizeCordPath,
  type PythonSource,
  untypedFunctionSchema,
  wrapInputSchema,
} from './sdk/chute.js';
export {
  type ApiKeyScope,
  ChutesClient,
  type ChutesClientOptions,
  type ClientRequest,
  createChutesClient,
  encodePathSegment,
  type FetchFunction,
  httpError,
  type ListOptions,
  type ListResponse,
  type ObjectType,
  type Query,
  type RegisterResponse,
} from './sdk/client.js';
export {
  type AuthConfig,
  type ChutesConfigFile,
  type ConfigSources,
  DEFAULT_API_BASE_URL,
  genericApiBaseUrl,
  type IniData,
  loadConfig,
  parseConfig,
  parseIni,
  type ResolvedConfig,
  resolveConfigPath,
  saveConfig,
  serializeConfig,
} from './sdk/config.js';
export {
  createDebugFetch,
  type DebugFetchOptions,
  describeBody,
  redactHeaders,
  redactUrl,
} from './sdk/debug-fetch.js';
export { buildDiffusionChute, type DiffusionTemplateOptions } from './sdk/diffusion-template.js';
export { globSync } from './sdk/glob.js';
export {
  type AddOptions,
  createAddDirective,
  createRunDirective,
  type Directive,
  type DirectiveKeyword,
  Image,
  STANDARD_IMAGES,
} from './sdk/image.js';
export { type LoadedChute, loadChute, parseChuteRef, resolveChuteModule } from './sdk/loader.js';
export {
  createMnemonic,
  keypairFromMnemonic,
  MNEMONIC_WORD_COUNTS,
  type MnemonicKeypair,
  type MnemonicWordCount,
  miniSecretFromMnemonic,
  schnorrkelSecretBytes,
} from './sdk/mnemonic.js';
export {
  deploymentFee,
  type GpuInfo,
  NodeSelector,
  type NodeSelectorJson,
  type NodeSelectorOptions,
  ratesFromPricing,
  SUPPORTED_GPUS,
  supportedGpus,
} from './sdk/node-selector.js';
export { createProxyFetch, type ProxyEnvironment, proxyEnvironment } from './sdk/proxy-fetch.js';
export {
  type JsonValue,
  parseJsonExact,
  pythonJsonDumps,
  pythonLiteral,
  stringifyJson,
} from './sdk/python-json.js';
export { loadPythonChute, type PythonChuteOptions } from './sdk/python-loader.js';
export {
  chuteFromRecord,
  imageFromRecord,
  type RecordedChute,
  type RecordedImage,
} from './sdk/python-record.js';
export { secretReason } from './sdk/secret-files.js';
export {
  HEADERS,
  type Hotkey,
  hotkeyFromSeed,
  type SigningSubject,
  type SignRequestOptions,
  SS58_PREFIX,
  sha256Hex,
  signingMessage,
  signMessage,
  signRequest,
  ss58Decode,
  ss58Encode,
  verifyMessage,
} from './sdk/signing.js';
export { readLines, readSseJson } from './sdk/sse.js';
export { type SchemaTemplate, templateSchema } from './sdk/template-schemas.js';
export {
  buildEmbeddingChute,
  buildSglangChute,
  buildVllmChute,
  type EmbeddingTemplateOptions,
  type LlmTemplateOptions,
} from './sdk/templates.js';
export { NAMESPACE_OID, uuid5 } from './sdk/uuid.js';
export { VERSION } from './sdk/version.js';
export {
  defaultWalletsPath,
  hotkeyPath,
  listHotkeys,
  listWallets,
  readColdkeyPub,
  readHotkeyFile,
  type WalletHotkey,
} from './sdk/wallet.js';
export {
  type CreatedWallet,
  type CreateWalletOptions,
  createWallet,
  isEncryptedKeyfile,
  keyfileJson,
  summarizeWallets,
  type WalletSummary,
} from './sdk/wallet-create.js';
export { createLineReader, type LineReader, type LineReaderOptions } from './stdin-reader.js';
