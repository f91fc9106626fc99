import { utf8ToBytes } from '@confidential-ai/bytes';
import { VeniceE2eeError } from './errors.js';
import type { ChatRequest, ToolCall, ToolDefinition } from './types.js';

/** The three tool-call prompt formats (spec section 6.2). */
export type ToolFormat = 'hermes' | 'qwen' | 'glm';

/** The opening marker of a tool call in every format. */
export const TOOL_CALL_MARKER = '<tool_call>';
const TOOL_CALL_END = '</tool_call>';

/**
 * Selects the format from the model id: contains `glm` → GLM XML; else contains `qwen` → Qwen XML-wrapped
 * JSON; else Hermes JSON.
 */
export function selectToolFormat(model: string): ToolFormat {
  const id = model.toLowerCase();
  if (id.includes('glm')) return 'glm';
  if (id.includes('qwen')) return 'qwen';
  return 'hermes';
}

/** Tool emulation settings (the `[tools]` section of the proxy configuration). */
export interface ToolSettings {
  /** Enable emulation. Default true. */
  enabled?: boolean;
  /** `emulated` (default) or `none` (tools ignored). */
  mode?: 'emulated' | 'none';
  /** Extra upstream attempts with a correction prompt. Default 2. */
  maxRetries?: number;
  /** Maximum size of a model output (or buffered tool-call text) in bytes. Default 65536. */
  toolCallMaxBytes?: number;
  /** Validate schemas and arguments. Default true. */
  validateJsonSchema?: boolean;
  /**
   * A buffered (non-streaming) tool-emulated attempt must finish within this time, else it counts as an
   * invalid attempt ("tool-emulated completion did not finish within …"). Default 30000 ms.
   */
  markerTimeoutMs?: number;
}

/** Everything the emulation needs about one request's tools. */
export interface ToolContext {
  /** The prompt format. */
  format: ToolFormat;
  /** The offered tools (all, or the one forced by `tool_choice`). */
  tools: ToolDefinition[];
  /** A tool call is mandatory (`required` or a forced function). */
  required: boolean;
  /** Extra attempts allowed. */
  maxRetries: number;
  /** Output size limit in bytes. */
  toolCallMaxBytes: number;
  /** Validate arguments against the schemas. */
  validateJsonSchema: boolean;
  /** Time limit of one buffered attempt in ms. */
  markerTimeoutMs: number;
}

