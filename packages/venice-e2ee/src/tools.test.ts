import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { VeniceE2eeError } from './errors.js';
import { buildControllerPrompt, buildCorrectionPrompt } from './tool-prompts.js';
import {
  appendToSystemMessage,
  checkSchemaSubset,
  classifyToolOutput,
  parseGlmToolCalls,
  parseHermesToolCalls,
  parseQwenToolCalls,
  prepareToolContext,
  selectToolFormat,
  stableStringify,
  type ToolContext,
  ToolStreamScanner,
  truncateUtf8,
  validateAgainstSchema,
} from './tools.js';
import type { ToolDefinition } from './types.js';

const tools: ToolDefinition[] = [
  {
    type: 'function',
    function: {
      name: 'search',
      description: 'Search the web',
      parameters: {
        type: 'object',
        properties: {
          query: { type: 'string' },
          limit: { type: 'integer' },
          exact: { type: 'boolean' },
          score: { type: 'number' },
          filters: { type: 'object', properties: { lang: { type: 'string', enum: ['en', 'de'] } } },
          tags: { type: 'array', items: { type: 'string' } },
          maybe: { type: ['integer', 'string'] },
        },
        required: ['query'],
        additionalProperties: false,
      },
    },
  },
  { type: 'function', function: { name: 'now' } },
];

function context(format: ToolContext['format'], overrides: Partial<ToolContext> = {}): ToolContext {
  return {
    format,
    tools,
    required: false,
    maxRetries: 2,
    toolCallMaxBytes: 65536,
    validateJsonSchema: true,
    markerTimeoutMs: 30_000,
    ...overrides,
  };
}

function callsOf(text: string, format: ToolContext['format'], overrides: Partial<ToolContext> = {}) {
  const outcome = classifyToolOutput(text, context(format, overrides));
  if (outcome.kind !== 'tool_calls') return outcome;
  return outcome.calls.map((call) => [call.function.name, JSON.parse(call.function.arguments)]);
}

describe('format selection and activation', () => {
  it('selects by model id', () => {
    expect(selectToolFormat('e2ee-GLM-5-1')).toBe('glm');
    expect(selectToolFormat('e2ee-qwen3-6-27b')).toBe('qwen');
    expect(selectToolFormat('e2ee-glm-qwen')).toBe('glm');
    expect(selectToolFormat('e2ee-gemma-4-31b')).toBe('hermes');
  });

  it('prepareToolContext follows the activation rules', () => {
    expect(prepareToolContext({ model: 'm', tools })).toMatchObject({ required: false, format: 'hermes' });
    expect(prepareToolContext({ model: 'm', tools, tool_choice: 'none' })).toBeUndefined();
    expect(prepareToolContext({ model: 'm', tools }, { enabled: false })).toBeUndefined();
    expect(prepareToolContext({ model: 'm', tools }, { mode: 'none' })).toBeUndefined();
    expect(prepareToolContext({ model: 'm' })).toBeUndefined();
    const forced = prepareToolContext({
      model: 'm',
      tools,
      tool_choice: { type: 'function', function: { name: 'now' } },
    });
    expect(forced?.tools.map((tool) => tool.function.name)).toEqual(['now']);
    expect(forced?.required).toBe(true);
    const bad: Array<Parameters<typeof prepareToolContext>[0]> = [
      { model: 'm', tool_choice: 'required' },
      { model: 'm', tools, tool_choice: { type: 'function', function: { name: 'missing' } } },
      { model: 'm', tools: [tools[1]!, tools[1]!] },
      { model: 'm', tools: [{ type: 'function', function: { name: '' } }] },
      { model: 'm', tools: [{ type: 'function', function: { name: 'x', parameters: { type: 'date' } } }] },
      { model: 'm', tools: [{ type: 'function', function: { name: 'x', strict: true } as never }] },
    ];
    for (const request of bad) {
      try {
        prepareToolContext(request);
        throw new Error('expected failure');
      } catch (error) {
        expect(VeniceE2eeError.isInstance(error) && error.code).toBe('ERR_INVALID_REQUEST');
      }
    }
  });
});

