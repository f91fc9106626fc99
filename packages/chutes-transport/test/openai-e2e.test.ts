import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChutesTransportError } from '../src/index.js';
import { simulatedReplyText } from '../src/testing/index.js';
import {
  API_KEY,
  acceptedNonces,
  collectStream,
  createClock,
  type Harness,
  MODEL,
  startHarness,
} from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
});

const ask = (content: string) => ({ model: MODEL, messages: [{ role: 'user' as const, content }] });
const expected = (content: string) => simulatedReplyText({ messages: [{ role: 'user', content }] });

/** Sends a chat request through the transport with plain fetch and returns status and body text. */
async function raw(body: Record<string, unknown>): Promise<{ status: number; text: string }> {
  const response = await harness!.fetch(`${harness!.server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

/** The OpenAI error body the transport hands the SDK for a relay error answer (issue 15). */
const relayError = (message: string) =>
  JSON.stringify({ error: { message, type: 'chutes_relay_error', param: null, code: null } });

/** The error an SDK call fails with; the transport's own error is the `cause` of the SDK's connection error. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('OpenAI SDK v6 through createChutesFetch against the fake Chutes server', () => {
  it('completes a non-stream chat as parsed JSON', async () => {
    harness = await startHarness();
    const completion = await harness.client.chat.completions.create(ask('hello encrypted world'));
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('You said: hello encrypted world');
    expect(completion.usage?.completion_tokens).toBe(5);
    const raw = await harness.client.chat.completions.create(ask('raw')).asResponse();
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(raw.status).toBe(200);
    // One nonce per request, each accepted exactly once.
    expect(acceptedNonces(harness.server)).toHaveLength(2);
    expect(harness.server.nonceLog.every((entry) => entry.outcome === 'accepted')).toBe(true);
  });

  it('sends the six invoke headers and an encrypted body', async () => {
    const seen: { url: string; headers: Headers; body: Uint8Array }[] = [];
    harness = await startHarness(
      {},
      {
        fetch: async (input, init) => {
          const url = String(input);
          if (url.endsWith('/e2e/invoke')) {
            seen.push({ url, headers: new Headers(init?.headers), body: init?.body as Uint8Array });
          }
          return globalThis.fetch(input, init);
        },
      },
    );
    await harness.client.chat.completions.create(ask('secret words'), { query: { trace: '1' } });
    expect(seen).toHaveLength(1);
    const { headers, body, url } = seen[0]!;
    expect(url).toBe(`${harness.server.url}/e2e/invoke`);
    expect(headers.get('authorization')).toBe(`Bearer ${API_KEY}`);
    expect(headers.get('x-chute-id')).toBe(harness.server.chutes[0]!.chuteId);
    expect(harness.server.chutes[0]!.instances.map((i) => i.instanceId)).toContain(
      headers.get('x-instance-id'),
    );
    expect(headers.get('x-e2e-nonce')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(headers.get('x-e2e-stream')).toBe('false');
    expect(headers.get('x-e2e-path')).toBe('/v1/chat/completions');
    expect(headers.get('content-type')).toBe('application/octet-stream');
    // The SDK's own headers (x-stainless-*, user agent) do not travel to the relay.
    expect([...headers.keys()].some((name) => name.startsWith('x-stainless'))).toBe(false);
    expect(body.length).toBeGreaterThanOrEqual(1116);
    expect(new TextDecoder().decode(body)).not.toContain('secret words');
  });

  it('streams a chat as standard SSE with usage', async () => {
    harness = await startHarness();
    const stream = await harness.client.chat.completions.create({
      ...ask('stream these five words'),
      stream: true,
      stream_options: { include_usage: true },
    });
    const result = await collectStream(stream);
    expect(result.text).toBe(expected('stream these five words'));
    expect(result.usage).toMatchObject({ completion_tokens: 6 });
    const raw = await harness.client.chat.completions
      .create({ ...ask('raw stream'), stream: true })
      .asResponse();
    expect(raw.headers.get('content-type')).toBe('text/event-stream');
    const text = await raw.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    for (const event of text.split('\n\n').filter(Boolean)) expect(event).toMatch(/^data: /);
  });

  it('passes plaintext usage events of older relays through', async () => {
    harness = await startHarness({ legacyUsageEvents: true });
    const raw = await harness.client.chat.completions
      .create({ ...ask('legacy relay'), stream: true })
      .asResponse();
    const events = (await raw.text()).split('\n\n').filter(Boolean);
    expect(events.filter((event) => /^data: \{"usage":/.test(event)).length).toBeGreaterThan(0);
  });

  it('supports the legacy completions endpoint', async () => {
    harness = await startHarness();
    const completion = await harness.client.completions.create({ model: MODEL, prompt: 'old style prompt' });
    expect(completion.choices[0]?.text).toBe('You said: old style prompt');
  });

  it('runs 50 concurrent requests with one discovery and no nonce reused', async () => {
    harness = await startHarness({ instancesPerChute: 7 });
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, index) => {
        if (index % 2 === 0) {
          const completion = await harness!.client.chat.completions.create(ask(`request ${index}`));
          return completion.choices[0]?.message.content;
        }
        return (
          await collectStream(
            await harness!.client.chat.completions.create({ ...ask(`request ${index}`), stream: true }),
          )
        ).text;
      }),
    );
    for (const [index, text] of results.entries()) expect(text).toBe(expected(`request ${index}`));
    const nonces = acceptedNonces(harness.server);
    expect(nonces).toHaveLength(50);
    expect(new Set(nonces).size).toBe(50);
    expect(harness.server.nonceLog.some((entry) => entry.outcome === 'rejected')).toBe(false);
    // Single flight: one model list call and one discovery (5 instances x 10 nonces cover 50 requests).
    expect(harness.server.stats.modelListCalls).toBe(1);
    expect(harness.server.discoveryLog).toHaveLength(1);
    expect(harness.server.discoveryLog[0]!.instanceIds).toHaveLength(5);
  });

  it('refreshes on exhaustion under concurrency, sharing each discovery', async () => {
    harness = await startHarness({ instancesPerChute: 1 });
    await Promise.all(
      Array.from({ length: 25 }, (_, index) => harness!.client.chat.completions.create(ask(`n${index}`))),
    );
    const nonces = acceptedNonces(harness.server);
    expect(new Set(nonces).size).toBe(25);
    expect(harness.server.nonceLog.some((entry) => entry.outcome === 'rejected')).toBe(false);
    // 1 instance x 10 nonces per discovery: exactly three discoveries for 25 concurrent requests.
    expect(harness.server.discoveryLog).toHaveLength(3);
  });

  it('uses nonces in order and rediscovers when they are exhausted', async () => {
    harness = await startHarness({ instancesPerChute: 2 });
    for (let index = 0; index < 21; index++)
      await harness.client.chat.completions.create(ask(`seq ${index}`));
    expect(harness.server.discoveryLog).toHaveLength(2);
    const log = harness.server.nonceLog;
    expect(log.every((entry) => entry.outcome === 'accepted')).toBe(true);
    // First instance's ten nonces first, then the second instance's.
    const first = harness.server.discoveryLog[0]!.instanceIds;
    expect(log.slice(0, 10).every((entry) => entry.instanceId === first[0])).toBe(true);
    expect(log.slice(10, 20).every((entry) => entry.instanceId === first[1])).toBe(true);
  });

  it('rediscovers when the cached nonces expire (60 s advertised)', async () => {
    const clock = createClock();
    harness = await startHarness({ now: clock.now }, { now: clock.now });
    await harness.client.chat.completions.create(ask('one'));
    clock.advance(59_000);
    await harness.client.chat.completions.create(ask('two'));
    expect(harness.server.discoveryLog).toHaveLength(1);
    clock.advance(1_500);
    await harness.client.chat.completions.create(ask('three'));
    expect(harness.server.discoveryLog).toHaveLength(2);
    expect(harness.server.nonceLog.every((entry) => entry.outcome === 'accepted')).toBe(true);
  });

  it('retries once after a 403 nonce rejection (relay-side expiry)', async () => {
    const serverClock = createClock();
    const clientClock = createClock();
    harness = await startHarness({ now: serverClock.now }, { now: clientClock.now });
    await harness.client.chat.completions.create(ask('warm up'));
    // The relay forgets the nonces (75 s), the client still believes its cache: 403, rediscover, retry.
    serverClock.advance(76_000);
    const completion = await harness.client.chat.completions.create(ask('after expiry'));
    expect(completion.choices[0]?.message.content).toBe(expected('after expiry'));
    const log = harness.server.nonceLog;
    expect(log.map((entry) => entry.outcome)).toEqual(['accepted', 'rejected', 'accepted']);
    expect(log[1]!.reason).toBe('expired');
    expect(harness.server.discoveryLog).toHaveLength(2);
  });

  it('retries a nonce rejection only once and then returns the relay 403 with its message', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'nonce-reject', count: 2 });
    const error = await failure(harness.client.chat.completions.create(ask('rejected twice')));
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(403);
    // The message the user sees names the relay's cause (it was "403 status code (no body)").
    expect((error as Error).message).toBe('403 Invalid, expired, or already-used nonce');
    expect(harness.server.nonceLog.filter((entry) => entry.outcome === 'rejected')).toHaveLength(2);
    harness.server.inject({ type: 'nonce-reject', count: 2 });
    expect(await raw(ask('again'))).toEqual({
      status: 403,
      text: relayError('Invalid, expired, or already-used nonce'),
    });
  });

  it.each([
    ['instance-gone', 410],
    ['capacity', 429],
    ['bad-gateway', 502],
  ] as const)('fails over to another instance after %s (%i)', async (type, _status) => {
    harness = await startHarness({ instancesPerChute: 3 });
    harness.server.inject({ type });
    const completion = await harness.client.chat.completions.create(ask('fail over'));
    expect(completion.choices[0]?.message.content).toBe(expected('fail over'));
    const [first, second] = harness.server.nonceLog;
    expect(first!.instanceId).not.toBe(second!.instanceId);
    // The dropped instance is not used again in this cache period.
    for (let index = 0; index < 5; index++)
      await harness.client.chat.completions.create(ask(`after ${index}`));
    expect(harness.server.nonceLog.slice(2).every((entry) => entry.instanceId !== first!.instanceId)).toBe(
      true,
    );
  });

  it('returns the final relay answer when no other instance exists', async () => {
    harness = await startHarness({ instancesPerChute: 1 });
    harness.server.inject({ type: 'capacity' });
    const error = await failure(harness.client.chat.completions.create(ask('only one')));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as Error).message).toBe('429 Instance is at maximum capacity, try again later');
    // One attempt, then one rediscovery that found only the dropped instance.
    expect(harness.server.nonceLog).toHaveLength(1);
    expect(harness.server.discoveryLog).toHaveLength(2);
    harness.server.inject({ type: 'capacity' });
    expect(await raw(ask('again'))).toEqual({
      status: 429,
      text: relayError('Instance is at maximum capacity, try again later'),
    });
  });

  it('does not retry quota 429s', async () => {
    harness = await startHarness({ instancesPerChute: 3 });
    harness.server.inject({ type: 'quota' });
    const error = await failure(harness.client.chat.completions.create(ask('quota')));
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(harness.server.nonceLog).toHaveLength(1);
  });

  it('fails a stream with a tampered chunk instead of ending it quietly', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'tamper-chunk', chunkIndex: 4 });
    const stream = await harness.client.chat.completions.create({
      ...ask('one two three four five six'),
      stream: true,
    });
    let text = '';
    const error = await failure(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })(),
    );
    expect(ChutesTransportError.isInstance(error)).toBe(true);
    expect((error as ChutesTransportError).code).toBe('ERR_STREAM_DECRYPT');
    expect(text).not.toBe(expected('one two three four five six'));
  });

  it('fails a truncated stream (no decrypted [DONE])', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'truncate', afterChunks: 5 });
    const stream = await harness.client.chat.completions.create({
      ...ask('cut me off early please'),
      stream: true,
    });
    const error = await failure(collectStream(stream));
    expect((error as ChutesTransportError).code).toBe('ERR_STREAM_TRUNCATED');
  });

  it('treats an upstream failure named AbortError as truncation, not as a quiet end', async () => {
    harness = await startHarness(
      {},
      {
        fetch: async (input, init) => {
          const response = await globalThis.fetch(input, init);
          if (!String(input).endsWith('/e2e/invoke') || !response.body) return response;
          let seen = 0;
          const cut = new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              seen += chunk.length;
              if (seen > 3000) controller.error(new DOMException('socket went away', 'AbortError'));
              else controller.enqueue(chunk);
            },
          });
          return new Response(response.body.pipeThrough(cut), {
            status: response.status,
            headers: response.headers,
          });
        },
      },
    );
    const stream = await harness.client.chat.completions.create({
      ...ask(Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ')),
      stream: true,
    });
    const error = await failure(collectStream(stream));
    expect(error).toMatchObject({ code: 'ERR_STREAM_TRUNCATED' });
  });

  it('fails a truncated stream read with plain fetch too', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'truncate', afterChunks: 3 });
    const response = await harness.fetch(`${harness.server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask('plain fetch'), stream: true }),
    });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toMatchObject({ code: 'ERR_STREAM_TRUNCATED' });
  });

  it('fails a stream and a response sealed to the wrong key', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'wrong-response-key', count: 2 });
    const stream = await harness.client.chat.completions.create({ ...ask('wrong key'), stream: true });
    expect(await failure(collectStream(stream))).toMatchObject({ code: 'ERR_STREAM_DECRYPT' });
    const error = await failure(harness.client.chat.completions.create(ask('wrong key')));
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect((error as Error).cause).toMatchObject({ code: 'ERR_RESPONSE_DECRYPT' });
  });

  it('turns an e2e_error event into an SDK error and ends the stream', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'e2e-error', afterChunks: 3, value: 'instance exploded' });
    const stream = await harness.client.chat.completions.create({ ...ask('e2e error please'), stream: true });
    const error = await failure(collectStream(stream));
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain('instance exploded');
    harness.server.inject({ type: 'e2e-error', afterChunks: 2 });
    const raw = await harness.client.chat.completions
      .create({ ...ask('raw error'), stream: true })
      .asResponse();
    const events = (await raw.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe(
      'data: {"error":{"message":"simulated instance failure","type":"e2e_error","code":500}}',
    );
    expect(events).not.toContain('data: [DONE]');
  });

  it('reports an unknown model with ERR_MODEL_NOT_FOUND', async () => {
    harness = await startHarness();
    const error = await failure(
      harness.client.chat.completions.create({ ...ask('x'), model: 'no/such-model' }),
    );
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODEL_NOT_FOUND' });
    // The cached miss forces exactly one refresh on the next lookup.
    await failure(harness.client.chat.completions.create({ ...ask('x'), model: 'no/such-model' }));
    expect(harness.server.stats.modelListCalls).toBe(2);
    expect(harness.server.nonceLog).toHaveLength(0);
  });

  it('uses a UUID model as the chute id without a lookup', async () => {
    harness = await startHarness();
    const chuteId = harness.server.chutes[0]!.chuteId;
    const completion = await harness.client.chat.completions.create({ ...ask('by id'), model: chuteId });
    expect(completion.choices[0]?.message.content).toBe(expected('by id'));
    expect(harness.server.stats.modelListCalls).toBe(0);
  });

  it('hands relay errors of discovery to the SDK with the relay message (404 chute not found)', async () => {
    harness = await startHarness();
    const error = await failure(
      harness.client.chat.completions.create({ ...ask('x'), model: '00000000-0000-4000-8000-000000000000' }),
    );
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    // Issue 15: the SDK said "404 status code (no body)" because FastAPI's `detail` is not an OpenAI body.
    expect((error as Error).message).toBe('404 Chute not found');
    expect((error as InstanceType<typeof OpenAI.APIError>).type).toBe('chutes_relay_error');
    expect(await raw({ ...ask('x'), model: '00000000-0000-4000-8000-000000000000' })).toEqual({
      status: 404,
      text: relayError('Chute not found'),
    });
  });

  it('names the cause of an instance 400 relayed as a JSON string, and of a 401', async () => {
    harness = await startHarness({}, { apiKey: 'cpk_wrong' });
    const unauthorized = await failure(harness.client.chat.completions.create(ask('x')));
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((unauthorized as Error).message).toBe("401 Can't find a user with that api key in our db :(");
    await harness.server.close();
    // A relay whose inner body is the instance's own JSON text (decision D8's 400), through a stub inner fetch.
    const { createChutesFetch } = await import('../src/index.js');
    harness = await startHarness();
    const server = harness.server;
    const fetch = createChutesFetch({
      apiKey: API_KEY,
      apiBase: server.url,
      modelsBase: server.url,
      fetch: async (input, init) =>
        String(input).endsWith('/e2e/invoke')
          ? new Response(JSON.stringify({ detail: '{"detail":"E2E decryption failed"}' }), {
              status: 400,
              headers: { 'content-type': 'application/json' },
            })
          : globalThis.fetch(input, init),
    });
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, fetch, maxRetries: 0 });
    const error = await failure(client.chat.completions.create(ask('x')));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toBe('400 E2E decryption failed');
  });

  it('passes a 401 from the relay through', async () => {
    harness = await startHarness({}, { apiKey: 'cpk_wrong' });
    const error = await failure(harness.client.chat.completions.create(ask('x')));
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('takes the API key from the SDK when apiKey is not set', async () => {
    harness = await startHarness();
    const { createChutesFetch } = await import('../src/index.js');
    const fetch = createChutesFetch({ apiBase: harness.server.url, modelsBase: harness.server.url });
    const client = new OpenAI({ baseURL: `${harness.server.url}/v1`, apiKey: API_KEY, fetch, maxRetries: 0 });
    const completion = await client.chat.completions.create(ask('sdk key'));
    expect(completion.choices[0]?.message.content).toBe(expected('sdk key'));
  });

  it('passes GET /v1/models through untouched', async () => {
    harness = await startHarness();
    const models = await harness.client.models.list();
    expect(models.data.map((model) => model.id)).toEqual([MODEL]);
    expect(harness.server.stats.invocations).toBe(0);
  });

  it('honours an abort before the request', async () => {
    harness = await startHarness();
    const controller = new AbortController();
    controller.abort();
    const error = await failure(
      harness.client.chat.completions.create(ask('never'), { signal: controller.signal }),
    );
    expect(error).toBeInstanceOf(OpenAI.APIUserAbortError);
    expect(harness.server.stats.invocations).toBe(0);
  });

  it('aborts a running stream and cancels the upstream body', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'delay', ms: 25 });
    const controller = new AbortController();
    const stream = await harness.client.chat.completions.create(
      { ...ask('a long answer that keeps on going for many many words'), stream: true },
      { signal: controller.signal },
    );
    let chunks = 0;
    // The SDK ends an aborted stream quietly (it swallows AbortError); what matters is that it stops early and
    // the upstream connection is cancelled.
    for await (const _chunk of stream) {
      chunks++;
      if (chunks === 2) controller.abort();
    }
    expect(chunks).toBe(2);
    await vi.waitFor(() => expect(harness!.server.stats.streamsClosedEarly).toBe(1), { timeout: 5000 });
  });

  it('cancels upstream when the consumer breaks out of the stream', async () => {
    harness = await startHarness();
    harness.server.inject({ type: 'delay', ms: 25 });
    const stream = await harness.client.chat.completions.create({
      ...ask('another long answer with a lot of words in it'),
      stream: true,
    });
    for await (const _chunk of stream) break;
    await vi.waitFor(() => expect(harness!.server.stats.streamsClosedEarly).toBe(1), { timeout: 5000 });
  });
});