function invalidRequest(message: string): VeniceE2eeError {
  return new VeniceE2eeError('ERR_INVALID_REQUEST', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Serializes JSON with object keys sorted by code unit order and no whitespace (the shape serde_json gives
 * without `preserve_order`).
 */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => stableStringify(item)).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const SCHEMA_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean', 'null']);

/**
 * Checks that a parameters schema uses the supported subset (spec section 6.6): `type` (a known name or a
 * non-empty array of them), `properties` (object of schemas), `required` (array of strings), `items` (one
 * schema), `additionalProperties` (bool or schema), `enum` (array). Other keywords are ignored.
 * @returns an error text, or undefined when the schema is supported.
 */
export function checkSchemaSubset(schema: unknown, path = 'parameters'): string | undefined {
  if (!isObject(schema)) return `${path} must be an object`;
  const type = schema['type'];
  if (type !== undefined) {
    const names = Array.isArray(type) ? type : [type];
    if (names.length === 0) return `${path}.type must not be empty`;
    for (const name of names) {
      if (typeof name !== 'string' || !SCHEMA_TYPES.has(name)) return `${path}.type has an unsupported value`;
    }
  }
  const properties = schema['properties'];
  if (properties !== undefined) {
    if (!isObject(properties)) return `${path}.properties must be an object`;
    for (const [key, child] of Object.entries(properties)) {
      const error = checkSchemaSubset(child, `${path}.properties.${key}`);
      if (error) return error;
    }
  }
  const required = schema['required'];
  if (
    required !== undefined &&
    (!Array.isArray(required) || required.some((item) => typeof item !== 'string'))
  ) {
    return `${path}.required must be an array of strings`;
  }
  const items = schema['items'];
  if (items !== undefined) {
    const error = checkSchemaSubset(items, `${path}.items`);
    if (error) return error;
  }
  const additional = schema['additionalProperties'];
  if (additional !== undefined && typeof additional !== 'boolean') {
    const error = checkSchemaSubset(additional, `${path}.additionalProperties`);
    if (error) return error;
  }
  if (schema['enum'] !== undefined && !Array.isArray(schema['enum'])) return `${path}.enum must be an array`;
  return undefined;
}

function typeOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOfValue(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/**
 * Validates a value against a schema of the supported subset. Integer checks use `Number.isInteger`, so a
 * JSON `5.0` counts as an integer here (serde_json would reject it; spec section 10.1 records the difference).
 * @returns an error text such as `arguments.query is required`, or undefined.
 */
export function validateAgainstSchema(
  value: unknown,
  schema: unknown,
  path = 'arguments',
): string | undefined {
  if (!isObject(schema)) return undefined;
  const type = schema['type'];
  const types = type === undefined ? [] : ((Array.isArray(type) ? type : [type]) as string[]);
  if (types.length > 0 && !types.some((name) => matchesType(value, name))) {
    return `${path} expected type ${types.join(' or ')}, got ${typeOfValue(value)}`;
  }
  if (Array.isArray(schema['enum']) && !schema['enum'].some((member) => deepEqual(member, value))) {
    return `${path} is not one of the allowed values`;
  }
  const objectRules =
    types.includes('object') ||
    schema['properties'] !== undefined ||
    schema['required'] !== undefined ||
    schema['additionalProperties'] !== undefined;
  if (objectRules && isObject(value)) {
    const properties = isObject(schema['properties']) ? schema['properties'] : {};
    for (const key of Array.isArray(schema['required']) ? (schema['required'] as string[]) : []) {
      if (!(key in value)) return `${path}.${key} is required`;
    }
    for (const [key, child] of Object.entries(value)) {
      if (key in properties) {
        const error = validateAgainstSchema(child, properties[key], `${path}.${key}`);
        if (error) return error;
      } else if (schema['additionalProperties'] === false) {
        return `${path}.${key} is not allowed by schema`;
      } else if (isObject(schema['additionalProperties'])) {
        const error = validateAgainstSchema(child, schema['additionalProperties'], `${path}.${key}`);
        if (error) return error;
      }
    }
  }
  const arrayRules = types.includes('array') || schema['items'] !== undefined;
  if (arrayRules && Array.isArray(value) && isObject(schema['items'])) {
    for (let index = 0; index < value.length; index++) {
      const error = validateAgainstSchema(value[index], schema['items'], `${path}[${index}]`);
      if (error) return error;
    }
  }
  return undefined;
}

/**
 * Builds the tool context of a request (spec section 6.1), or undefined when emulation is off (disabled,
 * mode `none`, `tool_choice: "none"`, or no tools with `auto`).
 * @throws VeniceE2eeError `ERR_INVALID_REQUEST` for malformed tools, duplicate names, unsupported schemas, a
 *   forced function that does not exist, or `required` without tools.
 */
export function prepareToolContext(
  request: Pick<ChatRequest, 'model' | 'tools' | 'tool_choice'>,
  settings: ToolSettings = {},
): ToolContext | undefined {
  if (settings.enabled === false || settings.mode === 'none') return undefined;
  const choice = request.tool_choice ?? 'auto';
  if (choice === 'none') return undefined;
  const tools = request.tools ?? [];
  if (!Array.isArray(tools)) throw invalidRequest('tools must be an array');
  const names = new Set<string>();
  for (const [index, tool] of tools.entries()) {
    if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function)) {
      throw invalidRequest(`tools[${index}] must be {type:"function", function:{...}}`);
    }
    for (const key of Object.keys(tool))
      if (key !== 'type' && key !== 'function')
        throw invalidRequest(`tools[${index}].${key} is not supported`);
    for (const key of Object.keys(tool.function)) {
      if (!['name', 'description', 'parameters'].includes(key))
        throw invalidRequest(`tools[${index}].function.${key} is not supported`);
    }
    const name = tool.function.name;
    if (typeof name !== 'string' || name.length === 0)
      throw invalidRequest(`tools[${index}].function.name must be a non-empty string`);
    if (tool.function.description !== undefined && typeof tool.function.description !== 'string') {
      throw invalidRequest(`tools[${index}].function.description must be a string`);
    }
    if (names.has(name)) throw invalidRequest(`duplicate tool name ${JSON.stringify(name)}`);
    names.add(name);
    if (settings.validateJsonSchema !== false && tool.function.parameters !== undefined) {
      const error = checkSchemaSubset(tool.function.parameters);
      if (error)
        throw invalidRequest(
          `tool ${JSON.stringify(name)} has an unsupported or invalid parameters schema: ${error}`,
        );
    }
  }
  let selected = tools;
  let required: boolean;
  if (choice === 'auto') required = false;
  else if (choice === 'required') required = true;
  else if (
    isObject(choice) &&
    choice.type === 'function' &&
    isObject(choice.function) &&
    typeof choice.function.name === 'string'
  ) {
    const forced = choice.function.name;
    selected = tools.filter((tool) => tool.function.name === forced);
    if (tools.length > 0 && selected.length === 0)
      throw invalidRequest(`tool_choice names an unknown tool ${JSON.stringify(forced)}`);
    required = true;
  } else {
    throw invalidRequest('tool_choice must be auto, none, required or {type:"function", function:{name}}');
  }
  if (tools.length === 0) {
    if (required) throw invalidRequest('tool_choice requires at least one function tool');
    return undefined;
  }
  const maxRetries = settings.maxRetries ?? 2;
  const toolCallMaxBytes = settings.toolCallMaxBytes ?? 65_536;
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new RangeError('maxRetries must be a non-negative integer');
  if (!Number.isInteger(toolCallMaxBytes) || toolCallMaxBytes <= 0)
    throw new RangeError('toolCallMaxBytes must be positive');
  const markerTimeoutMs = settings.markerTimeoutMs ?? 30_000;
  if (!Number.isFinite(markerTimeoutMs) || markerTimeoutMs <= 0)
    throw new RangeError('markerTimeoutMs must be positive');
  return {
    format: selectToolFormat(request.model),
    tools: selected,
    required,
    maxRetries,
    toolCallMaxBytes,
    validateJsonSchema: settings.validateJsonSchema !== false,
    markerTimeoutMs,
  };
}

