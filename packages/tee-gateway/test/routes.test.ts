// What every face answers (issue 16): GET /v1/models for OpenAI clients, GET /health, Prometheus metrics with the
// gateway's own prefix, JSON in the flat shape for unknown routes and methods, and X-Request-Id on every response.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTeeGateway,
  listModelNames,
  type RunningTeeGatewayServer,
  startTeeGatewayServer,
} from '../src/index.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

describe('TEE gateway routes every face has', () => {
  let server: RunningTeeGatewayServer;
  beforeAll(async () => {
    const gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: { simulate: true, x402_enabled: false, opg_price_usd: '1' },
      clientToken: 'gateway-token',
    });
    server = await startTeeGatewayServer({ gateway, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('GET /v1/models lists the registry for the openai SDK, without a token (an x402 client has none)', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-the-token', maxRetries: 0 });
    const models = await client.models.list();
    const ids = models.data.map((model) => model.id);
    expect(ids).toEqual(listModelNames());
    expect(ids).toContain('gpt-4.1');
    const gpt = models.data.find((model) => model.id === 'gpt-4.1');
    expect(gpt).toMatchObject({ object: 'model', owned_by: 'openai' });
    expect(Number.isInteger(gpt?.created)).toBe(true);
    // And then chats with one of them (with the token).
    const chat = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'gateway-token', maxRetries: 0 });
    const reply = await chat.chat.completions.create({
      model: ids[0]!,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(reply.choices[0]?.message.content).toBeTruthy();
  });

  it('unknown routes are 404 and known routes with another method 405, as flat JSON (after the access check)', async () => {
    const auth = { authorization: 'Bearer gateway-token' };
    const missing = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await missing.json()).toEqual({ error: 'No route for POST /v1/embeddings', code: 'not_found' });
    const wrongMethod = await fetch(`${server.url}/v1/chat/completions`, { headers: auth });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({
      error: 'Method not allowed: GET /v1/chat/completions',
      code: 'method_not_allowed',
    });
    // Without the token the access check answers first: no route discovery for anonymous clients.
    const anonymous = await fetch(`${server.url}/v1/embeddings`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: 'Invalid or missing Authorization header' });
  });

  it('every response carries X-Request-Id: JSON, streams, relayed errors, 404s and 401s', async () => {
    const auth = { authorization: 'Bearer gateway-token', 'content-type': 'application/json' };
    const responses = [
      await fetch(`${server.url}/health`),
      await fetch(`${server.url}/v1/models`),
      await fetch(`${server.url}/nowhere`, { headers: auth }),
      await fetch(`${server.url}/heartbeat/status`),
      await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }], stream: true }),
      }),
      await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      }),
    ];
    const statuses = responses.map((response) => response.status);
    expect(statuses).toEqual([200, 200, 404, 401, 200, 400]);
    for (const response of responses) {
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      await response.arrayBuffer();
    }
  });

  it('GET /metrics: tee_gateway_* only, public, with the live x402 session gauge', async () => {
    await fetch(`${server.url}/health`);
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('tee_gateway_requests_total{route="/health",method="GET",status="200"}');
    expect(text).toMatch(/^tee_gateway_errors_total\{type="not_found"\} [1-9]/m);
    expect(text).toMatch(/^tee_gateway_x402_sessions 0$/m);
    expect(text).not.toContain('vllm_proxy_');
  });
});
