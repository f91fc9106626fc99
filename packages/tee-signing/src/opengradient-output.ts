import { TeeSigningError } from './errors.js';
import { canonicalJson, pythonJsonDumps } from './python-json.js';
import { dictGet, isDict } from './python-values.js';

type Dict = Record<string, unknown> | Map<string, unknown>;

function firstChoice(body: unknown): Dict | undefined {
  if (!isDict(body)) return undefined;
  const choices = dictGet(body, 'choices');
  if (Array.isArray(choices) && choices.length > 0 && isDict(choices[0])) return choices[0];
  return undefined;
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (isDict(part)) {
          const text = dictGet(part, 'text');
          return text === undefined ? '' : typeof text === 'string' ? text : String(text);
        }
        return typeof part === 'string' ? part : String(part);
      })
      .join('');
  }
  return '';
}

/**
 * The exact string the gateway hashed as output for a non-streaming response (`response_content_for_hash`
 * of the reference verifier): for `finish_reason: "tool_calls"` with a tool-call list,
 * `json.dumps(tool_calls, sort_keys=True)`; otherwise the assistant text (list parts concatenated). For a
 * completions response (`choices[0].text`, no `message`) the completion text, which is what the gateway
 * signs there.
 *
 * @example
 * ```ts
 * responseContentForHash({ choices: [{ message: { content: 'Hi' }, finish_reason: 'stop' }] }); // 'Hi'
 * ```
 */
export function responseContentForHash(body: unknown): string {
  const choice = firstChoice(body);
  if (choice === undefined) return '';
  const message = dictGet(choice, 'message');
  if (isDict(message)) {
    const toolCalls = dictGet(message, 'tool_calls');
    if (dictGet(choice, 'finish_reason') === 'tool_calls' && Array.isArray(toolCalls))
      return canonicalJson(toolCalls);
    return contentText(dictGet(message, 'content'));
  }
  const text = dictGet(choice, 'text');
  if (typeof text === 'string') return text;
  return '';
}

/** A tool call as the gateway returns it and hashes it. */
export interface GatewayToolCall {
  /** Provider tool-call id (`""` when the provider gave none). */
  id: string;
  /** Always `"function"`. */
  type: 'function';
  /** Function name and Python-style JSON arguments. */
  function: { name: string; arguments: string };
}

/**
 * Builds gateway tool calls from provider results: `arguments` is the Python `json.dumps(args)` of the
 * parsed arguments object (its own key order, `", "` / `": "` separators, ASCII escaping). JavaScript
 * objects list integer-like keys first; to keep a provider's exact key order pass a `Map` (for example from
 * `parsePythonJson(text, { preserveKeyOrder: true })`). A string is used as is.
 *
 * @example
 * ```ts
 * toolCallsOutputContent(buildGatewayToolCalls([{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }]));
 * // '[{"function": {"arguments": "{\\"city\\": \\"Paris\\"}", "name": "get_weather"}, "id": "call_1", "type": "function"}]'
 * ```
 */
export function buildGatewayToolCalls(
  calls: readonly { id?: string; name?: string; arguments?: unknown }[],
): GatewayToolCall[] {
  return calls.map((call) => ({
    id: call.id ?? '',
    type: 'function',
    function: {
      name: call.name ?? '',
      arguments: typeof call.arguments === 'string' ? call.arguments : pythonJsonDumps(call.arguments ?? {}),
    },
  }));
}

/** `json.dumps(tool_calls, sort_keys=True)`: the output content of a tool-call response. */
export function toolCallsOutputContent(toolCalls: readonly unknown[]): string {
  if (!Array.isArray(toolCalls)) throw new TypeError('toolCalls must be an array');
  return canonicalJson(toolCalls);
}

/**
 * Accumulates streamed chat frames (`choices[0].delta`) the way the gateway builds its streamed output:
 * text deltas are concatenated; tool-call deltas are merged by `index` (id and name replaced when
 * present, argument fragments appended), whether the gateway buffered them (one frame per call) or
 * forwarded fragments.
 */
export class StreamOutputAccumulator {
  private text = '';
  private readonly toolCalls = new Map<number, GatewayToolCall>();
  private finishReason: unknown = null;

  /** Adds one parsed SSE data frame. Frames without `choices` are ignored. */
  add(frame: unknown): void {
    const choice = firstChoice(frame);
    if (choice === undefined) return;
    const finish = dictGet(choice, 'finish_reason');
    if (finish !== undefined && finish !== null) this.finishReason = finish;
    const delta = dictGet(choice, 'delta');
    if (!isDict(delta)) return;
    const content = dictGet(delta, 'content');
    if (typeof content === 'string') this.text += content;
    const calls = dictGet(delta, 'tool_calls');
    if (!Array.isArray(calls)) return;
    for (const call of calls) {
      if (!isDict(call))
        throw new TeeSigningError('ERR_RESPONSE_MALFORMED', 'a streamed tool call is not an object');
      const rawIndex = dictGet(call, 'index');
      const index = rawIndex === undefined ? 0 : rawIndex;
      if (typeof index !== 'number' || !Number.isSafeInteger(index)) {
        throw new TeeSigningError('ERR_RESPONSE_MALFORMED', 'a streamed tool call has a non-integer index');
      }
      const fn = dictGet(call, 'function');
      const name = isDict(fn) ? dictGet(fn, 'name') : undefined;
      const args = isDict(fn) ? dictGet(fn, 'arguments') : undefined;
      const id = dictGet(call, 'id');
      let entry = this.toolCalls.get(index);
      if (entry === undefined) {
        entry = { id: '', type: 'function', function: { name: '', arguments: '' } };
        this.toolCalls.set(index, entry);
      }
      if (typeof id === 'string' && id !== '') entry.id = id;
      if (typeof name === 'string' && name !== '') entry.function.name = name;
      if (typeof args === 'string') entry.function.arguments += args;
    }
  }

  /** The last non-null `finish_reason` seen. */
  get finish(): unknown {
    return this.finishReason;
  }

  /** The accumulated text. */
  get content(): string {
    return this.text;
  }

  /** Accumulated tool calls sorted by index. */
  get calls(): GatewayToolCall[] {
    return [...this.toolCalls.entries()].sort((a, b) => a[0] - b[0]).map(([, call]) => call);
  }

  /**
   * The string the gateway hashed: the sorted tool calls as `json.dumps(…, sort_keys=True)` when the
   * stream finished with `tool_calls`, otherwise the concatenated text.
   */
  outputContent(): string {
    if (this.finishReason === 'tool_calls' && this.toolCalls.size > 0) return canonicalJson(this.calls);
    return this.text;
  }
}