/** Truncates UTF-8 text to at most `maxBytes` bytes on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (utf8ToBytes(text).length <= maxBytes) return { text, truncated: false };
  let bytes = 0;
  let end = 0;
  for (const character of text) {
    const size = utf8ToBytes(character).length;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += character.length;
  }
  return { text: text.slice(0, end), truncated: true };
}

/**
 * Appends `prompt` (after a blank line) to the first `system` message, or inserts a new `system` message at
 * index 0 (spec section 6.3).
 */
export function appendToSystemMessage<T extends { role: string; content: string }>(
  messages: readonly T[],
  prompt: string,
): Array<{ role: string; content: string }> {
  const out = messages.map((message) => ({ role: message.role, content: message.content }));
  const system = out.find((message) => message.role === 'system');
  if (system) system.content = system.content.length > 0 ? `${system.content}\n\n${prompt}` : prompt;
  else out.unshift({ role: 'system', content: prompt });
  return out;
}

/** A tool call as parsed from model text, before validation. */
export interface ParsedToolCall {
  /** Function name. */
  name: string;
  /** Raw argument JSON text (Hermes/Qwen) or serialized converted values (GLM). */
  argumentsText: string;
}

/** The result of parsing model text. */
export interface ParsedOutput {
  /** Text before the first call (and between calls where the format allows). */
  normalText: string;
  /** Calls in order. */
  calls: ParsedToolCall[];
}

