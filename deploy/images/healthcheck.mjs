#!/usr/bin/env node
// Health check run inside the service images (compose `healthcheck`, `podman healthcheck run`):
// `node healthcheck.mjs <url>` exits 0 when GET <url> answers 2xx within 3 s, 1 otherwise.
// `--reachable` accepts any HTTP answer (a liveness check for a server that has no health route yet).
const args = process.argv.slice(2);
const reachable = args.includes('--reachable');
const url = args.find((argument) => !argument.startsWith('--'));
if (!url) {
  process.stderr.write('usage: healthcheck.mjs [--reachable] <url>\n');
  process.exit(2);
}
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  await response.body?.cancel();
  process.exit(reachable || response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