describe('prompts', () => {
  it('controller prompt has the required parts for each format', () => {
    for (const format of ['hermes', 'qwen', 'glm'] as const) {
      const optional = buildControllerPrompt(context(format));
      expect(optional.startsWith('You have access to tools.')).toBe(true);
      expect(optional).toContain('TOOL_NAME');
      expect(optional).toContain('ARGUMENT_NAME');
      expect(optional).toContain('ARGUMENT_VALUE');
      expect(optional).toContain('If no tool is needed, answer normally and do not use <tool_call>.');
      expect(optional).toContain(
        'Available tools:\n[{"type":"function","function":{"name":"search","description":"Search the web","parameters":{"additionalProperties":false,',
      );
      const required = buildControllerPrompt(context(format, { required: true }));
      expect(required).not.toContain('If no tool is needed');
      expect(required).toContain('You must call at least one tool.');
      expect(optional.includes('Invalid formats')).toBe(format !== 'qwen');
    }
    expect(buildControllerPrompt(context('glm'))).toContain('<arg_key>ARGUMENT_NAME</arg_key>');
  });

  it('correction prompt truncates the invalid output at 4096 bytes on a character boundary', () => {
    const prompt = buildCorrectionPrompt(context('hermes'), 'arguments.query is required', 'é'.repeat(3000));
    expect(prompt.startsWith('Your previous response attempted a tool call, but it was invalid.')).toBe(true);
    expect(prompt).toContain('arguments.query is required');
    expect(prompt).toContain(`${'é'.repeat(2048)} [output truncated]`);
    expect(prompt).toContain('return only valid tool calls');
    expect(truncateUtf8('abc', 10)).toEqual({ text: 'abc', truncated: false });
  });

  it('appends to the first system message or inserts one', () => {
    expect(appendToSystemMessage([{ role: 'user', content: 'u' }], 'P')).toEqual([
      { role: 'system', content: 'P' },
      { role: 'user', content: 'u' },
    ]);
    expect(
      appendToSystemMessage(
        [
          { role: 'user', content: 'u' },
          { role: 'system', content: 'S' },
          { role: 'system', content: 'T' },
        ],
        'P',
      ),
    ).toEqual([
      { role: 'user', content: 'u' },
      { role: 'system', content: 'S\n\nP' },
      { role: 'system', content: 'T' },
    ]);
  });
});

