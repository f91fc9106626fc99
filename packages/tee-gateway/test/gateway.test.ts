import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { createLogger } from '@confidential-ai/server-kit';
import { verifyResponse } from '@confidential-ai/tee-signing';
import OpenAI from 'openai';
import { keccak256 } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeeGateway, type TeeGateway } from '../src/index.js';
import { FAKE_TEXT, type FakeProviders, startFakeProviders } from './fake-providers.js';
import { captureLogs, type Served, serveApp, startRecorder } from './helpers.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

const SPEC_CHAT_BODY =
  '{"model":"gpt-4.1","messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"H\\u00e9llo \\ud83d\\udc4b"}],"temperature":0.7,"max_tokens":100}';

function spkiDer(pem: string): Buffer {
  return createPublicKey(pem).export({ type: 'spki', format: 'der' });
}

describe('TEE gateway (simulated provider, no payment)', () => {
  let gateway: TeeGateway;
  let served: Served;
  beforeAll(async () => {
    gateway = await createTeeGateway({
      config: { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' },
    });
    served = await serveApp(gateway.app);
  });
  afterAll(async () => {
    await served.close();
    await gateway.close();
  });

  it('GET /health reports status, version, price feed and tee_enabled=false without nitriding', async () => {
    const body = (await (await fetch(`${served.url}/health`)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'OK', version: '1.0.0', tee_enabled: false });
    expect(body['price_feed']).toMatchObject({ price_usd: '1' });
  });

  it('GET /signing-key serves the SPKI PEM and tee_id = keccak256(SPKI DER), checked with viem', async () => {
    const body = (await (await fetch(`${served.url}/signing-key`)).json()) as Record<string, unknown>;
    const pem = body['public_key'] as string;
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const key = createPublicKey(pem);
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(key.asymmetricKeyDetails?.publicExponent).toBe(65537n);
    expect(body['tee_id']).toBe(keccak256(spkiDer(pem)));
    expect(body['wallet_address']).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(body['enclave_info']).toEqual({
      platform: 'aws-nitro',
      instance_type: 'tee-enabled',
      version: '1.0.0',
    });
    expect(body['measurements']).toBeNull();
    expect(Number.isNaN(Date.parse(body['timestamp'] as string))).toBe(false);
  });

  it('GET /enclave/attestation answers 503 with a clear message without nitriding', async () => {
    const response = await fetch(`${served.url}/enclave/attestation?nonce=${'ab'.repeat(20)}`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error:
        'Attestation unavailable: not running inside an AWS Nitro Enclave and no nitriding URL is configured',
    });
  });

  it('GET /heartbeat/status is disabled before keys', async () => {
    expect(await (await fetch(`${served.url}/heartbeat/status`)).json()).toEqual({ enabled: false });
  });

  it('chat through the openai v6 SDK is signed and verifies (spec request vector)', async () => {
    const client = new OpenAI({ apiKey: 'placeholder', baseURL: `${served.url}/v1` });
    const request = {
      model: 'gpt-4.1',
      messages: [
        { role: 'system' as const, content: 'You are helpful.' },
        { role: 'user' as const, content: 'Héllo 👋' },
      ],
      temperature: 0.7,
      max_tokens: 100,
    };
    const completion = await client.chat.completions.create(request);
    const body = completion as unknown as Record<string, unknown>;
    expect(body['object']).toBe('chat.completion');
    expect(body['id']).toMatch(/^chatcmpl-[0-9a-f-]{36}$/);
    expect(body['created']).toBe(body['tee_timestamp']);
    expect(body['tee_request_hash']).toBe('a5c5114a49153c78d2b688b9d33071c7c4a48d9983c590fbddcc5231cb549072');
    expect(completion.choices[0]?.message.content).toContain('[simulated gpt-4.1]');
    const pem = (await (await fetch(`${served.url}/signing-key`)).json()) as { public_key: string };
    const proof = await verifyResponse({
      request: SPEC_CHAT_BODY,
      response: body,
      signingKey: pem.public_key,
    });
    expect(proof.teeId).toBe(gateway.signer.teeId);
    // A tampered answer must fail.
    const tampered = structuredClone(body) as { choices: { message: { content: string } }[] };
    tampered.choices[0]!.message.content += '!';
    await expect(
      verifyResponse({ request: SPEC_CHAT_BODY, response: tampered, signingKey: pem.public_key }),
    ).rejects.toThrow(/output hash/);
  });

  it('streams with the proof in the final SSE frame (openai SDK parses it; verifyResponse accepts it)', async () => {
    const client = new OpenAI({ apiKey: 'placeholder', baseURL: `${served.url}/v1` });
    const chunks: Record<string, unknown>[] = [];
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    for await (const chunk of stream) chunks.push(chunk as unknown as Record<string, unknown>);
    const final = chunks.at(-1)!;
    expect(final['tee_signature']).toEqual(expect.any(String));
    expect((final['choices'] as { finish_reason: string }[])[0]!.finish_reason).toBe('stop');
    const text = chunks
      .map((chunk) => (chunk['choices'] as { delta: { content?: string } }[])[0]?.delta.content ?? '')
      .join('');
    expect(text).toContain('stream please');

    const raw = JSON.stringify({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    const response = await fetch(`${served.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const sse = await response.text();
    expect(sse.endsWith('data: [DONE]\n\n')).toBe(true);
    await verifyResponse({ request: raw, response: sse, signingKey: gateway.signer.publicKeyPem });
  });

  it('completions apply the reference defaults (spec vector) and verify', async () => {
    const raw = '{"model":"gpt-4.1","prompt":"Say hi"}';
    const response = await fetch(`${served.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body['object']).toBe('text_completion');
    expect(body['id']).toMatch(/^cmpl-/);
    expect(body['tee_request_hash']).toBe('7ab2ec562cf33e7a120d2caca189b9b2eb13b21a61f0bae107c70b4cf796737f');
    await verifyResponse({
      request: raw,
      endpoint: 'completions',
      response: body,
      signingKey: gateway.signer.publicKeyPem,
    });
    const client = new OpenAI({ apiKey: 'placeholder', baseURL: `${served.url}/v1` });
    const viaSdk = await client.completions.create({ model: 'gpt-4.1', prompt: 'Say hi' });
    expect(viaSdk.choices[0]?.text).toContain('Say');
  });

  it('refuses bad requests with the reference error bodies', async () => {
    const post = (path: string, body: string, type = 'application/json') =>
      fetch(`${served.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
    let response = await post('/v1/chat/completions', 'hi', 'text/plain');
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({
      error: 'Unsupported Media Type',
      message: 'Request must be application/json',
    });
    response = await post('/v1/completions', 'hi', 'text/plain');
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: 'Request must be application/json' });
    response = await post(
      '/v1/chat/completions',
      '{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}',
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "Model 'gpt-9' is not supported" });
    response = await post(
      '/v1/chat/completions',
      '{"model":"gpt-4.1","messages":[{"role":"wizard","content":"x"}]}',
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/role/);
    response = await post('/v1/chat/completions', '{"model":');
    expect(response.status).toBe(400);
    response = await post(
      '/v1/chat/completions',
      `{"model":"gpt-4.1","messages":[{"role":"user","content":"${'x'.repeat(11 * 1024 * 1024)}"}]}`,
    );
    expect(response.status).toBe(413);
  });

  it('accepts role developer as system (hashed as system)', async () => {
    const raw =
      '{"model":"gpt-4.1","messages":[{"role":"developer","content":"be brief"},{"role":"user","content":"hi"}]}';
    const body = await (
      await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: raw,
      })
    ).json();
    await verifyResponse({ request: raw, response: body, signingKey: gateway.signer.publicKeyPem });
  });
});

describe('TEE gateway: /v1/keys and providers', () => {
  let providers: FakeProviders;
  beforeAll(async () => {
    providers = await startFakeProviders();
  });
  afterAll(async () => {
    await providers.close();
  });

  async function keyedGateway() {
    const logs = captureLogs();
    const gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: {
        enabled: true,
        x402_enabled: false,
        opg_price_usd: '1',
        openai_base_url: `${providers.url}/openai/v1`,
        xai_base_url: `${providers.url}/openai/v1`,
        anthropic_base_url: `${providers.url}/anthropic/v1`,
        google_base_url: `${providers.url}/gemini/v1beta`,
      },
      logger: createLogger({ level: 'debug', destination: logs.destination }),
    });
    const served = await serveApp(gateway.app);
    return { gateway, served, logs };
  }

  it('answers 503 before keys, accepts keys once from loopback, 409 after, never logs keys', async () => {
    const { gateway, served, logs } = await keyedGateway();
    try {
      const chat = () =>
        fetch(`${served.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}',
        });
      let response = await chat();
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: 'Gateway not initialized' });
      // A bad body does not use up the one call.
      response = await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'nope',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'JSON body required' });
      // A forwarded request from a loopback peer is refused.
      response = await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
        body: JSON.stringify({ openai_api_key: 'sk-secret-openai-123456' }),
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({
        error: 'Provider keys can only be set from a loopback address',
      });
      const keys = {
        openai_api_key: 'sk-secret-openai-123456',
        anthropic_api_key: 'sk-ant-secret-654321',
        google_api_key: 'g-secret-key-987654',
        xai_api_key: '',
      };
      response = await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(keys),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        status: 'ok',
        providers_initialized: ['openai', 'anthropic', 'google'],
        heartbeat_enabled: false,
      });
      response = await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(keys),
      });
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual({ error: 'Provider keys have already been initialized' });
      response = await chat();
      expect(response.status).toBe(200);
      expect(providers.requests.at(-1)?.headers['authorization']).toBe('Bearer sk-secret-openai-123456');
      // xai has no key: an error for that model only.
      response = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model":"grok-4","messages":[{"role":"user","content":"hi"}]}',
      });
      expect(response.status).toBe(503);
      const text = logs.text();
      expect(text).toContain('provider keys initialized');
      for (const secret of Object.values(keys).filter(Boolean)) expect(text).not.toContain(secret);
    } finally {
      await served.close();
      await gateway.close();
    }
  });

  const external = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;

  it.skipIf(external === undefined)(
    'refuses /v1/keys from a non-loopback peer (real socket address)',
    async () => {
      const gateway = await createTeeGateway({
        privateKey: TEST_PRIVATE_KEY_PEM,
        config: { enabled: true, x402_enabled: false, opg_price_usd: '1' },
      });
      const served = await serveApp(gateway.app, '0.0.0.0');
      try {
        const response = await fetch(`http://${external}:${served.port}/v1/keys`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"openai_api_key":"sk-x"}',
        });
        expect(response.status).toBe(403);
        // The one call is still available from loopback.
        const ok = await fetch(`http://127.0.0.1:${served.port}/v1/keys`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"openai_api_key":"sk-x"}',
        });
        expect(ok.status).toBe(200);
      } finally {
        await served.close();
        await gateway.close();
      }
    },
  );

  it('refuses /v1/keys when there is no socket peer (in-process request)', async () => {
    const gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: { enabled: true, x402_enabled: false, opg_price_usd: '1' },
    });
    const response = await gateway.app.request('/v1/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(403);
    await gateway.close();
  });

  for (const [label, model] of [
    ['openai', 'gpt-4.1'],
    ['anthropic', 'claude-sonnet-4-5'],
    ['gemini', 'gemini-2.5-flash'],
  ] as const) {
    it(`${label}: text and tool calls, stream and non-stream, all verify`, async () => {
      const { gateway, served } = await keyedGateway();
      try {
        await fetch(`${served.url}/v1/keys`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            openai_api_key: 'k-openai',
            anthropic_api_key: 'k-anthropic',
            google_api_key: 'k-google',
          }),
        });
        const client = new OpenAI({ apiKey: 'placeholder', baseURL: `${served.url}/v1` });
        const pem = gateway.signer.publicKeyPem;
        // Text, non-stream.
        const textRequest = {
          model,
          messages: [
            { role: 'system' as const, content: 'sys' },
            { role: 'user' as const, content: 'hi' },
          ],
        };
        const text = await client.chat.completions.create(textRequest);
        expect(text.choices[0]?.message.content).toBe(FAKE_TEXT);
        expect(text.usage?.total_tokens).toBeGreaterThan(0);
        expect((text as unknown as Record<string, string>)['tee_output_hash']).toBe(
          '428a9703a7a037178b5e07c6628540bfd0cd5092ee2a13022bf510c91fdd0546',
        );
        await verifyResponse({ request: textRequest, response: text, signingKey: pem });
        // Tool call, non-stream.
        const tools = [
          {
            type: 'function' as const,
            function: {
              name: 'get_weather',
              description: 'weather',
              parameters: { type: 'object', properties: { city: { type: 'string' } } },
            },
          },
        ];
        const toolRequest = {
          model,
          messages: [{ role: 'user' as const, content: 'weather in Paris?' }],
          tools,
        };
        const toolAnswer = await client.chat.completions.create(toolRequest);
        expect(toolAnswer.choices[0]?.finish_reason).toBe('tool_calls');
        const call = toolAnswer.choices[0]?.message.tool_calls?.[0];
        expect(call?.type === 'function' && call.function.name).toBe('get_weather');
        expect(call?.type === 'function' && call.function.arguments).toBe('{"city": "Paris", "unit": "c"}');
        await verifyResponse({ request: toolRequest, response: toolAnswer, signingKey: pem });
        // Streams (raw SSE so the verifier sees every frame).
        for (const request of [textRequest, toolRequest]) {
          const raw = JSON.stringify({ ...request, stream: true });
          const sse = await (
            await fetch(`${served.url}/v1/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: raw,
            })
          ).text();
          const proof = await verifyResponse({ request: raw, response: sse, signingKey: pem });
          expect(proof.source).toBe('sse');
          if (request === textRequest) expect(proof.responseContent).toBe(FAKE_TEXT);
          else expect(proof.responseContent).toContain('get_weather');
          expect(sse).toMatch(/"usage": ?\{/);
        }
        // The provider got the api_name and the provider-specific auth header.
        const last = providers.requests.at(-1)!;
        if (label === 'openai') expect(last.body['model']).toBe('gpt-4.1-2025-04-14');
        if (label === 'anthropic') {
          expect(last.headers['x-api-key']).toBe('k-anthropic');
          expect(last.headers['anthropic-version']).toBeDefined();
          expect(
            providers.requests.find(
              (entry) => entry.path.startsWith('/anthropic') && entry.body['system'] === 'sys',
            ),
          ).toBeDefined();
        }
        if (label === 'gemini') {
          expect(last.headers['x-goog-api-key']).toBe('k-google');
          expect(last.path).toBe('/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
          expect((last.body['generationConfig'] as Record<string, unknown>)['thinkingConfig']).toEqual({
            thinkingBudget: 0,
            includeThoughts: false,
          });
        }
      } finally {
        await served.close();
        await gateway.close();
      }
    });
  }

  it('anthropic json_schema returns the structured result as Python-style JSON; json_object is refused', async () => {
    const { gateway, served } = await keyedGateway();
    try {
      await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"anthropic_api_key":"k"}',
      });
      const request = {
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: 'capital of France?' }],
        response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      };
      const body = await (
        await fetch(`${served.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        })
      ).json();
      expect((body as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe(
        '{"answer": "Paris", "confidence": 0.9}',
      );
      await verifyResponse({ request, response: body, signingKey: gateway.signer.publicKeyPem });
      const refused = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...request, response_format: { type: 'json_object' } }),
      });
      expect(refused.status).toBe(400);
    } finally {
      await served.close();
      await gateway.close();
    }
  });

  it('provider failure answers 500 {"error":"Request processing failed"}', async () => {
    const { gateway, served } = await keyedGateway();
    try {
      await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"openai_api_key":"k"}',
      });
      providers.failWith = 500;
      const response = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model":"gpt-4.1","messages":[{"role":"user","content":"x"}]}',
      });
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: 'Request processing failed' });
      const stream = await fetch(`${served.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model":"gpt-4.1","stream":true,"messages":[{"role":"user","content":"x"}]}',
      });
      expect(await stream.text()).toBe('data: {"error":"Stream processing failed"}\n\n');
    } finally {
      providers.failWith = undefined;
      await served.close();
      await gateway.close();
    }
  });
});

describe('TEE gateway: nitriding', () => {
  it('registers base64(SHA-256(SPKI)) then signals ready; forwards /enclave/attestation unchanged', async () => {
    const nitriding = await startRecorder((call, res) => {
      if (call.path === '/enclave/hash') res.writeHead(200).end();
      else if (call.path === '/enclave/ready') res.writeHead(200).end();
      else if (call.path.startsWith('/enclave/attestation')) res.writeHead(200).end('ZG9j\n');
      else res.writeHead(404).end();
    });
    const gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: {
        enabled: true,
        simulate: true,
        x402_enabled: false,
        opg_price_usd: '1',
        nitriding_internal_url: nitriding.url,
        register_with_nitriding: true,
        nitriding_url: nitriding.url,
      },
    });
    try {
      const hash = nitriding.calls.find((call) => call.path === '/enclave/hash')!;
      expect(hash.method).toBe('POST');
      expect(hash.body).toBe(
        createHash('sha256').update(spkiDer(gateway.signer.publicKeyPem)).digest('base64'),
      );
      expect(nitriding.calls.map((call) => call.path)).toEqual(['/enclave/hash', '/enclave/ready']);
      const health = (await (await gateway.app.request('/health')).json()) as { tee_enabled: boolean };
      expect(health.tee_enabled).toBe(true);
      const nonce = 'AB'.repeat(20);
      const attestation = await gateway.app.request(`/enclave/attestation?nonce=${nonce}`);
      expect(attestation.status).toBe(200);
      expect(await attestation.text()).toBe('ZG9j\n');
      expect(nitriding.calls.at(-1)!.path).toBe(`/enclave/attestation?nonce=${nonce}`);
    } finally {
      await gateway.close();
      await nitriding.close();
    }
    // Unreachable nitriding → 503 naming the cause.
    const offline = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: {
        enabled: true,
        simulate: true,
        x402_enabled: false,
        opg_price_usd: '1',
        nitriding_url: nitriding.url,
      },
    });
    const response = await offline.app.request('/enclave/attestation?nonce=00');
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toMatch(/unreachable/);
    await offline.close();
  });
});

describe('TEE gateway: heartbeat and registry', () => {
  it('sends a signed heartbeat through the facilitator after /v1/keys and reports it', async () => {
    const { startFakeFacilitator } = await import('../src/testing/fake-facilitator.js');
    const facilitator = await startFakeFacilitator();
    const clock = { ms: 1_800_000_000_000 };
    const gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: { enabled: true, x402_enabled: false, opg_price_usd: '1' },
      now: () => clock.ms,
    });
    const served = await serveApp(gateway.app);
    try {
      const contract = '0x4e72238852f3c918f4E4e57AeC9280dDB0c80248';
      const response = await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          facilitator_url: facilitator.url,
          heartbeat_contract_address: contract,
          tee_heartbeat_buffer: 'bad',
        }),
      });
      expect(await response.json()).toEqual({
        status: 'ok',
        providers_initialized: [],
        heartbeat_enabled: true,
      });
      for (
        let attempt = 0;
        attempt < 100 && !facilitator.calls.some((call) => call.path === '/heartbeat');
        attempt++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const call = facilitator.calls.find((entry) => entry.path === '/heartbeat')!;
      const body = JSON.parse(call.body) as {
        teeId: string;
        timestamp: string;
        signature: string;
        contractAddress: string;
      };
      expect(body.teeId).toBe(gateway.signer.teeId);
      expect(body.contractAddress).toBe(contract);
      // Malformed buffer falls back to 300 s.
      expect(body.timestamp).toBe(String(1_800_000_000 - 300));
      // Independent check: keccak256(teeId ‖ uint256(ts)) with viem, RSA-PSS (salt 32) with node:crypto.
      const message = Buffer.concat([
        Buffer.from(body.teeId.slice(2), 'hex'),
        Buffer.from(BigInt(body.timestamp).toString(16).padStart(64, '0'), 'hex'),
      ]);
      const digest = Buffer.from(keccak256(message).slice(2), 'hex');
      const ok = verify(
        'sha256',
        digest,
        {
          key: createPublicKey(gateway.signer.publicKeyPem),
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: 32,
        },
        Buffer.from(body.signature, 'base64'),
      );
      expect(ok).toBe(true);
      for (let attempt = 0; attempt < 100; attempt++) {
        const status = (await (await fetch(`${served.url}/heartbeat/status`)).json()) as Record<
          string,
          unknown
        >;
        if (status['total_sent'] === 1) {
          expect(status).toMatchObject({
            enabled: true,
            running: true,
            tee_id: gateway.signer.teeId,
            registry: contract,
            relay_mode: 'facilitator',
            interval_seconds: 900,
            total_errors: 0,
          });
          expect(status['last_tx_hash']).toMatch(/^0x/);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('heartbeat status never reported a sent heartbeat');
    } finally {
      await served.close();
      await gateway.close();
      await facilitator.close();
    }
  });

  it('registry: the S rows resolve with their exact api names and prices; lookups trim and lowercase', async () => {
    const { getModelConfig, MODEL_REGISTRY } = await import('../src/index.js');
    const rows: [string, string, string, string, string][] = [
      ['gpt-4.1-2025-04-14', 'openai', 'gpt-4.1-2025-04-14', '0.000002', '0.000008'],
      ['o4-mini', 'openai', 'o4-mini', '0.0000011', '0.0000044'],
      ['gpt-5.2', 'openai', 'gpt-5.2', '0.00000175', '0.000014'],
      ['claude-haiku-4-5', 'anthropic', 'claude-haiku-4-5-20251001', '0.000001', '0.000005'],
      ['claude-opus-4-5', 'anthropic', 'claude-opus-4-5-20251101', '0.000005', '0.000025'],
      ['gemini-2.5-pro', 'google', 'gemini-2.5-pro', '0.00000125', '0.00001'],
      ['grok-4.1-fast', 'x-ai', 'grok-4-1-fast', '0.0000002', '0.0000005'],
      ['claude-4.0-sonnet', 'anthropic', 'claude-sonnet-4-0', '0.000003', '0.000015'],
      ['grok-3-mini-beta', 'x-ai', 'grok-3-mini', '0.0000003', '0.0000005'],
      ['grok-3-beta', 'x-ai', 'grok-3-latest', '0.000003', '0.000015'],
      ['seed-1.6', 'bytedance', 'seed-1-6-250615', '0.0000008', '0.000008'],
      ['hermes-4-70b', 'openrouter', 'nousresearch/hermes-4-70b', '0.00000013', '0.0000004'],
    ];
    for (const [name, provider, apiName, input, output] of rows) {
      expect(getModelConfig(name)).toMatchObject({
        provider,
        apiName,
        inputPriceUsd: input,
        outputPriceUsd: output,
      });
    }
    expect(getModelConfig('  GPT-4.1 ')?.apiName).toBe('gpt-4.1-2025-04-14');
    expect(getModelConfig('gpt-4')).toBeUndefined();
    expect(getModelConfig('o4-mini')?.forceTemperature).toBe(1);
    expect(getModelConfig('gemini-2.5-flash')?.thinkingBudget).toBe(0);
    for (const model of MODEL_REGISTRY.values()) {
      expect(model.inputPriceUsd).toMatch(/^\d+\.\d+$/);
      expect(model.outputPriceUsd).toMatch(/^\d+\.\d+$/);
    }
  });
});

describe('TEE gateway: spec output vector for tool calls', () => {
  it('hashes a provider tool call {"city":"Paris"} exactly as the spec vector', async () => {
    const provider = await startRecorder((_call, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                tool_calls: [
                  {
                    id: 'call_1',
                    type: 'function',
                    function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
                  },
                ],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
    const gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: { enabled: true, x402_enabled: false, opg_price_usd: '1', openai_base_url: provider.url },
    });
    const served = await serveApp(gateway.app);
    try {
      await fetch(`${served.url}/v1/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"openai_api_key":"k"}',
      });
      const request = {
        model: 'gpt-4.1',
        messages: [{ role: 'user', content: 'weather?' }],
        tools: [{ type: 'function', function: { name: 'get_weather' } }],
      };
      const body = (await (
        await fetch(`${served.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(request),
        })
      ).json()) as Record<string, unknown>;
      expect(body['tee_output_hash']).toBe(
        '1f0f20185d50442efcef1911793ef7e5e09834db7c50217a15c779df0db9b122',
      );
      await verifyResponse({ request, response: body, signingKey: gateway.signer.publicKeyPem });
      // The provider got Bearer auth, the api_name, the 4096 default and the normalised tools.
      const sent = JSON.parse(provider.calls[0]!.body) as Record<string, unknown>;
      expect(provider.calls[0]!.headers['authorization']).toBe('Bearer k');
      expect(sent).toMatchObject({
        model: 'gpt-4.1-2025-04-14',
        max_completion_tokens: 4096,
        temperature: 0,
        tools: [{ type: 'function', function: { name: 'get_weather' } }],
      });
    } finally {
      await served.close();
      await gateway.close();
      await provider.close();
    }
  });
});
