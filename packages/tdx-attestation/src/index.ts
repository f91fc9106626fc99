export {
  type DecodedCollateral,
  decodeCollateral,
  type IsvSvnTcbLevel,
  parseQeIdentity,
  parseTcbInfo,
  type QeIdentity,
  TCB_STATUSES,
  type TcbInfo,
  type TcbLevel,
  type TcbStatus,
  type TdxCollateralJson,
  type TdxModuleIdentity,
} from './collateral.js';
export {
  checkDstackEventLog,
  DSTACK_RUNTIME_EVENT_TYPE,
  type DstackEventLogCheck,
  type DstackEventLogEntry,
  dstackMrConfigId,
  dstackRuntimeEventDigest,
  parseDstackEventLog,
  replayRtmrs,
} from './dstack.js';
export {
  TDX_ATTESTATION_ERROR_CODES,
  TdxAttestationError,
  type TdxAttestationErrorCode,
  type TdxAttestationErrorOptions,
} from './errors.js';
export { INTEL_SGX_ROOT_CA_SHA256, intelSgxRootCaDer } from './intel-root.js';
export {
  ATTESTATION_KEY_TYPE_ECDSA_P256,
  decodeTdAttributes,
  INTEL_QE_VENDOR_ID,
  parseQeReport,
  parseTdxQuote,
  type QeReport,
  SGX_REPORT_BODY_SIZE,
  TDX_BODY_TYPE_TD_REPORT10,
  TDX_BODY_TYPE_TD_REPORT15,
  TDX_QUOTE_BODY_DESCRIPTOR_SIZE,
  TDX_QUOTE_HEADER_SIZE,
  TDX_QUOTE_SIGNED_SIZE,
  TDX_REPORT_DATA_OFFSET,
  TDX_TD_REPORT_BODY_SIZE,
  TDX_TD_REPORT15_BODY_SIZE,
  TDX_TEE_TYPE,
  TDX_V5_REPORT_DATA_OFFSET,
  type TdAttributes,
  type TdReportBody,
  type TdxQuote,
  type TdxQuoteHeader,
} from './quote.js';
export {
  chutesReportDataPrefix,
  compareVeniceReportData,
  matchesChutesReportData,
  REPORT_DATA_SIZE,
  type VeniceReportDataMismatch,
  veniceReportData,
} from './report-data.js';
export { type PckExtensions, readPckExtensions, SGX_EXTENSIONS_OID } from './sgx-extensions.js';
export {
  combineTcbStatuses,
  evaluatePlatformTcb,
  evaluateQeIdentity,
  evaluateTcb,
  evaluateTdxModule,
  sortTcbLevels,
  type TcbEvaluation,
  type TcbStatusWithAdvisories,
} from './tcb.js';
export { checkTdPolicy, type TdPolicyOptions } from './td-policy.js';
export {
  type TdxMeasurements,
  type TdxVerificationResult,
  type TdxVerifiedChecks,
  type VerifyTdxQuoteOptions,
  verifyTdxQuote,
} from './verify.js';
