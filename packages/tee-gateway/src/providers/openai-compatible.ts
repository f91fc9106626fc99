import { parseArguments, parseFrame, postJson, readJson, readSse } from './http.js';
import {
  type ProviderAdapter,
  type ProviderChatRequest,
  type ProviderEndpoint,
  ProviderError,
  type ProviderResult,
  type ProviderStreamEvent,
  type ProviderToolCall,
  type Usage,
  usageOf,
} from './types.js';

/**
 * Providers the reference reaches through langchain-openai's `ChatOpenAI` (tee-gateway `llm_backend.py`), which
 * sends `max_completion_tokens` and turns `system` into `developer` for o-series models. xAI goes through
 * `ChatXAI` (`BaseChatOpenAI`: `max_tokens`); OpenRouter is not in the reference's backend and keeps `max_tokens`.
 */
const CHAT_OPENAI_PROVIDERS: ReadonlySet<string> = new Set(['openai', 'bytedance', 'nous', 'zai']);

/**
 * The Chat Completions body the reference's LangChain adapter sends for this provider and model
 * (`test/vectors/tee-gateway-provider-requests.json` records them):
 * - `ChatOpenAI` providers: `max_completion_tokens` (OpenAI's reasoning models reject `max_tokens`), and for
 *   o-series models (`^o\d`) system messages with role `developer`;
 * - every OpenAI-compatible provider (`BaseChatOpenAI.validate_temperature`): a `gpt-5*` model that is not a
 *   `-chat` model gets no temperature unless it is exactly 1 (the API accepts only the default).
 */
export function openAiRequestBody(
  request: ProviderChatRequest,
  stream: boolean,
  provider: string,
): Record<string, unknown> {
  const apiName = request.model.apiName;
  const chatOpenAi = CHAT_OPENAI_PROVIDERS.has(provider);
  const messages =
    chatOpenAi && /^o\d/.test(apiName)
      ? request.messages.map((message) =>
          message.role === 'system' ? { ...message, role: 'developer' } : message,
        )
      : request.messages;
  const body: Record<string, unknown> = { model: apiName, messages };
  body[chatOpenAi ? 'max_completion_tokens' : 'max_tokens'] = request.maxTokens;
  let temperature = request.temperature;
  if (apiName.startsWith('gpt-5') && !apiName.includes('chat') && temperature !== 1) temperature = undefined;
  if (temperature !== undefined) body['temperature'] = temperature;
  if (request.tools) body['tools'] = request.tools;
  if (request.responseFormat) body['response_format'] = request.responseFormat;
  if (request.stop) body['stop'] = request.stop;
  if (stream) {
    body['stream'] = true;
    body['stream_options'] = { include_usage: true };
  }
  return body;
}

function usageFrom(value: unknown): Usage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const usage = value as Record<string, unknown>;
  const prompt = Number(usage['prompt_tokens'] ?? usage['input_tokens'] ?? 0);
  const completion = Number(usage['completion_tokens'] ?? usage['output_tokens'] ?? 0);
  const total = usage['total_tokens'] === undefined ? undefined : Number(usage['total_tokens']);
  return usageOf(prompt, completion, total);
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string'
          ? (part as { text: string }).text
          : '',
      )
      .join('');
  }
  return '';
}

/**
 * The OpenAI-compatible Chat Completions adapter (OpenAI, xAI, ByteDance ModelArk, Nous, Z.ai, OpenRouter and
 * any provider with a base URL and key): `POST {base}/chat/completions` with `Authorization: Bearer`, streaming
 * with `stream_options.include_usage`. Streamed tool-call fragments are buffered and emitted once complete.
 *
 * @example
 * ```ts
 * const adapter = createOpenAiCompatibleAdapter({ baseUrl: 'https://api.openai.com/v1', apiKey, fetch }, 'openai');
 * const result = await adapter.chat(request);
 * ```
 */
export function createOpenAiCompatibleAdapter(
  endpoint: ProviderEndpoint,
  name = 'provider',
): ProviderAdapter {
  const url = `${endpoint.baseUrl}/chat/completions`;
  const headers = { authorization: `Bearer ${endpoint.apiKey}` };
  return {
    async chat(request: ProviderChatRequest): Promise<ProviderResult> {
      const response = await postJson(
        endpoint.fetch,
        url,
        headers,
        openAiRequestBody(request, false, name),
        request.signal,
        name,
      );
      const body = await readJson(response, name);
      const choices = body['choices'];
      const choice = Array.isArray(choices) ? (choices[0] as Record<string, unknown> | undefined) : undefined;
      const message = choice?.['message'] as Record<string, unknown> | undefined;
      if (!message) throw new ProviderError(`${name} returned no message`);
      const toolCalls: ProviderToolCall[] = [];
      if (Array.isArray(message['tool_calls'])) {
        for (const call of message['tool_calls'] as Record<string, unknown>[]) {
          const fn = (call['function'] ?? {}) as Record<string, unknown>;
          toolCalls.push({
            id: String(call['id'] ?? ''),
            name: String(fn['name'] ?? ''),
            arguments: parseArguments(String(fn['arguments'] ?? '')),
          });
        }
      }
      return { content: textOf(message['content']), toolCalls, usage: usageFrom(body['usage']) };
    },
    async *stream(request: ProviderChatRequest): AsyncGenerator<ProviderStreamEvent> {
      const response = await postJson(
        endpoint.fetch,
        url,
        headers,
        openAiRequestBody(request, true, name),
        request.signal,
        name,
      );
      const pending = new Map<number, { id: string; name: string; args: string }>();
      let usage: Usage | undefined;
      for await (const event of readSse(response.body)) {
        if (event.data === '[DONE]') break;
        const frame = parseFrame(event.data, name);
        if (frame['error'] !== undefined) throw new ProviderError(`${name} reported a stream error`);
        if (frame['usage']) usage = usageFrom(frame['usage']);
        const choices = frame['choices'];
        if (!Array.isArray(choices) || choices.length === 0) continue;
        const delta = (choices[0] as Record<string, unknown>)['delta'] as Record<string, unknown> | undefined;
        if (!delta) continue;
        const text = textOf(delta['content']);
        if (text !== '') yield { type: 'text', text };
        if (Array.isArray(delta['tool_calls'])) {
          for (const fragment of delta['tool_calls'] as Record<string, unknown>[]) {
            const index = typeof fragment['index'] === 'number' ? fragment['index'] : pending.size;
            const fn = (fragment['function'] ?? {}) as Record<string, unknown>;
            let entry = pending.get(index);
            if (!entry) {
              entry = { id: '', name: '', args: '' };
              pending.set(index, entry);
            }
            if (typeof fragment['id'] === 'string' && fragment['id']) entry.id = fragment['id'];
            if (typeof fn['name'] === 'string' && fn['name']) entry.name = fn['name'];
            if (typeof fn['arguments'] === 'string') entry.args += fn['arguments'];
          }
        }
      }
      for (const [, call] of [...pending.entries()].sort((a, b) => a[0] - b[0])) {
        yield {
          type: 'tool_call',
          call: { id: call.id, name: call.name, arguments: parseArguments(call.args) },
        };
      }
      if (usage) yield { type: 'usage', usage };
    },
  };
}
