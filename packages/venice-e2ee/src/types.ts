/** A text part of an OpenAI message content array. */
export interface TextContentPart {
  /** Always `text`. */
  type: 'text';
  /** The text. */
  text: string;
}

/** An OpenAI-style tool call in an assistant message or a response. */
export interface ToolCall {
  /** Call id (`call_` + 32 hex characters when generated here). */
  id: string;
  /** Always `function`. */
  type: 'function';
  /** Function name and JSON-encoded arguments. */
  function: { name: string; arguments: string };
}

/** A chat message as accepted by the Venice client (the subset the E2EE path supports). */
export interface ChatMessage {
  /** `system`, `developer`, `user`, `assistant` or `tool`. */
  role: string;
  /** String content, text parts, or null (assistant with tool calls). */
  content?: string | TextContentPart[] | null;
  /** Assistant tool calls (rendered as text upstream). */
  tool_calls?: ToolCall[];
  /** Tool result id (role `tool`). */
  tool_call_id?: string;
}

/** An OpenAI function tool definition. */
export interface ToolDefinition {
  /** Always `function`. */
  type: 'function';
  /** The function. */
  function: {
    /** Name (non-empty). */
    name: string;
    /** Optional description. */
    description?: string;
    /** Optional JSON schema of the arguments (subset of spec section 6.6). */
    parameters?: Record<string, unknown>;
  };
}

/** `tool_choice` values. */
export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** A chat completion request (OpenAI shape, Venice E2EE subset). */
export interface ChatRequest {
  /** Model id (e.g. `e2ee-qwen3-6-27b`). */
  model: string;
  /** Conversation; every message content is encrypted upstream. */
  messages: ChatMessage[];
  /** Stream the answer. */
  stream?: boolean | null;
  /** `include_usage` controls the usage chunk. */
  stream_options?: { include_usage?: boolean } | null;
  /** Sampling temperature. */
  temperature?: number | null;
  /** Nucleus sampling. */
  top_p?: number | null;
  /** Token limit. */
  max_tokens?: number | null;
  /** Token limit (newer name). */
  max_completion_tokens?: number | null;
  /** Stop sequences. */
  stop?: string | string[] | null;
  /** Reasoning controls. */
  reasoning?: { enabled?: boolean; effort?: string } | null;
  /** Reasoning effort. */
  reasoning_effort?: string | null;
  /** Tools (emulated through prompts). */
  tools?: ToolDefinition[] | null;
  /** Tool choice. */
  tool_choice?: ToolChoice | null;
  /** Accepted, ignored. */
  parallel_tool_calls?: boolean | null;
  /** `metadata.session_id` selects the session. */
  metadata?: Record<string, unknown> | null;
  /** Venice parameters (E2EE must stay enabled, the Venice system prompt disabled). */
  venice_parameters?: Record<string, unknown> | null;
}

/** A delta of a streamed choice. */
export interface ChunkDelta {
  /** `assistant` on the first delta. */
  role?: 'assistant';
  /** Decrypted content. */
  content?: string;
  /** Decrypted reasoning. */
  reasoning_content?: string;
  /** Emulated tool calls (complete arguments, one delta per call). */
  tool_calls?: Array<ToolCall & { index: number }>;
}

/** An OpenAI `chat.completion.chunk` with decrypted deltas. */
export interface ChatCompletionChunk {
  /** Completion id. */
  id: string;
  /** `chat.completion.chunk`. */
  object: string;
  /** Unix seconds. */
  created: number;
  /** Model. */
  model: string;
  /** Zero or one choice (usage chunks have none). */
  choices: Array<{ index: number; delta: ChunkDelta; finish_reason: string | null }>;
  /** Usage (usage chunk only). */
  usage?: Record<string, unknown> | null;
}

/** A buffered OpenAI `chat.completion`. */
export interface ChatCompletion {
  /** Completion id. */
  id: string;
  /** `chat.completion`. */
  object: 'chat.completion';
  /** Unix seconds. */
  created: number;
  /** Model. */
  model: string;
  /** One choice. */
  choices: Array<{
    index: number;
    finish_reason: string;
    message: {
      role: 'assistant';
      content: string | null;
      reasoning_content?: string;
      tool_calls?: ToolCall[];
    };
  }>;
  /** Last usage seen upstream, or null. */
  usage: Record<string, unknown> | null;
}

/** A logger hook; pino fits. */
export interface Logger {
  /** Errors. */
  error(message: string, ...rest: unknown[]): void;
  /** Warnings. */
  warn(message: string, ...rest: unknown[]): void;
  /** Information. */
  info(message: string, ...rest: unknown[]): void;
  /** Debugging. */
  debug(message: string, ...rest: unknown[]): void;
}
