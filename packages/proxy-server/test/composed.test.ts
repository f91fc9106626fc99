import { createLogger } from '@confidential-ai/server-kit';
import { verifyResponse } from '@confidential-ai/tee-signing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSecrets, loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { type RunningServer, startServer, TEE_GATEWAY_MOUNT_PATH, VENICE_MOUNT_PATH } from '../src/server.js';
import { captureLogs, TOKEN } from './helpers.js';

// The README's main job: one process serving every face on the embedded simulated upstreams.
const DEMO_TOML = `
[server]
port = 0
[auth]
token = "${TOKEN}"
[chutes]
enabled = true
api_key = "cpk_composed_test_key"
simulate = true
[venice]
enabled = true
[tee_gateway]
enabled = true
simulate = true
x402_enabled = false
opg_price_usd = "0.10"
`;

describe('composed server: vllm-proxy, Chutes sidecar, Venice proxy and TEE gateway in one process', () => {
  let server: RunningServer;
  let logs: ReturnType<typeof captureLogs>;
  beforeAll(async () => {
    logs = captureLogs();
    const config = loadConfig({ toml: DEMO_TOML, env: {} });
    const logger = createLogger({
      level: 'debug',
      destination: logs.destination,
      secrets: configSecrets(config),
    });
    server = await startServer({ config, logger, processMetrics: false });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('says which faces run on simulated upstreams', () => {
    const text = logs.text();
    expect(text).toContain('BUILT-IN SIMULATED vLLM');
    expect(text).toContain('BUILT-IN SIMULATED Chutes');
    expect(text).toContain('BUILT-IN SIMULATED Venice');
    expect(text).toContain('TEE gateway mounted with the BUILT-IN SIMULATED provider');
    expect(text).not.toContain('cpk_composed_test_key');
  });

  it('serves the vllm-proxy and Chutes routes at the root', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const vllm = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'root face' }],
    });
    expect(vllm.choices[0]?.message.content).toBeTruthy();
    const chutes = new OpenAI({ baseURL: `${server.url}/v1/chutes`, apiKey: TOKEN, maxRetries: 0 });
    const reply = await chutes.chat.completions.create({
      model: 'fake/echo-model',
      messages: [{ role: 'user', content: 'through ML-KEM' }],
    });
    expect(reply.choices[0]?.message.content).toContain('through ML-KEM');
  });

  it('serves the Venice E2EE proxy under /venice with verified key binding', async () => {
    const client = new OpenAI({
      baseURL: `${server.url}${VENICE_MOUNT_PATH}/v1`,
      apiKey: TOKEN,
      maxRetries: 0,
    });
    const models = await client.models.list();
    const model = models.data[0]?.id;
    expect(model).toBeTruthy();
    const { data, response } = await client.chat.completions
      .create({ model: model!, messages: [{ role: 'user', content: 'sealed to the enclave' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toContain('sealed to the enclave');
    expect(response.headers.get('x-venice-proxy-e2ee')).toBe('verified');
    expect(response.headers.get('x-venice-proxy-key-binding')).toBe('true');
    // The client can attest the same model key through the face, with its own nonce (and the client token: the
    // relay spends the operator's Venice key).
    const nonce = 'c4'.repeat(32);
    const attestationUrl = `${server.url}${VENICE_MOUNT_PATH}/v1/tee/attestation?model=${encodeURIComponent(model!)}&nonce=${nonce}`;
    expect((await fetch(attestationUrl)).status).toBe(401);
    const attestation = await fetch(attestationUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(attestation.status).toBe(200);
    const report = (await attestation.json()) as { nonce: string };
    expect(report.nonce).toBe(nonce);
    expect(response.headers.get('x-venice-proxy-model-public-key')).toMatch(/^04[0-9a-f]{128}$/);
  });

  it('serves the TEE gateway under /tee-gateway with responses that verify', async () => {
    const key = (await (await fetch(`${server.url}${TEE_GATEWAY_MOUNT_PATH}/signing-key`)).json()) as {
      public_key: string;
    };
    const request = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'sign this' }] };
    const response = await fetch(`${server.url}${TEE_GATEWAY_MOUNT_PATH}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    await expect(
      verifyResponse({ request, response: body, signingKey: key.public_key }),
    ).resolves.toBeTruthy();
    const tampered = structuredClone(body) as { choices: Array<{ message: { content: string } }> };
    tampered.choices[0]!.message.content += '!';
    await expect(
      verifyResponse({ request, response: tampered, signingKey: key.public_key }),
    ).rejects.toThrow();
  });
  it('every face answers GET /health, unknown routes in its own error shape, X-Request-Id on every response', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const cases: Array<[string, RequestInit, number, (body: unknown) => void]> = [
      ['/health', {}, 200, (body) => expect(body).toEqual({ status: 'ok' })],
      ['/venice/health', {}, 200, (body) => expect(body).toEqual({ status: 'ok' })],
      ['/tee-gateway/health', {}, 200, (body) => expect(body).toMatchObject({ status: 'OK' })],
      // vllm-proxy / Chutes: the OpenAI envelope.
      [
        '/v1/nowhere',
        { headers: auth },
        404,
        (body) =>
          expect(body).toEqual({
            error: { message: 'No route for GET /v1/nowhere', type: 'not_found', param: null, code: null },
          }),
      ],
      // Venice: the crate's envelope.
      [
        '/venice/v1/nowhere',
        { headers: auth },
        404,
        (body) =>
          expect(body).toEqual({
            error: {
              message: 'route /venice/v1/nowhere was not found',
              type: 'invalid_request_error',
              code: 'not_found',
            },
          }),
      ],
      // TEE gateway: the reference's flat body.
      [
        '/tee-gateway/v1/nowhere',
        { headers: auth },
        404,
        (body) =>
          expect(body).toEqual({ error: 'No route for GET /tee-gateway/v1/nowhere', code: 'not_found' }),
      ],
      [
        '/tee-gateway/v1/chat/completions',
        { headers: auth },
        405,
        (body) => expect(body).toMatchObject({ code: 'method_not_allowed' }),
      ],
      ['/tee-gateway/v1/models', {}, 200, (body) => expect(body).toMatchObject({ object: 'list' })],
      ['/v1/chat/completions', { method: 'POST' }, 401, (body) => expect(body).toHaveProperty('error.type')],
    ];
    const ids = new Set<string>();
    for (const [path, init, status, check] of cases) {
      const response = await fetch(`${server.url}${path}`, init);
      expect(response.status, path).toBe(status);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/);
      check(await response.json());
      const id = response.headers.get('x-request-id');
      expect(id, path).toMatch(/^[0-9a-f-]{36}$/);
      ids.add(id!);
    }
    expect(ids.size).toBe(cases.length);
  });

  it('one Prometheus endpoint for the whole server, each face with its own prefix', async () => {
    await fetch(`${server.url}/venice/health`);
    await fetch(`${server.url}/tee-gateway/health`);
    const text = await (await fetch(`${server.url}/local-metrics`)).text();
    expect(text).toContain('venice_proxy_requests_total{route="/health",method="GET",status="200"}');
    expect(text).toContain('tee_gateway_requests_total{route="/health",method="GET",status="200"}');
    expect(text).toContain('vllm_proxy_requests_total{route="/health",method="GET",status="200"}');
    // A face's requests are counted once, by the face, never again under the vllm-proxy prefix.
    expect(text).not.toMatch(/vllm_proxy_requests_total\{route="\/(venice|tee-gateway)/);
    // The faces serve no /metrics of their own here: the one endpoint is the server's.
    expect((await fetch(`${server.url}/tee-gateway/metrics`)).status).toBe(404);
    expect(
      (await fetch(`${server.url}/venice/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);
  });
});

describe('composed configuration', () => {
  it('reports problems of the Venice config file with its path', () => {
    try {
      loadConfig({ toml: '[venice]\nenabled = true\nconfig = "/nonexistent/venice.toml"\n', env: {} });
      expect.unreachable('a missing Venice config file must be an error');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('/nonexistent/venice.toml');
    }
  });

  it('validates the [tee_gateway] table with its own keys and env names', () => {
    expect(() => loadConfig({ toml: '[tee_gateway]\nenabled = true\nbogus = 1\n', env: {} })).toThrow(
      /tee_gateway\.bogus/,
    );
    const config = loadConfig({ env: { TEE_GATEWAY_ENABLED: 'true', OPG_PRICE_USD: '0.25' } });
    expect(config.teeGateway.enabled).toBe(true);
    expect(config.teeGateway.opg_price_usd).toBe('0.25');
    expect(config.venice.proxy).toBeUndefined();
  });
});
