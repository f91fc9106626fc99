import OpenAI from 'openai';
import { type ChutesFetchOptions, createChutesFetch } from '../src/index.js';
import {
  createFakeChutesServer,
  type FakeChutesServer,
  type FakeChutesServerOptions,
} from '../src/testing/index.js';

export const API_KEY = 'cpk_test_key';
export const MODEL = 'fake/echo-model';

/** A mutable clock shared by the fake server and the transport. */
export function createClock(start = 1_800_000_000_000) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

export interface Harness {
  server: FakeChutesServer;
  client: OpenAI;
  fetch: ReturnType<typeof createChutesFetch>;
}

export async function startHarness(
  serverOptions: FakeChutesServerOptions = {},
  fetchOptions: ChutesFetchOptions = {},
): Promise<Harness> {
  const server = await createFakeChutesServer({ apiKey: API_KEY, models: [MODEL], ...serverOptions });
  const fetch = createChutesFetch({
    apiKey: API_KEY,
    apiBase: server.url,
    modelsBase: server.url,
    ...fetchOptions,
  });
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: API_KEY, fetch, maxRetries: 0 });
  return { server, client, fetch };
}

export function acceptedNonces(server: FakeChutesServer): string[] {
  return server.nonceLog.filter((entry) => entry.outcome === 'accepted').map((entry) => entry.nonce);
}

export async function collectStream(
  stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>,
): Promise<{ text: string; chunks: number; usage: unknown }> {
  let text = '';
  let chunks = 0;
  let usage: unknown;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, chunks, usage };
}
