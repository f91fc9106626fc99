import { createHash } from 'node:crypto';
import { createFakeChutesServer, type FakeChutesServer } from '@confidential-ai/chutes-transport/testing';
import { createLogger } from '@confidential-ai/server-kit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSecrets, loadConfig } from '../src/config.js';
import { fakeReplyText, type RunningFakeVllm, startFakeVllm } from '../src/fake-vllm.js';
import { type RunningServer, startServer } from '../src/server.js';
import { captureLogs, createE2eeClient, sseData, TOKEN } from './helpers.js';

const CHUTES_KEY = 'cpk_test_chutes_key_91f3b7';
const SEED = '7a'.repeat(32);
const PROMPTS = ['PLAINTEXT-PROMPT-ALPHA', 'E2EE-PROMPT-BRAVO', 'CHUTES-PROMPT-CHARLIE'];
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

async function serverWith(env: Record<string, string>) {
  const logs = captureLogs();
  const config = loadConfig({ env: { TOKEN, LOG_LEVEL: 'debug', PROXY_PORT: '0', ...env } });
  const logger = createLogger({
    level: 'debug',
    destination: logs.destination,
    secrets: configSecrets(config),
  });
  const server = await startServer({ config, logger, processMetrics: false });
  return { server, logs };
}

describe('simulated upstreams: fake vLLM + fake Chutes (ML-KEM E2EE leg), real HTTP, real openai SDK', () => {
  let server: RunningServer;
  let logs: ReturnType<typeof captureLogs>;
  beforeAll(async () => {
    ({ server, logs } = await serverWith({
      CHUTES_ENABLED: 'true',
      CHUTES_API_KEY: CHUTES_KEY,
      CHUTES_SIMULATE: 'true',
      SIGNING_KEY_SEED: SEED,
    }));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('logs clearly that simulated upstreams are used', () => {
    expect(server.embeddedVllmUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.embeddedChutesUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(logs.text()).toContain('BUILT-IN SIMULATED vLLM');
    expect(logs.text()).toContain('BUILT-IN SIMULATED Chutes');
  });

  it('openai SDK: vLLM route, non-stream and stream', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: PROMPTS[0]! }],
    });
    expect(completion.choices[0]!.message.content).toBe(fakeReplyText(PROMPTS[0]!));
    const stream = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: PROMPTS[0]! }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(fakeReplyText(PROMPTS[0]!));
    expect(usage).toMatchObject({ prompt_tokens: 1 });
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toContain('fake-model');
    await expect(
      new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong', maxRetries: 0 }).chat.completions.create({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 401, type: 'authentication_error' });
  });

  it('openai SDK: Chutes sidecar route through the ML-KEM leg, non-stream and stream', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1/chutes`, apiKey: TOKEN, maxRetries: 0 });
    const models = await client.models.list();
    const model = models.data[0]!.id;
    const completion = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: PROMPTS[2]! }],
    });
    expect(completion.choices[0]!.message.content).toEqual(expect.any(String));
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: PROMPTS[2]! }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text.length).toBeGreaterThan(0);
  });

  it('E2EE v2 on the Chutes route: decrypted for the upstream, re-encrypted for the client, signed', async () => {
    const report = (await (
      await fetch(`${server.url}/v1/attestation/report?signing_algo=ecdsa`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json()) as { signing_public_key: string };
    const models = (await (
      await fetch(`${server.url}/v1/chutes/models`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { data: Array<{ id: string }> };
    const model = models.data[0]!.id;
    for (const stream of [false, true]) {
      // This server has a fixed seed and the memory store, so its first window refuses requests that an earlier
      // process could have accepted (see replay-state.test.ts): stamp the request at the far end of the window.
      const client = createE2eeClient('ecdsa', 2, { timestamp: Math.floor(Date.now() / 1000) + 300 });
      const raw = JSON.stringify(
        client.encryptMessages(
          { model, stream, messages: [{ role: 'user', content: PROMPTS[1]! }] },
          report.signing_public_key,
        ),
      );
      const response = await fetch(`${server.url}/v1/chutes/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          ...client.headers(report.signing_public_key),
        },
        body: raw,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-e2ee-applied')).toBe('true');
      const bytes = new Uint8Array(await response.arrayBuffer());
      const text = new TextDecoder().decode(bytes);
      let reply = '';
      let id: string;
      if (stream) {
        const chunks = sseData(text)
          .filter((line) => line !== '[DONE]')
          .map((line) => JSON.parse(line));
        id = chunks[0].id;
        for (const chunk of chunks) {
          for (const choice of chunk.choices ?? []) {
            if (typeof choice.delta?.content === 'string') {
              reply += client.decrypt(choice.delta.content, {
                model: chunk.model,
                id: chunk.id,
                choice: choice.index,
                field: 'content',
              });
            }
          }
        }
      } else {
        const payload = JSON.parse(text);
        id = payload.id;
        reply = client.decrypt(payload.choices[0].message.content, {
          model: payload.model,
          id: payload.id,
          choice: 0,
          field: 'content',
        });
      }
      expect(reply.length).toBeGreaterThan(0);
      const signature = (await (
        await fetch(`${server.url}/v1/signature/${id}?model=${encodeURIComponent(model)}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).json()) as { text: string };
      expect(signature.text).toBe(`${sha256(raw)}:${sha256(bytes)}`);
    }
  });

  it('no secret and no prompt or reply plaintext in any log line', () => {
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [TOKEN, CHUTES_KEY, SEED, PROMPTS[1]!]) expect(text).not.toContain(secret);
    for (const prompt of PROMPTS) expect(text).not.toContain(prompt);
    expect(text).not.toContain('Simulated reply');
  });
});

describe('Chutes sidecar against a plain Chutes-like upstream (D1-D4, D10)', () => {
  let upstream: RunningFakeVllm;
  let server: RunningServer;
  let logs: ReturnType<typeof captureLogs>;
  const extraFields = {
    chutes_verification: { v: 1 },
    template_sha256: 'aa',
    prompt_sha256: 'bb',
    metadata: { m: 1 },
  };

  beforeAll(async () => {
    upstream = await startFakeVllm({ apiKey: CHUTES_KEY, extraFields });
    ({ server, logs } = await serverWith({
      VLLM_BASE_URL: upstream.url,
      CHUTES_ENABLED: '1',
      CHUTES_BASE_URL: `${upstream.url}/`,
      CHUTES_API_KEY: CHUTES_KEY,
    }));
  });
  afterAll(async () => {
    await server?.close();
    await upstream?.close();
  });

  it('forwards with the Chutes bearer, passes Chutes fields through (D3), stream and non-stream', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1/chutes`, apiKey: TOKEN, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion).toMatchObject(extraFields);
    const sent = upstream.requests.at(-1)!;
    expect(sent.route).toBe('POST /v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${CHUTES_KEY}`);
    const stream = await client.chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const chunk of stream) expect(chunk).toMatchObject({ chutes_verification: { v: 1 } });
    // the vLLM route never carries the Chutes key
    await new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0 }).chat.completions
      .create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch(() => undefined);
    expect(upstream.requests.at(-1)!.headers.authorization).toBeUndefined();
  });

  it('maps upstream 401/403 to 502 upstream_auth_failed and never logs the key', async () => {
    for (const status of [401, 403]) {
      const response = await fetch(`${server.url}/v1/chutes/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          model: 'fake-model',
          messages: [{ role: 'user', content: 'x' }],
          fake_fault: `status:${status}`,
        }),
      });
      expect(response.status).toBe(502);
      expect(((await response.json()) as { error: { type: string } }).error.type).toBe(
        'upstream_auth_failed',
      );
    }
    expect(logs.text()).not.toContain(CHUTES_KEY);
    expect(logs.text()).not.toContain(TOKEN);
  });
});

describe('Chutes misconfiguration (D1)', () => {
  it.each([
    [{}, 'chutes_disabled', 'Chutes route is disabled'],
    [{ CHUTES_ENABLED: 'true' }, 'chutes_misconfigured', 'CHUTES_API_KEY is not configured'],
  ])('%o → 503 %s', async (env, type, message) => {
    const { server } = await serverWith({ VLLM_BASE_URL: 'http://127.0.0.1:9', ...env });
    try {
      for (const [method, path] of [
        ['POST', '/v1/chutes/chat/completions'],
        ['GET', '/v1/chutes/models'],
      ] as const) {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}` },
          ...(method === 'POST' ? { body: '{"model":"m","messages":[]}' } : {}),
        });
        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({ error: { message, type, param: null, code: null } });
      }
    } finally {
      await server.close();
    }
  });
});

