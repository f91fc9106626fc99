export {
  type CertificateInfo,
  KEY_USAGE_DIGITAL_SIGNATURE,
  KEY_USAGE_KEY_CERT_SIGN,
  parseCertificate,
} from './certificate.js';
export {
  type AttestationDocument,
  COSE_ALG_ES384,
  COSE_SIGN1_TAG,
  type CoseSign1,
  ES384_SIGNATURE_BYTES,
  encodeSigStructure,
  MAX_PCR_INDEX,
  type ParsedAttestationDocument,
  type ParseOptions,
  parseAttestationDocument,
} from './document.js';
export {
  NITRO_ERROR_REASONS,
  NitroAttestationError,
  type NitroAttestationErrorCode,
  type NitroAttestationErrorOptions,
  type NitroAttestationFailureReason,
} from './errors.js';
export {
  type AttestationDocumentInput,
  type DocumentEncoding,
  decodeDocumentInput,
  MAX_DOCUMENT_BYTES,
  pemToDer,
} from './input.js';
export { MAX_MEASUREMENTS_BYTES, type Measurements, parseMeasurements } from './measurements.js';
export {
  DEFAULT_GATEWAY_TIMEOUT,
  NITRIDING_NONCE_BYTES,
  type RemoteAttestationOptions,
  type RemoteAttestationResult,
  verifyRemoteAttestation,
} from './remote.js';
export { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './root.js';
export {
  type CertificateInput,
  checkNitridingUserData,
  decodeNitridingUserData,
  encodeNitridingUserData,
  MULTIHASH_SHA256_PREFIX,
  NITRIDING_USER_DATA_BYTES,
  type NitridingBinding,
  type NitridingUserData,
  type PublicKeyInput,
  signingKeyHash,
  subjectPublicKeyInfo,
  tlsCertificateHash,
} from './user-data.js';
export {
  type AttestationVerificationResult,
  type CertificateSummary,
  createNitroVerifier,
  type ExpectedPcrs,
  isDebugMode,
  type NitroVerifier,
  type NitroVerifierOptions,
  type VerifyOptions,
  verifyAttestationDocument,
} from './verify.js';
