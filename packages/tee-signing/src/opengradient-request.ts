import { type Bytes, bytesToHex, utf8ToBytes } from '@confidential-ai/bytes';
import { TeeSigningError } from './errors.js';
import { keccak256 } from './hashes.js';
import { canonicalJson, formatPythonFloat, PyFloat, parsePythonJson, pyFloat } from './python-json.js';
import { dictGet, dictGetOr, dictGetOrNull, isDict, pyTruthy } from './python-values.js';

type Dict = Record<string, unknown> | Map<string, unknown>;

function unsupported(message: string, cause?: unknown): TeeSigningError {
  return new TeeSigningError('ERR_REQUEST_UNSUPPORTED', message, cause === undefined ? undefined : { cause });
}

/** Request bodies may be given parsed, as JSON text or as raw bytes (parsed like Python `json.loads`). */
export type RequestBodyInput = unknown;

function toDict(body: RequestBodyInput): Dict {
  const parsed = typeof body === 'string' || body instanceof Uint8Array ? parsePythonJson(body) : body;
  if (!isDict(parsed)) throw unsupported('request body must be a JSON object');
  return parsed;
}

function pythonFloat(value: unknown, field: string): PyFloat {
  try {
    return pyFloat(value as number);
  } catch (cause) {
    throw unsupported(`'${field}' cannot be converted to a float`, cause);
  }
}

/** Python `str(x)` for the scalar values user content can hold; containers are refused. */
function pythonStr(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value === 0 ? 0 : value);
  if (typeof value === 'number' || value instanceof PyFloat) {
    const number = value instanceof PyFloat ? value.value : value;
    if (Number.isNaN(number)) return 'nan';
    if (!Number.isFinite(number)) return number > 0 ? 'inf' : '-inf';
    return formatPythonFloat(number);
  }
  throw unsupported(`${what} must be a string, a list of parts or a scalar`);
}

/**
 * Canonical user content (the reference's L form, `canonical_user_content`): strings pass through; a list
 * of parts keeps text parts as `{type:"text", text}` and reduces every attachment to `{type[, filename]}`
 * (attachment bytes are never hashed); non-object parts become text parts of their `str()`.
 * @throws TeeSigningError `ERR_REQUEST_UNSUPPORTED` for content Python would render with `repr` (objects).
 */
export function canonicalUserContent(content: unknown): unknown {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return pythonStr(content, 'user content');
  return content.map((part) => {
    if (!isDict(part)) return { type: 'text', text: pythonStr(part, 'a content part') };
    const type = dictGet(part, 'type');
    if (type === 'text') {
      const text = dictGetOr(part, 'text', '');
      return { type: 'text', text: pyTruthy(text) ? text : '' };
    }
    const entry: Record<string, unknown> = { type: type === undefined ? null : type };
    const file = dictGet(part, 'file');
    let filename = isDict(file) ? dictGet(file, 'filename') : undefined;
    if (!pyTruthy(filename)) filename = dictGet(part, 'filename');
    if (pyTruthy(filename)) entry['filename'] = filename;
    return entry;
  });
}

function canonicalToolCall(toolCall: unknown): Record<string, unknown> {
  if (!isDict(toolCall)) throw unsupported('each assistant tool call must be a JSON object');
  const fn = dictGetOr(toolCall, 'function', new Map());
  if (!isDict(fn)) throw unsupported("an assistant tool call's 'function' must be a JSON object");
  return {
    id: dictGetOr(toolCall, 'id', ''),
    type: dictGetOr(toolCall, 'type', 'function'),
    function: { name: dictGetOr(fn, 'name', ''), arguments: dictGetOr(fn, 'arguments', '') },
  };
}

/**
 * One message as the gateway hashes it. `developer` is treated as `system` (as the reference verifier
 * does).
 * @throws TeeSigningError `ERR_REQUEST_UNSUPPORTED` for unknown roles or malformed tool calls.
 */
export function canonicalChatMessage(message: unknown): Record<string, unknown> {
  if (!isDict(message)) throw unsupported('each message must be a JSON object');
  const role = dictGet(message, 'role');
  switch (role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: dictGetOrNull(message, 'content') };
    case 'user':
      return { role: 'user', content: canonicalUserContent(dictGetOrNull(message, 'content')) };
    case 'assistant': {
      const content = dictGet(message, 'content');
      const out: Record<string, unknown> = { role: 'assistant', content: pyTruthy(content) ? content : '' };
      const toolCalls = dictGet(message, 'tool_calls');
      if (pyTruthy(toolCalls)) {
        if (!Array.isArray(toolCalls)) throw unsupported("assistant 'tool_calls' must be a list");
        out['tool_calls'] = toolCalls.map(canonicalToolCall);
      }
      return out;
    }
    case 'tool':
      return {
        role: 'tool',
        content: dictGetOrNull(message, 'content'),
        tool_call_id: dictGetOrNull(message, 'tool_call_id'),
      };
    case 'function':
      return {
        role: 'function',
        content: dictGetOrNull(message, 'content'),
        name: dictGetOrNull(message, 'name'),
      };
    default:
      throw unsupported(
        `unknown message role: ${typeof role === 'string' ? JSON.stringify(role.slice(0, 40)) : typeof role}`,
      );
  }
}

