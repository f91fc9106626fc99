import { describe, expect, it } from 'vitest';
import { createTeeGateway, startTeeGatewayServer } from '../src/index.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

const CONFIG = { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' } as const;

describe('TEE gateway server and composition', () => {
  it('startTeeGatewayServer serves on a free loopback port and closes cleanly', async () => {
    const gateway = await createTeeGateway({ privateKey: TEST_PRIVATE_KEY_PEM, config: CONFIG });
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
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('tee_gateway_requests_total{route="/health",method="GET",status="200"} 1');
    expect(text).toContain('tee_gateway_requests_total{route="/v1/keys",method="POST",status="200"} 1');
    expect(text).toMatch(/^tee_gateway_x402_sessions 0$/m);
    await server.close();
    await server.close();
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});
