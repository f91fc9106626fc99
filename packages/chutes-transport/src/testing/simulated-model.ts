/**
 * A deterministic stand-in for a vLLM model server: the reply is derived from the prompt only, so tests can
 * predict every word.
 */

/** Token usage as vLLM reports it. */
export interface SimulatedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isPlainObject(part) && typeof part.text === 'string' ? part.text : ''))
      .filter(Boolean)
      .join(' ');
  }
  return '';
}

/** The prompt text of a chat or completions payload: the last user message, or the `prompt`. */
export function promptOf(payload: Record<string, unknown>): string {
  if (Array.isArray(payload.messages)) {
    for (let index = payload.messages.length - 1; index >= 0; index--) {
      const message: unknown = payload.messages[index];
      if (isPlainObject(message) && message.role === 'user') return contentText(message.content);
    }
    return '';
  }
  if (typeof payload.prompt === 'string') return payload.prompt;
  if (Array.isArray(payload.prompt))
    return payload.prompt.filter((item) => typeof item === 'string').join(' ');
  return '';
}

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/**
 * The reply text for a payload: `You said: <prompt>` (or a greeting for an empty prompt), cut to `max_tokens`
 * (or `max_completion_tokens`) words when set.
 */
export function simulatedReplyText(payload: Record<string, unknown>): string {
  const prompt = promptOf(payload).trim();
  let text = prompt === '' ? 'Hello from the simulated Chutes model.' : `You said: ${prompt}`;
  const limit = payload.max_completion_tokens ?? payload.max_tokens;
  if (typeof limit === 'number' && Number.isInteger(limit) && limit > 0) {
    const pieces = text.match(/\S+\s*/g) ?? [];
    text = pieces.slice(0, limit).join('').trimEnd();
  }
  return text;
}

/** Splits reply text into stream pieces (one word with its following whitespace each). */
export function simulatedPieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function promptTokens(payload: Record<string, unknown>): number {
  return Array.isArray(payload.messages)
    ? payload.messages.reduce<number>(
        (sum, message) => sum + (isPlainObject(message) ? countWords(contentText(message.content)) + 1 : 0),
        0,
      )
    : countWords(promptOf(payload));
}

function usage(prompt: number, completion: number): SimulatedUsage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function usageFor(payload: Record<string, unknown>, completionText: string): SimulatedUsage {
  return usage(promptTokens(payload), countWords(completionText));
}

/** Identity fields shared by one simulated response. */
export interface SimulationContext {
  /** Response id, e.g. `chatcmpl-fake-1`. */
  id: string;
  /** Unix seconds. */
  created: number;
}

function modelName(payload: Record<string, unknown>): string {
  return typeof payload.model === 'string' ? payload.model : 'unknown';
}

/** The non-stream JSON body vLLM would return for `path` (`/v1/chat/completions` or `/v1/completions`). */
export function simulateCompletion(
  path: string,
  payload: Record<string, unknown>,
  context: SimulationContext,
): Record<string, unknown> {
  const text = simulatedReplyText(payload);
  const usage = usageFor(payload, text);
  if (path === '/v1/completions') {
    return {
      id: context.id,
      object: 'text_completion',
      created: context.created,
      model: modelName(payload),
      choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop', stop_reason: null }],
      usage,
    };
  }
  return {
    id: context.id,
    object: 'chat.completion',
    created: context.created,
    model: modelName(payload),
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, tool_calls: [] },
        logprobs: null,
        finish_reason: 'stop',
        stop_reason: null,
      },
    ],
    usage,
  };
}

/**
 * The raw SSE lines vLLM would stream for `path`, each with its line break: `data: {...}\n`, a blank `\n`
 * after each event, and finally `data: [DONE]\n` and `\n`. With `stream_options.include_usage` a final usage
 * chunk is added; with `continuous_usage_stats` every chunk carries usage.
 */
export function simulateStreamLines(
  path: string,
  payload: Record<string, unknown>,
  context: SimulationContext,
): string[] {
  const text = simulatedReplyText(payload);
  const pieces = simulatedPieces(text);
  const streamOptions = isPlainObject(payload.stream_options) ? payload.stream_options : {};
  const continuous = streamOptions.continuous_usage_stats === true;
  const includeUsage = streamOptions.include_usage === true;
  const model = modelName(payload);
  const chat = path !== '/v1/completions';
  const lines: string[] = [];
  const prompt = promptTokens(payload);
  let completion = 0;
  const emit = (choice: Record<string, unknown> | undefined, usage?: SimulatedUsage) => {
    const chunk: Record<string, unknown> = {
      id: context.id,
      object: chat ? 'chat.completion.chunk' : 'text_completion',
      created: context.created,
      model,
      choices: choice ? [choice] : [],
    };
    if (usage) chunk.usage = usage;
    lines.push(`data: ${JSON.stringify(chunk)}\n`, '\n');
  };
  if (chat) {
    emit(
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
      continuous ? usage(prompt, 0) : undefined,
    );
  }
  for (const piece of pieces) {
    completion++;
    const choice = chat
      ? { index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }
      : { index: 0, text: piece, logprobs: null, finish_reason: null };
    emit(choice, continuous ? usage(prompt, completion) : undefined);
  }
  const final = chat
    ? { index: 0, delta: {}, logprobs: null, finish_reason: 'stop', stop_reason: null }
    : { index: 0, text: '', logprobs: null, finish_reason: 'stop', stop_reason: null };
  emit(final, continuous ? usage(prompt, completion) : undefined);
  if (includeUsage) emit(undefined, usage(prompt, completion));
  lines.push('data: [DONE]\n', '\n');
  return lines;
}
