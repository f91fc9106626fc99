// Issue 14, E2EE egress: a fault-injecting upstream in its own process (test/fault-upstream.mjs) answers exactly
// what each test asks for; the proxy runs over real HTTP; the client is the real openai SDK plus an E2EE client
// built only on node:crypto (test/independent-cipher.ts). Same assertions on the vLLM face and the Chutes sidecar.

import { createLogger } from '@confidential-ai/server-kit';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSecrets, loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { captureLogs, sseData, TOKEN } from './helpers.js';
import { createIndependentSession, fetchModelKey, type IndependentSession } from './independent-session.js';
import { type FaultUpstream, killAllSpawned, spawnFaultUpstream } from './processes.js';

/** Model text the upstream sends: it must never reach an E2EE client, or a log, in the clear. */
const SECRET = 'UPSTREAM-PLAINTEXT-7Q';
const MODEL = 'fault-model';

interface Fault {
  status?: number;
  headers?: Record<string, string>;
  chunks: Array<string | { base64: string }>;
  end?: 'finish' | 'destroy' | 'hang';
}

let counter = 0;
const nextId = () => `chatcmpl-fault-${process.pid}-${++counter}`;

function chunk(id: string, delta: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: 1,
    model: MODEL,
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  })}\n\n`;
}

function completion(id: string, choices: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id, object: 'chat.completion', created: 1, model: MODEL, choices, ...extra });
}

const json = (text: string): Fault => ({ headers: { 'content-type': 'application/json' }, chunks: [text] });

async function startProxy(env: Record<string, string>, upstreamUrl: string) {
  const logs = captureLogs();
  const config = loadConfig({
    env: {
      TOKEN,
      LOG_LEVEL: 'debug',
      PROXY_PORT: '0',
      VLLM_BASE_URL: upstreamUrl,
      CHUTES_ENABLED: 'true',
      CHUTES_BASE_URL: upstreamUrl,
      CHUTES_API_KEY: 'cpk_fault_test_key',
      ...env,
    },
  });
  const logger = createLogger({
    level: 'debug',
    destination: logs.destination,
    secrets: configSecrets(config),
  });
  const server = await startServer({ config, logger, processMetrics: false });
  return { server, logs };
}

let upstream: FaultUpstream;
let proxy: RunningServer;
let proxyLogs: ReturnType<typeof captureLogs>;
let refusing: RunningServer;

beforeAll(async () => {
  upstream = await spawnFaultUpstream();
  ({ server: proxy, logs: proxyLogs } = await startProxy({}, upstream.url));
  ({ server: refusing } = await startProxy({ E2EE_REFUSE_TOOL_CALLS: 'true' }, upstream.url));
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await refusing?.close();
  await upstream?.stop();
  killAllSpawned();
});

/** A raw E2EE v2 call (fetch, so every byte the client receives can be checked). */
async function e2eeFetch(
  server: RunningServer,
  prefix: string,
  fault: Fault,
  options: { stream?: boolean; algo?: 'ecdsa' | 'ed25519' } = {},
): Promise<{ status: number; text: string; session: IndependentSession }> {
  const algo = options.algo ?? 'ecdsa';
  const session = createIndependentSession(algo, await fetchModelKey(server.url, TOKEN, algo));
  const response = await fetch(`${server.url}${prefix}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...session.headers },
    body: JSON.stringify({
      model: MODEL,
      stream: options.stream === true,
      messages: session.sealMessages(MODEL, [{ role: 'user', content: 'the prompt' }]),
      fault,
    }),
  });
  return { status: response.status, text: await response.text(), session };
}

/** The same call through the openai SDK: what an application sees. */
async function sdkStream(
  server: RunningServer,
  prefix: string,
  fault: Fault,
  options: { e2ee?: boolean } = {},
): Promise<{ chunks: OpenAI.ChatCompletionChunk[]; error: unknown }> {
  const client = new OpenAI({ baseURL: `${server.url}${prefix}`, apiKey: TOKEN, maxRetries: 0 });
  let headers: Record<string, string> = {};
  let messages = [{ role: 'user', content: 'the prompt' }];
  if (options.e2ee !== false) {
    const session = createIndependentSession('ed25519', await fetchModelKey(server.url, TOKEN, 'ed25519'));
    headers = session.headers;
    messages = session.sealMessages(MODEL, messages);
  }
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  try {
    const stream = await client.chat.completions.create(
      {
        model: MODEL,
        stream: true,
        messages,
        fault,
      } as unknown as OpenAI.ChatCompletionCreateParamsStreaming,
      { headers },
    );
    for await (const part of stream) chunks.push(part);
    return { chunks, error: undefined };
  } catch (error) {
    return { chunks, error };
  }
}

