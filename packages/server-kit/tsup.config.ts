import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  }),
);
