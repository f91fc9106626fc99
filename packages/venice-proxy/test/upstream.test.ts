import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, type Harness, postChat, rawError, startHarness, VENICE_KEY } from './helpers.js';

const MODEL = 'e2ee-qwen3-6-27b';
let harness: Harness;
let closedPort: number;
let breakAttestation = false;
let modelsBody: string | undefined;

/** A port nothing listens on (bound once, then closed). */
async function freeClosedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  closedPort = await freeClosedPort();
  harness = await startHarness({
    // A real connection refusal for attestation calls while `breakAttestation` is set.
    fetch: (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (modelsBody !== undefined && url.endsWith('/models'))
        return Promise.resolve(new Response(modelsBody, { headers: { 'content-type': 'application/json' } }));
      if (breakAttestation && url.includes('/tee/attestation'))
        return fetch(url.replace(/^http:\/\/[^/]+/, `http://127.0.0.1:${closedPort}`), init);
      return fetch(input, init);
    },
  });
});
afterEach(() => {
  harness.fake.clearFaults();
  breakAttestation = false;
  modelsBody = undefined;
});
afterAll(async () => {
  await harness?.close();
  expect(harness.logs.text()).not.toContain(VENICE_KEY);
});

const ask = (stream = false) =>
  harness.openai.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'upstream' }],
    stream,
  } as never) as Promise<unknown>;

describe('upstream failures map to the reference codes (spec 5.6, 5.7, 5.9)', () => {
  it('chat 401 → 502 upstream_authentication_failed; 500 → 502 upstream_status_error (body dropped)', async () => {
    harness.fake.setFault('chat-401');
    expect(await errorOf(ask())).toEqual({
      status: 502,
      type: 'proxy_upstream_authentication_error',
      code: 'upstream_authentication_failed',
    });
    harness.fake.clearFaults();
    harness.fake.setFault('chat-500');
    const response = await postChat(harness, { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    const failure = await rawError(response);
    expect(failure).toMatchObject({
      status: 502,
      type: 'proxy_upstream_error',
      code: 'upstream_status_error',
    });
    expect(failure.body.error['message']).toBe('Venice upstream returned status 500');
    // Streaming clients get the JSON envelope too (the failure happens before the first chunk).
    expect((await errorOf(ask(true))).code).toBe('upstream_status_error');
  });

  it('a malformed model list → 502 upstream_malformed_response (text entry without the flags, not JSON)', async () => {
    for (const body of [
      JSON.stringify({
        data: [{ id: 'm', type: 'text', model_spec: { capabilities: { supportsE2EE: true } } }],
      }),
      JSON.stringify({ object: 'list' }),
      'not json',
    ]) {
      modelsBody = body;
      expect(await errorOf(harness.openai.models.list())).toEqual({
        status: 502,
        type: 'proxy_upstream_error',
        code: 'upstream_malformed_response',
      });
    }
    // A non-text entry without capabilities is skipped, not fatal (spec 10.1).
    modelsBody = JSON.stringify({
      data: [
        { id: 'img', type: 'image' },
        {
          id: 'm',
          type: 'text',
          model_spec: { capabilities: { supportsE2EE: true, supportsTeeAttestation: true } },
        },
      ],
    });
    const list = await harness.openai.models.list();
    expect(list.data.map((model) => model.id)).toEqual(['m']);
  });

  it('a wrong Venice key on /v1/models → 502 upstream_authentication_failed', async () => {
    const wrong = await startHarness({ env: { VENICE_E2EE_PROXY__VENICE__API_KEY: 'vk-wrong-key-123456' } });
    try {
      expect(await errorOf(wrong.openai.models.list())).toEqual({
        status: 502,
        type: 'proxy_upstream_authentication_error',
        code: 'upstream_authentication_failed',
      });
      expect(wrong.logs.text()).not.toContain('vk-wrong-key-123456');
    } finally {
      await wrong.close();
    }
  });

  it('an unreachable Venice → 502 upstream_unavailable; attestation connect errors → attestation_fetch_failed', async () => {
    const down = await startHarness({ fake: {} });
    await down.fake.close();
    try {
      expect(await errorOf(down.openai.models.list())).toEqual({
        status: 502,
        type: 'proxy_upstream_error',
        code: 'upstream_unavailable',
      });
    } finally {
      await down.proxy.close();
    }
    breakAttestation = true;
    expect(await errorOf(ask())).toEqual({
      status: 502,
      type: 'proxy_attestation_error',
      code: 'attestation_fetch_failed',
    });
  });

  it('a stalled upstream → 502 upstream_timeout (per-read timeout = venice.request_timeout)', async () => {
    const slow = await startHarness({ requestTimeout: '1s' });
    slow.fake.setResponder(() => ({ content: 'late', delayMs: 20_000 }));
    try {
      const failure = await rawError(
        await postChat(slow, { model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(failure).toMatchObject({ status: 502, type: 'proxy_upstream_error', code: 'upstream_timeout' });
    } finally {
      await slow.close();
    }
  });

  it('a stream that ends without [DONE]: 502 upstream_stream_error buffered; a cut SSE body when streaming', async () => {
    harness.fake.setFault('broken-stream');
    expect(await errorOf(ask())).toEqual({
      status: 502,
      type: 'proxy_upstream_error',
      code: 'upstream_stream_error',
    });
    const response = await postChat(harness, {
      model: MODEL,
      messages: [{ role: 'user', content: 'a long enough sentence to stream several chunks' }],
      stream: true,
    });
    expect(response.status).toBe(200);
    let text = '';
    let failed = false;
    try {
      text = await response.text();
    } catch {
      failed = true;
    }
    // Terminated without an error event and without [DONE] (spec 5.7).
    expect(failed).toBe(true);
    expect(text).toBe('');
    // The OpenAI SDK sees a failed stream, not a clean end.
    const stream = (await ask(true)) as AsyncIterable<unknown>;
    await expect(
      (async () => {
        for await (const _chunk of stream) {
          // drain
        }
      })(),
    ).rejects.toThrow();
  });

  it('an `event: error` and an unknown SSE field → 502 upstream_stream_error', async () => {
    for (const fault of ['error-event', 'extra-field'] as const) {
      harness.fake.setFault(fault);
      expect((await errorOf(ask())).code).toBe('upstream_stream_error');
      harness.fake.clearFaults();
    }
  });

  it('plaintext, tampered or misaddressed content → 502 e2ee_response_decryption_failed (D3)', async () => {
    for (const fault of [
      'plaintext-content',
      'plaintext-reasoning',
      'tampered-content',
      'wrong-client-key',
    ] as const) {
      harness.fake.setFault(fault);
      expect(await errorOf(ask())).toEqual({
        status: 502,
        type: 'proxy_e2ee_error',
        code: 'e2ee_response_decryption_failed',
      });
      harness.fake.clearFaults();
    }
  });

  it('require_encrypted_response_content = false passes plaintext through but still rejects tampering', async () => {
    const lenient = await startHarness({ toml: '[e2ee]\nrequire_encrypted_response_content = false' });
    try {
      lenient.fake.setFault('plaintext-content');
      const completion = (await lenient.openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'plain' }],
      })) as { choices: Array<{ message: { content: string } }> };
      expect(completion.choices[0]!.message.content).toContain('plain');
      lenient.fake.clearFaults();
      lenient.fake.setFault('tampered-content');
      const tampered = await rawError(
        await postChat(lenient, { model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(tampered.code).toBe('e2ee_response_decryption_failed');
    } finally {
      await lenient.close();
    }
  });
});
