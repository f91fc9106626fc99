import { VeniceE2eeError } from './errors.js';
import { encryptField } from './field-cipher.js';
import type { ChatMessage, ChatRequest, ToolCall } from './types.js';

/** A message reduced to the two fields sent upstream (before encryption). */
export interface RenderedMessage {
  /** Role forwarded upstream (`tool` becomes `user`). */
  role: string;
  /** Plaintext content. */
  content: string;
}

function invalid(message: string, proxyCode = 'invalid_request'): VeniceE2eeError {
  return new VeniceE2eeError('ERR_INVALID_REQUEST', message, { proxyCode });
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function textContent(content: unknown, index: number, allowEmptyArray = false): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && (content.length > 0 || allowEmptyArray)) {
    let out = '';
    for (const part of content) {
      if (
        typeof part !== 'object' ||
        part === null ||
        (part as { type?: unknown }).type !== 'text' ||
        typeof (part as { text?: unknown }).text !== 'string' ||
        Object.keys(part).some((key) => key !== 'type' && key !== 'text')
      ) {
        throw invalid(`messages[${index}] has a content part other than text`, 'unsupported_message_content');
      }
      out += (part as { text: string }).text;
    }
    return out;
  }
  throw invalid(
    `messages[${index}].content must be a string or a non-empty array of text parts`,
    'unsupported_message_content',
  );
}

/** Renders assistant tool calls as `<previous_tool_call id=".." name="..">` blocks (spec section 5.3.2). */
export function renderPreviousToolCalls(calls: readonly ToolCall[], index = 0): string {
  return calls
    .map((call, callIndex) => {
      if (
        typeof call !== 'object' ||
        call === null ||
        call.type !== 'function' ||
        typeof call.id !== 'string' ||
        typeof call.function?.name !== 'string' ||
        typeof call.function?.arguments !== 'string'
      ) {
        throw invalid(
          `messages[${index}].tool_calls[${callIndex}] is malformed`,
          'invalid_tool_call_history',
        );
      }
      let argumentsJson: string;
      try {
        argumentsJson = JSON.stringify(JSON.parse(call.function.arguments));
      } catch (cause) {
        throw new VeniceE2eeError(
          'ERR_INVALID_REQUEST',
          `messages[${index}].tool_calls[${callIndex}].function.arguments is not JSON`,
          { proxyCode: 'invalid_tool_call_history', cause },
        );
      }
      return `<previous_tool_call id="${escapeAttribute(call.id)}" name="${escapeAttribute(call.function.name)}">\n${argumentsJson}\n</previous_tool_call>`;
    })
    .join('\n');
}

/**
 * Renders OpenAI messages into the `{role, content}` strings sent upstream (spec section 5.3.2): text parts
 * are concatenated, assistant tool calls become `<previous_tool_call>` blocks, `tool` messages become `user`
 * messages with a `<tool_result>` block.
 * @throws VeniceE2eeError `ERR_INVALID_REQUEST` (proxy codes `unsupported_message_role`,
 *   `unsupported_message_content`, `invalid_tool_call_history`, `unsupported_request_field`).
 */
export function renderMessages(messages: readonly ChatMessage[]): RenderedMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages must be a non-empty array');
  return messages.map((message, index) => {
    if (
      typeof message !== 'object' ||
      message === null ||
      typeof message.role !== 'string' ||
      message.role === ''
    ) {
      throw invalid(`messages[${index}].role must be a non-empty string`);
    }
    const allowed = (keys: string[]) => {
      for (const key of Object.keys(message)) {
        if (!keys.includes(key) && (message as unknown as Record<string, unknown>)[key] !== undefined) {
          throw invalid(`unsupported request field messages[${index}].${key}`, 'unsupported_request_field');
        }
      }
    };
    switch (message.role) {
      case 'system':
      case 'developer':
      case 'user':
        allowed(['role', 'content']);
        return { role: message.role, content: textContent(message.content, index) };
      case 'assistant': {
        allowed(['role', 'content', 'tool_calls']);
        const calls = message.tool_calls;
        const hasCalls = Array.isArray(calls) && calls.length > 0;
        if (calls !== undefined && !hasCalls) {
          throw invalid(
            `messages[${index}].tool_calls must be a non-empty array`,
            'invalid_tool_call_history',
          );
        }
        const content =
          message.content === null || message.content === undefined
            ? hasCalls
              ? ''
              : (() => {
                  throw invalid(`messages[${index}].content is required`, 'unsupported_message_content');
                })()
            : textContent(message.content, index);
        if (!hasCalls) return { role: 'assistant', content };
        const rendered = renderPreviousToolCalls(calls!, index);
        return { role: 'assistant', content: content.length > 0 ? `${content}\n\n${rendered}` : rendered };
      }
      case 'tool': {
        allowed(['role', 'content', 'tool_call_id']);
        if (typeof message.tool_call_id !== 'string') {
          throw invalid(`messages[${index}].tool_call_id must be a string`, 'invalid_tool_call_history');
        }
        const content = textContent(message.content, index);
        return {
          role: 'user',
          content: `<tool_result id="${escapeAttribute(message.tool_call_id)}">\n${content}\n</tool_result>\n\nUse the tool result above to continue the answer.`,
        };
      }
      default:
        throw invalid(`unsupported message role ${JSON.stringify(message.role)}`, 'unsupported_message_role');
    }
  });
}

