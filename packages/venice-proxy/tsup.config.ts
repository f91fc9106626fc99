import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: ['src/index.ts', 'src/config.ts', 'src/bin/venice-e2ee-proxy.ts'],
    declarations: ['src/index.ts', 'src/config.ts'],
  }),
);
