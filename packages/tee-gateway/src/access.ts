import { BEARER_FAILURE_MESSAGES, checkBearer, closeIfBodyUnread } from '@confidential-ai/server-kit';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';

/**
 * Routes every client may call without a token, by design: liveness (`GET /health`), the verification material a
 * client needs before it trusts the gateway (`GET /signing-key`, `GET /enclave/attestation`), the model list
 * (`GET /v1/models`: OpenAI clients probe it, and an x402 client has no token) and the Prometheus scrape
 * (`GET /metrics`, standalone only; unauthenticated as in the vllm-proxy reference).
 */
export const TEE_GATEWAY_PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  'GET /health',
  'GET /signing-key',
  'GET /enclave/attestation',
  'GET /v1/models',
  'GET /metrics',
]);

/** The inference routes x402 charges for: with `x402_enabled` the payment is their access control. */
export const TEE_GATEWAY_PAID_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/chat/completions',
  'POST /v1/completions',
]);

/**
 * The request path inside the gateway, without the prefix a composed server mounts it under (`/tee-gateway`):
 * the gateway's own routes are `/health`, `/v1/keys`, ... wherever it is served. Call it from a middleware
 * registered with `app.use('*')`, before `next()`.
 */
export function gatewayPath(c: Context): string {
  let pattern = '';
  try {
    pattern = routePath(c);
  } catch {
    pattern = '';
  }
  const base = pattern.endsWith('/*') ? pattern.slice(0, -2) : '';
  return base !== '' && c.req.path.startsWith(`${base}/`) ? c.req.path.slice(base.length) : c.req.path;
}

/** Options of {@link gatewayAccessGuard}. */
export interface GatewayAccessOptions {
  /** The client token (`Authorization: Bearer`); undefined makes every protected route answer 401. */
  clientToken: string | undefined;
  /** x402 is on: the paid routes take payment instead of the token. */
  x402Enabled: boolean;
}

/**
 * The gateway's access check, registered before the body limit so that it runs before any body is read: public
 * routes pass, paid routes pass when x402 is on (the payment gate decides from the headers), every other route
 * needs the client token, else 401 `{"error": ...}` and the connection is closed (the upload is not read).
 * @example
 * ```ts
 * app.use('*', gatewayAccessGuard({ clientToken: 'secret', x402Enabled: false }));
 * ```
 */
export function gatewayAccessGuard(options: GatewayAccessOptions): MiddlewareHandler {
  return async (c, next) => {
    const path = gatewayPath(c);
    const route = `${c.req.method} ${path}`;
    if (TEE_GATEWAY_PUBLIC_ROUTES.has(route) || (c.req.method === 'HEAD' && path === '/health'))
      return next();
    if (options.x402Enabled && TEE_GATEWAY_PAID_ROUTES.has(route)) return next();
    const result = checkBearer(c.req.header('authorization'), options.clientToken);
    if (result !== 'ok') return closeIfBodyUnread(c, c.json({ error: BEARER_FAILURE_MESSAGES[result] }, 401));
    return next();
  };
}
