import { ChutesCliError } from '../errors.js';

/**
 * Yields the lines (without line terminators) of a streamed response body, decoding UTF-8 across chunk
 * boundaries. The last line is yielded even without a trailing newline.
 * @throws ChutesCliError `ERR_STREAM` when the body fails mid-stream.
 */
export async function* readLines(body: ReadableStream<Uint8Array> | null): AsyncGenerator<string> {
  if (!body) return;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new ChutesCliError('ERR_STREAM', 'the stream was interrupted', { cause: error });
      }
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let index = buffer.search(/\r?\n/);
      while (index >= 0) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(buffer[index] === '\r' ? index + 2 : index + 1);
        yield line;
        index = buffer.search(/\r?\n/);
      }
    }
    buffer += decoder.decode();
    if (buffer.length > 0) yield buffer;
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

/** One `data:` event of a Chutes SSE stream, parsed as JSON. */
export interface SseDataEvent {
  /** The parsed JSON of the `data:` line. */
  data: unknown;
}

/**
 * Yields the JSON payloads of `data: {...}` lines; other lines (keep-alive `.`, comments, blanks) are skipped,
 * and a line `DONE` or `data: [DONE]` ends the stream.
 * @throws ChutesCliError `ERR_STREAM` for a `data:` line that is not JSON.
 */
export async function* readSseJson(body: ReadableStream<Uint8Array> | null): AsyncGenerator<unknown> {
  for await (const line of readLines(body)) {
    const trimmed = line.trim();
    if (trimmed === 'DONE' || trimmed === 'data: [DONE]') return;
    if (!trimmed.startsWith('data:')) continue;
    const payload = trimmed.slice(5).trim();
    if (payload === '') continue;
    try {
      yield JSON.parse(payload) as unknown;
    } catch (error) {
      throw new ChutesCliError('ERR_STREAM', 'the stream carried a data line that is not JSON', {
        cause: error,
      });
    }
  }
}
