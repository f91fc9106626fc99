import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: ['src/index.ts'],
  }),
);
