import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: {
      index: 'src/index.ts',
      'testing/index': 'src/testing/index.ts',
      'bin/chutes': 'src/bin/chutes.ts',
      'bin/chutes-fake-api': 'src/bin/chutes-fake-api.ts',
    },
    declarations: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
    external: ['esbuild'],
  }),
);
