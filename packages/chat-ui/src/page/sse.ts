/** An incremental server-sent-events reader: feed it decoded text as it arrives, get whole events' data back. */
export interface SseReader {
  /** Adds text; returns the `data` of every event completed by it (multi-line data joined with `\n`). */
  push(text: string): string[];
  /** Ends the stream; returns the data of a last event not followed by a blank line. */
  end(): string[];
}

/**
 * Creates an SSE reader (the WHATWG event-stream format, only the `data` field: lines may end in LF, CRLF or CR;
 * comments and other fields are ignored).
 */
export function createSseReader(): SseReader {
  let buffer = '';
  let data: string[] = [];
  const line = (text: string, out: string[]) => {
    if (text === '') {
      if (data.length > 0) out.push(data.join('\n'));
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    data.push(value);
  };
  return {
    push(text) {
      buffer += text;
      const out: string[] = [];
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
        line(buffer.slice(0, match.index), out);
        buffer = buffer.slice(match.index + match[0].length);
      }
      return out;
    },
    end() {
      const out: string[] = [];
      if (buffer !== '') line(buffer.replace(/\r$/, ''), out);
      buffer = '';
      line('', out);
      return out;
    },
  };
}
