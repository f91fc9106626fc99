// EventFramer (src/sse-framing.ts) jumps between line ends with a native byte search and reports events as end
// offsets. Oracle: the byte-at-a-time framer the relay used before (kept here, written from the SSE rules: a blank
// line ends an event; a line ends at LF, CR or CRLF; the LF of a CRLF that ends an event belongs to that event).
// For any bytes cut anywhere, both give the same events.
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { EventFramer, indexOfBytes } from '../src/sse-framing.js';

const LF = 0x0a;
const CR = 0x0d;

/** The previous framer, one byte at a time: returns the complete events (bytes) of each chunk. */
function oracleFramer(): (chunk: Uint8Array) => Uint8Array[] {
  let pending: Uint8Array[] = [];
  let atLineStart = true;
  let lastWasCarriageReturn = false;
  return (chunk) => {
    const events: Uint8Array[] = [];
    let start = 0;
    for (let index = 0; index < chunk.length; index++) {
      const byte = chunk[index];
      if (byte === LF) {
        if (lastWasCarriageReturn) {
          lastWasCarriageReturn = false;
          if (start === index && events.length > 0) {
            events[events.length - 1] = Buffer.concat([
              events[events.length - 1]!,
              chunk.subarray(index, index + 1),
            ]);
            start = index + 1;
          }
          continue;
        }
      } else if (byte === CR) {
        lastWasCarriageReturn = true;
      } else {
        lastWasCarriageReturn = false;
        atLineStart = false;
        continue;
      }
      if (!atLineStart) {
        atLineStart = true;
        continue;
      }
      events.push(Buffer.concat([...pending, chunk.subarray(start, index + 1)]));
      pending = [];
      start = index + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    return events;
  };
}

/** The events of one push of the framer under test, as bytes. */
function framed(framer: EventFramer, chunk: Uint8Array): Uint8Array[] {
  const count = framer.push(chunk);
  const events: Uint8Array[] = [];
  let begin = 0;
  for (let index = 0; index < count; index++) {
    const end = framer.ends[index]!;
    events.push(
      index === 0 ? Buffer.concat([...framer.head, chunk.subarray(0, end)]) : chunk.subarray(begin, end),
    );
    begin = end;
  }
  return events;
}

const hex = (events: Uint8Array[]) => events.map((event) => Buffer.from(event).toString('hex'));

/** Bytes rich in line ends: letters, `data:`, LF, CR, CRLF runs. */
const streamBytes = fc
  .array(fc.constantFrom('a', 'data: x', '\n', '\r', '\r\n', '\n\n', '\r\r', '\r\n\r\n', ':', ' ', 'é'), {
    maxLength: 80,
  })
  .map((parts) => Buffer.from(parts.join(''), 'utf8'));

describe('EventFramer', () => {
  fcTest.prop({ bytes: streamBytes, cuts: fc.array(fc.nat(), { maxLength: 12 }) }, { numRuns: 2000 })(
    'gives the same events as the byte-at-a-time framer for any bytes cut anywhere',
    ({ bytes, cuts }) => {
      const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let previous = 0;
      for (const point of [...points, bytes.length]) {
        chunks.push(bytes.subarray(previous, point));
        previous = point;
      }
      const oracle = oracleFramer();
      const framer = new EventFramer();
      let eventBytes = 0;
      for (const chunk of chunks) {
        const events = framed(framer, chunk);
        expect(hex(events)).toEqual(hex(oracle(chunk)));
        for (const event of events) eventBytes += event.length;
      }
      // what is buffered is exactly what follows the last complete event
      expect(framer.bufferedBytes).toBe(bytes.length - eventBytes);
    },
  );

  it('indexOfBytes finds a needle from an offset, and only whole', () => {
    const haystack = Buffer.from('[DON [DONE] x [DONE]');
    const needle = Buffer.from('[DONE]');
    expect(indexOfBytes(haystack, needle)).toBe(5);
    expect(indexOfBytes(haystack, needle, 6)).toBe(14);
    expect(indexOfBytes(haystack, needle, 15)).toBe(-1);
    expect(indexOfBytes(Buffer.from('[DON'), needle)).toBe(-1);
  });
});
