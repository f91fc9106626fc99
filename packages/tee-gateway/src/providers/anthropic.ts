import { pythonJsonDumps } from '@confidential-ai/tee-signing';
import { argumentsObject, contentText } from './convert.js';
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

/** `anthropic-version` header sent with every call. */
export const ANTHROPIC_VERSION = '2023-06-01';

type Block = Record<string, unknown>;

function toAnthropic(request: ProviderChatRequest, stream: boolean): Record<string, unknown> {
  const system: string[] = [];
  const messages: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  const push = (role: 'user' | 'assistant', blocks: Block[]) => {
    const last = messages.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of request.messages) {
    if (message.role === 'system') {
      system.push(contentText(message.content));
    } else if (message.role === 'user') {
      push('user', [{ type: 'text', text: contentText(message.content) }]);
    } else if (message.role === 'assistant') {
      const blocks: Block[] = [];
      const text = contentText(message.content);
      if (text !== '') blocks.push({ type: 'text', text });
      for (const call of message.tool_calls ?? []) {
        blocks.push({
          type: 'tool_use',
          id: call.id,
          name: call.function.name,
          input: argumentsObject(call.function.arguments),
        });
      }
      if (blocks.length > 0) push('assistant', blocks);
    } else {
      push('user', [
        {
          type: 'tool_result',
          tool_use_id: message.tool_call_id ?? message.name ?? '',
          content: contentText(message.content),
        },
      ]);
    }
  }
  const body: Record<string, unknown> = {
    model: request.model.apiName,
    max_tokens: request.maxTokens,
    messages,
  };
  if (system.length > 0) body['system'] = system.join('\n\n');
  if (request.temperature !== undefined) body['temperature'] = request.temperature;
  if (request.stop) body['stop_sequences'] = request.stop;
  const tools: Block[] = (request.tools ?? []).map((tool) => ({
    name: tool.function.name,
    ...(tool.function.description ? { description: tool.function.description } : {}),
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
  }));
  const schema = structuredSchema(request);
  if (schema) {
    tools.push({
      name: schema.name,
      description: 'Respond with the structured result.',
      input_schema: schema.schema,
    });
    body['tool_choice'] = { type: 'tool', name: schema.name };
  }
  if (tools.length > 0) body['tools'] = tools;
  if (stream) body['stream'] = true;
  return body;
}

function structuredSchema(request: ProviderChatRequest): { name: string; schema: unknown } | undefined {
  const format = request.responseFormat;
  if (format === undefined || format['type'] !== 'json_schema') return undefined;
  const spec = (format['json_schema'] ?? {}) as Record<string, unknown>;
  const name = typeof spec['name'] === 'string' && spec['name'] ? spec['name'] : 'json_schema';
  return { name, schema: spec['schema'] ?? { type: 'object' } };
}

function usageFrom(input: unknown, output: unknown): Usage {
  return usageOf(Number(input ?? 0), Number(output ?? 0));
}

/** Structured output: the forced tool's input becomes the content (Python-style `json.dumps`). */
function applyStructured(request: ProviderChatRequest, result: ProviderResult): ProviderResult {
  const schema = structuredSchema(request);
  if (!schema) return result;
  const call = result.toolCalls.find((entry) => entry.name === schema.name);
  if (!call) throw new ProviderError('anthropic returned no structured result');
  return {
    content: typeof call.arguments === 'string' ? call.arguments : pythonJsonDumps(call.arguments),
    toolCalls: result.toolCalls.filter((entry) => entry !== call),
    usage: result.usage,
  };
}

/**
 * The native Anthropic Messages adapter: `POST {base}/messages` with `x-api-key` and `anthropic-version`;
 * system messages go to `system`, tools to Anthropic tool definitions, tool results to `tool_result` blocks;
 * `json_schema` response formats use a forced tool whose input is returned as JSON text. Streaming maps the
 * `message_start` / `content_block_*` / `message_delta` events to text deltas and complete tool calls.
 *
 * @example
 * ```ts
 * const adapter = createAnthropicAdapter({ baseUrl: 'https://api.anthropic.com/v1', apiKey, fetch });
 * ```
 */