/** Options of {@link buildUpstreamBody}. */
export interface UpstreamBodyOptions {
  /** The attested model key (65-byte point or hex). */
  modelPublicKey: Uint8Array | string;
  /** HKDF info; default `ecdsa_encryption`. */
  hkdfInfo?: string;
  /** Randomness (tests). */
  random?: (length: number) => Uint8Array;
}

const VENICE_KEYS = new Set([
  'enable_e2ee',
  'include_venice_system_prompt',
  'strip_thinking_response',
  'disable_thinking',
  'enable_web_search',
]);

/**
 * Builds the upstream Venice body (spec section 5.6): `model`, `messages` with every content encrypted
 * (fresh ephemeral key per message), `stream: true`, `stream_options.include_usage` (default true),
 * `venice_parameters` with E2EE on, the Venice system prompt off and web search off, then the optional
 * sampling fields. Tools, tool_choice, parallel_tool_calls and metadata are never forwarded.
 * @throws VeniceE2eeError `ERR_INVALID_REQUEST` (`unsupported_venice_parameter`) or
 *   `ERR_E2EE_REQUEST_ENCRYPTION_FAILED`.
 */
export function buildUpstreamBody(
  request: ChatRequest,
  messages: readonly RenderedMessage[],
  options: UpstreamBodyOptions,
): Record<string, unknown> {
  const venice = request.venice_parameters ?? {};
  if (typeof venice !== 'object' || Array.isArray(venice))
    throw invalid('venice_parameters must be an object');
  for (const key of Object.keys(venice)) {
    if (!VENICE_KEYS.has(key)) throw invalid(`unsupported venice_parameters.${key}`);
  }
  const flag = (key: string, fallback: boolean): boolean => {
    const value = (venice as Record<string, unknown>)[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw invalid(`venice_parameters.${key} must be a boolean`);
    return value;
  };
  if (!flag('enable_e2ee', true))
    throw invalid('venice_parameters.enable_e2ee must not be false', 'unsupported_venice_parameter');
  if (flag('include_venice_system_prompt', false)) {
    throw invalid(
      'venice_parameters.include_venice_system_prompt must not be true',
      'unsupported_venice_parameter',
    );
  }
  const webSearch = (venice as Record<string, unknown>)['enable_web_search'];
  if (webSearch !== undefined && webSearch !== 'off' && webSearch !== false) {
    throw invalid('web search is not available with E2EE', 'unsupported_venice_parameter');
  }
  let encrypted: Array<{ role: string; content: string }>;
  try {
    encrypted = messages.map((message) => ({
      role: message.role,
      content: encryptField(message.content, options.modelPublicKey, {
        ...(options.hkdfInfo === undefined ? {} : { info: options.hkdfInfo }),
        ...(options.random === undefined ? {} : { random: options.random }),
      }),
    }));
  } catch (cause) {
    throw new VeniceE2eeError(
      'ERR_E2EE_REQUEST_ENCRYPTION_FAILED',
      'could not encrypt the request messages',
      { cause },
    );
  }
  const includeUsage = request.stream_options?.include_usage;
  const body: Record<string, unknown> = {
    model: request.model,
    messages: encrypted,
    stream: true,
    stream_options: { include_usage: includeUsage ?? true },
    venice_parameters: {
      enable_e2ee: true,
      include_venice_system_prompt: false,
      strip_thinking_response: flag('strip_thinking_response', false),
      disable_thinking: flag('disable_thinking', false),
      enable_web_search: 'off',
    },
  };
  for (const key of [
    'temperature',
    'top_p',
    'max_tokens',
    'max_completion_tokens',
    'stop',
    'reasoning',
    'reasoning_effort',
  ] as const) {
    const value = request[key];
    if (value !== undefined && value !== null) body[key] = value;
  }
  return body;
}

/**
 * The Venice E2EE request headers (spec section 3.4.1).
 * @param clientPublicKeyHex - 130 lowercase hex characters (`04…`).
 * @param modelPublicKeyHex - The attested model key, 130 lowercase hex characters.
 */
export function veniceE2eeHeaders(
  clientPublicKeyHex: string,
  modelPublicKeyHex: string,
): Record<string, string> {
  return {
    'x-venice-tee-client-pub-key': clientPublicKeyHex,
    'x-venice-tee-model-pub-key': modelPublicKeyHex,
    'x-venice-tee-signing-algo': 'ecdsa',
  };
}
