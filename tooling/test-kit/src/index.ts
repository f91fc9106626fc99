export { type CapturedOutput, captureOutput, type OutputSinks } from './capture-output.js';
export { type CliShapeOptions, describeCliShape } from './cli-shape.js';
export { type ConfigErrorClass, type ConfigIssue, configIssuesOf } from './config-issues.js';
export { bigIntToLittleEndian, edPublicToX25519 } from './edwards-to-montgomery.js';
export { type LoopbackForwardProxy, startForwardProxy } from './forward-proxy.js';
export { type OccupiedPort, occupyLoopbackPort } from './occupied-port.js';
export { opensslX25519 } from './openssl-x25519.js';
export { type CommandResult, type RunCommandOptions, runBin, runCommand } from './run-command.js';
export { scripted } from './scripted-random.js';