/** A parse failure of a tool-call block. */
export class ToolParseError extends Error {
  /** @param message - What is wrong. */
  constructor(message: string) {
    super(message);
    this.name = 'ToolParseError';
  }
}

function skipWhitespace(text: string, position: number): number {
  let at = position;
  while (at < text.length && /\s/.test(text[at]!)) at++;
  return at;
}

function readJsonString(text: string, position: number): { value: string; end: number } {
  if (text[position] !== '"') throw new ToolParseError('expected a JSON string');
  let at = position + 1;
  while (at < text.length) {
    const character = text[at]!;
    if (character === '\\') at += 2;
    else if (character === '"') {
      const raw = text.slice(position, at + 1);
      try {
        return { value: JSON.parse(raw) as string, end: at + 1 };
      } catch {
        throw new ToolParseError('invalid JSON string');
      }
    } else at++;
  }
  throw new ToolParseError('incomplete Hermes tool call');
}

/** Scans a balanced JSON object starting at `position`; returns its end (exclusive), or -1 when incomplete. */
function scanJsonObject(text: string, position: number): number {
  if (text[position] !== '{') throw new ToolParseError('arguments must be a JSON object');
  let depth = 0;
  let inString = false;
  for (let at = position; at < text.length; at++) {
    const character = text[at]!;
    if (inString) {
      if (character === '\\') at++;
      else if (character === '"') inString = false;
      continue;
    }
    if (character === '"') inString = true;
    else if (character === '{' || character === '[') depth++;
    else if (character === '}' || character === ']') {
      depth--;
      if (depth === 0) return at + 1;
    }
  }
  return -1;
}

interface JsonCallHead {
  name: string;
  argumentsText: string;
  /** Position right after the arguments object. */
  end: number;
}

function readJsonCallHead(text: string, start: number): JsonCallHead {
  let at = skipWhitespace(text, start);
  if (at >= text.length) throw new ToolParseError('incomplete Hermes tool call');
  if (text[at] !== '{') throw new ToolParseError('tool call must be a JSON object');
  at = skipWhitespace(text, at + 1);
  if (at >= text.length) throw new ToolParseError('incomplete Hermes tool call');
  const firstKey = readJsonString(text, at);
  if (firstKey.value !== 'name') throw new ToolParseError('the first key of a tool call must be "name"');
  at = skipWhitespace(text, firstKey.end);
  if (text[at] !== ':') throw new ToolParseError('expected ":" after "name"');
  at = skipWhitespace(text, at + 1);
  const name = readJsonString(text, at);
  at = skipWhitespace(text, name.end);
  if (at >= text.length) throw new ToolParseError('incomplete Hermes tool call');
  if (text[at] !== ',') throw new ToolParseError('expected "," after the tool name');
  at = skipWhitespace(text, at + 1);
  const secondKey = readJsonString(text, at);
  if (secondKey.value !== 'arguments')
    throw new ToolParseError('the second key of a tool call must be "arguments"');
  at = skipWhitespace(text, secondKey.end);
  if (text[at] !== ':') throw new ToolParseError('expected ":" after "arguments"');
  at = skipWhitespace(text, at + 1);
  if (at >= text.length) throw new ToolParseError('incomplete Hermes tool call');
  const end = scanJsonObject(text, at);
  if (end < 0) throw new ToolParseError('incomplete Hermes tool call');
  return { name: name.value, argumentsText: text.slice(at, end), end };
}

/**
 * Parses Hermes tool calls with the lenient wrapper of spec section 6.5.5: `<tool_call>` + `{"name": ..,
 * "arguments": {..}}` + `</tool_call>`; once a call's arguments are balanced, anything odd after them (a
 * missing `}` or `</tool_call>`, trailing garbage) keeps the call and ends parsing.
 * @throws ToolParseError for a call whose name or arguments cannot be read.
 */
