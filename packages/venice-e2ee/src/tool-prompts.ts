import { stableStringify, type ToolContext, type ToolFormat, truncateUtf8 } from './tools.js';
import type { ToolDefinition } from './types.js';

/**
 * The controller and correction prompts of tool-call emulation (spec sections 6.3 and 6.4). They state every rule
 * the `venice-e2ee-proxy` 0.1.1 prompts state, in this project's own words, and their examples are built from the
 * request's own tools (real tool and argument names, placeholder values by type), never from an unrelated
 * example tool that would steer the model towards a function the client does not offer.
 */

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';
/** Placeholder string of the examples and format blocks. */
const VALUE = 'ARGUMENT_VALUE';
/** Most arguments shown in one example call. */
const MAX_EXAMPLE_ARGUMENTS = 3;

/** The compact JSON of the tool definitions shown to the model (schema keys sorted). */
export function toolsJson(tools: readonly ToolDefinition[]): string {
  const parts = tools.map((tool) => {
    let fn = `{"name":${JSON.stringify(tool.function.name)}`;
    if (tool.function.description !== undefined)
      fn += `,"description":${JSON.stringify(tool.function.description)}`;
    if (tool.function.parameters !== undefined)
      fn += `,"parameters":${stableStringify(tool.function.parameters)}`;
    return `{"type":"function","function":${fn}}}`;
  });
  return `[${parts.join(',')}]`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A placeholder value that has the argument's type (its first enum value when it has an enum). */
function placeholder(schema: unknown): unknown {
  if (!isObject(schema)) return VALUE;
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  const declared = schema['type'];
  const type = Array.isArray(declared) ? declared.find((entry) => entry !== 'null') : declared;
  switch (type) {
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    case 'null':
      return null;
    default:
      return VALUE;
  }
}

/** Example arguments of a tool: its required arguments (else its first one), at most three, typed placeholders. */
function exampleArguments(tool: ToolDefinition): Array<[name: string, value: unknown]> {
  const parameters = tool.function.parameters;
  const properties =
    isObject(parameters) && isObject(parameters['properties']) ? parameters['properties'] : {};
  const names = Object.keys(properties);
  const required =
    isObject(parameters) && Array.isArray(parameters['required']) ? parameters['required'] : [];
  const chosen = required.filter((name): name is string => typeof name === 'string' && names.includes(name));
  const picked = (chosen.length > 0 ? chosen : names.slice(0, 1)).slice(0, MAX_EXAMPLE_ARGUMENTS);
  return picked.map((name) => [name, placeholder(properties[name])]);
}

function jsonCall(tool: ToolDefinition): string {
  const args = Object.fromEntries(exampleArguments(tool));
  return `{"name":${JSON.stringify(tool.function.name)},"arguments":${JSON.stringify(args)}}`;
}

function glmCall(tool: ToolDefinition): string {
  const lines = [`${OPEN}${tool.function.name}`];
  for (const [name, value] of exampleArguments(tool)) {
    lines.push(`<arg_key>${name}</arg_key>`);
    lines.push(`<arg_value>${typeof value === 'string' ? value : JSON.stringify(value)}</arg_value>`);
  }
  lines.push(CLOSE);
  return lines.join('\n');
}

/** One example call in the format, for `tool`. */
function exampleCall(format: ToolFormat, tool: ToolDefinition): string {
  return format === 'glm' ? glmCall(tool) : `${OPEN}\n${jsonCall(tool)}\n${CLOSE}`;
}

/** The first and second tool of the request (the first twice when there is only one). */
function exampleTools(tools: readonly ToolDefinition[]): [ToolDefinition, ToolDefinition] {
  const fallback: ToolDefinition = { type: 'function', function: { name: 'TOOL_NAME' } };
  const first = tools[0] ?? fallback;
  return [first, tools[1] ?? first];
}

function formatBlock(format: ToolFormat): string {
  switch (format) {
    case 'hermes':
      return [
        'Required format for every tool call:',
        OPEN,
        '{"name":"TOOL_NAME","arguments":{"ARGUMENT_NAME":"ARGUMENT_VALUE"}}',
        CLOSE,
        `Inside each ${OPEN} block write exactly one JSON object and nothing else. It has exactly two top-level keys: "name" (the tool name as a JSON string) and "arguments" (a JSON object with the arguments).`,
      ].join('\n');
    case 'qwen':
      return [
        `Required format for every tool call (a newline right after ${OPEN} and right before ${CLOSE}):`,
        OPEN,
        '{"name":"TOOL_NAME","arguments":{"ARGUMENT_NAME":"ARGUMENT_VALUE"}}',
        CLOSE,
        `Inside each ${OPEN} block write exactly one JSON object and nothing else. It has exactly two top-level keys: "name" (the tool name as a JSON string) and "arguments" (a JSON object with the arguments).`,
      ].join('\n');
    case 'glm':
      return [
        'Required format for every tool call:',
        `${OPEN}TOOL_NAME`,
        '<arg_key>ARGUMENT_NAME</arg_key>',
        '<arg_value>ARGUMENT_VALUE</arg_value>',
        CLOSE,
        `Inside each ${OPEN} block:`,
        '- First the exact tool name as plain text.',
        '- Then one <arg_key>/<arg_value> pair per argument.',
        '- <arg_key> holds only the argument name, <arg_value> only the raw argument value.',
        '- An object or array value is written as compact JSON inside <arg_value>.',
      ].join('\n');
  }
}

function examples(format: ToolFormat, tools: readonly ToolDefinition[]): string {
  const [first, second] = exampleTools(tools);
  const single = `Valid example with one call:\n${exampleCall(format, first)}`;
  if (format === 'qwen') return single;
  return `${single}\n\nValid example with two calls:\n${exampleCall(format, first)}\n${exampleCall(format, second)}`;
}

function invalidFormats(format: ToolFormat, tools: readonly ToolDefinition[]): string | undefined {
  if (format === 'qwen') return undefined;
  const [tool] = exampleTools(tools);
  const name = tool.function.name;
  const args = JSON.stringify(Object.fromEntries(exampleArguments(tool)));
  const lines = [
    'Invalid formats (never use them):',
    `- ${OPEN}${name}(${args})${CLOSE}`,
    `- ${OPEN}${name}${args}${CLOSE}`,
    `- ${name}(${args})`,
  ];
  if (format === 'hermes') {
    const flat = { tool: name, ...Object.fromEntries(exampleArguments(tool)) };
    lines.push(`- ${JSON.stringify(flat)}`);
  } else {
    lines.push(`- ${OPEN}${jsonCall(tool).replace(/\n/g, '')}${CLOSE}`);
  }
  return lines.join('\n');
}

function rules(format: ToolFormat, required: boolean, correction: boolean): string {
  const lines = ['Rules:', '- The tool name must match one of the available tool names exactly.'];
  if (format === 'glm') {
    lines.push(
      `- Write no JSON inside ${OPEN} except object and array values inside <arg_value>.`,
      '- Never use function-call syntax such as TOOL_NAME(...).',
      '- Never use the JSON format with "name" and "arguments" keys.',
      "- Argument names and values must satisfy the tool's schema.",
    );
  } else {
    lines.push(
      '- Put the tool name in the "name" field and the arguments in the "arguments" object.',
      '- Never write arguments directly after the tool name, and never use function-call syntax such as TOOL_NAME(...).',
      correction ? '- "arguments" must be a JSON object.' : '- "arguments" must be valid JSON.',
      "- The arguments must satisfy the tool's schema.",
    );
  }
  lines.push(
    `- Write one ${OPEN} block per call.`,
    '- Do not wrap tool calls in markdown code fences.',
    '- Do not add explanations around tool calls.',
  );
  if (correction) lines.push('- Do not answer the user directly.');
  else if (!required) lines.push(`- If no tool is needed, answer normally and do not use ${OPEN}.`);
  return lines.join('\n');
}

/**
 * The controller system prompt of spec section 6.3: "You have access to tools.", the requirement line, the
 * format block, examples built from the request's tools, invalid formats (Hermes, GLM), rules and the tool list.
 * @example
 * ```ts
 * const prompt = buildControllerPrompt(prepareToolContext(request, settings)!);
 * ```
 */
export function buildControllerPrompt(context: ToolContext): string {
  const requirement = context.required
    ? 'You must call at least one tool. Do not answer the user directly: write each tool call in the format below and nothing else.'
    : 'If a tool is needed, do not answer the user directly: write each tool call in the format below and nothing else.';
  return [
    'You have access to tools.',
    requirement,
    formatBlock(context.format),
    examples(context.format, context.tools),
    invalidFormats(context.format, context.tools),
    rules(context.format, context.required, false),
    `Available tools:\n${toolsJson(context.tools)}`,
  ]
    .filter((part): part is string => part !== undefined)
    .join('\n\n');
}

/**
 * The correction prompt of spec section 6.4: the validation error, the invalid output (truncated to 4096
 * bytes with ` [output truncated]`), the instruction to return only valid tool calls, the format with an example
 * from the request's tools, the invalid formats and rules, and the tools JSON.
 * @example
 * ```ts
 * const prompt = buildCorrectionPrompt(context, 'arguments.city is required', previousOutput);
 * ```
 */
export function buildCorrectionPrompt(
  context: ToolContext,
  validationError: string,
  invalidOutput: string,
): string {
  const { text, truncated } = truncateUtf8(invalidOutput, 4096);
  const [tool] = exampleTools(context.tools);
  return [
    'Your previous response attempted a tool call, but it was invalid.',
    `Validation error: ${validationError}`,
    `Invalid output:\n${text}${truncated ? ' [output truncated]' : ''}`,
    'Try again and return only valid tool calls in the required format, with no other text.',
    formatBlock(context.format),
    `Valid example:\n${exampleCall(context.format, tool)}`,
    invalidFormats(context.format, context.tools),
    rules(context.format, true, true),
    `Available tools:\n${toolsJson(context.tools)}`,
  ]
    .filter((part): part is string => part !== undefined)
    .join('\n\n');
}