/** Options for {@link buildChatCanonicalRequest}. */
export interface ChatCanonicalRequestOptions {
  /**
   * Hash `"web_search": true` when the request has a truthy `web_search` flag, as the reference verifier
   * (L) does. Default true. A gateway that does not implement web search sets this to false (D1).
   */
  includeWebSearch?: boolean;
}

/**
 * Builds the canonical chat request dict the gateway hashes (`_chat_request_to_dict`, L form, as the
 * reference verifier's `build_inner_request` rebuilds it): `model`, `messages` (canonical), `temperature`
 * (always a float, default `0.0`), `max_tokens` (if not null), `stop`, `tools` and `response_format` (if
 * truthy), `web_search: true` (if truthy). Fields such as `stream`, `n`, `top_p`, `tool_choice`, `seed`
 * and `user` are not hashed.
 *
 * For exact results pass the raw request text or bytes: they are parsed like Python `json.loads`, which
 * keeps the int/float distinction and exact integers that `JSON.parse` loses.
 *
 * @example
 * ```ts
 * const canonical = buildChatCanonicalRequest('{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}');
 * canonicalJson(canonical);
 * // '{"messages": [{"content": "hi", "role": "user"}], "model": "gpt-4.1", "temperature": 0.0}'
 * ```
 * @throws TeeSigningError `ERR_REQUEST_UNSUPPORTED` (no model, no messages, unknown role, non-list tools,
 * non-numeric temperature) or `ERR_JSON_PARSE` for unparsable text.
 */
export function buildChatCanonicalRequest(
  body: RequestBodyInput,
  options: ChatCanonicalRequestOptions = {},
): Record<string, unknown> {
  const dict = toDict(body);
  const model = dictGet(dict, 'model');
  if (typeof model !== 'string' || model.length === 0) throw unsupported("request is missing a 'model'");
  const messages = dictGet(dict, 'messages');
  if (!Array.isArray(messages) || messages.length === 0) throw unsupported("request is missing 'messages'");
  const temperature = dictGet(dict, 'temperature');
  const canonical: Record<string, unknown> = {
    model,
    messages: messages.map(canonicalChatMessage),
    temperature:
      temperature === undefined || temperature === null
        ? new PyFloat(0)
        : pythonFloat(temperature, 'temperature'),
  };
  const maxTokens = dictGet(dict, 'max_tokens');
  if (maxTokens !== undefined && maxTokens !== null) canonical['max_tokens'] = maxTokens;
  const stop = dictGet(dict, 'stop');
  if (pyTruthy(stop)) canonical['stop'] = stop;
  const tools = dictGet(dict, 'tools');
  if (pyTruthy(tools)) {
    if (!Array.isArray(tools)) throw unsupported("'tools' must be a list");
    canonical['tools'] = tools;
  }
  const responseFormat = dictGet(dict, 'response_format');
  if (pyTruthy(responseFormat)) canonical['response_format'] = responseFormat;
  if (options.includeWebSearch !== false && pyTruthy(dictGet(dict, 'web_search')))
    canonical['web_search'] = true;
  return canonical;
}

/**
 * Builds the canonical completions request dict (`completions_controller`): `model`, `prompt`,
 * `temperature` (float; `1.0` when the key is absent, as `CreateCompletionRequest` defaults it, `0.0`
 * when it is explicitly null), `max_tokens` (`16` when absent, omitted when null), `stop` (if truthy).
 *
 * @example
 * ```ts
 * canonicalJson(buildCompletionsCanonicalRequest({ model: 'gpt-4.1', prompt: 'Say hi' }));
 * // '{"max_tokens": 16, "model": "gpt-4.1", "prompt": "Say hi", "temperature": 1.0}'
 * ```
 * @throws TeeSigningError `ERR_REQUEST_UNSUPPORTED` for a non-object body or a non-numeric temperature.
 */
export function buildCompletionsCanonicalRequest(body: RequestBodyInput): Record<string, unknown> {
  const dict = toDict(body);
  const temperature = dictGetOr(dict, 'temperature', 1);
  const canonical: Record<string, unknown> = {
    model: dictGetOrNull(dict, 'model'),
    prompt: dictGetOrNull(dict, 'prompt'),
    temperature: temperature === null ? new PyFloat(0) : pythonFloat(temperature, 'temperature'),
  };
  const maxTokens = dictGetOr(dict, 'max_tokens', 16);
  if (maxTokens !== null) canonical['max_tokens'] = maxTokens;
  const stop = dictGet(dict, 'stop');
  if (pyTruthy(stop)) canonical['stop'] = stop;
  return canonical;
}

/** Which gateway endpoint a request belongs to. */
export type OpenGradientEndpoint = 'chat' | 'completions';

/**
 * `json.dumps(canonical, sort_keys=True).encode("utf-8")`: the bytes whose keccak256 is `tee_request_hash`.
 * @throws TeeSigningError `ERR_CANONICAL_JSON` when the value cannot be serialised.
 */
export function canonicalRequestBytes(canonicalRequest: unknown): Bytes {
  return utf8ToBytes(canonicalJson(canonicalRequest));
}

/**
 * keccak256 of the canonical request bytes, as lowercase hex without `0x` (`tee_request_hash`).
 * @example
 * ```ts
 * requestHashHex(buildChatCanonicalRequest(body)); // 'a5c5114a…'
 * ```
 */
export function requestHashHex(canonicalRequest: unknown): string {
  return bytesToHex(keccak256(canonicalRequestBytes(canonicalRequest)));
}
