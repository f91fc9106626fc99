import { createHash } from 'node:crypto';
import { errorForLog, isTimeoutError, parseJsonObject } from '@confidential-ai/server-kit';
import type { AppDependencies } from './app.js';
import type { E2eeContext } from './e2ee.js';
import { encryptChatResponse } from './e2ee-response.js';
import { ApiError, errorEnvelope } from './errors.js';
import { EventFramer, eventDataOf, indexOfBytes, isDone, LineSplitter, splitLines } from './sse-framing.js';

/** Largest single upstream SSE event (or run of bytes without an event boundary) the relay buffers. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/** Options of {@link createSignedEventStream}. */
export interface SignedEventStreamOptions {
  /** Logger, metrics. */
  readonly deps: AppDependencies;
  /** Request id for logs. */
  readonly requestId: string;
  /** Upstream name for logs (`vllm`, `chutes`). */
  readonly upstreamName: string;
  /** Upstream label for client messages (`vLLM upstream`). */
  readonly upstreamLabel: string;
  /**
   * The upstream SSE body: a web `ReadableStream`, or any async iterable of byte chunks (a Node `Readable` such
   * as undici's `request()` body), which spares the web-stream adapter per chunk. Chunks are `Uint8Array`s cut
   * anywhere (events, lines and UTF-8 sequences may span chunks); a chunk of another type fails the stream.
   */
  readonly upstream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** The E2EE context; `undefined` in plain mode. */
  readonly context: E2eeContext | undefined;
  /** E2EE: refuse tool calls (`e2ee.refuse_tool_calls`). */
  readonly refuseToolCalls?: boolean;
  /** Maps an error thrown while reading the upstream body (e.g. a Chutes transport error) to the client's error. */
  readonly mapReadError?: (error: unknown) => ApiError | undefined;
  /** Stores the signature of a complete stream; never called for a stream that did not end with `[DONE]`. */
  readonly onComplete: (id: string, responseHash: string) => Promise<void>;
}

const encoder = new TextEncoder();
const plainDecoder = new TextDecoder('utf-8');
const DONE_EVENT = encoder.encode('data: [DONE]\n\n');
const DONE_TOKEN = encoder.encode('[DONE]');

/** One pull-based reader over either kind of upstream body. */
interface ChunkSource {
  next(): Promise<IteratorResult<Uint8Array, unknown>>;
  /** Stops the upstream (the client left, or the stream failed); never throws. */
  cancel(): void;
}

function chunkSource(upstream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): ChunkSource {
  if (upstream instanceof ReadableStream) {
    const reader = upstream.getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<Uint8Array, unknown>>,
      cancel: () => {
        reader.cancel().catch(() => {});
      },
    };
  }
  const iterator = upstream[Symbol.asyncIterator]();
  return {
    next: () => iterator.next(),
    cancel: () => {
      try {
        iterator.return?.()?.catch(() => {});
      } catch {
        // an iterator whose return() throws has nothing left to stop
      }
    },
  };
}

class StreamFailure extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

function failure(status: number, type: string, message: string): StreamFailure {
  return new StreamFailure(new ApiError(status, type, message));
}

/**
 * Relays an upstream SSE body and signs it only when it is complete (D5, D9).
 *
 * - Plain mode passes the upstream bytes through unchanged, one complete event at a time: an event is written
 *   once its blank line has arrived, so a cut never leaves half an event on the wire.
 * - E2EE mode accepts only `data:` lines and blank lines; every event must be `data: [DONE]` or a JSON chunk,
 *   which is re-framed as `data: <json>\n\n` with every model-text field encrypted ({@link encryptChatResponse}).
 *   Anything else (a comment, an `id:`/`event:`/`retry:` line, raw text, a JSON body, an upstream error event, a
 *   field that cannot be encrypted) ends the stream: none of its bytes are sent.
 * - The stream is complete only when the upstream sent `data: [DONE]`; whatever follows it is discarded. A stream
 *   that ends without it (a clean end of body, a half line or half event, a broken connection) ends with a typed
 *   error event `data: {"error":{...}}` on its own lines, which the openai SDK raises as an `APIError`.
 * - Every byte written is hashed; the signature is stored only for a complete stream, before `[DONE]` (held back
 *   until then) is released. A failed stream is never signed and its `[DONE]` is never sent.
 */
