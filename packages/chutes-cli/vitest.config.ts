import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export default defineConfig({
  // The same package version tsup writes into the build, so `--version` is tested as users see it.
  define: { __PACKAGE_VERSION__: JSON.stringify(version) },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests drive the CLI as child processes on a shared, often loaded machine.
    testTimeout: 200_000,
    hookTimeout: 60_000,
  },
});
