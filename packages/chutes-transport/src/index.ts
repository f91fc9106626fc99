export {
  type ChutesInstance,
  type DiscoveredInstance,
  type DiscoveryResult,
  isChuteId,
  MAX_INSTANCES,
  NONCES_PER_INSTANCE,
  parseDiscoveryResponse,
  parseModelList,
} from './discovery.js';
export {
  ChutesTransportError,
  type ChutesTransportErrorCode,
  type ChutesTransportErrorOptions,
} from './errors.js';
export {
  type ChutesFetch,
  type ChutesFetchOptions,
  createChutesFetch,
  type FetchFunction,
  type NonceLeaseEvent,
} from './fetch.js';
export type { GpuEvidenceGateOptions } from './gpu-evidence-gate.js';
export {
  createTdxEvidenceFilter,
  type InstanceFilter,
  type InstanceFilterContext,
  type InstanceGateCode,
  type InstanceGateResult,
  type InstanceGpuSummary,
  readTdxReportData,
  type TdxEvidenceEntry,
  type TdxEvidenceFilterOptions,
} from './instance-filter.js';
export { type LevelLogger, type Logger, type LogLevel, redactHeaders } from './logger.js';
export { EncryptedStreamDecoder, formatErrorEvent, SseLineSplitter, type StreamOpeners } from './sse.js';
