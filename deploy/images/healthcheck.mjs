#!/usr/bin/env node
// Health check run inside the service images (compose `healthcheck`, `podman healthcheck run`, `podman exec`):
// `node healthcheck.mjs [url]` exits 0 when GET <url> answers 2xx with a JSON body within 3 s, 1 otherwise.
// Every face answers GET /health without a token (confidential-proxy and tee-gateway on port 8000,
// venice-e2ee-proxy on 8080); the default URL is http://127.0.0.1:8000/health.
const url = process.argv[2] ?? 'http://127.0.0.1:8000/health';
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  const healthy = response.ok && (await response.json()) !== null;
  process.exit(healthy ? 0 : 1);
} catch {
  process.exit(1);
}
