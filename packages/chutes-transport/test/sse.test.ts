import { bytesToBase64, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import {
  beginStream,
  generateKeyPair,
  openStreamChunk,
  openStreamInit,
  sealStreamChunk,
} from '@confidential-ai/chutes-crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  ChutesTransportError,
  EncryptedStreamDecoder,
  formatErrorEvent,
  SseLineSplitter,
} from '../src/index.js';
import vector from './vectors/stream-chunk.json' with { type: 'json' };

const encoder = new TextEncoder();

/** A decoder wired to real chutes-crypto with a fresh response key pair, and a matching fake instance stream. */
function session() {
  const responseKeys = generateKeyPair();
  const { init, streamKey } = beginStream(responseKeys.publicKey);
  const decoder = () =>
    new EncryptedStreamDecoder({
      openInit: (value) => openStreamInit(value, responseKeys.secretKey),
      openChunk: (value, key) => openStreamChunk(value, key),
    });
  const initEvent = `data: ${JSON.stringify({ e2e_init: bytesToBase64(init) })}\n\n`;
  const chunkEvent = (plaintext: string) =>
    `data: ${JSON.stringify({ e2e: bytesToBase64(sealStreamChunk(plaintext, streamKey)) })}\n\n`;
  return { decoder, initEvent, chunkEvent };
}

/** Feeds `body` in `pieces` and returns the output, or the typed error. */
function run(decoder: EncryptedStreamDecoder, pieces: Uint8Array[]): { output: string } | { error: unknown } {
  let output = '';
  try {
    for (const piece of pieces) output += decoder.push(piece);
    output += decoder.finish();
    return { output };
  } catch (error) {
    return { error };
  }
}

const vllmLines = [
  'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n',
  '\n',
  'data: {"choices":[{"delta":{"content":"Hello"}}]}\n',
  '\n',
  'data: {"choices":[{"delta":{"content":" world"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n',
  '\n',
  'data: [DONE]\n',
  '\n',
];
const expectedOutput =
  'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n' +
  'data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n' +
  'data: {"choices":[{"delta":{"content":" world"}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n' +
  'data: [DONE]\n\n';

const fixed = session();
const validBody = encoder.encode(fixed.initEvent + vllmLines.map(fixed.chunkEvent).join(''));