export function parseHermesToolCalls(text: string): ParsedOutput {
  const first = text.indexOf(TOOL_CALL_MARKER);
  if (first < 0) return { normalText: text, calls: [] };
  const calls: ParsedToolCall[] = [];
  let normalText = text.slice(0, first);
  let position = first;
  while (position >= 0 && position < text.length) {
    let head: JsonCallHead;
    try {
      head = readJsonCallHead(text, position + TOOL_CALL_MARKER.length);
    } catch (error) {
      // lenient: a parse error after a complete call drains the rest
      if (calls.length > 0) break;
      throw error;
    }
    calls.push({ name: head.name, argumentsText: head.argumentsText });
    // strict continuation: "}" immediately, optional whitespace, "</tool_call>"
    if (text[head.end] !== '}') break;
    const afterBrace = skipWhitespace(text, head.end + 1);
    if (!text.startsWith(TOOL_CALL_END, afterBrace)) break;
    const afterEnd = afterBrace + TOOL_CALL_END.length;
    const next = text.indexOf(TOOL_CALL_MARKER, afterEnd);
    if (next < 0) break;
    normalText += text.slice(afterEnd, next);
    position = next;
  }
  return { normalText, calls };
}

/**
 * Parses Qwen XML-wrapped JSON tool calls (spec section 6.5.3): exactly one `\n` after `<tool_call>` (else the
 * block is plain text) and exactly one `\n` before `</tool_call>` (else a parse error).
 * @throws ToolParseError for malformed calls.
 */
export function parseQwenToolCalls(text: string): ParsedOutput {
  const calls: ParsedToolCall[] = [];
  let normalText = '';
  let position = 0;
  for (;;) {
    const start = text.indexOf(`${TOOL_CALL_MARKER}\n`, position);
    if (start < 0) {
      normalText += text.slice(position);
      break;
    }
    normalText += text.slice(position, start);
    const bodyStart = start + TOOL_CALL_MARKER.length + 1;
    if (/\s/.test(text[bodyStart] ?? ''))
      throw new ToolParseError('expected exactly one newline after <tool_call>');
    const head = readJsonCallHead(text, bodyStart);
    if (text[head.end] !== '}') throw new ToolParseError('expected "}" after the arguments');
    if (!text.startsWith(`\n${TOOL_CALL_END}`, head.end + 1)) {
      throw new ToolParseError('expected exactly one newline before </tool_call>');
    }
    calls.push({ name: head.name, argumentsText: head.argumentsText });
    position = head.end + 1 + 1 + TOOL_CALL_END.length;
  }
  return { normalText, calls };
}

function schemaTypes(schema: unknown): string[] {
  if (!isObject(schema)) return [];
  const type = schema['type'];
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((item): item is string => typeof item === 'string');
  return [];
}

function convertGlmValue(raw: string, schema: unknown): unknown {
  if (raw.toLowerCase() === 'null') return null;
  for (const type of schemaTypes(schema)) {
    switch (type) {
      case 'string':
        return raw;
      case 'integer':
        if (/^[+-]?\d+$/.test(raw)) {
          const value = Number(raw);
          if (Number.isSafeInteger(value)) return value;
        }
        break;
      case 'number': {
        if (raw.trim() !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) {
          const value = Number(raw);
          if (Number.isFinite(value)) return value;
        }
        break;
      }
      case 'boolean': {
        const lower = raw.toLowerCase();
        if (lower === 'true' || lower === '1') return true;
        if (lower === 'false' || lower === '0') return false;
        break;
      }
      case 'object':
      case 'array': {
        if (raw === '') return type === 'object' ? {} : [];
        try {
          const value: unknown = JSON.parse(raw);
          if (type === 'object' ? isObject(value) : Array.isArray(value)) return value;
        } catch {
          // try the next type
        }
        break;
      }
      case 'null':
        break;
    }
  }
  return raw;
}

