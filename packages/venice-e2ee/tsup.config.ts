import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      'bin/venice-fake': 'src/bin/venice-fake.ts',
    },
    declarations: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  }),
);
