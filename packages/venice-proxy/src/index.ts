export {
  createVeniceProxyApp,
  createVeniceProxyClient,
  VENICE_PROXY_METRICS_PREFIX,
  type VeniceAttestationOverrides,
  type VeniceProxyDependencies,
  veniceErrorResponse,
  withReadTimeout,
} from './app.js';
export {
  createVeniceProxyProgram,
  registerVeniceCommand,
  runVeniceProxyCli,
  type VeniceCliIo,
  type VeniceCommandHooks,
} from './cli.js';
export {
  type LoadVeniceProxyConfigOptions,
  loadVeniceProxyConfig,
  parseHumantimeDuration,
  pinoLevelFromFilter,
  VENICE_ENV_PREFIX,
  type VeniceProxyConfig,
} from './config.js';
export {
  VeniceProxyConfigError,
  VeniceProxyError,
  type VeniceProxyErrorCode,
  VeniceProxyHttpError,
} from './errors.js';
export {
  type PrepareVeniceMountOptions,
  prepareVeniceMount,
  type RunningVeniceProxy,
  type StartVeniceProxyOptions,
  startVeniceProxy,
  type VeniceMount,
} from './server.js';
export { VERSION } from './version.js';
