import { bytesToBase64 } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  beginStream,
  ChutesCryptoError,
  generateKeyPair,
  MIN_BLOB_LENGTH,
  openRequest,
  openResponse,
  openStreamChunk,
  openStreamInit,
  parsePublicKey,
  sealRequest,
  sealResponse,
  sealStreamChunk,
} from '../src/index.js';
import { backends, codeOf } from './helpers.js';

const instance = generateKeyPair(new Uint8Array(64).fill(1), { backend: 'js' });
const client = generateKeyPair(new Uint8Array(64).fill(2), { backend: 'js' });
const streamKey = new Uint8Array(32).fill(3);

/** Asserts that `fn` either returns or throws a ChutesCryptoError, never anything else. */
function typedOnly(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!ChutesCryptoError.isInstance(error)) throw error;
  }
}

function flip(data: Uint8Array, bit: number): Uint8Array {
  const copy = data.slice();
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

const jsonObject = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });

describe.each(backends)('round trips (backend %s)', (backend) => {
  test.prop([jsonObject], { numRuns: 60 })('openRequest(sealRequest(x)) == x', (payload) => {
    const { blob } = sealRequest(instance.publicKey, payload, { backend });
    const { e2e_response_pk: _, ...expected } = payload;
    // JSON round trip normalizes -0 and similar, exactly as the wire does.
    expect(openRequest(blob, instance.secretKey, { backend }).payload).toEqual(
      JSON.parse(JSON.stringify(expected)),
    );
  });

  it('keeps a payload key named __proto__ (found by the property above)', () => {
    const payload = JSON.parse('{"__proto__":{"polluted":true},"model":"m"}') as Record<string, unknown>;
    const { blob } = sealRequest(instance.publicKey, payload, { backend });
    const opened = openRequest(blob, instance.secretKey, { backend }).payload;
    expect(Object.keys(opened)).toEqual(['__proto__', 'model']);
    expect(JSON.stringify(opened)).toBe('{"__proto__":{"polluted":true},"model":"m"}');
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  test.prop([fc.jsonValue({ maxDepth: 4 })], { numRuns: 60 })(
    'openResponse(sealResponse(x)) == x',
    (value) => {
      const body = JSON.stringify(value);
      const blob = sealResponse(body, client.publicKey, { backend });
      expect(openResponse(blob, client.secretKey, { backend })).toEqual(JSON.parse(body));
    },
  );

  test.prop([fc.string({ maxLength: 500, unit: 'grapheme' })], { numRuns: 150 })(
    'openStreamChunk(sealStreamChunk(x)) == x',
    (text) => {
      const chunk = sealStreamChunk(text, streamKey, { backend });
      expect(openStreamChunk(bytesToBase64(chunk), streamKey, { backend })).toBe(text);
    },
  );
});

describe('single bit flips fail closed with ERR_DECRYPT_FAILED', () => {
  const response = sealResponse('{"choices":[{"message":{"content":"secret"}}]}', client.publicKey);
  const request = sealRequest(instance.publicKey, { model: 'm', messages: [] }).blob;
  const chunk = sealStreamChunk('data: {"choices":[{"delta":{"content":"hi"}}]}\n', streamKey);

  test.prop([fc.nat({ max: response.length * 8 - 1 })], { numRuns: 200 })(
    'response blob: KEM ciphertext, nonce, ciphertext or tag',
    (bit) => {
      expect(codeOf(() => openResponse(flip(response, bit), client.secretKey))).toBe('ERR_DECRYPT_FAILED');
    },
  );

  test.prop([fc.nat({ max: request.length * 8 - 1 })], { numRuns: 100 })('request blob', (bit) => {
    expect(codeOf(() => openRequest(flip(request, bit), instance.secretKey))).toBe('ERR_DECRYPT_FAILED');
  });

  test.prop([fc.nat({ max: chunk.length * 8 - 1 })], { numRuns: 200 })(
    'stream chunk: nonce, ciphertext or tag',
    (bit) => {
      expect(codeOf(() => openStreamChunk(flip(chunk, bit), streamKey))).toBe('ERR_DECRYPT_FAILED');
    },
  );

  test.prop([fc.nat({ max: 1088 * 8 - 1 })], { numRuns: 50 })(
    'stream init: a flipped bit gives a key that fails',
    (bit) => {
      const { init, streamKey: key } = beginStream(client.publicKey);
      const sealed = sealStreamChunk('data: x\n', key);
      const wrong = openStreamInit(flip(init, bit), client.secretKey);
      expect(codeOf(() => openStreamChunk(sealed, wrong))).toBe('ERR_DECRYPT_FAILED');
    },
  );

  test.prop([fc.nat({ max: 4 }), fc.nat()], { numRuns: 100 })('truncation and extension', (mode, n) => {
    const data =
      mode === 0
        ? response.subarray(0, MIN_BLOB_LENGTH + (n % (response.length - MIN_BLOB_LENGTH)))
        : mode === 1
          ? new Uint8Array([...response, n & 0xff])
          : mode === 2
            ? response.subarray(0, n % MIN_BLOB_LENGTH)
            : mode === 3
              ? chunk.subarray(0, n % chunk.length)
              : new Uint8Array([...chunk, n & 0xff]);
    const code =
      mode >= 3
        ? codeOf(() => openStreamChunk(data, streamKey))
        : codeOf(() => openResponse(data, client.secretKey));
    expect(['ERR_DECRYPT_FAILED', 'ERR_WIRE_MALFORMED']).toContain(code);
    if (mode === 2) expect(code).toBe('ERR_WIRE_MALFORMED');
  });
});

describe('random and mutated inputs give typed errors only', () => {
  test.prop([fc.uint8Array({ maxLength: 3000 })], { numRuns: 100 })('random blobs', (data) => {
    typedOnly(() => openResponse(data, client.secretKey));
    typedOnly(() => openRequest(data, instance.secretKey));
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 0, maxLength: 40 })], {
    numRuns: 200,
  })('random chunks and keys', (data, key) => {
    typedOnly(() => openStreamChunk(data, key));
    typedOnly(() => openStreamChunk(bytesToBase64(data), streamKey));
  });

  test.prop([fc.uint8Array({ minLength: 1000, maxLength: 1200 })], { numRuns: 30 })(
    'random stream inits',
    (data) => {
      typedOnly(() => openStreamInit(data, client.secretKey));
      typedOnly(() => openStreamInit(bytesToBase64(data), client.secretKey));
    },
  );

  test.prop([fc.string({ maxLength: 2000 })], { numRuns: 300 })('random text as base64', (text) => {
    typedOnly(() => parsePublicKey(text));
    typedOnly(() => openStreamChunk(text, streamKey));
    typedOnly(() => openStreamInit(text, client.secretKey));
  });

  const encoded = bytesToBase64(instance.publicKey);
  test.prop([fc.nat({ max: encoded.length - 1 }), fc.string({ minLength: 0, maxLength: 3 })], {
    numRuns: 300,
  })('mutated public key base64', (position, insert) => {
    const mutated = encoded.slice(0, position) + insert + encoded.slice(position + 1);
    let key: Uint8Array | undefined;
    try {
      key = parsePublicKey(mutated);
    } catch (error) {
      expect(ChutesCryptoError.isInstance(error)).toBe(true);
      expect(['ERR_BASE64_INVALID', 'ERR_KEY_INVALID']).toContain((error as ChutesCryptoError).code);
    }
    if (key) expect(key.length).toBe(1184);
  });

  test.prop([fc.nat(), fc.integer({ min: 0, max: 255 })], { numRuns: 50 })(
    'mutated sealed payloads under a valid tag',
    (position, value) => {
      // The instance itself produced garbage: gzip / JSON errors must still be typed.
      const body = JSON.stringify({ a: 'x'.repeat(50) });
      const bytes = new TextEncoder().encode(body);
      bytes[position % bytes.length] = value;
      typedOnly(() => openResponse(sealResponse(bytes, client.publicKey), client.secretKey));
    },
  );
});
