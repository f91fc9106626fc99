import { VeniceE2eeError } from './errors.js';
import { decryptField, looksLikeCiphertext } from './field-cipher.js';
import { parseSse, type SseEvent } from './sse.js';
import type { ChatCompletion, ChatCompletionChunk, ChunkDelta } from './types.js';

/** Options of {@link createUpstreamDecryptor}. */
export interface UpstreamDecryptorOptions {
  /** The client private key announced in `X-Venice-TEE-Client-Pub-Key`. */
  privateKey: Uint8Array;
  /** HKDF info; default `ecdsa_encryption`. */
  hkdfInfo?: string;
  /**
   * Fail closed on any non-empty content that is not valid ciphertext (spec D3). Default true. When false,
   * values that do not look like ciphertext pass through as plaintext; ciphertext-looking values that fail to
   * decrypt still fail.
   */
  requireEncryptedResponseContent?: boolean;
}

/** A decrypted upstream event. */
export type UpstreamEvent =
  | {
      /** A choice delta. */
      kind: 'delta';
      id: string | undefined;
      created: number | undefined;
      model: string | undefined;
      object: string | undefined;
      index: number;
      finishReason: string | null;
      /** Decrypted `delta.content` (undefined when null/empty). */
      content: string | undefined;
      /** Decrypted `delta.reasoning_content` and/or `delta.reasoning`. */
      reasoning: string | undefined;
    }
  | {
      /** A usage-only chunk (`choices: []`). */
      kind: 'usage';
      id: string | undefined;
      created: number | undefined;
      model: string | undefined;
      object: string | undefined;
      usage: Record<string, unknown>;
    }
  | { /** `data: [DONE]`. */ kind: 'done' };

/** Decrypts upstream events one at a time. */
export interface UpstreamDecryptor {
  /**
   * Classifies and decrypts one SSE event (spec section 5.7).
   * @throws VeniceE2eeError `ERR_UPSTREAM_STREAM`, `ERR_UPSTREAM_MALFORMED_RESPONSE` or
   *   `ERR_E2EE_RESPONSE_DECRYPTION_FAILED`.
   */
  decrypt(event: SseEvent): UpstreamEvent | undefined;
  /** True once any field was decrypted. */
  readonly sawEncryptedField: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/**
 * Creates a decryptor for Venice's E2EE SSE chunks: `delta.content`, `delta.reasoning_content` and
 * `delta.reasoning` are decrypted (each chunk has its own server ephemeral key); `null` and `""` are skipped;
 * role, finish and usage chunks are plaintext.
 * @example
 * ```ts
 * const decryptor = createUpstreamDecryptor({ privateKey });
 * for await (const event of parseSse(response.body)) console.log(decryptor.decrypt(event));
 * ```
 */
export function createUpstreamDecryptor(options: UpstreamDecryptorOptions): UpstreamDecryptor {
  const requireEncrypted = options.requireEncryptedResponseContent !== false;
  let sawEncryptedField = false;
  const open = (value: unknown, field: string): string | undefined => {
    if (value === null || value === undefined || value === '') return undefined;
    if (typeof value !== 'string') {
      throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', `upstream delta.${field} is not a string`);
    }
    if (!requireEncrypted && !looksLikeCiphertext(value)) return value;
    try {
      const text = decryptField(
        value,
        options.privateKey,
        options.hkdfInfo === undefined ? {} : { info: options.hkdfInfo },
      );
      sawEncryptedField = true;
      return text;
    } catch (cause) {
      throw new VeniceE2eeError(
        'ERR_E2EE_RESPONSE_DECRYPTION_FAILED',
        `upstream delta.${field} is not valid ciphertext`,
        {
          cause,
        },
      );
    }
  };
  return {
    get sawEncryptedField() {
      return sawEncryptedField;
    },
    decrypt(event) {
      if (event.event === 'error')
        throw new VeniceE2eeError('ERR_UPSTREAM_STREAM', 'upstream sent an error event');
      if (event.data.trim() === '[DONE]') return { kind: 'done' };
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch (cause) {
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream SSE data is not JSON', {
          cause,
        });
      }
      if (!isObject(json))
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream chunk is not an object');
      if ('error' in json)
        throw new VeniceE2eeError('ERR_UPSTREAM_STREAM', 'upstream chunk carries an error');
      const choices = json['choices'];
      if (!Array.isArray(choices))
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream chunk lacks choices');
      const meta = {
        id: optionalString(json['id']),
        created: typeof json['created'] === 'number' ? json['created'] : undefined,
        model: optionalString(json['model']),
        object: optionalString(json['object']),
      };
      if (choices.length === 0) {
        if (!isObject(json['usage'])) {
          throw new VeniceE2eeError(
            'ERR_UPSTREAM_MALFORMED_RESPONSE',
            'upstream chunk has no choices and no usage',
          );
        }
        return { kind: 'usage', ...meta, usage: json['usage'] };
      }
      if (choices.length > 1)
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream chunk has several choices');
      const choice = choices[0];
      if (!isObject(choice))
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream choice is not an object');
      const index = choice['index'] ?? 0;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) {
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream choice index is invalid');
      }
      const finish = choice['finish_reason'] ?? null;
      if (finish !== null && typeof finish !== 'string') {
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream finish_reason is invalid');
      }
      const delta = choice['delta'] ?? choice['message'] ?? {};
      if (!isObject(delta))
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'upstream delta is not an object');
      const content = open(delta['content'], 'content');
      const reasoningContent = open(delta['reasoning_content'], 'reasoning_content');
      const reasoning = open(delta['reasoning'], 'reasoning');
      const joinedReasoning =
        reasoningContent === undefined && reasoning === undefined
          ? undefined
          : (reasoningContent ?? '') + (reasoning ?? '');
      return { kind: 'delta', ...meta, index, finishReason: finish, content, reasoning: joinedReasoning };
    },
  };
}