describe('Hermes corpus', () => {
  it('valid outputs', () => {
    expect(
      callsOf('<tool_call>\n{"name":"search","arguments":{"query":"x"}}\n</tool_call>', 'hermes'),
    ).toEqual([['search', { query: 'x' }]]);
    expect(
      callsOf('<tool_call>{ "name" : "search" , "arguments" : { "query" : "a}b" } }</tool_call>', 'hermes'),
    ).toEqual([['search', { query: 'a}b' }]]);
    expect(
      callsOf(
        'Sure.\n<tool_call>\n{"name":"search","arguments":{"query":"a"}}\n</tool_call>\n<tool_call>\n{"name":"now","arguments":{}}\n</tool_call>',
        'hermes',
      ),
    ).toEqual([
      ['search', { query: 'a' }],
      ['now', {}],
    ]);
    expect(
      callsOf('<tool_call>{"name":"se\\u0061rch","arguments":{"query":"\\"q\\""}}</tool_call>', 'hermes'),
    ).toEqual([['search', { query: '"q"' }]]);
  });

  it('lenient: missing closing tag, trailing garbage after a balanced call', () => {
    expect(callsOf('<tool_call>\n{"name":"search","arguments":{"query":"x"}}', 'hermes')).toEqual([
      ['search', { query: 'x' }],
    ]);
    expect(callsOf('<tool_call>{"name":"search","arguments":{"query":"x"}} garbage', 'hermes')).toEqual([
      ['search', { query: 'x' }],
    ]);
    expect(
      callsOf(
        '<tool_call>{"name":"search","arguments":{"query":"x"}}}}</tool_call><tool_call>{"name":"now"',
        'hermes',
      ),
    ).toEqual([['search', { query: 'x' }]]);
    const parsed = parseHermesToolCalls(
      'a<tool_call>{"name":"now","arguments":{}}</tool_call>b<tool_call>{"name":"now","arguments":{}}</tool_call>',
    );
    expect(parsed.calls).toHaveLength(2);
    expect(parsed.normalText).toBe('ab');
  });

  it('malformed outputs are invalid', () => {
    const invalid = (text: string, overrides?: Partial<ToolContext>) =>
      expect(classifyToolOutput(text, context('hermes', overrides)).kind, text).toBe('invalid');
    invalid('<tool_call>{"arguments":{},"name":"now"}</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":{"query":"x"</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":"x"}</tool_call>');
    invalid('<tool_call>search({"query":"x"})</tool_call>');
    invalid('<tool_call>{"name":"unknown","arguments":{}}</tool_call>');
    invalid('<tool_call>{"name":"","arguments":{}}</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":{"query":"x",}}</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":{}}</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":{"query":"x","extra":1}}</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":{"query":"x","limit":1.5}}</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":{"query":"x","filters":{"lang":"fr"}}}</tool_call>');
    invalid('<tool_call>{"name":"search","arguments":{"query":"x","tags":[1]}}</tool_call>');
    invalid('<tool_call>', {});
    invalid('just text', { required: true });
    invalid(`<tool_call>{"name":"search","arguments":{"query":"${'x'.repeat(100)}"}}</tool_call>`, {
      toolCallMaxBytes: 50,
    });
  });

  it('adversarial: markers inside strings, nested braces, deep nesting, no marker', () => {
    expect(
      callsOf(
        '<tool_call>{"name":"search","arguments":{"query":"</tool_call><tool_call>"}}</tool_call>',
        'hermes',
      ),
    ).toEqual([['search', { query: '</tool_call><tool_call>' }]]);
    expect(classifyToolOutput('no marker here {"name":"search"}', context('hermes'))).toEqual({
      kind: 'text',
      text: 'no marker here {"name":"search"}',
    });
    const deep = `<tool_call>{"name":"search","arguments":{"query":"x","filters":${'['.repeat(500)}${']'.repeat(500)}}}</tool_call>`;
    expect(classifyToolOutput(deep, context('hermes')).kind).toBe('invalid');
  });

  propertyTest.prop([fc.string({ maxLength: 300 })], { numRuns: 200 })(
    'never throws on arbitrary text',
    (text) => {
      for (const format of ['hermes', 'qwen', 'glm'] as const) {
        const outcome = classifyToolOutput(`<tool_call>${text}`, context(format));
        expect(['text', 'tool_calls', 'invalid']).toContain(outcome.kind);
        classifyToolOutput(text, context(format));
      }
    },
  );
});

