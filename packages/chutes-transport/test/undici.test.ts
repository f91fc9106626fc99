import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChutesFetch, type FetchFunction } from '../src/index.js';
import { createFakeChutesServer, type FakeChutesServer, simulatedReplyText } from '../src/testing/index.js';
import { API_KEY, acceptedNonces, collectStream, MODEL } from './helpers.js';

describe('undici fetch as the inner fetch', () => {
  let server: FakeChutesServer;
  let client: OpenAI;
  const agent = new Agent({ headersTimeout: 60 * 60_000, bodyTimeout: 60 * 60_000 });

  beforeAll(async () => {
    server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL] });
    const inner = ((input: string | URL | Request, init?: RequestInit) =>
      undiciFetch(
        input as string,
        { ...(init as object), dispatcher: agent } as never,
      )) as unknown as FetchFunction;
    const fetch = createChutesFetch({
      apiKey: API_KEY,
      apiBase: server.url,
      modelsBase: server.url,
      fetch: inner,
    });
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, fetch, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
    await agent.close();
  });

  it('completes non-stream and stream requests', async () => {
    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'via undici' }],
    });
    expect(completion.choices[0]?.message.content).toBe('You said: via undici');
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'stream via undici' }],
      stream: true,
    });
    expect((await collectStream(stream)).text).toBe(
      simulatedReplyText({ messages: [{ role: 'user', content: 'stream via undici' }] }),
    );
  });

  it('runs concurrent requests without reusing a nonce', async () => {
    const before = acceptedNonces(server).length;
    await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: `u${index}` }] }),
      ),
    );
    const nonces = acceptedNonces(server);
    expect(nonces.length - before).toBe(12);
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  it('fails a tampered stream', async () => {
    server.inject({ type: 'tamper-chunk', chunkIndex: 2 });
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'tampered via undici' }],
      stream: true,
    });
    await expect(collectStream(stream)).rejects.toMatchObject({ code: 'ERR_STREAM_DECRYPT' });
  });

  it('passes the SDK fetchOptions (dispatcher) to the invoke call', async () => {
    const seen: unknown[] = [];
    const inner = ((input: string | URL | Request, init?: RequestInit & { dispatcher?: unknown }) => {
      seen.push(init?.dispatcher);
      return undiciFetch(input as string, init as never);
    }) as unknown as FetchFunction;
    const fetch = createChutesFetch({
      apiKey: API_KEY,
      apiBase: server.url,
      modelsBase: server.url,
      fetch: inner,
    });
    const sdk = new OpenAI({
      baseURL: `${server.url}/v1`,
      apiKey: API_KEY,
      fetch,
      maxRetries: 0,
      fetchOptions: { dispatcher: agent } as never,
    });
    await sdk.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'dispatcher' }] });
    expect(seen.at(-1)).toBe(agent);
  });
});