/**
 * Reads a Venice SSE body and yields decrypted events, ending with `done`.
 * @throws VeniceE2eeError as {@link UpstreamDecryptor.decrypt}, and `ERR_UPSTREAM_STREAM` when the stream ends
 *   without `data: [DONE]`.
 */
export async function* readUpstreamEvents(
  body: ReadableStream<Uint8Array>,
  decryptor: UpstreamDecryptor,
): AsyncGenerator<UpstreamEvent> {
  for await (const event of parseSse(body)) {
    const decrypted = decryptor.decrypt(event);
    if (!decrypted) continue;
    yield decrypted;
    if (decrypted.kind === 'done') return;
  }
  throw new VeniceE2eeError('ERR_UPSTREAM_STREAM', 'upstream stream ended without [DONE]');
}

/** Completion metadata: first id/created/model seen upstream, else local fallbacks. */
export class CompletionMetadata {
  /** Completion id. */
  id: string | undefined;
  /** Unix seconds. */
  created: number | undefined;
  /** Model. */
  model: string | undefined;
  /** Chunk object name. */
  object: string | undefined;

  /** @param fallbackModel - The requested model. */
  constructor(private readonly fallbackModel: string) {}

  /** Records the first values seen. */
  observe(event: {
    id: string | undefined;
    created: number | undefined;
    model: string | undefined;
    object: string | undefined;
  }): void {
    this.id ??= event.id;
    this.created ??= event.created;
    this.model ??= event.model;
    this.object ??= event.object;
  }

  /** The values with fallbacks filled in (`chatcmpl-local-<uuid>`, now, the requested model). */
  resolve(): { id: string; created: number; model: string; object: string } {
    this.id ??= `chatcmpl-local-${globalThis.crypto.randomUUID()}`;
    this.created ??= Math.floor(Date.now() / 1000);
    return {
      id: this.id,
      created: this.created,
      model: this.model ?? this.fallbackModel,
      object: this.object ?? 'chat.completion.chunk',
    };
  }
}

/** Options of {@link shapeChunks}. */
export interface ShapeChunksOptions {
  /** The requested model (fallback). */
  model: string;
  /** Forward the usage chunk (client asked `stream_options.include_usage: true`). */
  includeUsage: boolean;
}

/**
 * Turns decrypted upstream events into client chunks (spec section 5.8.2): empty deltas emit nothing, the
 * first delta carries `role: "assistant"`, text with a finish reason becomes two chunks, a synthetic
 * `finish_reason: "stop"` is added when `[DONE]` arrives without one, and the usage chunk is forwarded only
 * when asked for.
 */
