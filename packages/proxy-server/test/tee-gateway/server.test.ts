import { verifyResponse } from '@confidential-ai/tee-signing';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.js';
import {
  createTeeGateway,
  startTeeGatewayServer,
  teeGatewayRouteModule,
} from '../../src/tee-gateway/index.js';
import { createTestApp } from '../helpers.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

const CONFIG = { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' } as const;

describe('TEE gateway server and composition', () => {
  it('startTeeGatewayServer serves on a free loopback port and closes cleanly', async () => {
    const metrics = createMetrics();
    const gateway = await createTeeGateway({ privateKey: TEST_PRIVATE_KEY_PEM, config: CONFIG, metrics });
    const server = await startTeeGatewayServer({ gateway, port: 0 });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = (await (await fetch(`${server.url}/health`)).json()) as { status: string };
    expect(health.status).toBe('OK');
    // /v1/keys sees the real loopback peer through this listener.
    const keys = await fetch(`${server.url}/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(keys.status).toBe(200);
    const text = await metrics.registry.metrics();
    expect(text).toContain('route="/health"');
    expect(text).toContain('route="/v1/keys",method="POST",status="200"');
    await server.close();
    await server.close();
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });

  it('mounts into the proxy app as a route module; gateway errors keep the flat {"error"} body', async () => {
    const gateway = await createTeeGateway({ privateKey: TEST_PRIVATE_KEY_PEM, config: CONFIG });
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
