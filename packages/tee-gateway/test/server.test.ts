import { createMetrics } from '@confidential-ai/server-kit';
import { describe, expect, it } from 'vitest';
import { createTeeGateway, startTeeGatewayServer } from '../src/index.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

const CONFIG = { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' } as const;

describe('TEE gateway server and composition', () => {
  it('startTeeGatewayServer serves on a free loopback port and closes cleanly', async () => {
    const metrics = createMetrics({ prefix: 'tee_gateway_' });
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
});
