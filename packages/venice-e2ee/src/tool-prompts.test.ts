import { describe, expect, it } from 'vitest';
import { buildControllerPrompt, buildCorrectionPrompt } from './tool-prompts.js';
import { classifyToolOutput, type ToolContext, type ToolFormat } from './tools.js';
import type { ToolDefinition } from './types.js';

// Tools that have nothing to do with weather: the prompts must show these, never an unrelated example tool.
const tools: ToolDefinition[] = [
  {
    type: 'function',
    function: {
      name: 'lookup_invoice',
      description: 'Find an invoice',
      parameters: {
        type: 'object',
        properties: {
          invoice_id: { type: 'string' },
          year: { type: 'integer' },
          currency: { type: 'string', enum: ['EUR', 'USD'] },
          archived: { type: 'boolean' },
        },
        required: ['invoice_id', 'currency'],
      },
    },
  },
  { type: 'function', function: { name: 'list_customers' } },
];

function context(format: ToolFormat, overrides: Partial<ToolContext> = {}): ToolContext {
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

const FORMATS: readonly ToolFormat[] = ['hermes', 'qwen', 'glm'];

/** The rules the venice-e2ee-proxy 0.1.1 controller prompts state (src/tools.rs), per format, in our words. */
const CONTROLLER_RULES: Record<ToolFormat, readonly string[]> = {
  hermes: [
    'exactly one JSON object and nothing else',
    'exactly two top-level keys: "name" (the tool name as a JSON string) and "arguments" (a JSON object',
    'Valid example with one call:',
    'Valid example with two calls:',
    'Invalid formats (never use them):',
    'must match one of the available tool names exactly',
    'Put the tool name in the "name" field and the arguments in the "arguments" object',
    'Never write arguments directly after the tool name',
    'never use function-call syntax such as TOOL_NAME(...)',
    '"arguments" must be valid JSON',
    "must satisfy the tool's schema",
    'Write one <tool_call> block per call',
    'Do not wrap tool calls in markdown code fences',
    'Do not add explanations',
  ],
  qwen: [
    'a newline right after <tool_call>',
    'exactly one JSON object and nothing else',
    'exactly two top-level keys: "name" (the tool name as a JSON string) and "arguments" (a JSON object',
    'Valid example with one call:',
    'must match one of the available tool names exactly',
    'Put the tool name in the "name" field and the arguments in the "arguments" object',
    'never use function-call syntax such as TOOL_NAME(...)',
    '"arguments" must be valid JSON',
    "must satisfy the tool's schema",
    'Write one <tool_call> block per call',
    'Do not wrap tool calls in markdown code fences',
    'Do not add explanations',
  ],
  glm: [
    'First the exact tool name as plain text',
    'one <arg_key>/<arg_value> pair per argument',
    '<arg_key> holds only the argument name, <arg_value> only the raw argument value',
    'compact JSON inside <arg_value>',
    'Valid example with one call:',
    'Valid example with two calls:',
    'Invalid formats (never use them):',
    'must match one of the available tool names exactly',
    'Write no JSON inside <tool_call> except object and array values inside <arg_value>',
    'Never use function-call syntax such as TOOL_NAME(...)',
    'Never use the JSON format with "name" and "arguments" keys',
    "Argument names and values must satisfy the tool's schema",
    'Write one <tool_call> block per call',
    'Do not wrap tool calls in markdown code fences',
    'Do not add explanations',
  ],
};

describe('controller prompt examples come from the request tools', () => {
  for (const format of FORMATS) {
    it(`${format}: no unrelated example tool, the request's own names instead`, () => {
      const prompt = buildControllerPrompt(context(format));
      expect(prompt).not.toMatch(/get_weather|Paris|Rome|city/);
      const examples = prompt.slice(0, prompt.indexOf('Available tools:'));
      if (format === 'glm') {
        expect(examples).toContain(
          '<tool_call>lookup_invoice\n<arg_key>invoice_id</arg_key>\n<arg_value>ARGUMENT_VALUE</arg_value>\n<arg_key>currency</arg_key>\n<arg_value>EUR</arg_value>\n</tool_call>',
        );
        expect(examples).toContain('<tool_call>list_customers\n</tool_call>');
      } else {
        expect(examples).toContain(
          '<tool_call>\n{"name":"lookup_invoice","arguments":{"invoice_id":"ARGUMENT_VALUE","currency":"EUR"}}\n</tool_call>',
        );
        if (format === 'hermes') {
          expect(examples).toContain('<tool_call>\n{"name":"list_customers","arguments":{}}\n</tool_call>');
        }
      }
    });

    it(`${format}: states every rule of the reference prompts`, () => {
      const optional = buildControllerPrompt(context(format));
      for (const rule of CONTROLLER_RULES[format]) expect(optional).toContain(rule);
      expect(optional.startsWith('You have access to tools.')).toBe(true);
      expect(optional).toContain('If a tool is needed, do not answer the user directly');
      expect(optional).toContain('If no tool is needed, answer normally and do not use <tool_call>.');
      const required = buildControllerPrompt(context(format, { required: true }));
      expect(required).toContain('You must call at least one tool. Do not answer the user directly');
      expect(required).not.toContain('If no tool is needed');
    });

    it(`${format}: the valid example it shows is accepted by the parser and the schema check`, () => {
      const prompt = buildControllerPrompt(context(format));
      const start =
        prompt.indexOf('Valid example with one call:\n') + 'Valid example with one call:\n'.length;
      const example = prompt.slice(start, prompt.indexOf('</tool_call>', start) + '</tool_call>'.length);
      const outcome = classifyToolOutput(example, context(format));
      expect(outcome.kind).toBe('tool_calls');
    });
  }

  it('invalid-format examples use the request tool, and the Hermes list names the flat "tool" shape', () => {
    const hermes = buildControllerPrompt(context('hermes'));
    expect(hermes).toContain('- lookup_invoice({"invoice_id":"ARGUMENT_VALUE","currency":"EUR"})');
    expect(hermes).toContain('- {"tool":"lookup_invoice","invoice_id":"ARGUMENT_VALUE","currency":"EUR"}');
    const glm = buildControllerPrompt(context('glm'));
    expect(glm).toContain(
      '- <tool_call>{"name":"lookup_invoice","arguments":{"invoice_id":"ARGUMENT_VALUE","currency":"EUR"}}</tool_call>',
    );
  });

  it('typed placeholders: integers, booleans, enums and untyped arguments', () => {
    const typed: ToolDefinition[] = [
      {
        type: 'function',
        function: {
          name: 'set_limits',
          parameters: {
            type: 'object',
            properties: { count: { type: 'integer' }, strict: { type: 'boolean' }, note: {} },
            required: ['count', 'strict', 'note'],
          },
        },
      },
    ];
    const prompt = buildControllerPrompt(context('hermes', { tools: typed }));
    expect(prompt).toContain(
      '{"name":"set_limits","arguments":{"count":1,"strict":true,"note":"ARGUMENT_VALUE"}}',
    );
  });
});

describe('correction prompt', () => {
  for (const format of FORMATS) {
    it(`${format}: demands tool calls only, with the request's tools as example`, () => {
      const prompt = buildCorrectionPrompt(context(format), 'arguments.invoice_id is required', 'oops');
      expect(prompt).not.toMatch(/get_weather|Paris/);
      expect(prompt).toContain('Validation error: arguments.invoice_id is required');
      expect(prompt).toContain('Invalid output:\noops');
      expect(prompt).toContain('return only valid tool calls');
      expect(prompt).toContain('Do not answer the user directly.');
      expect(prompt).toContain(format === 'glm' ? '<tool_call>lookup_invoice' : '"name":"lookup_invoice"');
      if (format !== 'glm') expect(prompt).toContain('"arguments" must be a JSON object');
      expect(prompt.endsWith(']')).toBe(true);
    });
  }
});