export async function* shapeChunks(
  events: AsyncIterable<UpstreamEvent>,
  options: ShapeChunksOptions,
): AsyncGenerator<ChatCompletionChunk> {
  const meta = new CompletionMetadata(options.model);
  let roleSent = false;
  let finished = false;
  const chunk = (delta: ChunkDelta, finishReason: string | null, index: number): ChatCompletionChunk => {
    const resolved = meta.resolve();
    if (!roleSent && Object.keys(delta).length > 0) {
      roleSent = true;
      delta = { role: 'assistant', ...delta };
    }
    return { ...resolved, choices: [{ index, delta, finish_reason: finishReason }] };
  };
  for await (const event of events) {
    if (event.kind === 'done') {
      if (!finished) yield chunk({}, 'stop', 0);
      return;
    }
    meta.observe(event);
    if (event.kind === 'usage') {
      if (options.includeUsage) yield { ...meta.resolve(), choices: [], usage: event.usage };
      continue;
    }
    const delta: ChunkDelta = {};
    if (event.reasoning !== undefined && event.reasoning !== '') delta.reasoning_content = event.reasoning;
    if (event.content !== undefined && event.content !== '') delta.content = event.content;
    if (Object.keys(delta).length > 0) yield chunk(delta, null, event.index);
    if (event.finishReason !== null) {
      finished = true;
      yield chunk({}, event.finishReason, event.index);
    }
  }
}

/** Options of {@link collectCompletion}. */
export interface CollectOptions {
  /** The requested model (fallback). */
  model: string;
  /** Decryptor used (for the "no encrypted field at all" rule). */
  decryptor?: UpstreamDecryptor;
  /** Fail when no encrypted field was seen (spec D3, buffered paths). Default true. */
  requireEncryptedResponseContent?: boolean;
}

/** Buffered text of a completion. */
export interface CollectedText {
  /** Completion metadata with fallbacks. */
  meta: { id: string; created: number; model: string };
  /** Concatenated content. */
  content: string;
  /** Concatenated reasoning. */
  reasoning: string;
  /** Last non-null finish reason, default `stop`. */
  finishReason: string;
  /** Last usage, or null. */
  usage: Record<string, unknown> | null;
  /** Choice index. */
  index: number;
}

/**
 * Buffers decrypted upstream events into text, reasoning, finish reason and usage.
 * @throws VeniceE2eeError `ERR_E2EE_RESPONSE_DECRYPTION_FAILED` when no encrypted field was seen and
 *   encryption is required.
 */
export async function collectText(
  events: AsyncIterable<UpstreamEvent>,
  options: CollectOptions,
): Promise<CollectedText> {
  const meta = new CompletionMetadata(options.model);
  let content = '';
  let reasoning = '';
  let finishReason: string | undefined;
  let usage: Record<string, unknown> | null = null;
  let index = 0;
  for await (const event of events) {
    if (event.kind === 'done') break;
    meta.observe(event);
    if (event.kind === 'usage') {
      usage = event.usage;
      continue;
    }
    index = event.index;
    content += event.content ?? '';
    reasoning += event.reasoning ?? '';
    if (event.finishReason !== null) finishReason = event.finishReason;
  }
  if (
    options.requireEncryptedResponseContent !== false &&
    options.decryptor &&
    !options.decryptor.sawEncryptedField
  ) {
    throw new VeniceE2eeError(
      'ERR_E2EE_RESPONSE_DECRYPTION_FAILED',
      'encrypted response content is required but missing',
    );
  }
  const resolved = meta.resolve();
  return {
    meta: { id: resolved.id, created: resolved.created, model: resolved.model },
    content,
    reasoning,
    finishReason: finishReason ?? 'stop',
    usage,
    index,
  };
}

/** Builds a `chat.completion` from buffered text (spec section 5.8.1). */
export function completionFromText(collected: CollectedText): ChatCompletion {
  const message: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: collected.content,
  };
  if (collected.reasoning.length > 0) message.reasoning_content = collected.reasoning;
  return {
    id: collected.meta.id,
    object: 'chat.completion',
    created: collected.meta.created,
    model: collected.meta.model,
    choices: [{ index: collected.index, finish_reason: collected.finishReason, message }],
    usage: collected.usage,
  };
}
