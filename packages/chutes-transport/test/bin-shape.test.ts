import { fileURLToPath } from 'node:url';
import { describeCliShape } from '@confidential-ai/test-kit';

describeCliShape({
  name: 'chutes-fake',
  bin: fileURLToPath(new URL('../bin/chutes-fake.js', import.meta.url)),
  unknownOptionMessage: "Unknown option '--bogus'",
  invalidPortMessage: '--port must be an integer from 0 to 65535',
  addressInUseHint: 'choose another --port',
});