describe('Qwen corpus', () => {
  it('requires exactly one newline after the opening and before the closing tag', () => {
    expect(callsOf('<tool_call>\n{"name":"search","arguments":{"query":"x"}}\n</tool_call>', 'qwen')).toEqual(
      [['search', { query: 'x' }]],
    );
    expect(parseQwenToolCalls('<tool_call>{"name":"now","arguments":{}}\n</tool_call>').calls).toEqual([]);
    expect(() => parseQwenToolCalls('<tool_call>\n{"name":"now","arguments":{}}</tool_call>')).toThrow();
    expect(() => parseQwenToolCalls('<tool_call>\n\n{"name":"now","arguments":{}}\n</tool_call>')).toThrow();
    expect(() => parseQwenToolCalls('<tool_call>\n{"name":"now","arguments":{}}\n\n</tool_call>')).toThrow();
  });

  it('falls back to lenient Hermes when the native parser fails', () => {
    // no newlines: native Qwen sees plain text, Hermes fallback finds the call
    expect(callsOf('<tool_call>{"name":"now","arguments":{}}</tool_call>', 'qwen')).toEqual([['now', {}]]);
    expect(callsOf('<tool_call>\n{"name":"now","arguments":{}} </tool_call>', 'qwen')).toEqual([['now', {}]]);
    expect(classifyToolOutput('<tool_call>\n{"name":"now"}\n</tool_call>', context('qwen')).kind).toBe(
      'invalid',
    );
  });

  it('multiple calls', () => {
    const text =
      '<tool_call>\n{"name":"now","arguments":{}}\n</tool_call>\n<tool_call>\n{"name":"search","arguments":{"query":"q"}}\n</tool_call>';
    expect(callsOf(text, 'qwen')).toEqual([
      ['now', {}],
      ['search', { query: 'q' }],
    ]);
  });
});