describe('EncryptedStreamDecoder', () => {
  it('decrypts the spec 10.2 stream chunk vector', () => {
    const key = hexToBytes(vector.streamKeyHex);
    const decoder = new EncryptedStreamDecoder({
      openInit: () => key,
      openChunk: (value, streamKey) => openStreamChunk(value, streamKey),
    });
    const done = bytesToBase64(sealStreamChunk('data: [DONE]\n', key));
    const body = `data: {"e2e_init":"placeholder"}\n\ndata: {"e2e":"${vector.e2eEventValue}"}\n\ndata: {"e2e":"${done}"}\n\n`;
    expect(decoder.push(utf8ToBytes(body))).toBe(
      `data: ${vector.plaintext.slice(6, -1)}\n\ndata: [DONE]\n\n`,
    );
    expect(decoder.state).toBe('done');
    expect(decoder.finish()).toBe('');
  });

  it('turns an encrypted vLLM stream into standard SSE', () => {
    expect(run(fixed.decoder(), [validBody])).toEqual({ output: expectedOutput });
  });

  it('handles several lines per plaintext and lines split across plaintexts', () => {
    const s = session();
    const text = vllmLines.join('');
    const body =
      s.initEvent +
      [text.slice(0, 30), text.slice(30, 31), text.slice(31, 140), text.slice(140)]
        .map(s.chunkEvent)
        .join('');
    expect(run(s.decoder(), [encoder.encode(body)])).toEqual({ output: expectedOutput });
  });

  it('accepts CRLF line endings in the outer stream and the plaintext', () => {
    const s = session();
    const body = (
      s.initEvent +
      s.chunkEvent('data: {"a":1}\r\n') +
      s.chunkEvent('data: [DONE]\r\n')
    ).replaceAll('\n', '\r\n');
    expect(run(s.decoder(), [encoder.encode(body)])).toEqual({ output: 'data: {"a":1}\n\ndata: [DONE]\n\n' });
  });

  it('fails closed on protocol violations with typed errors', () => {
    const s = session();
    const cases: [string, string][] = [
      [s.chunkEvent('data: {}\n'), 'ERR_STREAM_MALFORMED'], // chunk before e2e_init
      [s.initEvent + s.initEvent, 'ERR_STREAM_MALFORMED'], // second init
      [`${s.initEvent}data: {"e2e":42}\n\n`, 'ERR_STREAM_MALFORMED'],
      [`${s.initEvent}data: {"e2e":"not base64!"}\n\n`, 'ERR_STREAM_DECRYPT'],
      [`${s.initEvent}data: {"e2e":"AAAA"}\n\n`, 'ERR_STREAM_DECRYPT'], // shorter than 28 bytes
      [`data: {"e2e_init":"${bytesToBase64(new Uint8Array(1087))}"}\n\n`, 'ERR_STREAM_DECRYPT'],
      // ML-KEM decapsulation never fails (implicit rejection): a forged init shows at the first chunk.
      [
        `data: {"e2e_init":"${bytesToBase64(new Uint8Array(1088))}"}\n\n${s.chunkEvent('data: [DONE]\n')}`,
        'ERR_STREAM_DECRYPT',
      ],
      [s.initEvent + s.chunkEvent('data: {"a":1}\n'), 'ERR_STREAM_TRUNCATED'], // no [DONE]
      [`${s.initEvent}data: [DONE]\n\n`, 'ERR_STREAM_TRUNCATED'], // plaintext [DONE] is not trusted
      ['', 'ERR_STREAM_TRUNCATED'],
    ];
    for (const [body, code] of cases) {
      const result = run(s.decoder(), [encoder.encode(body)]);
      expect(result, body.slice(0, 60)).toHaveProperty('error');
      const error = (result as { error: unknown }).error;
      expect(ChutesTransportError.isInstance(error)).toBe(true);
      expect((error as ChutesTransportError).code).toBe(code);
    }
  });

  it('rejects a chunk with a flipped bit and emits nothing from it', () => {
    const s = session();
    const sealed = sealStreamChunk(
      'data: {"secret":"plaintext"}\n',
      generateKeyPair().publicKey.subarray(0, 32),
    );
    const body = `${s.initEvent}data: {"e2e":"${bytesToBase64(sealed)}"}\n\n`;
    const decoder = s.decoder();
    expect(() => decoder.push(encoder.encode(body))).toThrow(
      expect.objectContaining({ code: 'ERR_STREAM_DECRYPT' }),
    );
  });

  it('ends with one error event on e2e_error (D7)', () => {
    const s = session();
    const body =
      s.initEvent +
      s.chunkEvent('data: {"a":1}\n') +
      'data: {"e2e_error":"boom"}\n\n' +
      s.chunkEvent('data: {"b":2}\n');
    expect(run(s.decoder(), [encoder.encode(body)])).toEqual({
      output: 'data: {"a":1}\n\ndata: {"error":{"message":"boom","type":"e2e_error"}}\n\n',
    });
    expect(formatErrorEvent({ message: 'x', code: 7 })).toBe('data: {"error":{"message":"x","code":7}}\n\n');
    expect(formatErrorEvent(null)).toBe('data: {"error":{"message":"null","type":"e2e_error"}}\n\n');
  });

  it('passes plaintext usage events through and ignores other plaintext', () => {
    const s = session();
    const body =
      s.initEvent +
      'data: {"usage":{"total_tokens":3}}\n\n: comment\n\nevent: ping\ndata: not json\n\ndata: {"other":1}\n\n' +
      s.chunkEvent('data: [DONE]\n');
    expect(run(s.decoder(), [encoder.encode(body)])).toEqual({
      output: 'data: {"usage":{"total_tokens":3}}\n\ndata: [DONE]\n\n',
    });
  });

  test.prop([fc.array(fc.nat(validBody.length), { maxLength: 12 })], { numRuns: 150 })(
    'gives the same output however the body is split',
    (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const pieces: Uint8Array[] = [];
      let start = 0;
      for (const point of points) {
        pieces.push(validBody.subarray(start, point));
        start = point;
      }
      pieces.push(validBody.subarray(start));
      expect(run(fixed.decoder(), pieces)).toEqual({ output: expectedOutput });
    },
  );

  test.prop([fc.nat(validBody.length - 1), fc.integer({ min: 1, max: 255 })], { numRuns: 300 })(
    'never emits forged content: a mutated body gives a typed error or a subsequence of the real events',
    (index, xor) => {
      const mutated = validBody.slice();
      mutated[index]! ^= xor;
      const result = run(fixed.decoder(), [mutated]);
      if ('error' in result) {
        expect(ChutesTransportError.isInstance(result.error)).toBe(true);
        return;
      }
      const real = expectedOutput.split('\n\n').filter(Boolean);
      let cursor = 0;
      for (const event of result.output.split('\n\n').filter(Boolean)) {
        while (cursor < real.length && real[cursor] !== event) cursor++;
        expect(cursor, `unexpected event ${event}`).toBeLessThan(real.length);
        cursor++;
      }
    },
  );

  test.prop(
    [
      fc.array(
        fc.oneof(
          fc.string(),
          fc.json().map((json) => `data: ${json}`),
          fc.constantFrom('data: {"e2e":"', 'data: {"e2e_init":"AAAA"}'),
        ),
        { maxLength: 20 },
      ),
    ],
    {
      numRuns: 200,
    },
  )('throws only typed errors on arbitrary lines', (lines) => {
    const result = run(fixed.decoder(), [encoder.encode(`${fixed.initEvent}${lines.join('\n')}`)]);
    if ('error' in result) expect(ChutesTransportError.isInstance(result.error)).toBe(true);
  });

  test.prop([fc.uint8Array({ maxLength: 400 })], { numRuns: 200 })(
    'throws only typed errors on random bytes',
    (bytes) => {
      const result = run(fixed.decoder(), [bytes]);
      expect('error' in result && ChutesTransportError.isInstance(result.error)).toBe(true);
    },
  );

  test.prop([fc.string({ maxLength: 200 })], { numRuns: 200 })(
    'rejects any e2e value that is not a sealed chunk',
    (value) => {
      const result = run(fixed.decoder(), [
        encoder.encode(`${fixed.initEvent}data: ${JSON.stringify({ e2e: value })}\n\n`),
      ]);
      expect('error' in result && ChutesTransportError.isInstance(result.error)).toBe(true);
    },
  );
});