const GLM_PAIR = /^<arg_key>([\s\S]*?)<\/arg_key>\s*<arg_value>([\s\S]*?)<\/arg_value>\s*/;

/**
 * Parses GLM-4.7 XML tool calls (spec section 6.5.4): `<tool_call>NAME` then `<arg_key>K</arg_key>`
 * `<arg_value>V</arg_value>` pairs, `</tool_call>`. Keys and values are trimmed and values converted by the
 * tool's schema; the arguments are serialized with sorted keys. After a call, only whitespace may precede the
 * next call; any other text ends parsing.
 * @throws ToolParseError for malformed calls.
 */
export function parseGlmToolCalls(text: string, tools: readonly ToolDefinition[] = []): ParsedOutput {
  const first = text.indexOf(TOOL_CALL_MARKER);
  if (first < 0) return { normalText: text, calls: [] };
  const calls: ParsedToolCall[] = [];
  let position = first;
  for (;;) {
    const bodyStart = position + TOOL_CALL_MARKER.length;
    const bodyEnd = text.indexOf(TOOL_CALL_END, bodyStart);
    if (bodyEnd < 0) throw new ToolParseError('incomplete GLM tool call');
    const body = text.slice(bodyStart, bodyEnd);
    let at = skipWhitespace(body, 0);
    const nameMatch = /^[^\s<]+/.exec(body.slice(at));
    if (!nameMatch) throw new ToolParseError('GLM tool call has no function name');
    const name = nameMatch[0];
    at = skipWhitespace(body, at + name.length);
    const schema = tools.find((tool) => tool.function.name === name)?.function.parameters;
    const properties = isObject(schema) && isObject(schema['properties']) ? schema['properties'] : {};
    // No prototype and own-property lookups: a model-written key such as `__proto__` or `constructor` is data.
    const argumentsObject: Record<string, unknown> = Object.create(null);
    let rest = body.slice(at);
    while (rest.length > 0) {
      const pair = GLM_PAIR.exec(rest);
      if (!pair) throw new ToolParseError('GLM tool call has malformed <arg_key>/<arg_value> pairs');
      const key = pair[1]!.trim();
      const value = pair[2]!.trim();
      argumentsObject[key] = Object.hasOwn(properties, key) ? convertGlmValue(value, properties[key]) : value;
      rest = rest.slice(pair[0].length);
    }
    calls.push({ name, argumentsText: stableStringify(argumentsObject) });
    const after = bodyEnd + TOOL_CALL_END.length;
    const next = skipWhitespace(text, after);
    if (!text.startsWith(TOOL_CALL_MARKER, next)) break;
    position = next;
  }
  return { normalText: text.slice(0, first), calls };
}

/** The classification of one model output (spec section 6.7). */
export type ToolOutcome =
  | { /** Plain answer. */ kind: 'text'; text: string }
  | { /** Valid calls. */ kind: 'tool_calls'; calls: ToolCall[] }
  | { /** Invalid; `error` feeds the correction prompt. */ kind: 'invalid'; error: string };

function newCallId(): string {
  return `call_${globalThis.crypto.randomUUID().replace(/-/g, '')}`;
}

/**
 * Validates parsed calls against the context (spec section 6.6): known non-empty name, arguments strict
 * JSON object, schema subset validation; arguments re-serialized compactly with sorted keys.
 * @returns the OpenAI tool calls, or an error text.
 */
