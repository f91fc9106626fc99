export {
  BEARER_FAILURE_MESSAGES,
  type BearerCheck,
  checkBearer,
  closeIfBodyUnread,
} from './access.js';
export { announceAndStopOnSignals, parsePort, type ServeIo } from './cli-serve.js';
export { BOOLEAN_WORDS, httpUrl, isHttpUrl, parseBooleanWord, strictBoolean } from './config-fields.js';
export {
  type ConfigIssue,
  configIssuesOf,
  formatConfigIssues,
  ServerKitError,
  type ServerKitErrorCode,
} from './errors.js';
export { CLIENT_CLOSED_REQUEST, escapeControlCharacters, isClientAbort } from './ingress.js';
export {
  exceedsJsonDepth,
  isPlainObject,
  JSON_TOO_DEEP,
  jsonNestingDepth,
  MAX_JSON_DEPTH,
  parseJsonObject,
} from './json.js';
export {
  type CreateLoggerOptions,
  createLogger,
  createSilentLogger,
  createStderrDestination,
  errorForLog,
  type Logger,
  type LogLevel,
  REDACT_PATHS,
  REDACTED,
} from './logger.js';
export { isLoopbackAddress, isLoopbackHost } from './loopback.js';
export { type CreateMetricsOptions, createMetrics, type ProxyMetrics } from './metrics.js';
export {
  createUpstreamFetch,
  type FetchFunction,
  isTimeoutError,
  type RequestFunction,
  type UpstreamFetch,
  type UpstreamFetchOptions,
  type UpstreamReply,
  type UpstreamRequestOptions,
} from './upstream.js';
