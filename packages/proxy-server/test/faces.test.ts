// The Venice proxy and the TEE gateway as route modules of the composed app (src/faces.ts), next to the vllm-proxy
// routes; each keeps its own error shape.
import { createTeeGateway } from '@confidential-ai/tee-gateway';
import { verifyResponse } from '@confidential-ai/tee-signing';
import { loadVeniceProxyConfig, prepareVeniceMount } from '@confidential-ai/venice-proxy';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { teeGatewayRouteModule, veniceRouteModule } from '../src/faces.js';
import { vllmProxyRoutes } from '../src/routes/vllm-proxy.js';
import { createTestApp } from './helpers.js';

const CONFIG = { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' } as const;

describe('teeGatewayRouteModule in the composed app', () => {
  it('mounts into the proxy app as a route module; gateway errors keep the flat {"error"} body', async () => {
    const gateway = await createTeeGateway({ config: CONFIG });
    const { app } = createTestApp({ modules: [teeGatewayRouteModule(gateway)] });
    const raw = '{"model":"claude-opus-4-6","messages":[{"role":"user","content":"hi"}]}';
    const ok = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(ok.status).toBe(200);
    await verifyResponse({
      request: raw,
      response: await ok.json(),
      signingKey: gateway.signer.publicKeyPem,
    });
    const bad = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"nope","messages":[{"role":"user","content":"x"}]}',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "Model 'nope' is not supported" });
    await gateway.close();
  });
});

describe('veniceRouteModule in the composed app', () => {
  it('serves Venice under /venice next to the vllm-proxy routes', async () => {
    const mount = await prepareVeniceMount({
      config: loadVeniceProxyConfig({ env: {} }),
      logger: pino({ level: 'silent' }),
    });
    try {
      const { app } = createTestApp({ modules: [vllmProxyRoutes, veniceRouteModule(mount)] });
      const venice = await app.request('/venice/v1/models');
      expect(venice.headers.get('x-venice-proxy-attestation-mode')).toBe('independent');
      const chat = await app.request('/venice/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'both' }] }),
      });
      expect(
        ((await chat.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message
          .content,
      ).toBe('You said: both');
      const wrongMethod = await app.request('/venice/v1/models', { method: 'DELETE' });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('x-venice-proxy-error-code')).toBe('method_not_allowed');
      // The root vllm-proxy face is untouched (its own auth answers).
      expect(
        (await app.request('/v1/chat/completions', { method: 'POST' })).headers.get(
          'x-venice-proxy-error-code',
        ),
      ).toBeNull();
    } finally {
      await mount.close();
    }
  });
});