export function createAnthropicAdapter(endpoint: ProviderEndpoint): ProviderAdapter {
  const url = `${endpoint.baseUrl}/messages`;
  const headers = { 'x-api-key': endpoint.apiKey, 'anthropic-version': ANTHROPIC_VERSION };
  return {
    async chat(request) {
      const response = await postJson(
        endpoint.fetch,
        url,
        headers,
        toAnthropic(request, false),
        request.signal,
        'anthropic',
      );
      const body = await readJson(response, 'anthropic');
      const blocks = Array.isArray(body['content']) ? (body['content'] as Block[]) : [];
      let content = '';
      const toolCalls: ProviderToolCall[] = [];
      for (const block of blocks) {
        if (block['type'] === 'text' && typeof block['text'] === 'string') content += block['text'];
        if (block['type'] === 'tool_use') {
          toolCalls.push({
            id: String(block['id'] ?? ''),
            name: String(block['name'] ?? ''),
            arguments: block['input'] ?? {},
          });
        }
      }
      const usage = body['usage'] as Record<string, unknown> | undefined;
      return applyStructured(request, {
        content,
        toolCalls,
        usage: usage ? usageFrom(usage['input_tokens'], usage['output_tokens']) : undefined,
      });
    },
    async *stream(request): AsyncGenerator<ProviderStreamEvent> {
      const response = await postJson(
        endpoint.fetch,
        url,
        headers,
        toAnthropic(request, true),
        request.signal,
        'anthropic',
      );
      const structured = structuredSchema(request);
      const blocks = new Map<number, { kind: 'text' | 'tool_use'; id: string; name: string; json: string }>();
      let inputTokens = 0;
      let outputTokens = 0;
      const done: ProviderToolCall[] = [];
      for await (const event of readSse(response.body)) {
        const frame = parseFrame(event.data, 'anthropic');
        const type = frame['type'];
        if (type === 'error') throw new ProviderError('anthropic reported a stream error');
        if (type === 'message_start') {
          const usage = ((frame['message'] ?? {}) as Block)['usage'] as Block | undefined;
          inputTokens = Number(usage?.['input_tokens'] ?? 0);
          outputTokens = Number(usage?.['output_tokens'] ?? 0);
        } else if (type === 'content_block_start') {
          const block = (frame['content_block'] ?? {}) as Block;
          const index = Number(frame['index'] ?? 0);
          if (block['type'] === 'tool_use') {
            blocks.set(index, {
              kind: 'tool_use',
              id: String(block['id'] ?? ''),
              name: String(block['name'] ?? ''),
              json: '',
            });
          } else {
            blocks.set(index, { kind: 'text', id: '', name: '', json: '' });
            if (typeof block['text'] === 'string' && block['text'] !== '')
              yield { type: 'text', text: block['text'] };
          }
        } else if (type === 'content_block_delta') {
          const delta = (frame['delta'] ?? {}) as Block;
          const entry = blocks.get(Number(frame['index'] ?? 0));
          if (delta['type'] === 'text_delta' && typeof delta['text'] === 'string')
            yield { type: 'text', text: delta['text'] };
          else if (
            delta['type'] === 'input_json_delta' &&
            entry &&
            typeof delta['partial_json'] === 'string'
          ) {
            entry.json += delta['partial_json'];
          }
        } else if (type === 'content_block_stop') {
          const index = Number(frame['index'] ?? 0);
          const entry = blocks.get(index);
          if (entry?.kind === 'tool_use') {
            const call = { id: entry.id, name: entry.name, arguments: parseArguments(entry.json) };
            if (structured && entry.name === structured.name) {
              yield {
                type: 'text',
                text: typeof call.arguments === 'string' ? call.arguments : pythonJsonDumps(call.arguments),
              };
            } else {
              done.push(call);
              yield { type: 'tool_call', call };
            }
          }
          blocks.delete(index);
        } else if (type === 'message_delta') {
          const usage = frame['usage'] as Block | undefined;
          if (usage?.['output_tokens'] !== undefined) outputTokens = Number(usage['output_tokens']);
          if (usage?.['input_tokens'] !== undefined) inputTokens = Number(usage['input_tokens']);
        } else if (type === 'message_stop') {
          break;
        }
      }
      yield { type: 'usage', usage: usageFrom(inputTokens, outputTokens) };
    },
  };
}
