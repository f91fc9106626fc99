import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { VeniceE2eeError } from './errors.js';
import { generateFieldKeyPair } from './field-cipher.js';
import { parseSse, type SseEvent } from './sse.js';
import { createUpstreamDecryptor } from './stream.js';

function streamOf(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

async function collect(parts: Uint8Array[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const event of parseSse(streamOf(parts))) out.push(event);
  return out;
}

describe('parseSse', () => {
  it('splits on every blank-line form, ignores comments, joins data lines', async () => {
    const text = ': comment\n\ndata: a\r\n\r\nevent: x\ndata: b\ndata: c\r\rid: 1\ndata: d\n\ndata:e';
    const events = await collect([new TextEncoder().encode(text)]);
    expect(events).toEqual([
      { event: undefined, data: 'a' },
      { event: 'x', data: 'b\nc' },
      { event: undefined, data: 'd' },
      { event: undefined, data: 'e' },
    ]);
  });

  propertyTest.prop(
    [
      fc.array(
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)),
        { maxLength: 10 },
      ),
      fc.nat(),
    ],
    {
      numRuns: 100,
    },
  )(
    'any split of the byte stream (even inside a UTF-8 character) gives the same events',
    async (datas, seed) => {
      const bytes = new TextEncoder().encode(datas.map((data) => `data: ${data}ü\n\n`).join(''));
      const parts: Uint8Array[] = [];
      let at = 0;
      let state = seed;
      while (at < bytes.length) {
        state = (state * 1103515245 + 12345) >>> 0;
        const size = 1 + (state % 7);
        parts.push(bytes.slice(at, at + size));
        at += size;
      }
      const events = await collect(parts);
      expect(events.map((event) => event.data)).toEqual(datas.map((data) => `${data}ü`));
    },
  );

  it('rejects unknown fields, data-less events and invalid UTF-8', async () => {
    await expect(collect([new TextEncoder().encode('foo: bar\n\n')])).rejects.toThrow(VeniceE2eeError);
    await expect(collect([new TextEncoder().encode('event: x\n\n')])).rejects.toThrow(VeniceE2eeError);
    await expect(collect([Uint8Array.of(0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a)])).rejects.toThrow(
      VeniceE2eeError,
    );
  });
});

describe('upstream decryptor classification', () => {
  const decryptor = createUpstreamDecryptor({ privateKey: generateFieldKeyPair().privateKey });
  const codeOf = (data: string, event?: string) => {
    try {
      decryptor.decrypt({ event, data });
      return 'ok';
    } catch (error) {
      return VeniceE2eeError.isInstance(error) ? error.code : 'other';
    }
  };
  it('maps malformed chunks to stable codes', () => {
    expect(codeOf('[DONE]')).toBe('ok');
    expect(codeOf('{"choices":[]}')).toBe('ERR_UPSTREAM_MALFORMED_RESPONSE');
    expect(codeOf('{"choices":[],"usage":{}}')).toBe('ok');
    expect(codeOf('{"error":"x"}')).toBe('ERR_UPSTREAM_STREAM');
    expect(codeOf('{}', 'error')).toBe('ERR_UPSTREAM_STREAM');
    expect(codeOf('{}')).toBe('ERR_UPSTREAM_MALFORMED_RESPONSE');
    expect(codeOf('not json')).toBe('ERR_UPSTREAM_MALFORMED_RESPONSE');
    expect(codeOf('{"choices":[{},{}]}')).toBe('ERR_UPSTREAM_MALFORMED_RESPONSE');
    expect(codeOf('{"choices":[{"index":-1,"delta":{}}]}')).toBe('ERR_UPSTREAM_MALFORMED_RESPONSE');
    expect(codeOf('{"choices":[{"finish_reason":5,"delta":{}}]}')).toBe('ERR_UPSTREAM_MALFORMED_RESPONSE');
    expect(codeOf('{"choices":[{"delta":{"content":5}}]}')).toBe('ERR_UPSTREAM_MALFORMED_RESPONSE');
    expect(codeOf('{"choices":[{"delta":{"content":null,"reasoning_content":""}}]}')).toBe('ok');
    expect(codeOf('{"choices":[{"delta":{"content":"plain"}}]}')).toBe('ERR_E2EE_RESPONSE_DECRYPTION_FAILED');
    expect(codeOf('{"choices":[{"delta":{"reasoning":"plain"}}]}')).toBe(
      'ERR_E2EE_RESPONSE_DECRYPTION_FAILED',
    );
  });
});
