import type { FetchFunction } from '@confidential-ai/server-kit';
import type { ModelConfig } from '../registry.js';

/** A chat message as the gateway forwards it (OpenAI shape, `developer` already mapped to `system`). */
export interface GatewayMessage {
  /** Message role. */
  role: 'system' | 'user' | 'assistant' | 'tool' | 'function';
  /** Text, or a list of OpenAI content parts (user messages). */
  content: string | unknown[] | null;
  /** Assistant tool calls (arguments as JSON text). */
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  /** Tool result: id of the call it answers. */
  tool_call_id?: string;
  /** Function name (role `function`). */
  name?: string;
}

/** An OpenAI function tool definition. */
export interface GatewayTool {
  /** Always `function`. */
  type: string;
  /** `{name, description?, parameters?}`. */
  function: { name: string; description?: string; parameters?: unknown; strict?: boolean };
}

/** What every adapter receives. */
export interface ProviderChatRequest {
  /** The registry entry (the provider gets `apiName`). */
  model: ModelConfig;
  /** Messages (the unhashed "Respond in JSON format." system message already added when needed). */
  messages: GatewayMessage[];
  /** Effective temperature, or undefined to omit it. */
  temperature: number | undefined;
  /** Max output tokens (4096 for chat without one, 16 for completions without one). */
  maxTokens: number;
  /** Tools, normalised to `{type, function}`. */
  tools: GatewayTool[] | undefined;
  /** `response_format` when its type is not `text`. */
  responseFormat: Record<string, unknown> | undefined;
  /** Stop sequences. */
  stop: string[] | undefined;
  /** Aborts the provider call. */
  signal?: AbortSignal;
}

/** A complete tool call from a provider: arguments as parsed JSON (object or key-ordered Map) or raw text. */
export interface ProviderToolCall {
  /** Provider call id. */
  id: string;
  /** Function name. */
  name: string;
  /** Parsed arguments (Map keeps the provider's key order) or the raw JSON text. */
  arguments: unknown;
}

/** Token usage normalised to the OpenAI names (the provider's totals for the whole response). */
export interface Usage {
  /** Input tokens. */
  prompt_tokens: number;
  /** Output tokens. */
  completion_tokens: number;
  /** Sum. */
  total_tokens: number;
}

/** A finished non-streaming provider answer. */
export interface ProviderResult {
  /** Assistant text (`""` when none). */
  content: string;
  /** Tool calls, in order. */
  toolCalls: ProviderToolCall[];
  /** Usage, when the provider reported it. */
  usage: Usage | undefined;
}

/** One event of a provider stream. Tool calls are emitted once complete. */
export type ProviderStreamEvent =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; call: ProviderToolCall }
  | { type: 'usage'; usage: Usage };

/** A provider adapter (one per wire format). */
export interface ProviderAdapter {
  /** Non-streaming call. */
  chat(request: ProviderChatRequest): Promise<ProviderResult>;
  /** Streaming call. */
  stream(request: ProviderChatRequest): AsyncIterable<ProviderStreamEvent>;
}

/** Connection settings of one provider. */
export interface ProviderEndpoint {
  /** Base URL without trailing slash (e.g. `https://api.openai.com/v1`). */
  baseUrl: string;
  /** API key. */
  apiKey: string;
  /** fetch to use (pooled undici by default). */
  fetch: FetchFunction;
}

/** A provider answered with an error status or an unparsable body. */
export class ProviderError extends Error {
  /** Provider HTTP status, when there was one. */
  readonly status: number | undefined;
  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'ProviderError';
    this.status = options?.status;
  }
}

/** Builds a usage record from input/output counts. */
export function usageOf(prompt: number, completion: number, total?: number): Usage {
  const p = Number.isFinite(prompt) ? prompt : 0;
  const c = Number.isFinite(completion) ? completion : 0;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: total ?? p + c };
}
