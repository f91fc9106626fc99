import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createSseReader } from '../src/page/sse.js';

const STREAM =
  ': keep-alive\n\ndata: {"a":1}\n\ndata: first line\r\ndata: second line\r\n\r\nevent: x\nid: 7\ndata:no-space\n\ndata: [DONE]\n\n';
const EVENTS = ['{"a":1}', 'first line\nsecond line', 'no-space', '[DONE]'];

function readAll(chunks: string[]): string[] {
  const reader = createSseReader();
  return [...chunks.flatMap((chunk) => reader.push(chunk)), ...reader.end()];
}

describe('SSE reader', () => {
  it('reads data events, joins multi-line data, ignores comments and other fields', () => {
    expect(readAll([STREAM])).toEqual(EVENTS);
  });

  it('ends a last event that has no blank line after it', () => {
    expect(readAll(['data: tail'])).toEqual(['tail']);
    expect(readAll(['data: tail\r'])).toEqual(['tail']);
  });

  test.prop([fc.array(fc.nat({ max: STREAM.length }), { maxLength: 12 })])(
    'gives the same events however the text is split into chunks (CRLF split included)',
    (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const chunks: string[] = [];
      let start = 0;
      for (const point of [...points, STREAM.length]) {
        chunks.push(STREAM.slice(start, point));
        start = point;
      }
      expect(readAll(chunks)).toEqual(EVENTS);
    },
  );
});
