import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createVeniceFetch, type VeniceFetchOptions } from '../src/fetch.js';
import { decryptField, looksLikeCiphertext } from '../src/field-cipher.js';
import {
  createFakeVeniceServer,
  type FakeVeniceFault,
  type FakeVeniceServer,
  renderFakeToolCall,
} from '../src/testing/index.js';

let fake: FakeVeniceServer;
const opened: Array<{ close(): void }> = [];

function client(options: VeniceFetchOptions = {}): OpenAI {
  const fetch = createVeniceFetch(options);
  opened.push(fetch);
  return new OpenAI({ baseURL: fake.baseUrl, apiKey: 'test-key', fetch, maxRetries: 0 });
}

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ status?: number; code?: string | null | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('expected an error');
}

beforeAll(async () => {
  fake = await createFakeVeniceServer({ apiKey: 'test-key' });
});
afterAll(async () => {
  for (const item of opened) item.close();
  await fake.close();
});
beforeEach(() => {
  fake.clearFaults();
  fake.setResponder((turn) => ({
    content: `You said: ${turn.messages.at(-1)?.content ?? ''} ✓ ünïcödé`,
    reasoning: 'Thinking about it.',
  }));
});

describe('openai SDK through the Venice fetch', () => {
  it('non-streaming: attests, encrypts every message, decrypts content and reasoning', async () => {
    const openai = client();
    const before = fake.requests.length;
    const completion = await openai.chat.completions.create({
      model: 'e2ee-qwen3-6-27b',
      messages: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hel' },
            { type: 'text', text: 'lo' },
          ],
        },
        { role: 'assistant', content: 'Earlier answer' },
        { role: 'user', content: 'Hello' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('You said: Hello ✓ ünïcödé');
    expect(
      (completion.choices[0]!.message as unknown as { reasoning_content?: string }).reasoning_content,
    ).toBe('Thinking about it.');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens).toBe(10);
    const log = fake.requests.slice(before);
    const attestation = log.find((entry) => entry.url.startsWith('/api/v1/tee/attestation'))!;
    expect(attestation.url).toMatch(/nonce=[0-9a-f]{64}$/);
    const chat = log.find((entry) => entry.url === '/api/v1/chat/completions')!;
    const body = chat.body as { messages: Array<{ role: string; content: string }>; stream: boolean };
    expect(body.stream).toBe(true);
    expect(chat.headers['x-venice-tee-signing-algo']).toBe('ecdsa');
    expect(chat.headers['x-venice-tee-client-pub-key']).toMatch(/^04[0-9a-f]{128}$/);
    const model = fake.models.find((entry) => entry.id === 'e2ee-qwen3-6-27b')!;
    expect(chat.headers['x-venice-tee-model-pub-key']).toBe(bytesToHex(model.keyPair.publicKey));
    expect(body.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    for (const message of body.messages) expect(looksLikeCiphertext(message.content)).toBe(true);
    expect(body.messages.map((message) => decryptField(message.content, model.keyPair.privateKey))).toEqual([
      'Be brief.',
      'Hello',
      'Earlier answer',
      'Hello',
    ]);
    // a fresh ephemeral key per message
    const prefixes = new Set(body.messages.map((message) => message.content.slice(0, 130)));
    expect(prefixes.size).toBe(4);
  });

  it('streaming: decrypted deltas, reasoning from delta.reasoning (Shape B model), usage on request', async () => {
    const openai = client();
    const stream = await openai.chat.completions.create({
      model: 'e2ee-glm-5-2-p',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let reasoning = '';
    const finishes: Array<string | null> = [];
    let usage: unknown;
    let first = true;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      if (first) {
        expect(choice.delta.role).toBe('assistant');
        first = false;
      }
      content += choice.delta.content ?? '';
      reasoning += (choice.delta as { reasoning_content?: string }).reasoning_content ?? '';
      finishes.push(choice.finish_reason);
    }
    expect(content).toBe('You said: Stream please ✓ ünïcödé');
    expect(reasoning).toBe('Thinking about it.');
    expect(finishes.filter((value) => value !== null)).toEqual(['stop']);
    expect(usage).toBeDefined();
  });

  it('response headers carry the attestation summary', async () => {
    const openai = client();
    const { response } = await openai.chat.completions
      .create({ model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'x' }] })
      .withResponse();
    expect(response.headers.get('x-venice-proxy-e2ee')).toBe('verified');
    expect(response.headers.get('x-venice-proxy-attested-model')).toBe('e2ee-qwen3-6-27b');
    expect(response.headers.get('x-venice-proxy-tee-provider')).toBe('near-ai');
    expect(response.headers.get('x-venice-proxy-key-binding')).toBe('true');
    expect(response.headers.get('x-venice-proxy-nvidia-verified')).toBe('ignored');
  });
});

