import { randomUUID } from 'node:crypto';
import { argumentsObject, contentText } from './convert.js';
import { toGeminiParameters } from './gemini-schema.js';
import { parseFrame, postJson, readJson, readSse } from './http.js';
import {
  type ProviderAdapter,
  type ProviderChatRequest,
  type ProviderEndpoint,
  ProviderError,
  type ProviderStreamEvent,
  type ProviderToolCall,
  type Usage,
  usageOf,
} from './types.js';

type Part = Record<string, unknown>;

function toGemini(request: ProviderChatRequest): Record<string, unknown> {
  const system: Part[] = [];
  const contents: { role: 'user' | 'model'; parts: Part[] }[] = [];
  const namesById = new Map<string, string>();
  const push = (role: 'user' | 'model', parts: Part[]) => {
    const last = contents.at(-1);
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of request.messages) {
    if (message.role === 'system') system.push({ text: contentText(message.content) });
    else if (message.role === 'user') push('user', [{ text: contentText(message.content) }]);
    else if (message.role === 'assistant') {
      const parts: Part[] = [];
      const text = contentText(message.content);
      if (text !== '') parts.push({ text });
      for (const call of message.tool_calls ?? []) {
        namesById.set(call.id, call.function.name);
        parts.push({
          functionCall: { name: call.function.name, args: argumentsObject(call.function.arguments) },
        });
      }
      if (parts.length > 0) push('model', parts);
    } else {
      const name = message.name ?? namesById.get(message.tool_call_id ?? '') ?? 'tool';
      push('user', [{ functionResponse: { name, response: { result: contentText(message.content) } } }]);
    }
  }
  const generationConfig: Record<string, unknown> = { maxOutputTokens: request.maxTokens };
  if (request.temperature !== undefined) generationConfig['temperature'] = request.temperature;
  if (request.stop) generationConfig['stopSequences'] = request.stop;
  if (request.model.thinkingBudget !== undefined) {
    generationConfig['thinkingConfig'] = {
      thinkingBudget: request.model.thinkingBudget,
      includeThoughts: false,
    };
  }
  const format = request.responseFormat;
  if (format?.['type'] === 'json_object') generationConfig['responseMimeType'] = 'application/json';
  if (format?.['type'] === 'json_schema') {
    generationConfig['responseMimeType'] = 'application/json';
    const schema = ((format['json_schema'] ?? {}) as Record<string, unknown>)['schema'];
    if (schema) generationConfig['responseJsonSchema'] = schema;
  }
  const body: Record<string, unknown> = { contents, generationConfig };
  if (system.length > 0) body['systemInstruction'] = { parts: system };
  if (request.tools?.length) {
    body['tools'] = [
      {
        functionDeclarations: request.tools.map((tool) => {
          // Gemini accepts only its Schema subset: convert as the reference does (gemini-schema.ts).
          const parameters = toGeminiParameters(tool.function.parameters);
          return {
            name: tool.function.name,
            ...(tool.function.description ? { description: tool.function.description } : {}),
            ...(parameters ? { parameters } : {}),
          };
        }),
      },
    ];
  }
  return body;
}

function usageFrom(metadata: unknown): Usage | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const record = metadata as Record<string, unknown>;
  const prompt = Number(record['promptTokenCount'] ?? 0);
  const output = Number(record['candidatesTokenCount'] ?? 0) + Number(record['thoughtsTokenCount'] ?? 0);
  return usageOf(
    prompt,
    output,
    record['totalTokenCount'] === undefined ? undefined : Number(record['totalTokenCount']),
  );
}

function partsOf(frame: Record<string, unknown>): Part[] {
  const candidates = frame['candidates'];
  if (!Array.isArray(candidates) || candidates.length === 0) return [];
  const content = (candidates[0] as Record<string, unknown>)['content'] as
    | Record<string, unknown>
    | undefined;
  return Array.isArray(content?.['parts']) ? (content['parts'] as Part[]) : [];
}

function toolCallOf(part: Part): ProviderToolCall | undefined {
  const call = part['functionCall'] as Record<string, unknown> | undefined;
  if (!call) return undefined;
  return {
    id: typeof call['id'] === 'string' && call['id'] ? call['id'] : `call_${randomUUID()}`,
    name: String(call['name'] ?? ''),
    arguments: call['args'] ?? {},
  };
}

/**
 * The native Gemini adapter: `POST {base}/models/{api_name}:generateContent` (streaming
 * `:streamGenerateContent?alt=sse`) with `x-goog-api-key`; `generationConfig` carries temperature,
 * `maxOutputTokens` and `thinkingConfig.thinkingBudget` (thoughts excluded). `functionCall` parts become tool
 * calls; the usage is the last reported `usageMetadata` (Gemini reports running totals).
 *
 * @example
 * ```ts
 * const adapter = createGeminiAdapter({ baseUrl: 'https://generativelanguage.googleapis.com/v1beta', apiKey, fetch });
 * ```
 */
export function createGeminiAdapter(endpoint: ProviderEndpoint): ProviderAdapter {
  const headers = { 'x-goog-api-key': endpoint.apiKey };
  const modelUrl = (request: ProviderChatRequest) =>
    `${endpoint.baseUrl}/models/${encodeURIComponent(request.model.apiName)}`;
  return {
    async chat(request) {
      const response = await postJson(
        endpoint.fetch,
        `${modelUrl(request)}:generateContent`,
        headers,
        toGemini(request),
        request.signal,
        'google',
      );
      const body = await readJson(response, 'google');
      if (!Array.isArray(body['candidates'])) throw new ProviderError('google returned no candidates');
      let content = '';
      const toolCalls: ProviderToolCall[] = [];
      for (const part of partsOf(body)) {
        if (part['thought'] === true) continue;
        if (typeof part['text'] === 'string') content += part['text'];
        const call = toolCallOf(part);
        if (call) toolCalls.push(call);
      }
      return { content, toolCalls, usage: usageFrom(body['usageMetadata']) };
    },
    async *stream(request): AsyncGenerator<ProviderStreamEvent> {
      const response = await postJson(
        endpoint.fetch,
        `${modelUrl(request)}:streamGenerateContent?alt=sse`,
        headers,
        toGemini(request),
        request.signal,
        'google',
      );
      let usage: Usage | undefined;
      const calls: ProviderToolCall[] = [];
      for await (const event of readSse(response.body)) {
        const frame = parseFrame(event.data, 'google');
        if (frame['error'] !== undefined) throw new ProviderError('google reported a stream error');
        for (const part of partsOf(frame)) {
          if (part['thought'] === true) continue;
          if (typeof part['text'] === 'string' && part['text'] !== '')
            yield { type: 'text', text: part['text'] };
          const call = toolCallOf(part);
          if (call) calls.push(call);
        }
        const frameUsage = usageFrom(frame['usageMetadata']);
        if (frameUsage) usage = frameUsage;
      }
      for (const call of calls) yield { type: 'tool_call', call };
      if (usage) yield { type: 'usage', usage };
    },
  };
}
