export { TEE_SIGNING_ERROR_CODES, TeeSigningError, type TeeSigningErrorCode } from './errors.js';
export {
  computeTeeMessageHash,
  heartbeatMessageHash,
  keccak256,
  sha256,
  type TeeMessageHash,
  teeMessageHash,
  uint256BigEndian,
} from './hashes.js';
export {
  createOpenGradientSigner,
  type OpenGradientSigner,
  type OpenGradientSignerOptions,
  type SignedHeartbeat,
  type SignResponseInput,
  signTeeMessageHash,
  type TeeProof,
  type TeeSignatureFields,
  teeSignatureHeaders,
  type VerifyResponseOptions,
  verifyResponse,
  verifyTeeMessageHashSignature,
} from './opengradient.js';
export {
  buildGatewayToolCalls,
  type GatewayToolCall,
  responseContentForHash,
  StreamOutputAccumulator,
  toolCallsOutputContent,
} from './opengradient-output.js';
export {
  buildChatCanonicalRequest,
  buildCompletionsCanonicalRequest,
  type ChatCanonicalRequestOptions,
  canonicalChatMessage,
  canonicalRequestBytes,
  canonicalUserContent,
  type OpenGradientEndpoint,
  type RequestBodyInput,
  requestHashHex,
} from './opengradient-request.js';
export {
  canonicalJson,
  compareCodePoints,
  formatPythonFloat,
  isPyFloat,
  type ParsePythonJsonOptions,
  PyFloat,
  type PyJsonValue,
  type PythonJsonDumpsOptions,
  parsePythonJson,
  pyFloat,
  pythonJsonDumps,
  pythonJsonString,
} from './python-json.js';
export { pyTruthy } from './python-values.js';
export {
  computeTeeId,
  decodePem,
  encodePem,
  exportPublicKeyPem,
  exportSpki,
  type GenerateRsaSigningKeyPairOptions,
  generateRsaSigningKeyPair,
  type ImportRsaPrivateKeyOptions,
  importRsaPrivateKey,
  importRsaPublicKey,
  PSS_SALT_LENGTH,
  RSA_PSS_SHA256,
  type RsaPrivateKeyInput,
  type RsaPublicKeyInput,
  type RsaSigningKeyPair,
  teeIdFromSpki,
} from './rsa-keys.js';
export { parseSseData } from './sse.js';
export {
  createResponseHasher,
  createVllmProxySigner,
  deriveVllmProxyKeys,
  ed25519SignText,
  ed25519VerifyText,
  eip191MessageHash,
  ethereumAddressFromPublicKey,
  isChecksumAddressValid,
  personalSign,
  type ResponseHasher,
  recoverPersonalSignAddress,
  selectVllmSignature,
  signVllmExchange,
  toChecksumAddress,
  type VerifyVllmExchangeOptions,
  type VerifyVllmSignatureOptions,
  type VllmExchange,
  type VllmProxySigner,
  type VllmProxySignerOptions,
  type VllmSignatureRecord,
  type VllmSigningAlgorithm,
  type VllmStoredSignatures,
  verifyVllmExchange,
  verifyVllmSignature,
  vllmRequestHash,
  vllmResponseHash,
  vllmSignedText,
} from './vllm-proxy.js';

/** The package version, injected at build time. */
export const VERSION: string = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-dev';
declare const __PACKAGE_VERSION__: string | undefined;