describe('sessions', () => {
  it('reuses the attested key within a session and re-attests for another session', async () => {
    const openai = client();
    const start = fake.attestationCount;
    const ask = (session?: string) =>
      openai.chat.completions.create(
        { model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'hi' }] },
        session ? { headers: { 'x-venice-proxy-session-id': session } } : {},
      );
    await ask();
    await ask();
    expect(fake.attestationCount - start).toBe(1);
    await ask('other-session');
    await ask('other-session');
    expect(fake.attestationCount - start).toBe(2);
  });

  it('expires sessions after max requests, idle TTL and max TTL', async () => {
    let now = 1_000_000;
    const openai = client({ session: { maxRequests: 2, idleTtlMs: 1000, maxTtlMs: 5000, now: () => now } });
    const ask = () =>
      openai.chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'hi' }],
      });
    const start = fake.attestationCount;
    await ask();
    await ask();
    expect(fake.attestationCount - start).toBe(1);
    await ask(); // third request: max requests reached, fresh session
    expect(fake.attestationCount - start).toBe(2);
    now += 1500; // idle
    await ask();
    expect(fake.attestationCount - start).toBe(3);
    now += 900;
    await ask(); // still live (2 requests in this session now)
    expect(fake.attestationCount - start).toBe(3);
  });

  it('request scope re-attests every time', async () => {
    const openai = client({ session: { fallbackScope: 'request' } });
    const start = fake.attestationCount;
    for (let index = 0; index < 3; index++) {
      await openai.chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'hi' }],
      });
    }
    expect(fake.attestationCount - start).toBe(3);
  });

  it('disabled fallback requires a session id', async () => {
    const openai = client({ session: { fallbackScope: 'disabled' } });
    const error = await errorOf(
      openai.chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(error).toEqual({ status: 400, code: 'session_identifier_missing' });
  });
});

