export { type EcdsaBackend, nativeEcdsaAvailable } from './ecdsa.js';
export {
  NVIDIA_ATTESTATION_ERROR_CODES,
  NvidiaAttestationError,
  type NvidiaAttestationErrorCode,
  type NvidiaAttestationErrorOptions,
} from './errors.js';
export {
  type GpuEvidenceInput,
  type GpuEvidenceItem,
  type GpuEvidenceListEntry,
  type GpuEvidenceSet,
  MAX_GPUS,
  type NvidiaPayload,
  parseGpuEvidence,
  type RawGpuEvidence,
} from './evidence.js';
export { compareMeasurements, type MeasurementComparison, type MeasurementSource } from './measurements.js';
export {
  NVIDIA_DEVICE_IDENTITY_ROOT_SHA256,
  NVIDIA_RIM_ROOT_SHA256,
  nvidiaDeviceIdentityRootDer,
  nvidiaRimRootDer,
} from './nvidia-roots.js';
export {
  formatVbiosVersion,
  type NvidiaOpaqueData,
  OPAQUE_FIELD,
  type OpaqueField,
  parseOpaqueData,
} from './opaque-data.js';
export type { CertificateRevocationStatus, RevocationCollateral } from './revocation.js';
export type { ReferenceIntegrityManifest, RimInput, RimMeasurement } from './rim.js';
export {
  type GpuAttestationReport,
  parseGpuAttestationReport,
  SPDM_NONCE_SIZE,
  SPDM_REQUEST_SIZE,
  SPDM_VERSION_1_1,
  type SpdmMeasurementBlock,
  type SpdmMeasurementRequest,
  type SpdmMeasurementResponse,
} from './spdm.js';
export type { TrustSummary } from './trust.js';
export type {
  GpuEvidenceVerification,
  GpuReportVerification,
  VerifiedCertificate,
  VerifiedRim,
} from './verification-result.js';
export { SUPPORTED_ARCHITECTURES, type VerifyGpuEvidenceOptions, verifyGpuEvidence } from './verify.js';