async function sdkCreate(server: RunningServer, prefix: string, fault: Fault): Promise<unknown> {
  const client = new OpenAI({ baseURL: `${server.url}${prefix}`, apiKey: TOKEN, maxRetries: 0 });
  const session = createIndependentSession('ecdsa', await fetchModelKey(server.url, TOKEN, 'ecdsa'));
  try {
    return await client.chat.completions.create(
      {
        model: MODEL,
        messages: session.sealMessages(MODEL, [{ role: 'user', content: 'the prompt' }]),
        fault,
      } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
      { headers: session.headers },
    );
  } catch (error) {
    return error;
  }
}

async function signatureStatus(server: RunningServer, id: string): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 30));
  const response = await fetch(`${server.url}/v1/signature/${id}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  await response.body?.cancel();
  return response.status;
}

function lastErrorType(text: string): string | undefined {
  const last = sseData(text).at(-1);
  try {
    return (JSON.parse(last ?? '') as { error?: { type?: string } }).error?.type;
  } catch {
    return undefined;
  }
}

function expectApiError(error: unknown, type: string, status?: number): void {
  expect(error).toBeInstanceOf(APIError);
  expect((error as APIError).type).toBe(type);
  if (status !== undefined) expect((error as APIError).status).toBe(status);
}

describe.each([
  { face: 'vLLM face', prefix: '/v1' },
  { face: 'Chutes sidecar', prefix: '/v1/chutes' },
])('$face: E2EE egress fails closed', ({ prefix }) => {
  it('a complete E2EE stream is encrypted, ends with [DONE] and is signed (control)', async () => {
    const id = nextId();
    const { status, text, session } = await e2eeFetch(
      proxy,
      prefix,
      { chunks: [chunk(id, { role: 'assistant', content: SECRET }), 'data: [DONE]\n\n'] },
      { stream: true },
    );
    expect(status).toBe(200);
    expect(text).not.toContain(SECRET);
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const first = JSON.parse(data[0]!) as { choices: Array<{ delta: { content: string } }> };
    expect(
      session.open(first.choices[0]!.delta.content, { model: MODEL, id, choice: 0, field: 'content' }),
    ).toBe(SECRET);
    expect(await signatureStatus(proxy, id)).toBe(200);
  });

  it.each([
    ['an SSE comment', `: ${SECRET}\n\n`],
    ['an id: line', `id: ${SECRET}\n\n`],
    ['an event: line', `event: ${SECRET}\ndata: {}\n\n`],
    ['a retry: line', 'retry: 4242\n\n'],
    ['raw text', `${SECRET} raw text\n\n`],
    ['a JSON body line', `${completion('x', [{ index: 0, message: { content: SECRET } }])}\n\n`],
  ])(
    '%s in an E2EE stream ends it with a typed error event, unsigned, nothing of it sent',
    async (_, line) => {
      const id = nextId();
      const fault: Fault = {
        chunks: [
          chunk(id, { role: 'assistant', content: 'first' }),
          line,
          chunk(id, { content: 'x' }),
          'data: [DONE]\n\n',
        ],
      };
      const { status, text } = await e2eeFetch(proxy, prefix, fault, { stream: true });
      expect(status).toBe(200);
      expect(text).not.toContain(SECRET);
      // The retry line's value must not reach the client; 'retry' cannot occur in hex ciphertext (its '4242' could,
      // by chance: that made this check flaky).
      expect(text).not.toContain('retry');
      expect(sseData(text)).not.toContain('[DONE]');
      expect(lastErrorType(text)).toBe('upstream_invalid_response');
      // every line the client got is a data line or a blank separator
      expect(text.split('\n').every((row) => row === '' || row.startsWith('data: '))).toBe(true);
      expect(await signatureStatus(proxy, id)).toBe(404);
      const { error } = await sdkStream(proxy, prefix, fault);
      expectApiError(error, 'upstream_invalid_response');
    },
  );

  it('a JSON body answered to an E2EE stream request is refused, not relayed', async () => {
    const id = nextId();
    const fault = json(completion(id, [{ index: 0, message: { role: 'assistant', content: SECRET } }]));
    const { text } = await e2eeFetch(proxy, prefix, fault, { stream: true });
    expect(text).not.toContain(SECRET);
    expect(lastErrorType(text)).toBe('upstream_invalid_response');
    expect(await signatureStatus(proxy, id)).toBe(404);
  });

  it('an upstream error event in an E2EE stream becomes a typed error without its message', async () => {
    const id = nextId();
    const fault: Fault = {
      chunks: [
        chunk(id, { content: 'a' }),
        `data: ${JSON.stringify({ error: { message: SECRET, type: 'X' } })}\n\n`,
      ],
    };
    const { text } = await e2eeFetch(proxy, prefix, fault, { stream: true });
    expect(text).not.toContain(SECRET);
    expect(lastErrorType(text)).toBe('upstream_error');
    expect(await signatureStatus(proxy, id)).toBe(404);
  });

  it('non-stream: array content parts, refusal and choice-level text are encrypted per field', async () => {
    const id = nextId();
    const parts = [{ type: 'text', text: `${SECRET}-A` }];
    const fault = json(
      completion(id, [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: parts,
            refusal: `${SECRET}-B`,
            reasoning_content: `${SECRET}-C`,
          },
          logprobs: null,
          finish_reason: 'stop',
        },
        { index: 1, text: `${SECRET}-D`, finish_reason: 'stop' },
      ]),
    );
    const { status, text, session } = await e2eeFetch(proxy, prefix, fault);
    expect(status).toBe(200);
    expect(text).not.toContain(SECRET);
    const body = JSON.parse(text) as {
      choices: Array<{ message?: Record<string, string>; text?: string }>;
    };
    const open = (hex: string, choice: number, field: string) =>
      session.open(hex, { model: MODEL, id, choice, field });
    const message = body.choices[0]!.message!;
    expect(JSON.parse(open(message.content!, 0, 'content'))).toEqual(parts);
    expect(open(message.refusal!, 0, 'refusal')).toBe(`${SECRET}-B`);
    expect(open(message.reasoning_content!, 0, 'reasoning_content')).toBe(`${SECRET}-C`);
    expect(open(body.choices[1]!.text!, 1, 'text')).toBe(`${SECRET}-D`);
    expect(await signatureStatus(proxy, id)).toBe(200);
  });

  it('stream: refusal, array content and choice-level text deltas are encrypted per field', async () => {
    const id = nextId();
    const fault: Fault = {
      chunks: [
        chunk(id, { role: 'assistant', refusal: `${SECRET}-R` }),
        chunk(id, { content: [{ type: 'text', text: `${SECRET}-P` }] }),
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: MODEL, choices: [{ index: 0, text: `${SECRET}-T` }] })}\n\n`,
        'data: [DONE]\n\n',
      ],
    };
    const { text, session } = await e2eeFetch(proxy, prefix, fault, { stream: true, algo: 'ed25519' });
    expect(text).not.toContain(SECRET);
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const events = data.slice(0, -1).map((line) => JSON.parse(line)) as Array<{
      choices: Array<{ delta?: Record<string, string>; text?: string }>;
    }>;
    const open = (hex: string, field: string) => session.open(hex, { model: MODEL, id, choice: 0, field });
    expect(open(events[0]!.choices[0]!.delta!.refusal!, 'refusal')).toBe(`${SECRET}-R`);
    expect(JSON.parse(open(events[1]!.choices[0]!.delta!.content!, 'content'))).toEqual([
      { type: 'text', text: `${SECRET}-P` },
    ]);
    expect(open(events[2]!.choices[0]!.text!, 'text')).toBe(`${SECRET}-T`);
  });

  it.each([
    [
      'logprobs',
      { index: 0, message: { content: 'x' }, logprobs: { content: [{ token: SECRET, logprob: 0 }] } },
      {},
    ],
    ['audio', { index: 0, message: { content: 'x', audio: { id: 'a', transcript: SECRET, data: '' } } }, {}],
    ['an unknown message field', { index: 0, message: { content: 'x', commentary: SECRET } }, {}],
    ['an unknown choice field', { index: 0, message: { content: 'x' }, explanation: SECRET }, {}],
    [
      'prompt_logprobs',
      { index: 0, message: { content: 'x' } },
      { prompt_logprobs: [{ 1: { decoded_token: SECRET } }] },
    ],
    [
      'a non-string reasoning field',
      { index: 0, message: { content: 'x', reasoning: { text: SECRET } } },
      {},
    ],
    ['an error object', { index: 0, message: { content: 'x' } }, { error: { message: SECRET } }],
  ])(
    'non-stream: %s that cannot be carried encrypted refuses the response (502, typed, unsigned)',
    async (_, choice, extra) => {
      const id = nextId();
      const fault = json(completion(id, [choice], extra));
      const { status, text } = await e2eeFetch(proxy, prefix, fault);
      expect(status).toBe(502);
      expect(text).not.toContain(SECRET);
      expect(['e2ee_unencryptable_response', 'upstream_error']).toContain(JSON.parse(text).error.type);
      expect(await signatureStatus(proxy, id)).toBe(404);
      const error = await sdkCreate(proxy, prefix, fault);
      expect(error).toBeInstanceOf(APIError);
      expect((error as APIError).status).toBe(502);
    },
  );

  it('stream: logprobs in a chunk end the stream with e2ee_unencryptable_response', async () => {
    const id = nextId();
    const fault: Fault = {
      chunks: [
        `data: ${JSON.stringify({ id, model: MODEL, choices: [{ index: 0, delta: { content: 'x' }, logprobs: { content: [{ token: SECRET }] } }] })}\n\n`,
        'data: [DONE]\n\n',
      ],
    };
    const { text } = await e2eeFetch(proxy, prefix, fault, { stream: true });
    expect(text).not.toContain(SECRET);
    expect(lastErrorType(text)).toBe('e2ee_unencryptable_response');
    expect(await signatureStatus(proxy, id)).toBe(404);
  });

  it('tool calls stay in the clear by default (D3) and are refused with e2ee.refuse_tool_calls', async () => {
    const id = nextId();
    const call = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"clear"}' } };
    const fault = json(
      completion(id, [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [call] } }]),
    );
    const allowed = await e2eeFetch(proxy, prefix, fault);
    expect(allowed.status).toBe(200);
    expect(JSON.parse(allowed.text).choices[0].message.tool_calls).toEqual([call]);
    const refused = await e2eeFetch(
      refusing,
      prefix,
      json(completion(nextId(), JSON.parse(fault.chunks[0] as string).choices)),
    );
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.text).error.type).toBe('e2ee_tool_call_refused');
    const streamId = nextId();
    const streamed = await e2eeFetch(
      refusing,
      prefix,
      {
        chunks: [
          chunk(streamId, { content: 'a' }),
          chunk(streamId, { tool_calls: [{ index: 0, ...call }] }),
          'data: [DONE]\n\n',
        ],
      },
      { stream: true },
    );
    expect(lastErrorType(streamed.text)).toBe('e2ee_tool_call_refused');
    expect(await signatureStatus(refusing, streamId)).toBe(404);
  });

  describe.each([
    { mode: 'E2EE', e2ee: true },
    { mode: 'plain', e2ee: false },
  ])('$mode: a stream the upstream did not finish', ({ e2ee }) => {
    it.each([
      [
        'clean end of body without [DONE]',
        (id: string): Fault => ({ chunks: [chunk(id, { content: 'part' })] }),
      ],
      [
        'a half line, then a clean end',
        (id: string): Fault => ({
          chunks: [chunk(id, { content: 'part' }), chunk(id, { content: 'cut' }).slice(0, 40)],
        }),
      ],
      [
        'a half line, then a reset connection',
        (id: string): Fault => ({
          chunks: [chunk(id, { content: 'part' }), chunk(id, { content: 'cut' }).slice(0, 40)],
          end: 'destroy',
        }),
      ],
      [
        'a complete event without its blank line, then a clean end',
        (id: string): Fault => ({
          chunks: [chunk(id, { content: 'part' }), chunk(id, { content: 'x' }).slice(0, -1)],
        }),
      ],
    ])('%s: the SDK raises an APIError and no signature is served', async (_, make) => {
      const id = nextId();
      const { chunks, error } = await sdkStream(proxy, prefix, make(id), { e2ee });
      expect(error).toBeInstanceOf(APIError);
      expect(['upstream_stream_incomplete', 'upstream_stream_error']).toContain((error as APIError).type);
      expect(chunks.length).toBe(1);
      expect(await signatureStatus(proxy, id)).toBe(404);
    });
  });

  it('plain mode: the error event after a cut starts on its own line', async () => {
    const id = nextId();
    const response = await fetch(`${proxy.url}${prefix}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
        fault: { chunks: [chunk(id, { content: 'part' }), 'data: {"id":"half'], end: 'destroy' },
      }),
    });
    const text = await response.text();
    expect(text).not.toContain('half');
    expect(text.endsWith('\n\n')).toBe(true);
    const events = text.split('\n\n').filter(Boolean);
    expect(events).toHaveLength(2);
    expect(JSON.parse(events[1]!.slice(6)).error.type).toBe('upstream_stream_error');
  });

  it.each([
    ['a number', [{ role: 'user', content: 42 }]],
    ['an object', [{ role: 'user', content: { text: SECRET } }]],
    [
      'a text part whose text is not a string',
      [{ role: 'user', content: [{ type: 'text', text: { v: SECRET } }] }],
    ],
    ['a content part that is a bare string', [{ role: 'user', content: [SECRET] }]],
    [
      'a text-carrying part of another type',
      [{ role: 'user', content: [{ type: 'input_text', text: SECRET }] }],
    ],
    ['a message that is a string', [SECRET]],
  ])('ingress: E2EE content that is %s is refused with 400 before any upstream call', async (_, messages) => {
    const before = (await upstream.requests()).length;
    const session = createIndependentSession('ecdsa', await fetchModelKey(proxy.url, TOKEN, 'ecdsa'));
    const response = await fetch(`${proxy.url}${prefix}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...session.headers },
      body: JSON.stringify({ model: MODEL, messages, fault: json(completion('x', [])) }),
    });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(JSON.parse(text).error.type).toBe('e2ee_content_not_encrypted');
    expect(text).not.toContain(SECRET);
    expect((await upstream.requests()).length).toBe(before);
  });
});