describe('attestation failures through the SDK', () => {
  const cases: Array<[FakeVeniceFault, string, string, number?]> = [
    ['bad-nonce', 'e2ee-qwen3-6-27b', 'attestation_nonce_mismatch'],
    ['wrong-model', 'e2ee-qwen3-6-27b', 'attestation_model_mismatch'],
    ['not-verified', 'e2ee-qwen3-6-27b', 'attestation_upstream_not_verified'],
    ['missing-verified', 'e2ee-glm-5-2-p', 'attestation_missing_required_field'],
    ['debug-flag', 'e2ee-qwen3-6-27b', 'attestation_debug_mode_detected'],
    ['debug-quote', 'e2ee-glm-5-2-p', 'attestation_debug_mode_detected'],
    ['wrong-key', 'e2ee-qwen3-6-27b', 'attestation_signing_address_mismatch'],
    ['conflicting-keys', 'e2ee-qwen3-6-27b', 'attestation_invalid_signing_key'],
    ['invalid-key', 'e2ee-glm-5-2-p', 'attestation_invalid_signing_key'],
    ['bad-address', 'e2ee-qwen3-6-27b', 'attestation_signing_address_mismatch'],
    ['binding-address', 'e2ee-qwen3-6-27b', 'attestation_signing_address_mismatch'],
    ['binding-padding', 'e2ee-qwen3-6-27b', 'attestation_invalid_tdx_evidence'],
    ['binding-nonce', 'e2ee-glm-5-2-p', 'attestation_nonce_mismatch'],
    ['missing-quote', 'e2ee-qwen3-6-27b', 'attestation_missing_tdx_evidence'],
    ['missing-quote', 'e2ee-glm-5-2-p', 'attestation_missing_tdx_evidence'],
    ['malformed-quote', 'e2ee-qwen3-6-27b', 'attestation_invalid_tdx_evidence'],
    ['quote-mismatch', 'e2ee-glm-5-2-p', 'attestation_invalid_tdx_evidence'],
    ['report-data-mismatch', 'e2ee-glm-5-2-p', 'attestation_invalid_tdx_evidence'],
    ['attestation-401', 'e2ee-qwen3-6-27b', 'upstream_authentication_failed'],
    ['attestation-500', 'e2ee-qwen3-6-27b', 'upstream_status_error'],
    ['attestation-not-json', 'e2ee-qwen3-6-27b', 'attestation_malformed_response'],
  ];
  for (const [fault, model, code] of cases) {
    it(`${fault} on ${model} → ${code}`, async () => {
      fake.setFault(fault);
      const openai = client();
      const error = await errorOf(
        openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }),
      );
      expect(error).toEqual({ status: 502, code });
    });
  }

  it('NVIDIA gate: the fake’s signed GPU evidence verifies under its test root, never under NVIDIA’s', async () => {
    const ask = (options: VeniceFetchOptions) =>
      client(options).chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
      });
    const nvidiaRoot = await fake.nvidiaRoot();
    expect(await errorOf(ask({ attestation: { requireNvidia: 'when_present' } }))).toEqual({
      status: 502,
      code: 'attestation_invalid_nvidia_evidence',
    });
    const verified = await ask({ attestation: { requireNvidia: 'required', nvidiaRoot } }).withResponse();
    expect(verified.response.headers.get('x-venice-proxy-nvidia-verified')).toBe('verified');
    expect(verified.data.choices[0]!.message.content).toContain('You said: x');

    const refused: Array<[FakeVeniceFault, string]> = [
      ['tampered-nvidia-report', 'attestation_invalid_nvidia_evidence'],
      ['nvidia-wrong-nonce', 'attestation_invalid_nvidia_evidence'],
      ['untrusted-nvidia', 'attestation_invalid_nvidia_evidence'],
      ['nvidia-number', 'attestation_invalid_nvidia_evidence'],
      ['nvidia-empty', 'attestation_missing_nvidia_evidence'],
      ['no-nvidia', 'attestation_missing_nvidia_evidence'],
    ];
    for (const [fault, code] of refused) {
      fake.clearFaults();
      fake.setFault(fault);
      const chats = fake.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length;
      expect({
        fault,
        ...(await errorOf(ask({ attestation: { requireNvidia: 'required', nvidiaRoot } }))),
      }).toEqual({
        fault,
        status: 502,
        code,
      });
      expect(fake.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length).toBe(chats);
    }
    fake.clearFaults();
    fake.setFault('nvidia-empty');
    const absentOk = await ask({ attestation: { requireNvidia: 'when_present', nvidiaRoot } }).withResponse();
    expect(absentOk.response.headers.get('x-venice-proxy-nvidia-verified')).toBe('not-present');
  });

  it('allowDebug accepts a debug quote', async () => {
    fake.setFault('debug-quote');
    const { response } = await client({ attestation: { allowDebug: true } })
      .chat.completions.create({ model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'x' }] })
      .withResponse();
    expect(response.headers.get('x-venice-proxy-tdx-debug')).toBe('true');
  });

  it('requireTdx rejects the synthetic quote (it does not chain to the Intel root)', async () => {
    const error = await errorOf(
      client({ attestation: { requireTdx: true } }).chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(error).toEqual({ status: 502, code: 'attestation_invalid_tdx_evidence' });
  });

  it('a failed attestation is not cached', async () => {
    const openai = client();
    fake.setFault('bad-nonce');
    await errorOf(
      openai.chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    fake.clearFaults();
    const completion = await openai.chat.completions.create({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(completion.choices[0]?.message.content).toContain('You said: x');
  });
});

describe('response failures', () => {
  const ask = (openai: OpenAI, stream = false) =>
    stream
      ? (async () => {
          const s = await openai.chat.completions.create({
            model: 'e2ee-qwen3-6-27b',
            messages: [{ role: 'user', content: 'x' }],
            stream: true,
          });
          let text = '';
          for await (const chunk of s) text += chunk.choices[0]?.delta.content ?? '';
          return text;
        })()
      : openai.chat.completions.create({
          model: 'e2ee-qwen3-6-27b',
          messages: [{ role: 'user', content: 'x' }],
        });

  it('plaintext content fails closed by default, passes when allowed', async () => {
    fake.setFault('plaintext-content');
    expect(await errorOf(ask(client()))).toEqual({ status: 502, code: 'e2ee_response_decryption_failed' });
    await expect(ask(client(), true)).rejects.toThrow();
    const lenient = await ask(client({ requireEncryptedResponseContent: false }));
    expect((lenient as OpenAI.ChatCompletion).choices[0]?.message.content).toContain('You said: x');
  });

  it('plaintext everywhere passes only when pass-through is allowed (D3)', async () => {
    fake.setFault('plaintext-content');
    fake.setFault('plaintext-reasoning');
    expect(await errorOf(ask(client()))).toEqual({ status: 502, code: 'e2ee_response_decryption_failed' });
    const lenient = (await ask(client({ requireEncryptedResponseContent: false }))) as OpenAI.ChatCompletion;
    expect(lenient.choices[0]?.message.content).toContain('You said: x');
  });

  it('tampered ciphertext and the wrong client key fail closed in both modes', async () => {
    for (const fault of ['tampered-content', 'wrong-client-key'] as const) {
      fake.clearFaults();
      fake.setFault(fault);
      expect(await errorOf(ask(client({ requireEncryptedResponseContent: false })))).toEqual({
        status: 502,
        code: 'e2ee_response_decryption_failed',
      });
      await expect(ask(client(), true)).rejects.toThrow();
    }
  });

  it('broken streams, error events and unknown SSE fields fail', async () => {
    fake.setFault('broken-stream');
    expect(await errorOf(ask(client()))).toEqual({ status: 502, code: 'upstream_stream_error' });
    await expect(ask(client(), true)).rejects.toThrow();
    fake.clearFaults();
    fake.setFault('error-event');
    expect(await errorOf(ask(client()))).toEqual({ status: 502, code: 'upstream_stream_error' });
    fake.clearFaults();
    fake.setFault('extra-field');
    expect(await errorOf(ask(client()))).toEqual({ status: 502, code: 'upstream_stream_error' });
  });

  it('chat upstream status errors map to proxy codes', async () => {
    fake.setFault('chat-401');
    expect(await errorOf(ask(client()))).toEqual({ status: 502, code: 'upstream_authentication_failed' });
    fake.clearFaults();
    fake.setFault('chat-500');
    expect(await errorOf(ask(client()))).toEqual({ status: 502, code: 'upstream_status_error' });
  });

  it('unsupported request fields are rejected like the reference proxy does', async () => {
    const error = await errorOf(
      client().chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
        n: 2,
        seed: 1,
      }),
    );
    expect(error).toEqual({ status: 400, code: 'unsupported_request_field' });
    const webSearch = await errorOf(
      client().chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'x' }],
        venice_parameters: { enable_web_search: 'on' },
      } as OpenAI.ChatCompletionCreateParamsNonStreaming),
    );
    expect(webSearch).toEqual({ status: 400, code: 'unsupported_venice_parameter' });
  });

  it('unsupported content is rejected before anything is sent', async () => {
    const error = await errorOf(
      client().chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x' } }] }],
      }),
    );
    expect(error).toEqual({ status: 400, code: 'unsupported_message_content' });
  });
});

