import { libraryConfig } from '@confidential-ai/tsup-config';
import { defineConfig } from 'tsup';

// `cli` is the `nitro-attestation` bin; its shebang comes from the first line of src/cli.ts.
export default defineConfig(
  libraryConfig(import.meta.url, {
    entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
    declarations: { index: 'src/index.ts' },
  }),
);
