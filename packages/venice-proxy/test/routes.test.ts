// What every face answers (issue 16), in the crate's shape: GET /health, Prometheus metrics with the Venice
// proxy's own prefix, JSON for unknown routes and methods (also when mounted below a prefix), and X-Request-Id on
// every response.
import { Hono } from 'hono';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVeniceProxyConfig } from '../src/config.js';
import { prepareVeniceMount, type VeniceMount } from '../src/server.js';
import { type Harness, startHarness } from './helpers.js';

describe('Venice proxy routes every face has', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ env: { VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN: 'venice-client-token' } });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('GET /health and GET /metrics answer without the client token; everything else needs it', async () => {
    const health = await harness.raw('/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const models = await harness.raw('/v1/models');
    expect(models.status).toBe(401);
    expect(models.headers.get('x-venice-proxy-error-code')).toBe('unauthorized');
    const metrics = await harness.raw('/metrics');
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toContain('venice_proxy_requests_total{route="/health",method="GET",status="200"} 1');
    expect(text).toContain('venice_proxy_requests_total{route="/v1/models",method="GET",status="401"} 1');
    expect(text).toContain('venice_proxy_errors_total{type="unauthorized"} 1');
    expect(text).not.toContain('vllm_proxy_');
  });

  it('every response carries X-Request-Id: JSON, SSE, the crate envelope, plain-text rejections', async () => {
    const auth = { authorization: 'Bearer venice-client-token' };
    const responses = [
      await harness.raw('/health'),
      await harness.raw('/v1/models', { headers: auth }),
      await harness.raw('/nowhere', { headers: auth }),
      await harness.raw('/v1/models', { method: 'DELETE', headers: auth }),
      await harness.raw('/v1/chat/completions', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'text/plain' },
        body: 'x',
      }),
      await harness.raw('/v1/chat/completions', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'e2ee-qwen3-6-27b',
          messages: [{ role: 'user', content: 'x' }],
          stream: true,
        }),
      }),
    ];
    expect(responses.map((response) => response.status)).toEqual([200, 200, 404, 405, 415, 200]);
    for (const response of responses) {
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      await response.arrayBuffer();
    }
  });
});

describe('mounted below a prefix of another app', () => {
  let mount: VeniceMount;
  beforeAll(async () => {
    mount = await prepareVeniceMount({
      config: loadVeniceProxyConfig({ env: {} }),
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await mount?.close();
  });

  it('unknown routes and wrong methods keep the crate envelope, not the host app shape', async () => {
    const root = new Hono();
    root.route('/venice', mount.app);
    root.notFound((c) => c.json({ detail: 'host shape' }, 404));
    const missing = await root.request('/venice/v1/embeddings', { method: 'POST' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-venice-proxy-error-code')).toBe('not_found');
    expect(await missing.json()).toEqual({
      error: {
        message: 'route /venice/v1/embeddings was not found',
        type: 'invalid_request_error',
        code: 'not_found',
      },
    });
    const wrong = await root.request('/venice/v1/chat/completions', { method: 'GET' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('x-venice-proxy-error-code')).toBe('method_not_allowed');
    expect((await root.request('/venice/health')).status).toBe(200);
    expect(await (await root.request('/elsewhere')).json()).toEqual({ detail: 'host shape' });
  });
});