describe('CHUTES_E2EE=true against a separately started fake Chutes server (D2)', () => {
  let chutes: FakeChutesServer;
  let upstream: RunningFakeVllm;
  beforeAll(async () => {
    chutes = await createFakeChutesServer({ apiKey: CHUTES_KEY });
    upstream = await startFakeVllm();
  });
  afterAll(async () => {
    await chutes?.close();
    await upstream?.close();
  });

  it('the upstream leg is the ML-KEM relay; a rejected key maps to 502 upstream_auth_failed', async () => {
    for (const [key, ok] of [
      [CHUTES_KEY, true],
      ['cpk_wrong_key', false],
    ] as const) {
      const { server, logs } = await serverWith({
        VLLM_BASE_URL: upstream.url,
        CHUTES_ENABLED: 'true',
        CHUTES_E2EE: 'true',
        CHUTES_BASE_URL: chutes.url,
        CHUTES_ATTESTATION_BASE_URL: chutes.url,
        CHUTES_API_KEY: key,
      });
      try {
        const before = chutes.stats.invocations;
        const response = await fetch(`${server.url}/v1/chutes/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({
            model: chutes.chutes[0]!.name,
            messages: [{ role: 'user', content: 'over ml-kem' }],
          }),
        });
        if (ok) {
          expect(response.status).toBe(200);
          expect(chutes.stats.invocations).toBe(before + 1);
        } else {
          expect(response.status).toBe(502);
          expect(((await response.json()) as { error: { type: string } }).error.type).toBe(
            'upstream_auth_failed',
          );
        }
        expect(logs.text()).not.toContain(key);
      } finally {
        await server.close();
      }
    }
  });
});