describe('SseLineSplitter', () => {
  test.prop([fc.string({ unit: 'grapheme', maxLength: 300 }), fc.array(fc.nat(1200), { maxLength: 8 })], {
    numRuns: 200,
  })('splits like String.split on LF whatever the chunking', (text, cuts) => {
    const bytes = encoder.encode(text);
    const splitter = new SseLineSplitter();
    const lines: string[] = [];
    let start = 0;
    for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
      lines.push(...splitter.push(bytes.subarray(start, cut)));
      start = cut;
    }
    lines.push(...splitter.push(bytes.subarray(start)), ...splitter.flush());
    const expected = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
    if (expected.at(-1) === '') expected.pop();
    expect(lines).toEqual(expected);
  });

  it('rejects invalid UTF-8 and overlong lines with ERR_STREAM_MALFORMED', () => {
    expect(() => new SseLineSplitter().push(new Uint8Array([0x64, 0xff, 0x0a]))).toThrow(
      expect.objectContaining({ code: 'ERR_STREAM_MALFORMED' }),
    );
    const splitter = new SseLineSplitter(8);
    splitter.push(encoder.encode('12345'));
    expect(() => splitter.push(encoder.encode('6789'))).toThrow(
      expect.objectContaining({ code: 'ERR_STREAM_MALFORMED' }),
    );
    expect(() => new SseLineSplitter(4).push(encoder.encode('123456\n'))).toThrow(
      expect.objectContaining({ code: 'ERR_STREAM_MALFORMED' }),
    );
  });
});
