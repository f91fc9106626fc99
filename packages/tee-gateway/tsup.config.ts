import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: [
      'src/index.ts',
      'src/config.ts',
      'src/x402/index.ts',
      'src/testing/index.ts',
      'src/bin/tee-gateway.ts',
    ],
    declarations: ['src/index.ts', 'src/config.ts', 'src/x402/index.ts', 'src/testing/index.ts'],
  }),
);
