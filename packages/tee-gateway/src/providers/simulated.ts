import type {
  GatewayMessage,
  ProviderAdapter,
  ProviderChatRequest,
  ProviderResult,
  ProviderStreamEvent,
} from './types.js';
import { usageOf } from './types.js';

function lastUserText(messages: GatewayMessage[]): string {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      return message.content
        .map((part) =>
          typeof part === 'object' && part !== null ? String((part as { text?: unknown }).text ?? '') : '',
        )
        .join('');
    }
  }
  return '';
}

function countTokens(text: string): number {
  return text.split(/\s+/).filter((word) => word.length > 0).length;
}

/**
 * The built-in simulated provider (used when no provider key is configured and simulation is on): a
 * deterministic, clearly labelled answer built from the last user message, with word counts as usage. It never
 * leaves the process. Not an LLM.
 *
 * @example
 * ```ts
 * const adapter = createSimulatedAdapter();
 * (await adapter.chat(request)).content; // '[simulated gpt-4.1] You said: ...'
 * ```
 */
export function createSimulatedAdapter(): ProviderAdapter {
  const answer = (request: ProviderChatRequest): ProviderResult => {
    const prompt = request.messages
      .map((message) => (typeof message.content === 'string' ? message.content : ''))
      .join(' ');
    const said = lastUserText(request.messages);
    const words = `[simulated ${request.model.name}] You said: ${said}`.split(' ');
    const content = words.slice(0, Math.max(1, request.maxTokens)).join(' ');
    return { content, toolCalls: [], usage: usageOf(countTokens(prompt), countTokens(content)) };
  };
  return {
    async chat(request) {
      return answer(request);
    },
    async *stream(request): AsyncGenerator<ProviderStreamEvent> {
      const result = answer(request);
      const words = result.content.split(' ');
      for (let index = 0; index < words.length; index++) {
        yield { type: 'text', text: index === 0 ? words[index]! : ` ${words[index]}` };
      }
      if (result.usage) yield { type: 'usage', usage: result.usage };
    },
  };
}