export function validateToolCalls(
  calls: readonly ParsedToolCall[],
  context: ToolContext,
): ToolCall[] | string {
  const out: ToolCall[] = [];
  for (const call of calls) {
    if (call.name.length === 0) return 'tool call has an empty name';
    const tool = context.tools.find((candidate) => candidate.function.name === call.name);
    if (!tool) return `unknown tool ${JSON.stringify(call.name)}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(call.argumentsText);
    } catch {
      return `arguments of ${call.name} are not valid JSON`;
    }
    if (!isObject(parsed)) return `arguments of ${call.name} must be a JSON object`;
    if (context.validateJsonSchema && tool.function.parameters !== undefined) {
      const error = validateAgainstSchema(parsed, tool.function.parameters);
      if (error) return error;
    }
    out.push({
      id: newCallId(),
      type: 'function',
      function: { name: call.name, arguments: stableStringify(parsed) },
    });
  }
  return out;
}

function parseNative(format: ToolFormat, text: string, context: ToolContext): ParsedOutput {
  if (format === 'glm') return parseGlmToolCalls(text, context.tools);
  if (format === 'qwen') return parseQwenToolCalls(text);
  return parseHermesToolCalls(text);
}

/**
 * Parses, validates and classifies one complete model output. GLM and Qwen fall back to the lenient Hermes
 * parser when their own parse or validation fails, or finds no call although the text contains `<tool_call>`.
 * @example
 * ```ts
 * const outcome = classifyToolOutput('<tool_call>\n{"name":"f","arguments":{}}\n</tool_call>', context);
 * ```
 */
export function classifyToolOutput(text: string, context: ToolContext): ToolOutcome {
  if (utf8ToBytes(text).length > context.toolCallMaxBytes) {
    return { kind: 'invalid', error: `tool-call output exceeds ${context.toolCallMaxBytes} bytes` };
  }
  const attempt = (format: ToolFormat): ToolOutcome => {
    let parsed: ParsedOutput;
    try {
      parsed = parseNative(format, text, context);
    } catch (error) {
      return { kind: 'invalid', error: error instanceof Error ? error.message : 'invalid tool call' };
    }
    if (parsed.calls.length === 0) {
      if (text.includes(TOOL_CALL_MARKER))
        return { kind: 'invalid', error: 'the <tool_call> block could not be parsed' };
      if (context.required)
        return { kind: 'invalid', error: 'expected the assistant response to include a tool call' };
      return { kind: 'text', text };
    }
    const validated = validateToolCalls(parsed.calls, context);
    if (typeof validated === 'string') return { kind: 'invalid', error: validated };
    return { kind: 'tool_calls', calls: validated };
  };
  const native = attempt(context.format);
  if (native.kind !== 'invalid' || context.format === 'hermes' || !text.includes(TOOL_CALL_MARKER))
    return native;
  const fallback = attempt('hermes');
  return fallback.kind === 'tool_calls' ? fallback : native;
}

/**
 * Splits streamed text into what can be shown now and what must wait: text is held back while its tail could
 * start `<tool_call>`, and everything from the first marker on is buffered for parsing at the end.
 */
export class ToolStreamScanner {
  private pending = '';
  private buffer: string | undefined;

  /** Feeds decrypted content; returns the text safe to emit now. */
  push(text: string): string {
    if (this.buffer !== undefined) {
      this.buffer += text;
      return '';
    }
    this.pending += text;
    const marker = this.pending.indexOf(TOOL_CALL_MARKER);
    if (marker >= 0) {
      const emit = this.pending.slice(0, marker);
      this.buffer = this.pending.slice(marker);
      this.pending = '';
      return emit;
    }
    let keep = 0;
    for (let length = Math.min(TOOL_CALL_MARKER.length - 1, this.pending.length); length > 0; length--) {
      if (TOOL_CALL_MARKER.startsWith(this.pending.slice(this.pending.length - length))) {
        keep = length;
        break;
      }
    }
    const emit = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return emit;
  }

  /** True once a marker was seen. */
  get buffering(): boolean {
    return this.buffer !== undefined;
  }

  /** Bytes buffered since the marker (for the size limit). */
  get bufferedLength(): number {
    return this.buffer === undefined ? 0 : utf8ToBytes(this.buffer).length;
  }

  /** Ends the stream: the held-back tail and the buffered tool-call text (undefined when no marker). */
  finish(): { tail: string; toolText: string | undefined } {
    const result = { tail: this.pending, toolText: this.buffer };
    this.pending = '';
    this.buffer = undefined;
    return result;
  }
}
