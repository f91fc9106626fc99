import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIPHERTEXT_HEX, type Harness, postChat, rawError, startHarness, VENICE_KEY } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON bodies in assertions
type Json = Record<string, any>;

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({ fake: { includeNonTextModel: true } });
});
afterAll(async () => {
  await harness?.close();
  expect(harness.logs.text()).not.toContain(VENICE_KEY);
});

describe('GET /v1/models', () => {
  it('lists only text models with E2EE and TEE attestation, in the reference shape', async () => {
    const upstream = (await (
      await fetch(`${harness.fake.baseUrl}/models`, { headers: { authorization: `Bearer ${VENICE_KEY}` } })
    ).json()) as { data: Array<Json> };
    const { data, response } = await harness.openai.models.list().withResponse();
    const listed = data.data as unknown as Array<Json>;
    // Expected list computed from the raw upstream list by the rules of spec section 5.2 / 10.1.
    const expected = upstream.data
      .filter(
        (entry) =>
          entry['type'] === 'text' &&
          entry['model_spec'].capabilities.supportsE2EE === true &&
          entry['model_spec'].capabilities.supportsTeeAttestation === true,
      )
      .map((entry) => {
        const caps = entry['model_spec'].capabilities;
        return {
          id: entry['id'],
          object: 'model',
          created: entry['created'] ?? 0,
          owned_by: entry['owned_by'] ?? 'venice.ai',
          name: entry['id'],
          info: {
            meta: {
              capabilities: {
                function_calling: caps.supportsFunctionCalling === true,
                builtin_tools: caps.supportsWebSearch === true || caps.supportsCodeInterpreter === true,
                web_search: caps.supportsWebSearch === true,
                code_interpreter: caps.supportsCodeInterpreter === true,
                vision: caps.supportsVision === true,
                reasoning: caps.supportsReasoning === true,
                reasoning_effort: caps.supportsReasoningEffort === true,
              },
            },
          },
          venice: {
            id: entry['id'],
            supportsE2EE: true,
            supportsTeeAttestation: true,
            supportsReasoning: caps.supportsReasoning === true,
            supportsReasoningEffort: caps.supportsReasoningEffort === true,
          },
        };
      });
    expect(upstream.data.some((entry) => entry['type'] !== 'text')).toBe(true);
    expect(upstream.data.some((entry) => entry['id'] === 'plain-text-model')).toBe(true);
    expect(listed).toEqual(expected);
    expect(listed.map((model) => model['id'])).toEqual([
      'e2ee-qwen3-6-27b',
      'e2ee-glm-5-2-p',
      'e2ee-gemma-4-31b',
    ]);
    expect(response.headers.get('x-venice-proxy-attestation-mode')).toBe('independent');
    expect(response.headers.get('x-venice-proxy-tool-mode')).toBe('emulated');
    // The key went upstream as a bearer token, not the client's Authorization header.
    const modelsCall = harness.fake.requests.find((request) => request.url.endsWith('/models'));
    expect(modelsCall?.headers['authorization']).toBe(`Bearer ${VENICE_KEY}`);
  });

  it('answers HEAD, 405 for other methods and 404 for other paths', async () => {
    expect((await harness.raw('/v1/models', { method: 'HEAD' })).status).toBe(200);
    const post = await rawError(await harness.raw('/v1/models', { method: 'POST' }));
    expect(post).toMatchObject({
      status: 405,
      type: 'invalid_request_error',
      code: 'method_not_allowed',
      header: 'method_not_allowed',
    });
    expect(post.body.error['message']).toBe('method POST is not supported for /v1/models');
    const get = await rawError(await harness.raw('/v1/chat/completions'));
    expect(get).toMatchObject({ status: 405, code: 'method_not_allowed' });
    const missing = await rawError(await harness.raw('/v1/embeddings', { method: 'POST' }));
    expect(missing).toMatchObject({ status: 404, type: 'invalid_request_error', code: 'not_found' });
    expect(missing.body.error['message']).toBe('route /v1/embeddings was not found');
  });
});

