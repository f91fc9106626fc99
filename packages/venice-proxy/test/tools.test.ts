import type { FakeVeniceTurn } from '@confidential-ai/venice-e2ee/testing';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, type Harness, postChat, rawError, startHarness, VENICE_KEY } from './helpers.js';

let harness: Harness;
let turns: FakeVeniceTurn[] = [];

beforeAll(async () => {
  harness = await startHarness();
});
afterEach(() => {
  turns = [];
});
afterAll(async () => {
  await harness?.close();
  expect(harness.logs.text()).not.toContain(VENICE_KEY);
});

const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, days: { type: 'integer' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string' } } } },
  },
];

/** Native model outputs written by hand for each format (spec 6.5), not produced by the proxy's code. */
const NATIVE = {
  hermes:
    'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}\n</tool_call>\n' +
    '<tool_call>\n{"name": "get_time", "arguments": {"zone": "CET"}}\n</tool_call>',
  qwen: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}}\n</tool_call>',
  glm:
    '<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n' +
    '<arg_key>days</arg_key>\n<arg_value>3</arg_value>\n</tool_call>',
};

const CASES = [
  { format: 'hermes', model: 'e2ee-gemma-4-31b', output: NATIVE.hermes, calls: 2 },
  { format: 'qwen', model: 'e2ee-qwen3-6-27b', output: NATIVE.qwen, calls: 1 },
  { format: 'glm', model: 'e2ee-glm-5-2-p', output: NATIVE.glm, calls: 1 },
] as const;

function reply(outputs: string[], reasoning: string | null = 'planning') {
  harness.fake.setResponder((turn) => {
    turns.push(turn);
    const output = outputs[Math.min(turns.length - 1, outputs.length - 1)]!;
    return reasoning === null ? { content: output } : { content: output, reasoning };
  });
}

function checkPrompt(turn: FakeVeniceTurn, format: string) {
  const system = turn.messages[0]!;
  expect(system.role).toBe('system');
  expect(system.content.startsWith('You have access to tools.')).toBe(true);
  const toolsJson = system.content
    .slice(system.content.lastIndexOf('Available tools:\n') + 17)
    .split('\n')[0]!;
  expect(JSON.parse(toolsJson)).toEqual(JSON.parse(JSON.stringify(TOOLS)));
  if (format === 'glm') expect(system.content).toContain('<arg_key>');
  else expect(system.content).not.toContain('<arg_key>');
}

function checkCalls(
  calls: Array<{ id: string; type: string; function: { name: string; arguments: string } }>,
  count: number,
) {
  expect(calls).toHaveLength(count);
  for (const call of calls) {
    expect(call.id).toMatch(/^call_[0-9a-f]{32}$/);
    expect(call.type).toBe('function');
  }
  expect(calls[0]!.function.name).toBe('get_weather');
  expect(JSON.parse(calls[0]!.function.arguments)).toEqual({ city: 'Paris', days: 3 });
  if (count === 2) {
    expect(calls[1]!.function.name).toBe('get_time');
    expect(JSON.parse(calls[1]!.function.arguments)).toEqual({ zone: 'CET' });
  }
}

describe.each(CASES)('tool-call emulation: $format format ($model)', ({ format, model, output, calls }) => {
  it('non-stream: tool_calls, finish_reason tool_calls, content null, prompt in the right format', async () => {
    reply([output]);
    const { data, response } = await harness.openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: TOOLS })
      .withResponse();
    const choice = data.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    checkCalls(choice.message.tool_calls as never, calls);
    expect(response.headers.get('x-venice-proxy-tool-mode')).toBe('emulated');
    expect(response.headers.get('x-venice-proxy-tool-retries')).toBeNull();
    expect(turns).toHaveLength(1);
    checkPrompt(turns[0]!, format);
    // Tools are emulated, never forwarded.
    const chat = harness.fake.requests.filter((r) => r.url.endsWith('/chat/completions')).at(-1)!;
    const body = chat.body as Record<string, unknown>;
    expect(body['tools']).toBeUndefined();
    expect(body['tool_choice']).toBeUndefined();
  });

  it('stream: one delta per call with complete arguments, then finish_reason tool_calls', async () => {
    reply([output]);
    const stream = await harness.openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: TOOLS,
      stream: true,
    });
    const collected: Array<{ id: string; type: string; function: { name: string; arguments: string } }> = [];
    let finish: string | null | undefined;
    let content = '';
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      for (const call of choice.delta.tool_calls ?? []) collected.push(call as never);
      content += choice.delta.content ?? '';
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    expect(finish).toBe('tool_calls');
    checkCalls(collected, calls);
    expect(content).not.toContain('<tool_call>');
  });
});

