import { defineConfig } from 'vitest/config';

// Run by `npm run test:images` (deploy/scripts/test-images.sh) after the images are built; never by `npm test`.
// The files share the machine's podman: one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