describe('POST /v1/chat/completions', () => {
  it('non-stream: decrypted answer, reasoning, usage and the X-Venice-Proxy-* headers', async () => {
    const before = harness.fake.requests.length;
    const { data, response } = await harness.openai.chat.completions
      .create({
        model: 'e2ee-qwen3-6-27b',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: 'Stay calm.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Hello ' },
              { type: 'text', text: 'there' },
            ],
          },
        ],
        temperature: 0.7,
        max_tokens: 64,
        metadata: { purpose: 'test' },
      })
      .withResponse();
    const message = data.choices[0]!.message as unknown as Record<string, unknown>;
    expect(message['content']).toBe('You said: Hello there');
    expect(message['reasoning_content']).toBe('Thinking about it.');
    expect(message['role']).toBe('assistant');
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.object).toBe('chat.completion');
    expect(data.usage?.total_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-venice-proxy-e2ee')).toBe('verified');
    expect(response.headers.get('x-venice-proxy-attestation-mode')).toBe('independent');
    expect(response.headers.get('x-venice-proxy-attested-model')).toBe('e2ee-qwen3-6-27b');
    expect(response.headers.get('x-venice-proxy-tee-provider')).toBe('near-ai');
    expect(response.headers.get('x-venice-proxy-tdx-debug')).toBe('false');
    expect(response.headers.get('x-venice-proxy-nvidia-verified')).toBe('ignored');
    expect(response.headers.get('x-venice-proxy-key-binding')).toBe('true');
    expect(response.headers.get('x-venice-proxy-session-scope')).toBe('request');
    expect(response.headers.get('x-venice-proxy-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('x-venice-proxy-tool-mode')).toBe('none');
    expect(response.headers.get('x-venice-proxy-tdx-verified')).toBeNull();

    // What went upstream: attestation with a fresh 32-byte nonce, then the encrypted chat body (spec 5.6, D4).
    const sent = harness.fake.requests.slice(before);
    const attestation = sent.find((request) => request.url.includes('/tee/attestation'));
    expect(new URL(attestation!.url, 'http://x').searchParams.get('nonce')).toMatch(/^[0-9a-f]{64}$/);
    const chat = sent.find((request) => request.url.endsWith('/chat/completions'))!;
    expect(chat.headers['authorization']).toBe(`Bearer ${VENICE_KEY}`);
    expect(chat.headers['x-venice-tee-signing-algo']).toBe('ecdsa');
    expect(chat.headers['x-venice-tee-client-pub-key']).toMatch(/^04[0-9a-f]{128}$/);
    const body = chat.body as Json;
    expect(Object.keys(body)).toEqual([
      'model',
      'messages',
      'stream',
      'stream_options',
      'venice_parameters',
      'temperature',
      'max_tokens',
    ]);
    expect(body['messages'].map((m: { role: string }) => m.role)).toEqual(['system', 'developer', 'user']);
    for (const m of body['messages']) expect(m.content).toMatch(CIPHERTEXT_HEX);
    expect(JSON.stringify(body)).not.toContain('Hello');
    expect(body['stream']).toBe(true);
    expect(body['stream_options']).toEqual({ include_usage: true });
    expect(body['venice_parameters']).toEqual({
      enable_e2ee: true,
      include_venice_system_prompt: false,
      strip_thinking_response: false,
      disable_thinking: false,
      enable_web_search: 'off',
    });
    expect(body['metadata']).toBeUndefined();
  });

  it('stream: role first, decrypted deltas, finish, [DONE]; usage only when asked', async () => {
    const stream = await harness.openai.chat.completions.create({
      model: 'e2ee-gemma-4-31b',
      messages: [{ role: 'user', content: 'stream me a longer sentence please' }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    const reasoning = chunks
      .map(
        (chunk) =>
          (chunk.choices[0]?.delta as Record<string, unknown> | undefined)?.['reasoning_content'] ?? '',
      )
      .join('');
    expect(content).toBe('You said: stream me a longer sentence please');
    expect(reasoning).toBe('Thinking about it.');
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.some((chunk) => chunk.usage)).toBe(false);
    // The upstream was asked for usage anyway (spec 5.8.3).
    const chat = harness.fake.requests.filter((request) => request.url.endsWith('/chat/completions')).at(-1)!;
    expect((chat.body as Json)['stream_options']).toEqual({ include_usage: true });

    const withUsage = await harness.openai.chat.completions.create({
      model: 'e2ee-gemma-4-31b',
      messages: [{ role: 'user', content: 'usage please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const usageChunks = [];
    for await (const chunk of withUsage) usageChunks.push(chunk);
    const last = usageChunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.total_tokens).toBeGreaterThan(0);

    const without = await harness.openai.chat.completions.create({
      model: 'e2ee-gemma-4-31b',
      messages: [{ role: 'user', content: 'no usage' }],
      stream: true,
      stream_options: { include_usage: false },
    });
    const noUsage = [];
    for await (const chunk of without) noUsage.push(chunk);
    expect(noUsage.some((chunk) => chunk.usage)).toBe(false);
    const upstream = harness.fake.requests
      .filter((request) => request.url.endsWith('/chat/completions'))
      .at(-1)!;
    expect((upstream.body as Json)['stream_options']).toEqual({ include_usage: false });
  });

  it('raw SSE framing: text/event-stream, data lines and a final [DONE]', async () => {
    const response = await postChat(harness, {
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'raw' }],
      stream: true,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const text = await response.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.every((event) => event.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
  });

  it('reasoning: Venice `reasoning` deltas (GLM, Shape B) come out as reasoning_content', async () => {
    const { data, response } = await harness.openai.chat.completions
      .create({
        model: 'e2ee-glm-5-2-p',
        messages: [{ role: 'user', content: 'think' }],
        reasoning_effort: 'high',
        reasoning: { effort: 'high' },
      } as never)
      .withResponse();
    const message = (data as unknown as { choices: Array<{ message: Record<string, unknown> }> }).choices[0]!
      .message;
    expect(message['content']).toBe('You said: think');
    expect(message['reasoning_content']).toBe('Thinking about it.');
    // Shape B report: provider read from the parsed fields (D1), not the 0.1.1 "unknown" quirk.
    expect(response.headers.get('x-venice-proxy-tee-provider')).toBe('phala');
    const chat = harness.fake.requests.filter((request) => request.url.endsWith('/chat/completions')).at(-1)!;
    expect((chat.body as Json)['reasoning']).toEqual({ effort: 'high' });
    expect((chat.body as Json)['reasoning_effort']).toBe('high');

    const stream = await harness.openai.chat.completions.create({
      model: 'e2ee-glm-5-2-p',
      messages: [{ role: 'user', content: 'think in a stream' }],
      stream: true,
    });
    let reasoning = '';
    for await (const chunk of stream)
      reasoning +=
        (chunk.choices[0]?.delta as Record<string, unknown> | undefined)?.['reasoning_content'] ?? '';
    expect(reasoning).toBe('Thinking about it.');
  });

  it('renders tool history as the reference does (assistant tool_calls and tool results are encrypted text)', async () => {
    let seen: Array<{ role: string; content: string }> = [];
    harness.fake.setResponder((turn) => {
      seen = turn.messages;
      return 'ok';
    });
    try {
      await harness.openai.chat.completions.create({
        model: 'e2ee-gemma-4-31b',
        messages: [
          { role: 'user', content: 'weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{ "city" : "Paris" }' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        ],
      });
    } finally {
      harness.fake.setResponder((turn) => {
        const last = [...turn.messages].reverse().find((m) => m.role === 'user');
        return { content: `You said: ${last?.content ?? ''}`, reasoning: 'Thinking about it.' };
      });
    }
    expect(seen).toEqual([
      { role: 'user', content: 'weather?' },
      {
        role: 'assistant',
        content:
          '<previous_tool_call id="call_1" name="get_weather">\n{"city":"Paris"}\n</previous_tool_call>',
      },
      {
        role: 'user',
        content:
          '<tool_result id="call_1">\nsunny\n</tool_result>\n\nUse the tool result above to continue the answer.',
      },
    ]);
  });
});