describe('correction retries (spec 6.4, 6.8, D7)', () => {
  const invalid = '<tool_call>\n{"name": "get_weather", "arguments": {"days": 3}}\n</tool_call>';

  it('non-stream: an invalid call is corrected on the next attempt; X-Venice-Proxy-Tool-Retries: 1', async () => {
    reply([invalid, NATIVE.qwen]);
    const { data, response } = await harness.openai.chat.completions
      .create({ model: 'e2ee-qwen3-6-27b', messages: [{ role: 'user', content: 'Weather?' }], tools: TOOLS })
      .withResponse();
    checkCalls(data.choices[0]!.message.tool_calls as never, 1);
    expect(response.headers.get('x-venice-proxy-tool-retries')).toBe('1');
    expect(turns).toHaveLength(2);
    const correction = turns[1]!.messages[0]!.content;
    expect(correction).toContain('Your previous response attempted a tool call, but it was invalid.');
    expect(correction).toContain('arguments.city is required');
    expect(correction).toContain('"days": 3');
    // The original conversation is resent, no assistant turn added.
    expect(turns[1]!.messages.slice(1)).toEqual(turns[0]!.messages.slice(1));
  });

  it('stream with tool_choice required: the retry happens before anything is emitted', async () => {
    reply([invalid, NATIVE.glm]);
    const stream = await harness.openai.chat.completions.create({
      model: 'e2ee-glm-5-2-p',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: TOOLS,
      tool_choice: 'required',
      stream: true,
    });
    const collected: never[] = [];
    for await (const chunk of stream)
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) collected.push(call as never);
    checkCalls(collected, 1);
    expect(turns).toHaveLength(2);
  });

  it('a named tool_choice offers only that tool; text where a call is required is corrected', async () => {
    reply(['I would rather chat.', NATIVE.qwen]);
    const completion = await harness.openai.chat.completions.create({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: TOOLS,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    checkCalls(completion.choices[0]!.message.tool_calls as never, 1);
    const toolsJson = turns[0]!.messages[0]!.content.split('Available tools:\n')[1]!.split('\n')[0]!;
    expect((JSON.parse(toolsJson) as unknown[]).length).toBe(1);
    expect(turns[1]!.messages[0]!.content).toContain(
      'expected the assistant response to include a tool call',
    );
  });

  it('exhausted retries → 502 invalid_tool_call with details (max_retries + 1 attempts)', async () => {
    reply([invalid]);
    const response = await postChat(harness, {
      model: 'e2ee-gemma-4-31b',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: TOOLS,
    });
    const failure = await rawError(response);
    expect(failure.status).toBe(502);
    expect(failure.header).toBe('invalid_tool_call');
    expect(failure.body).toEqual({
      error: {
        code: 'invalid_tool_call',
        details: {
          last_validation_error: expect.stringContaining('arguments.city is required'),
          max_retries: 2,
        },
        message: 'The model failed to produce a valid tool call after correction attempts.',
        type: 'proxy_tool_call_error',
      },
    });
    expect(turns).toHaveLength(3);
    // Streaming, call required, no reasoning to pass through: nothing is emitted before the failure, so the
    // client gets the JSON envelope.
    reply([invalid], null);
    turns = [];
    expect(
      await errorOf(
        harness.openai.chat.completions.create({
          model: 'e2ee-gemma-4-31b',
          messages: [{ role: 'user', content: 'Weather?' }],
          tools: TOOLS,
          tool_choice: 'required',
          stream: true,
        }),
      ),
    ).toEqual({ status: 502, type: 'proxy_tool_call_error', code: 'invalid_tool_call' });
  });
});

describe('activation (spec 6.1)', () => {
  it('plain text with optional tools is an ordinary answer; tool_choice none sends no controller prompt', async () => {
    reply(['Just text.']);
    const completion = await harness.openai.chat.completions.create({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'Hi' }],
      tools: TOOLS,
    });
    expect(completion.choices[0]!.message.content).toBe('Just text.');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    turns = [];
    const none = await harness.openai.chat.completions
      .create({
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'Hi' }],
        tools: TOOLS,
        tool_choice: 'none',
      })
      .withResponse();
    expect(none.response.headers.get('x-venice-proxy-tool-mode')).toBe('none');
    expect(turns[0]!.messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('tools.enabled = false ignores tools', async () => {
    const off = await startHarness({ env: { VENICE_E2EE_PROXY__TOOLS__ENABLED: 'false' } });
    try {
      const seen: FakeVeniceTurn[] = [];
      off.fake.setResponder((turn) => {
        seen.push(turn);
        return NATIVE.qwen;
      });
      const response = await postChat(off, {
        model: 'e2ee-qwen3-6-27b',
        messages: [{ role: 'user', content: 'Hi' }],
        tools: TOOLS,
      });
      const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      expect(body.choices[0]!.message.content).toBe(NATIVE.qwen);
      expect(seen[0]!.messages).toHaveLength(1);
      const models = await off.raw('/v1/models');
      expect(models.headers.get('x-venice-proxy-tool-mode')).toBe('none');
    } finally {
      await off.close();
    }
  });
});
