import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

// `src/bin.ts` starts with a shebang, which esbuild keeps.
export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', bin: 'src/bin.ts' },
    declarations: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  }),
);
