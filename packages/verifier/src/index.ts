export {
  type AnswerVerifier,
  type AnswerVerifierOptions,
  createAnswerVerifier,
  evidenceBaseOf,
  type ObservedAnswer,
} from './answer-verifiers.js';
export {
  CHUTES_ATTESTATION_STEPS,
  type ChutesAttestationOptions,
  type ChutesAttestationResult,
  verifyChutesAttestation,
} from './chutes.js';
export {
  VERIFIER_ERROR_CODES,
  VerifierError,
  type VerifierErrorCode,
  type VerifierErrorOptions,
} from './errors.js';
export {
  type NitroEvidenceOptions,
  type TdxEvidenceOptions,
  verifyNitroEvidence,
  verifyTdxEvidence,
} from './evidence.js';
export { formatVerdict } from './format.js';
export type { GpuEvidenceInput, GpuEvidenceResult, GpuEvidenceVerifier } from './gpu.js';
export type { EvidenceTransport, FetchFunction } from './http.js';
export { createNvidiaGpuVerifier, type GpuTrustAnchor, type NvidiaGpuVerifierOptions } from './nvidia.js';
export {
  DEFAULT_ATTESTATION_MAX_AGE_MS,
  type NitroPcrPolicy,
  type ResolvedPolicy,
  resolvePolicy,
  type TdxCollateralRequest,
  type TdxCollateralSource,
  type TdxMeasurementPolicy,
  type VerificationPolicy,
} from './policy.js';
export {
  type AttestedGatewayKey,
  attestTeeGateway,
  checkTeeGatewayAnswer,
  type GatewayAttestationResult,
  TEE_GATEWAY_ATTESTATION_STEPS,
  TEE_GATEWAY_RESPONSE_STEPS,
  type TeeGatewayAnswerCheck,
  type TeeGatewayAnswerOptions,
  type TeeGatewayAttestationOptions,
  type TeeGatewayTarget,
  verifyTeeGatewayAnswer,
} from './tee-gateway.js';
export {
  type AttestedVeniceKey,
  VENICE_ANSWER_STEPS,
  VENICE_ATTESTATION_STEPS,
  VENICE_MODEL_KEY_HEADER,
  type VeniceAttestationOptions,
  type VeniceAttestationResult,
  veniceAnswerSteps,
  verifyVeniceAttestation,
} from './venice.js';
export {
  assertVerified,
  combineVerdicts,
  type ServiceKind,
  STEP_TITLES,
  type StepName,
  type StepStatus,
  type Verdict,
  type VerificationStep,
} from './verdict.js';
export {
  createVerifiedFetch,
  DEFAULT_MAX_RESPONSE_BYTES,
  type VerifiedFetch,
  type VerifiedFetchOptions,
  verdictOf,
} from './verified-fetch.js';
export {
  type AttestationResult,
  attestVllmProxy,
  checkVllmSignature,
  completionIdOf,
  fetchVllmSignatureRecord,
  type SignatureRecordReply,
  VLLM_ATTESTATION_STEPS,
  VLLM_SIGNATURE_STEPS,
  type VllmProxyAnswerOptions,
  type VllmProxyAttestationOptions,
  type VllmProxyTarget,
  type VllmSignatureCheck,
  type VllmSignatureRecord,
  verifyVllmProxyAnswer,
} from './vllm-proxy.js';
export type { AttestedVllmKey } from './vllm-report.js';

/** The package version, injected at build time. */
export const VERSION: string = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-dev';
declare const __PACKAGE_VERSION__: string | undefined;