describe('tool-call emulation through the SDK', () => {
  const tools: OpenAI.ChatCompletionTool[] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather for a city',
        parameters: {
          type: 'object',
          properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' } },
          required: ['city', 'days'],
          additionalProperties: false,
        },
      },
    },
  ];
  const models = ['e2ee-qwen3-6-27b', 'e2ee-glm-5-2-p', 'e2ee-gemma-4-31b'];

  for (const model of models) {
    it(`non-streaming tool call in the ${model} format`, async () => {
      fake.setResponder((turn) => {
        const system = turn.messages.find((message) => message.role === 'system')!.content;
        expect(system).toContain('You have access to tools.');
        expect(system).toContain('"name":"get_weather"');
        return renderFakeToolCall(turn.model, 'get_weather', { city: 'Paris', days: 3, metric: true });
      });
      const completion = await client().chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools,
      });
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      const call = choice.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(call.id).toMatch(/^call_[0-9a-f]{32}$/);
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris', days: 3, metric: true });
    });

    it(`streaming tool call in the ${model} format`, async () => {
      fake.setResponder((turn) => ({
        content: `Let me check.${renderFakeToolCall(turn.model, 'get_weather', { city: 'Rome', days: 2 })}`,
        reasoning: 'Need weather.',
      }));
      const stream = await client().chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools,
        stream: true,
      });
      let content = '';
      const calls: Array<{ name?: string; arguments?: string }> = [];
      let finish: string | null = null;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (!choice) continue;
        content += choice.delta.content ?? '';
        for (const call of choice.delta.tool_calls ?? []) calls.push({ ...call.function });
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      expect(content).toBe('Let me check.');
      expect(calls).toHaveLength(1);
      expect(calls[0]?.name).toBe('get_weather');
      expect(JSON.parse(calls[0]!.arguments!)).toEqual({ city: 'Rome', days: 2 });
      expect(finish).toBe('tool_calls');
    });
  }

  it('plain answers stay plain when the call is optional', async () => {
    fake.setResponder(() => 'No tool needed <tool');
    const completion = await client().chat.completions.create({
      model: 'e2ee-gemma-4-31b',
      messages: [{ role: 'user', content: 'Hi' }],
      tools,
    });
    expect(completion.choices[0]?.message.content).toBe('No tool needed <tool');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });

  it('a retry with a correction prompt succeeds (non-streaming and streaming)', async () => {
    for (const stream of [false, true]) {
      const seen: string[] = [];
      fake.setResponder((turn) => {
        const system = turn.messages.find((message) => message.role === 'system')!.content;
        seen.push(system);
        if (!system.includes('Your previous response attempted a tool call, but it was invalid.')) {
          return '<tool_call>\n{"name":"get_weather","arguments":{"city":"Paris"}}\n</tool_call>';
        }
        return renderFakeToolCall(turn.model, 'get_weather', { city: 'Paris', days: 1 });
      });
      const openai = client();
      if (!stream) {
        const { data, response } = await openai.chat.completions
          .create({ model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'W?' }], tools })
          .withResponse();
        expect(data.choices[0]?.finish_reason).toBe('tool_calls');
        expect(response.headers.get('x-venice-proxy-tool-retries')).toBe('1');
      } else {
        const s = await openai.chat.completions.create({
          model: 'e2ee-qwen3-6-27b',
          messages: [{ role: 'user', content: 'W?' }],
          tools,
          stream: true,
        });
        const names: string[] = [];
        for await (const chunk of s)
          for (const call of chunk.choices[0]?.delta.tool_calls ?? []) names.push(call.function!.name!);
        expect(names).toEqual(['get_weather']);
      }
      expect(seen).toHaveLength(2);
      expect(seen[1]).toContain('arguments.days is required');
    }
  });

  it('exhausted retries give 502 invalid_tool_call; in a stream the iterator fails', async () => {
    fake.setResponder(() => '<tool_call>\n{"name":"unknown_tool","arguments":{}}\n</tool_call>');
    const error = await errorOf(
      client({ tools: { maxRetries: 1 } }).chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'W?' }],
        tools,
      }),
    );
    expect(error).toEqual({ status: 502, code: 'invalid_tool_call' });
    const stream = await client({ tools: { maxRetries: 1 } }).chat.completions.create({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'W?' }],
      tools,
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _chunk of stream) {
          // drain
        }
      })(),
    ).rejects.toThrow();
  });

  it('a buffered attempt that does not finish in time counts as invalid and is retried', async () => {
    const seen: string[] = [];
    fake.setResponder((turn) => {
      const system = turn.messages.find((message) => message.role === 'system')!.content;
      seen.push(system);
      const call = renderFakeToolCall(turn.model, 'get_weather', { city: 'Oslo', days: 1 });
      return seen.length === 1 ? { content: call, delayMs: 60_000 } : call;
    });
    const { data, response } = await client({ tools: { markerTimeoutMs: 3000 } })
      .chat.completions.create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'W?' }],
        tools,
      })
      .withResponse();
    expect(data.choices[0]?.finish_reason).toBe('tool_calls');
    expect(response.headers.get('x-venice-proxy-tool-retries')).toBe('1');
    expect(seen[1]).toContain('tool-emulated completion did not finish within 3s');
  });

  it('tool history is rendered and encrypted', async () => {
    let seen: Array<{ role: string; content: string }> = [];
    fake.setResponder((turn) => {
      seen = turn.messages;
      return 'It is sunny.';
    });
    const completion = await client().chat.completions.create({
      model: 'e2ee-gemma-4-31b',
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city": "Paris", "days": 1}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('It is sunny.');
    expect(seen[0]?.role).toBe('system');
    expect(seen[2]).toEqual({
      role: 'assistant',
      content:
        '<previous_tool_call id="call_1" name="get_weather">\n{"city":"Paris","days":1}\n</previous_tool_call>',
    });
    expect(seen[3]).toEqual({
      role: 'user',
      content:
        '<tool_result id="call_1">\nsunny\n</tool_result>\n\nUse the tool result above to continue the answer.',
    });
  });
});

