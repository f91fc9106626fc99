import { fileURLToPath } from 'node:url';
import { describeCliShape } from '@confidential-ai/test-kit';

describeCliShape({
  name: 'venice-e2ee-proxy',
  bin: fileURLToPath(new URL('../bin/venice-e2ee-proxy.js', import.meta.url)),
  unknownOptionMessage: "unknown option '--bogus'",
  invalidPortMessage: 'expected a port number 0-65535',
  addressInUseHint: 'choose another --port or stop the process listening there',
  logsToStderr: true,
});