export function createSignedEventStream(options: SignedEventStreamOptions): ReadableStream<Uint8Array> {
  const { deps, context } = options;
  const hash = createHash('sha256');
  const reader = chunkSource(options.upstream);
  const framer = new EventFramer();
  const textDecoder = new TextDecoder('utf-8', { fatal: true });
  const lines = new LineSplitter();
  let eventLines: string[] = [];
  let eventBytes = 0;
  let chatId: string | undefined;
  let sawDone = false;
  let finished = false;
  let held: Uint8Array[] = [];
  let batch: Uint8Array[] = [];
  let enqueued = 0;

  const emit = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    hash.update(bytes);
    if (sawDone) held.push(bytes);
    else batch.push(bytes);
  };
  const flush = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (batch.length === 0) return;
    controller.enqueue(batch.length === 1 ? batch[0]! : Buffer.concat(batch));
    batch = [];
    enqueued++;
  };
  const noteId = (payload: Record<string, unknown> | undefined) => {
    if (chatId === undefined && payload && typeof payload.id === 'string' && payload.id.length > 0)
      chatId = payload.id;
  };

  const incomplete = () =>
    failure(
      502,
      'upstream_stream_incomplete',
      `${options.upstreamLabel} ended the stream before [DONE]; the response is incomplete and not signed`,
    );

  // Plain mode: complete events pass through byte for byte.
  const plainEvent = (event: Uint8Array) => {
    if (chatId === undefined || indexOfBytes(event, DONE_TOKEN) !== -1) {
      const data = eventDataOf(splitLines(plainDecoder.decode(event)));
      if (isDone(data)) {
        sawDone = true;
        emit(event);
        return;
      }
      if (chatId === undefined && data !== undefined) noteId(parseJsonObject(data));
    }
    emit(event);
  };
  const relayPlain = (chunk: Uint8Array) => {
    const count = framer.push(chunk);
    const { ends, head } = framer;
    const last = count > 0 ? ends[count - 1]! : 0;
    let begin = 0;
    // Where "[DONE]" next occurs at or after `begin` (-1: nowhere; -2: not searched yet): searched once per stretch.
    let doneAt = -2;
    for (let index = 0; index < count && !sawDone; index++) {
      const end = ends[index]!;
      if (index === 0 && head.length > 0) {
        plainEvent(Buffer.concat([...head, chunk.subarray(0, end)]));
        begin = end;
        continue;
      }
      if (doneAt === -2 || (doneAt !== -1 && doneAt < begin)) doneAt = indexOfBytes(chunk, DONE_TOKEN, begin);
      if (chatId !== undefined && (doneAt === -1 || doneAt >= last)) {
        // The id is known and no later complete event can be [DONE]: they go out together, as one view.
        emit(chunk.subarray(begin, last));
        break;
      }
      plainEvent(chunk.subarray(begin, end));
      begin = end;
    }
    if (framer.bufferedBytes > MAX_EVENT_BYTES) {
      throw failure(
        502,
        'upstream_invalid_response',
        `${options.upstreamLabel} sent an oversized stream event`,
      );
    }
  };

  // E2EE mode: only data lines; each event re-framed with its fields encrypted.
  const processEvent = () => {
    const data = eventDataOf(eventLines);
    eventLines = [];
    eventBytes = 0;
    if (data === undefined) return;
    if (isDone(data)) {
      sawDone = true;
      emit(DONE_EVENT);
      return;
    }
    const payload = parseJsonObject(data);
    if (!payload) {
      throw failure(
        502,
        'upstream_invalid_response',
        `${options.upstreamLabel} sent a stream event that is not JSON`,
      );
    }
    noteId(payload);
    encryptChatResponse(payload, context!, 'delta', { refuseToolCalls: options.refuseToolCalls === true });
    let text: string;
    try {
      text = JSON.stringify(payload);
    } catch {
      throw failure(500, 'e2ee_encryption_failed', 'Failed to encrypt a response chunk; stream stopped');
    }
    // Buffer.from writes the same UTF-8 as TextEncoder (JSON.stringify leaves no lone surrogate) from a pooled slab.
    emit(Buffer.from(`data: ${text}\n\n`, 'utf8'));
  };
  const notData = () =>
    failure(
      502,
      'upstream_invalid_response',
      `${options.upstreamLabel} sent a stream line that is not data; an E2EE stream carries only encrypted data`,
    );
  const relayE2ee = (text: string) => {
    for (const line of lines.push(text)) {
      if (sawDone) continue;
      if (line === '') {
        processEvent();
      } else if (line.startsWith('data:')) {
        eventLines.push(line);
        eventBytes += line.length;
      } else {
        throw notData();
      }
    }
    if (sawDone) return;
    // A partial line that can no longer become a data line (e.g. a JSON body) is refused at once.
    const head = lines.remainder.slice(0, 5);
    if (!'data:'.startsWith(head)) throw notData();
    if (eventBytes + lines.remainder.length > MAX_EVENT_BYTES) {
      throw failure(
        502,
        'upstream_invalid_response',
        `${options.upstreamLabel} sent an oversized stream event`,
      );
    }
  };

  // The end of the upstream body in E2EE mode: flush the decoder; a dangling CR is a line end (SSE allows CR alone).
  const endE2eeText = () => {
    const tail = textDecoder.decode();
    relayE2ee(tail.endsWith('\r') || (tail === '' && lines.endsWithCarriageReturn) ? `${tail}\n` : tail);
  };

  const finish = async (controller: ReadableStreamDefaultController<Uint8Array>, complete: boolean) => {
    finished = true;
    if (complete && chatId !== undefined) {
      try {
        await options.onComplete(chatId, hash.digest('hex'));
      } catch (error) {
        deps.logger.error(
          { reqId: options.requestId, err: errorForLog(error) },
          'storing the stream signature failed',
        );
      }
    } else if (complete) {
      deps.logger.warn(
        { reqId: options.requestId, upstream: options.upstreamName },
        'stream had no chat id; not signed',
      );
    }
    flush(controller);
    if (held.length > 0) controller.enqueue(Buffer.concat(held));
    held = [];
    controller.close();
  };

  const fail = async (controller: ReadableStreamDefaultController<Uint8Array>, error: ApiError) => {
    // Whatever was held back (from [DONE] on) is dropped: the stream did not complete.
    sawDone = false;
    held = [];
    deps.metrics.errors.inc({ type: error.type });
    deps.logger.warn(
      { reqId: options.requestId, upstream: options.upstreamName, type: error.type },
      'stream ended with an error event; not signed',
    );
    emit(encoder.encode(`data: ${JSON.stringify(errorEnvelope(error.message, error.type))}\n\n`));
    reader.cancel();
    await finish(controller, false);
  };

  // One upstream read; may enqueue nothing (partial event, held bytes).
  const step = async (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> => {
    let result: IteratorResult<Uint8Array, unknown>;
    try {
      result = await reader.next();
    } catch (error) {
      if (finished) return; // the client went away (cancel): nothing more to relay, nothing to report
      if (!sawDone && context) {
        try {
          endE2eeText();
        } catch {
          // what arrived before the break is not a complete stream either way
        }
      }
      if (sawDone) {
        // [DONE] arrived: the answer is complete, a broken connection after it changes nothing.
        await finish(controller, true);
        return;
      }
      deps.logger.warn(
        { reqId: options.requestId, upstream: options.upstreamName, err: errorForLog(error) },
        'upstream stream failed',
      );
      const mapped =
        options.mapReadError?.(error) ??
        (isTimeoutError(error)
          ? new ApiError(504, 'upstream_timeout', `${options.upstreamLabel} stopped sending the stream`)
          : new ApiError(
              502,
              'upstream_stream_error',
              `${options.upstreamLabel} stream broke before [DONE]; not signed`,
            ));
      await fail(controller, mapped);
      return;
    }
    if (finished) return;
    try {
      if (result.done) {
        if (!sawDone && context) endE2eeText();
        if (!sawDone) throw incomplete();
        await finish(controller, true);
        return;
      }
      if (sawDone) return; // discarded: nothing after [DONE] is sent
      if (!(result.value instanceof Uint8Array)) {
        throw failure(
          502,
          'upstream_invalid_response',
          `${options.upstreamLabel} body yielded a chunk that is not bytes`,
        );
      }
      if (context) relayE2ee(textDecoder.decode(result.value, { stream: true }));
      else relayPlain(result.value);
    } catch (error) {
      if (error instanceof StreamFailure) {
        await fail(controller, error.error);
        return;
      }
      if (error instanceof ApiError) {
        await fail(controller, error);
        return;
      }
      // A decoding error (invalid UTF-8) or an unexpected failure: never send the chunk.
      deps.logger.error(
        { reqId: options.requestId, err: errorForLog(error) },
        'stream chunk could not be relayed',
      );
      await fail(
        controller,
        error instanceof TypeError
          ? new ApiError(
              502,
              'upstream_invalid_response',
              `${options.upstreamLabel} sent a stream that is not UTF-8`,
            )
          : new ApiError(500, 'e2ee_encryption_failed', 'Failed to encrypt a response chunk; stream stopped'),
      );
    }
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A pull that enqueues nothing is not called again: read until something is sent or the stream ends.
      const before = enqueued;
      while (!finished && enqueued === before) {
        await step(controller);
        if (!finished) flush(controller);
      }
    },
    cancel() {
      // The client closed the response: stop reading; an unfinished stream is not signed.
      finished = true;
      reader.cancel();
    },
  });
}