describe('a client that goes away mid-stream', () => {
  async function errorCount(type: string): Promise<number> {
    const metrics = await (await fetch(`${proxy.url}/local-metrics`)).text();
    const match = new RegExp(`vllm_proxy_errors_total\\{type="${type}"\\} (\\d+)`).exec(metrics);
    return match ? Number(match[1]) : 0;
  }

  it.each([
    { mode: 'plain', e2ee: false },
    { mode: 'E2EE', e2ee: true },
  ])('$mode: is not counted as an upstream failure, and the stream is not signed', async ({ e2ee }) => {
    const types = ['upstream_stream_error', 'upstream_stream_incomplete', 'upstream_invalid_response'];
    const before = await Promise.all(types.map(errorCount));
    const id = nextId();
    const session = createIndependentSession('ecdsa', await fetchModelKey(proxy.url, TOKEN, 'ecdsa'));
    const abort = new AbortController();
    const response = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        ...(e2ee ? session.headers : {}),
      },
      body: JSON.stringify({
        model: MODEL,
        stream: true,
        messages: e2ee
          ? session.sealMessages(MODEL, [{ role: 'user', content: 'p' }])
          : [{ role: 'user', content: 'p' }],
        fault: { chunks: [chunk(id, { content: 'first' })], end: 'hang' },
      }),
    });
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    abort.abort();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await Promise.all(types.map(errorCount))).toEqual(before);
    expect(await signatureStatus(proxy, id)).toBe(404);
  });
});

it('no upstream plaintext reached the proxy logs', () => {
  expect(proxyLogs.text()).not.toContain(SECRET);
});
