import { VeniceE2eeError } from './errors.js';

/** One server-sent event. */
export interface SseEvent {
  /** `event:` field, if any. */
  event: string | undefined;
  /** `data:` lines joined with `\n`. */
  data: string;
}

const SEPARATOR = /\r\n\r\n|\n\n|\r\r/;

function parseEvent(block: string): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  let fields = 0;
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line.length === 0 || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    fields++;
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name !== 'id' && name !== 'retry') {
      throw new VeniceE2eeError('ERR_UPSTREAM_STREAM', 'upstream SSE event has an unknown field');
    }
  }
  if (fields === 0) return undefined;
  if (data.length === 0) throw new VeniceE2eeError('ERR_UPSTREAM_STREAM', 'upstream SSE event has no data');
  return { event, data: data.join('\n') };
}

/**
 * Parses an SSE byte stream into events (UTF-8 decoded as a stream, so a character split across network
 * chunks is handled). Events split at the earliest blank line (`\r\n\r\n`, `\n\n` or `\r\r`); comment lines
 * are ignored; fields other than `event`, `data`, `id`, `retry` are an error.
 * @throws VeniceE2eeError `ERR_UPSTREAM_STREAM` for a malformed event or invalid UTF-8.
 */
export async function* parseSse(
  body: ReadableStream<Uint8Array>,
  maxEventBytes = 8 * 1024 * 1024,
): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let buffer = '';
  let finished = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        buffer += decodeOrFail(decoder, undefined);
        finished = true;
      } else {
        buffer += decodeOrFail(decoder, value);
      }
      for (;;) {
        const match = SEPARATOR.exec(buffer);
        if (!match) break;
        const block = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const event = parseEvent(block);
        if (event) yield event;
      }
      if (buffer.length > maxEventBytes)
        throw new VeniceE2eeError('ERR_UPSTREAM_STREAM', 'upstream SSE event is too large');
      if (finished) {
        if (buffer.trim().length > 0) {
          const event = parseEvent(buffer);
          if (event) yield event;
        }
        return;
      }
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

function decodeOrFail(decoder: TextDecoder, value: Uint8Array | undefined): string {
  try {
    return value === undefined ? decoder.decode() : decoder.decode(value, { stream: true });
  } catch (cause) {
    throw new VeniceE2eeError('ERR_UPSTREAM_STREAM', 'upstream stream is not valid UTF-8', { cause });
  }
}

/** Encodes one SSE `data:` event (`data: <text>\n\n`). */
export function formatSseData(data: string): string {
  return `data: ${data}\n\n`;
}
