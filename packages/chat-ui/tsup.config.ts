import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

// The Node entry only (the assets directory path); scripts/build-page.mjs then bundles the page into dist/ui/.
export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: ['src/index.ts'],
  }),
);
