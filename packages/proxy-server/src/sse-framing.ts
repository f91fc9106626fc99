// SSE framing for the stream relay (signed-event-stream.ts): events cut from bytes, lines cut from text, the data
// of an event as an SSE client assembles it. Line ends are LF, CR or CRLF, also when split across chunks.

const LF = 0x0a;
const CR = 0x0d;

/** The first index of `needle` in `haystack` at or after `from`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0]!;
  outer: for (
    let index = haystack.indexOf(first, from);
    index !== -1 && index <= haystack.length - needle.length;
    index = haystack.indexOf(first, index + 1)
  ) {
    for (let offset = 1; offset < needle.length; offset++) {
      if (haystack[index + offset] !== needle[offset]) continue outer;
    }
    return index;
  }
  return -1;
}

/**
 * Cuts a byte stream into complete SSE events (each ending with its blank line) without decoding it; what follows
 * the last blank line is kept until more bytes come. Line ends are LF, CR or CRLF, also when split across chunks.
 * Events are reported as end offsets into the chunk (no copy, no array per chunk): a chunk's events are contiguous,
 * the first one preceded by the bytes kept from earlier chunks ({@link EventFramer.head}).
 */
export class EventFramer {
  /** End offsets (exclusive) in the last pushed chunk of the events it completed, valid up to `push`'s count. */
  readonly ends: number[] = [];
  /** The bytes of the first event completed by the last push that came in earlier chunks (often none). */
  head: Uint8Array[] = [];
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private atLineStart = true;
  private lastWasCarriageReturn = false;

  /** Adds a chunk; returns how many events it completed (their ends in {@link EventFramer.ends}). */
  push(chunk: Uint8Array): number {
    const { ends } = this;
    let count = 0;
    let start = 0;
    if (this.head.length > 0) this.head = [];
    // Only LF and CR matter: jump between them (a native search) instead of visiting every byte.
    let lineFeed = chunk.indexOf(LF);
    let carriageReturn = chunk.indexOf(CR);
    let index = 0;
    for (;;) {
      if (lineFeed !== -1 && lineFeed < index) lineFeed = chunk.indexOf(LF, index);
      if (carriageReturn !== -1 && carriageReturn < index) carriageReturn = chunk.indexOf(CR, index);
      const next =
        lineFeed === -1
          ? carriageReturn
          : carriageReturn === -1 || lineFeed < carriageReturn
            ? lineFeed
            : carriageReturn;
      if (next === -1) {
        if (index < chunk.length) {
          this.lastWasCarriageReturn = false;
          this.atLineStart = false;
        }
        break;
      }
      if (next > index) {
        // other bytes before the line end: the line is not blank
        this.lastWasCarriageReturn = false;
        this.atLineStart = false;
      }
      index = next + 1;
      if (chunk[next] === LF) {
        if (this.lastWasCarriageReturn) {
          this.lastWasCarriageReturn = false;
          // the LF of a CRLF that ended an event belongs to that event
          if (start === next && count > 0) {
            ends[count - 1] = next + 1;
            start = next + 1;
          }
          continue;
        }
      } else {
        this.lastWasCarriageReturn = true;
      }
      if (!this.atLineStart) {
        this.atLineStart = true;
        continue;
      }
      // a line end at the start of a line: a blank line, the end of an event
      if (count === 0 && this.pendingBytes > 0) {
        this.head = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
      }
      ends[count++] = next + 1;
      start = next + 1;
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
    }
    return count;
  }

  /** Bytes received after the last complete event. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }
}

/** Splits decoded SSE text into lines, keeping a partial last line (and a dangling `\r`) for the next chunk. */
export class LineSplitter {
  private rest = '';
  /** Adds decoded text; returns the lines it completed (without their line ends). */
  push(text: string): string[] {
    const data = this.rest.length === 0 ? text : this.rest + text;
    const lines: string[] = [];
    let start = 0;
    // The next LF and CR at or after `start` (-1: none left), found with indexOf instead of a loop per character.
    let lineFeed = data.indexOf('\n');
    let carriageReturn = data.indexOf('\r');
    for (;;) {
      if (lineFeed !== -1 && lineFeed < start) lineFeed = data.indexOf('\n', start);
      if (carriageReturn !== -1 && carriageReturn < start) carriageReturn = data.indexOf('\r', start);
      if (carriageReturn === -1 || (lineFeed !== -1 && lineFeed < carriageReturn)) {
        if (lineFeed === -1) break;
        lines.push(data.slice(start, lineFeed));
        start = lineFeed + 1;
      } else {
        // a CR ends the line; its LF (CRLF) may still come in the next chunk
        if (carriageReturn === data.length - 1) break;
        lines.push(data.slice(start, carriageReturn));
        start = data.charCodeAt(carriageReturn + 1) === 10 ? carriageReturn + 2 : carriageReturn + 1;
      }
    }
    this.rest = start === 0 ? data : data.slice(start);
    return lines;
  }
  /** The incomplete last line, if any (a lone trailing `\r` counts as a line end). */
  get remainder(): string {
    return this.rest === '\r' ? '' : this.rest;
  }
  /** True when the text so far ends with a CR whose line end is still open (an LF may follow). */
  get endsWithCarriageReturn(): boolean {
    return this.rest.endsWith('\r');
  }
}

/** The value of a `data:` line (one leading space removed), or `undefined` for any other line. */
export function dataOf(line: string): string | undefined {
  if (!line.startsWith('data:')) return undefined;
  return line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
}

/** The joined data of an event's lines (other fields ignored), as an SSE client assembles it. */
export function eventDataOf(lines: readonly string[]): string | undefined {
  let data: string | undefined;
  for (const line of lines) {
    const value = dataOf(line);
    if (value !== undefined) data = data === undefined ? value : `${data}\n${value}`;
  }
  return data;
}

/** True when an event's data is `[DONE]` (surrounding whitespace ignored). */
export function isDone(data: string | undefined): boolean {
  return data !== undefined && data.trim() === '[DONE]';
}

/** Splits text at every LF, CR or CRLF. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}
