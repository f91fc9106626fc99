export {
  BEARER_FAILURE_MESSAGES,
  type BearerCheck,
  checkBearer,
  closeIfBodyUnread,
} from './access.js';
export {
  type CliFailure,
  type CliStreams,
  cliFailureOf,
  cliStreams,
  describeFailure,
  runProgram,
} from './cli-run.js';
export { announceAndStopOnSignals, parsePort, type ServeIo } from './cli-serve.js';
export {
  BOOLEAN_WORDS,
  httpUrl,
  isHttpUrl,
  parseBooleanWord,
  portNumber,
  strictBoolean,
} from './config-fields.js';
export {
  type ErrorRenderer,
  type HandleErrorsOptions,
  type HttpFailure,
  handleErrors,
} from './error-envelope.js';
export {
  type ConfigIssue,
  configIssuesOf,
  formatConfigIssues,
  isToolkitError,
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
  type CloseOptions,
  type ListenOptions,
  listen,
  type NodeRequestHandler,
  type RunningListener,
} from './listen.js';
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
export {
  type CreateMetricsOptions,
  createMetrics,
  type MetricsRegistry,
  metricsResponse,
  type ServerMetrics,
} from './metrics.js';
export {
  createOutboundDispatcher,
  LOOPBACK_NO_PROXY,
  type OutboundProxySettings,
  outboundProxySettings,
} from './outbound-proxy.js';
export { REQUEST_ID_HEADER, type RequestIdOptions, requestIdMiddleware, requestIdOf } from './request-id.js';
export {
  type ObserveRequestsOptions,
  observeRequests,
  type RequestRecord,
  recordRequest,
  routeLabel,
} from './request-log.js';
export {
  Cancellation,
  createUpstreamFetch,
  type FetchFunction,
  isTimeoutError,
  type RequestFunction,
  type UpstreamFetch,
  type UpstreamFetchOptions,
  type UpstreamReply,
  type UpstreamRequestOptions,
} from './upstream.js';