describe('pass-through routes', () => {
  it('models go to the inner fetch unchanged', async () => {
    const list = await client().models.list();
    const ids = list.data.map((model) => model.id);
    expect(ids).toContain('e2ee-qwen3-6-27b');
  });

  it('hex helpers are consistent', () => {
    expect(bytesToHex(hexToBytes('0aff'))).toBe('0aff');
  });
});

describe('requireTdx end to end with a test TDX platform', () => {
  it('verifies quotes that chain to a test root (with collateral), and rejects them under the Intel root', async () => {
    const { createTestTdxPlatform } = await import('@confidential-ai/tdx-attestation/testing');
    const platform = await createTestTdxPlatform();
    const collateral = await platform.createCollateral();
    const chained = await createFakeVeniceServer({
      quoteFactory: ({ reportData, debug }) => platform.createQuote({ reportData, debug, trailingBytes: 70 }),
    });
    try {
      const make = (attestation: NonNullable<VeniceFetchOptions['attestation']>) => {
        const fetch = createVeniceFetch({ attestation });
        opened.push(fetch);
        return new OpenAI({ baseURL: chained.baseUrl, apiKey: 'k', fetch, maxRetries: 0 });
      };
      const { data, response } = await make({
        requireTdx: true,
        trustedRootCa: platform.root,
        tdxCollateral: collateral,
      })
        .chat.completions.create({ model: 'e2ee-glm-5-2-p', messages: [{ role: 'user', content: 'tdx' }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBe('You said: tdx');
      expect(response.headers.get('x-venice-proxy-tdx-verified')).toBe('true');
      const chainOnly = await make({ requireTdx: true, trustedRootCa: platform.root })
        .chat.completions.create({ model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'tdx' }] })
        .withResponse();
      expect(chainOnly.response.headers.get('x-venice-proxy-tdx-verified')).toBe('true');
      const intelRoot = await errorOf(
        make({ requireTdx: true }).chat.completions.create({
          model: 'e2ee-qwen3-6-27b',
          messages: [{ role: 'user', content: 'x' }],
        }),
      );
      expect(intelRoot).toEqual({ status: 502, code: 'attestation_invalid_tdx_evidence' });
      const revoked = await platform.createCollateral({ revokePckCertificate: true });
      const revokedError = await errorOf(
        make({
          requireTdx: true,
          trustedRootCa: platform.root,
          tdxCollateral: revoked,
        }).chat.completions.create({
          model: 'e2ee-qwen3-6-27b',
          messages: [{ role: 'user', content: 'x' }],
        }),
      );
      expect(revokedError).toEqual({ status: 502, code: 'attestation_invalid_tdx_evidence' });
    } finally {
      await chained.close();
    }
  });
});
