import { hash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

/** Model ids served by the fake vLLM. The `reasoning` one also emits `reasoning_content` and `reasoning`. */
export const FAKE_VLLM_MODELS = ['fake-model', 'fake-reasoning-model'] as const;

/** A request the fake vLLM received (for assertions). */
export interface FakeVllmRequest {
  /** Method and path, e.g. `POST /v1/chat/completions`. */
  route: string;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  /** Parsed JSON body (undefined for GET). */
  body: unknown;
}

/** Options of {@link createFakeVllmApp} / {@link startFakeVllm}. */
export interface FakeVllmOptions {
  /** Extra model id served besides {@link FAKE_VLLM_MODELS}. */
  model?: string;
  /** Bearer token the fake requires; default none (vLLM usually runs without auth). */
  apiKey?: string;
  /** Fixed `created` timestamp; default the current time. */
  created?: () => number;
  /** How many received requests to keep in `requests` (default 100). */
  keepRequests?: number;
  /**
   * Extra top-level fields added to every response object and stream chunk, e.g. Chutes' `chutes_verification`
   * (to act as a Chutes-like upstream).
   */
  extraFields?: Record<string, unknown>;
}

/** Text of the fake's reply for a prompt: deterministic, word-per-chunk when streamed. */
export function fakeReplyText(prompt: string): string {
  const digest = hash('sha256', prompt, 'hex').slice(0, 8);
  const words = prompt.split(/\s+/).filter(Boolean).length;
  return `Simulated reply ${digest}: you sent ${words} word${words === 1 ? '' : 's'}.`;
}

/** Reasoning text of the fake's `fake-reasoning-model`. */
export function fakeReasoningText(prompt: string): string {
  return `Thinking about ${prompt.length} characters.`;
}

function tokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function promptOf(body: Record<string, unknown>): string {
  if (typeof body.prompt === 'string') return body.prompt;
  if (!Array.isArray(body.messages)) return '';
  const parts: string[] = [];
  for (const message of body.messages as Array<Record<string, unknown>>) {
    const content = message?.content;
    if (typeof content === 'string') parts.push(content);
    else if (Array.isArray(content)) {
      for (const item of content as Array<Record<string, unknown>>) {
        if (item?.type === 'text' && typeof item.text === 'string') parts.push(item.text);
      }
    }
  }
  return parts.join('\n');
}

function splitWords(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

/**
 * A deterministic stand-in for vLLM's OpenAI server: `GET /v1/models`, `POST /v1/chat/completions` and
 * `POST /v1/completions` (stream and non-stream, `n`, `stream_options.include_usage`), and `GET /metrics`.
 * Streams with `n > 1` list the choices in descending index order, to exercise clients that must use
 * `choices[].index`. A `max_tokens` larger than the reply repeats it to that many words. A body field `fake_fault` injects faults: `"status:<code>"` (error response),
 * `"truncate"` (stream cut before `[DONE]`), `"bad-chunk"` (a non-JSON data line), `"no-id"` (chunks without id).
 *
 * @example
 * ```ts
 * const app = createFakeVllmApp();
 * const response = await app.request('/v1/models');
 * ```
 */
export function createFakeVllmApp(options: FakeVllmOptions = {}): Hono & { requests: FakeVllmRequest[] } {
  const models: string[] = [...FAKE_VLLM_MODELS];
  if (options.model && !models.includes(options.model)) models.push(options.model);
  const created = options.created ?? (() => Math.floor(Date.now() / 1000));
  const keep = options.keepRequests ?? 100;
  const requests: FakeVllmRequest[] = [];
  let counter = 0;
  const app = new Hono() as Hono & { requests: FakeVllmRequest[] };
  app.requests = requests;

  const record = (route: string, headers: Headers, body: unknown) => {
    const lowered: Record<string, string> = {};
    headers.forEach((value, key) => {
      lowered[key] = value;
    });
    requests.push({ route, headers: lowered, body });
    if (requests.length > keep) requests.shift();
  };

  app.use('*', async (c, next) => {
    if (options.apiKey && c.req.header('authorization') !== `Bearer ${options.apiKey}`) {
      record(`${c.req.method} ${c.req.path}`, c.req.raw.headers, undefined);
      return c.json({ object: 'error', message: 'Unauthorized', type: 'Unauthorized', code: 401 }, 401);
    }
    await next();
  });

  app.get('/v1/models', (c) => {
    record('GET /v1/models', c.req.raw.headers, undefined);
    return c.json({
      object: 'list',
      data: models.map((id) => ({
        id,
        object: 'model',
        created: 1700000000,
        owned_by: 'fake-vllm',
        max_model_len: 8192,
      })),
    });
  });

  app.get('/metrics', (c) =>
    c.text(
      '# HELP vllm:num_requests_running Number of requests running.\n# TYPE vllm:num_requests_running gauge\n' +
        'vllm:num_requests_running{model_name="fake-model"} 0\n' +
        '# HELP vllm:num_requests_waiting Number of requests waiting.\n# TYPE vllm:num_requests_waiting gauge\n' +
        'vllm:num_requests_waiting{model_name="fake-model"} 0\n',
    ),
  );

  const complete = (kind: 'chat' | 'text') => async (c: import('hono').Context) => {
    let body: Record<string, unknown>;
    try {
      body = (await c.req.json()) as Record<string, unknown>;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
    } catch {
      return c.json(
        { object: 'error', message: 'Invalid JSON body', type: 'BadRequestError', code: 400 },
        400,
      );
    }
    record(`POST ${c.req.path}`, c.req.raw.headers, body);
    const fault = typeof body.fake_fault === 'string' ? body.fake_fault : '';
    if (fault.startsWith('status:')) {
      const status = Number(fault.slice(7)) || 500;
      return c.json(
        {
          object: 'error',
          message: `Simulated upstream error ${status}`,
          type: 'SimulatedError',
          code: status,
        },
        status as 400,
      );
    }
    const model = typeof body.model === 'string' ? body.model : '';
    if (!models.includes(model)) {
      return c.json(
        {
          object: 'error',
          message: `The model \`${model}\` does not exist.`,
          type: 'NotFoundError',
          code: 404,
        },
        404,
      );
    }
    const prompt = promptOf(body);
    let reply = fakeReplyText(prompt);
    // `max_tokens` above the reply's length repeats it word by word (long streams for benchmarks).
    const maxTokens =
      typeof body.max_tokens === 'number' && Number.isInteger(body.max_tokens) ? body.max_tokens : 0;
    if (maxTokens > tokens(reply)) {
      const words = reply.split(' ');
      reply = Array.from(
        { length: Math.min(maxTokens, 1_000_000) },
        (_, index) => words[index % words.length],
      ).join(' ');
    }
    const reasoning = model === 'fake-reasoning-model' ? fakeReasoningText(prompt) : undefined;
    const n =
      typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 0 && body.n <= 8 ? body.n : 1;
    counter += 1;
    const id =
      fault === 'no-id'
        ? undefined
        : `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-fake-${counter}-${hash('sha256', prompt, 'hex').slice(0, 12)}`;
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const usage = {
      prompt_tokens: tokens(prompt),
      completion_tokens: tokens(reply) * n,
      total_tokens: tokens(prompt) + tokens(reply) * n,
    };
    const createdAt = created();
    if (body.stream !== true) {
      const choices = Array.from({ length: n }, (_, index) =>
        kind === 'chat'
          ? {
              index,
              message: {
                role: 'assistant',
                content: reply,
                ...(reasoning ? { reasoning_content: reasoning, reasoning } : {}),
                tool_calls: [],
              },
              logprobs: null,
              finish_reason: 'stop',
            }
          : { index, text: reply, logprobs: null, finish_reason: 'stop' },
      );
      return c.json({
        ...(id ? { id } : {}),
        object,
        created: createdAt,
        model,
        choices,
        usage,
        ...options.extraFields,
      });
    }
    const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ ...(id ? { id } : {}), object: chunkObject, created: createdAt, model, choices, ...extra, ...options.extraFields })}\n\n`;
    const indexes = Array.from({ length: n }, (_, index) => n - 1 - index);
    const frames: string[] = [];
    if (kind === 'chat') {
      frames.push(
        frame(
          indexes.map((index) => ({
            index,
            delta: { role: 'assistant', content: '' },
            logprobs: null,
            finish_reason: null,
          })),
        ),
      );
      if (reasoning) {
        for (const word of splitWords(reasoning)) {
          frames.push(
            frame(
              indexes.map((index) => ({
                index,
                delta: { reasoning_content: word, reasoning: word },
                finish_reason: null,
              })),
            ),
          );
        }
      }
    }
    const words = splitWords(reply);
    words.forEach((word, position) => {
      if (fault === 'bad-chunk' && position === 1) frames.push('data: {not json\n\n');
      for (const index of indexes) {
        frames.push(
          frame([
            kind === 'chat'
              ? { index, delta: { content: word }, logprobs: null, finish_reason: null }
              : { index, text: word, logprobs: null, finish_reason: null },
          ]),
        );
      }
    });
    frames.push(
      frame(
        indexes.map((index) =>
          kind === 'chat'
            ? { index, delta: {}, finish_reason: 'stop' }
            : { index, text: '', finish_reason: 'stop' },
        ),
      ),
    );
    if (includeUsage) frames.push(frame([], { usage }));
    const truncate = fault === 'truncate';
    if (!truncate) frames.push('data: [DONE]\n\n');
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const cut = truncate ? Math.max(1, Math.floor(frames.length / 2)) : frames.length;
        for (const text of frames.slice(0, cut)) controller.enqueue(encoder.encode(text));
        if (truncate) controller.error(new Error('simulated truncation'));
        else controller.close();
      },
    });
    return new Response(stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
    });
  };

  app.post('/v1/chat/completions', complete('chat'));
  app.post('/v1/completions', complete('text'));
  app.notFound((c) =>
    c.json({ object: 'error', message: 'Not Found', type: 'NotFoundError', code: 404 }, 404),
  );
  return app;
}

/** A running fake vLLM. */
export interface RunningFakeVllm {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash, no `/v1`). */
  readonly url: string;
  /** Requests received so far (most recent last). */
  readonly requests: FakeVllmRequest[];
  /** Stops the listener. */
  close(): Promise<void>;
}

/**
 * Starts {@link createFakeVllmApp} on loopback.
 *
 * @example
 * ```ts
 * const vllm = await startFakeVllm({ port: 0 });
 * console.log(vllm.url); // http://127.0.0.1:PORT
 * await vllm.close();
 * ```
 */
export async function startFakeVllm(
  options: FakeVllmOptions & { host?: string; port?: number } = {},
): Promise<RunningFakeVllm> {
  const app = createFakeVllmApp(options);
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname: host, port: options.port ?? 0 },
      (info: AddressInfo) => {
        resolve({
          url: `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`,
          requests: app.requests,
          close: () =>
            new Promise<void>((done) => {
              (server as import('node:http').Server).closeAllConnections?.();
              server.close(() => done());
            }),
        });
      },
    );
    server.once('error', reject);
  });
}
