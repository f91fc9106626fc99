import { fileURLToPath } from 'node:url';
import { describeCliShape } from '@confidential-ai/test-kit';

describeCliShape({
  name: 'tee-gateway',
  bin: fileURLToPath(new URL('../bin/tee-gateway.js', import.meta.url)),
  unknownOptionMessage: "unknown option '--bogus'",
  invalidPortMessage: 'expected a port number 0-65535',
  addressInUseHint: 'choose another --port or stop the process listening there',
  serveArgs: ['--simulate', '--no-x402', '--opg-price-usd', '1', '--log-level', 'silent'],
  logsToStderr: true,
});