describe('GLM corpus', () => {
  it('parses pairs and converts values by schema', () => {
    const text = [
      'Thinking done.',
      '<tool_call>search',
      '<arg_key>query</arg_key>',
      '<arg_value>  padded text  </arg_value>',
      '<arg_key>limit</arg_key>',
      '<arg_value>5</arg_value>',
      '<arg_key>exact</arg_key><arg_value>1</arg_value>',
      '<arg_key>score</arg_key><arg_value>2.5e1</arg_value>',
      '<arg_key>filters</arg_key><arg_value>{"lang":"de"}</arg_value>',
      '<arg_key>tags</arg_key><arg_value>["a","b"]</arg_value>',
      '<arg_key>maybe</arg_key><arg_value>abc</arg_value>',
      '</tool_call>',
    ].join('\n');
    expect(callsOf(text, 'glm')).toEqual([
      [
        'search',
        {
          query: 'padded text',
          limit: 5,
          exact: true,
          score: 25,
          filters: { lang: 'de' },
          tags: ['a', 'b'],
          maybe: 'abc',
        },
      ],
    ]);
    expect(parseGlmToolCalls('<tool_call>now</tool_call>').calls).toEqual([
      { name: 'now', argumentsText: '{}' },
    ]);
    expect(
      callsOf('<tool_call>search<arg_key>query</arg_key><arg_value>NULL</arg_value></tool_call>', 'glm'),
    ).toMatchObject({
      kind: 'invalid',
    });
    expect(
      parseGlmToolCalls(
        '<tool_call>search<arg_key>limit</arg_key><arg_value>x</arg_value></tool_call>',
        tools,
      ).calls[0],
    ).toEqual({
      name: 'search',
      argumentsText: '{"limit":"x"}',
    });
  });

  it('keeps model-written keys such as __proto__ and constructor as plain data', () => {
    const text =
      '<tool_call>search<arg_key>__proto__</arg_key><arg_value>{"polluted": true}</arg_value>' +
      '<arg_key>constructor</arg_key><arg_value>x</arg_value></tool_call>';
    expect(parseGlmToolCalls(text, tools).calls[0]).toEqual({
      name: 'search',
      argumentsText: '{"__proto__":"{\\"polluted\\": true}","constructor":"x"}',
    });
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('only whitespace may separate calls; other text ends parsing', () => {
    expect(callsOf('<tool_call>now</tool_call>\n  <tool_call>now</tool_call>', 'glm')).toEqual([
      ['now', {}],
      ['now', {}],
    ]);
    expect(
      parseGlmToolCalls('<tool_call>now</tool_call> text <tool_call>search</tool_call>').calls,
    ).toHaveLength(1);
  });

  it('malformed GLM falls back to Hermes, else invalid', () => {
    expect(callsOf('<tool_call>{"name":"now","arguments":{}}</tool_call>', 'glm')).toEqual([['now', {}]]);
    expect(
      classifyToolOutput('<tool_call>search\n<arg_key>query</arg_key>\n</tool_call>', context('glm')).kind,
    ).toBe('invalid');
    expect(
      classifyToolOutput('<tool_call>search<arg_key>query</arg_key><arg_value>x</arg_value>', context('glm'))
        .kind,
    ).toBe('invalid');
    expect(classifyToolOutput('<tool_call>\n</tool_call>', context('glm')).kind).toBe('invalid');
    expect(classifyToolOutput('<tool_call>unknown_tool</tool_call>', context('glm')).kind).toBe('invalid');
  });
});

describe('schema subset', () => {
  it('checks schemas', () => {
    expect(checkSchemaSubset(tools[0]!.function.parameters)).toBeUndefined();
    expect(checkSchemaSubset({ type: [] })).toBeDefined();
    expect(checkSchemaSubset({ type: 'object', properties: { a: { type: 'float' } } })).toBeDefined();
    expect(checkSchemaSubset({ required: 'a' })).toBeDefined();
    expect(checkSchemaSubset({ items: [{ type: 'string' }] })).toBeDefined();
    expect(checkSchemaSubset({ additionalProperties: 'no' })).toBeDefined();
    expect(checkSchemaSubset({ enum: 'a' })).toBeDefined();
    expect(checkSchemaSubset({ type: 'string', format: 'date', minLength: 3 })).toBeUndefined();
  });

  it('validates values with reference-style messages', () => {
    const schema = tools[0]!.function.parameters;
    expect(validateAgainstSchema({ query: 'x' }, schema)).toBeUndefined();
    expect(validateAgainstSchema({}, schema)).toBe('arguments.query is required');
    expect(validateAgainstSchema({ query: 'x', z: 1 }, schema)).toBe('arguments.z is not allowed by schema');
    expect(validateAgainstSchema({ query: 'x', limit: 1.5 }, schema)).toBe(
      'arguments.limit expected type integer, got number',
    );
    expect(validateAgainstSchema({ query: 'x', maybe: true }, schema)).toBe(
      'arguments.maybe expected type integer or string, got boolean',
    );
    expect(validateAgainstSchema({ query: 'x', tags: ['a', 2] }, schema)).toBe(
      'arguments.tags[1] expected type string, got integer',
    );
    expect(validateAgainstSchema(5, { type: 'number' })).toBeUndefined();
    expect(validateAgainstSchema(null, { type: ['null', 'string'] })).toBeUndefined();
    expect(
      validateAgainstSchema({ a: { b: 1 } }, { additionalProperties: { type: 'object' } }),
    ).toBeUndefined();
    expect(validateAgainstSchema({ a: 1 }, { additionalProperties: { type: 'object' } })).toBe(
      'arguments.a expected type object, got integer',
    );
  });

  it('stableStringify sorts keys recursively', () => {
    expect(stableStringify({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});

describe('ToolStreamScanner', () => {
  it('holds back a possible marker prefix and buffers from the marker on', () => {
    const scanner = new ToolStreamScanner();
    expect(scanner.push('Hello <to')).toBe('Hello ');
    expect(scanner.push('day')).toBe('<today');
    expect(scanner.push(' and <tool_')).toBe(' and ');
    expect(scanner.push('call>{"x"')).toBe('');
    expect(scanner.buffering).toBe(true);
    expect(scanner.push(' more')).toBe('');
    expect(scanner.finish()).toEqual({ tail: '', toolText: '<tool_call>{"x" more' });
  });

  propertyTest.prop([fc.array(fc.string({ maxLength: 12 }), { maxLength: 20 })], { numRuns: 200 })(
    'emitted text + tail + buffer reproduces the input',
    (pieces) => {
      const scanner = new ToolStreamScanner();
      let emitted = '';
      for (const piece of pieces) emitted += scanner.push(piece);
      const { tail, toolText } = scanner.finish();
      expect(emitted + tail + (toolText ?? '')).toBe(pieces.join(''));
      expect(emitted.includes('<tool_call>')).toBe(false);
    },
  );
});
