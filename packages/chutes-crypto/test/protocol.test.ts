import { gunzipSync, gzipSync } from 'node:zlib';
import { base64ToBytes, bytesToBase64, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  beginStream,
  ChutesCryptoError,
  crc32,
  generateKeyPair,
  gunzip,
  gzip,
  MIN_BLOB_LENGTH,
  MIN_CHUNK_LENGTH,
  openBlob,
  openRequest,
  openResponse,
  openStreamChunk,
  openStreamChunkBytes,
  openStreamInit,
  parsePublicKey,
  REQUEST_INFO,
  RESPONSE_INFO,
  sealBlob,
  sealRequest,
  sealResponse,
  sealStreamChunk,
} from '../src/index.js';
import { backends, codeOf, seededRandom } from './helpers.js';

const instance = generateKeyPair(new Uint8Array(64).fill(3), { backend: 'js' });

describe.each(backends)('protocol round trips (backend %s)', (backend) => {
  it('request: client seals, instance opens, e2e_response_pk is added last and removed', () => {
    const payload = {
      model: 'm',
      e2e_response_pk: 'stale',
      messages: [{ role: 'user', content: 'héllo' }],
      stream: true,
    };
    const { blob, responseKeyPair } = sealRequest(instance.publicKey, payload, { backend });
    expect(blob.length).toBeGreaterThanOrEqual(MIN_BLOB_LENGTH);
    const opened = openRequest(blob, instance.secretKey, { backend });
    expect(opened.payload).toEqual({ model: 'm', messages: payload.messages, stream: true });
    expect(opened.responsePublicKey).toEqual(responseKeyPair.publicKey);
    // The raw decrypted JSON ends with the response key member.
    const json = new TextDecoder().decode(
      gunzip(openBlob(blob, instance.secretKey, REQUEST_INFO, { backend })),
    );
    expect(json.endsWith(`"e2e_response_pk":"${bytesToBase64(responseKeyPair.publicKey)}"}`)).toBe(true);
    expect(payload.e2e_response_pk).toBe('stale'); // the caller's object is not modified
  });

  it('response: instance seals raw JSON text or bytes, client parses it', () => {
    const { blob, responseKeyPair } = sealRequest(instance.publicKey, { model: 'm' }, { backend });
    const { responsePublicKey } = openRequest(blob, instance.secretKey, { backend });
    const body = '{"id":"x","choices":[{"message":{"content":"ok"}}]}';
    const sealed = sealResponse(body, responsePublicKey, { backend });
    expect(openResponse(sealed, responseKeyPair.secretKey, { backend })).toEqual(JSON.parse(body));
    const sealedBytes = sealResponse(utf8ToBytes(body), responsePublicKey, { backend });
    expect(openResponse(sealedBytes, responseKeyPair.secretKey, { backend })).toEqual(JSON.parse(body));
  });

  it('stream: init then chunks, nonces taken from each chunk as given', () => {
    const client = generateKeyPair(undefined, { backend });
    const { init, streamKey } = beginStream(client.publicKey, { backend });
    expect(init.length).toBe(1088);
    const key = openStreamInit(bytesToBase64(init), client.secretKey, { backend });
    expect(key).toEqual(streamKey);
    expect(openStreamInit(init, client.secretKey, { backend })).toEqual(streamKey);
    const lines = ['data: {"a":1}\n', '\n', 'data: [DONE]\n', ''];
    // Arbitrary, repeated and out-of-order nonces are all accepted (decision D2).
    const nonces = [
      new Uint8Array(12).fill(9),
      new Uint8Array(12).fill(9),
      new Uint8Array(12),
      new Uint8Array(12).fill(255),
    ];
    lines.forEach((line, i) => {
      const chunk = sealStreamChunk(line, streamKey, { backend, random: () => nonces[i]! });
      expect(chunk.length).toBe(MIN_CHUNK_LENGTH + utf8ToBytes(line).length);
      expect(openStreamChunk(bytesToBase64(chunk), key, { backend })).toBe(line);
    });
  });

  it('request with injected randomness is reproducible', () => {
    const a = sealRequest(
      instance.publicKey,
      { model: 'm' },
      { backend: backend === 'native' ? 'auto' : backend, random: seededRandom(5) },
    );
    const b = sealRequest(
      instance.publicKey,
      { model: 'm' },
      { backend: backend === 'native' ? 'auto' : backend, random: seededRandom(5) },
    );
    expect(a.blob).toEqual(b.blob);
    expect(a.responseKeyPair).toEqual(b.responseKeyPair);
  });
});

describe('strict sizes and typed errors (decision D3)', () => {
  const client = generateKeyPair(new Uint8Array(64).fill(4), { backend: 'js' });

  it('parsePublicKey accepts exactly 1184 bytes of strict base64', () => {
    const encoded = bytesToBase64(instance.publicKey);
    expect(encoded.length).toBe(1580);
    expect(parsePublicKey(encoded)).toEqual(instance.publicKey);
    expect(codeOf(() => parsePublicKey(encoded.slice(0, -4)))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => parsePublicKey(bytesToBase64(new Uint8Array(1185))))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => parsePublicKey(encoded.slice(0, -1)))).toBe('ERR_BASE64_INVALID');
    expect(codeOf(() => parsePublicKey(`${encoded}\n`))).toBe('ERR_BASE64_INVALID');
    expect(codeOf(() => parsePublicKey(encoded.replace(/\+/g, '-').replace(/\//g, '_')))).toMatch(
      /ERR_BASE64_INVALID|ERR_KEY_INVALID/,
    );
    expect(codeOf(() => parsePublicKey(''))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => parsePublicKey(bytesToBase64(new Uint8Array(1184).fill(0xff))))).toBe(
      'ERR_KEY_INVALID',
    );
    expect(() => parsePublicKey(42 as unknown as string)).toThrow(TypeError);
  });

  it('rejects wrong-size keys with ERR_KEY_INVALID', () => {
    expect(codeOf(() => sealRequest(new Uint8Array(1183), { model: 'm' }))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => sealResponse('{}', new Uint8Array(1185)))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => beginStream(new Uint8Array(0)))).toBe('ERR_KEY_INVALID');
    const { blob } = sealRequest(instance.publicKey, { model: 'm' });
    expect(codeOf(() => openRequest(blob, instance.secretKey.subarray(0, 2399)))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => openStreamChunk(new Uint8Array(40), new Uint8Array(31)))).toBe('ERR_KEY_INVALID');
  });

  it('rejects short blobs before any cryptography', () => {
    for (const length of [0, 1, 1088, 1100, MIN_BLOB_LENGTH - 1]) {
      expect(codeOf(() => openResponse(new Uint8Array(length), client.secretKey))).toBe('ERR_WIRE_MALFORMED');
      expect(codeOf(() => openRequest(new Uint8Array(length), instance.secretKey))).toBe(
        'ERR_WIRE_MALFORMED',
      );
    }
    // Exactly the minimum is well-formed but cannot authenticate.
    expect(codeOf(() => openResponse(new Uint8Array(MIN_BLOB_LENGTH), client.secretKey))).toBe(
      'ERR_DECRYPT_FAILED',
    );
  });

  it('checks e2e_init and e2e chunk sizes and base64', () => {
    expect(codeOf(() => openStreamInit(new Uint8Array(1087), client.secretKey))).toBe('ERR_WIRE_MALFORMED');
    expect(codeOf(() => openStreamInit(bytesToBase64(new Uint8Array(1089)), client.secretKey))).toBe(
      'ERR_WIRE_MALFORMED',
    );
    expect(codeOf(() => openStreamInit('not base64!', client.secretKey))).toBe('ERR_BASE64_INVALID');
    const key = new Uint8Array(32);
    expect(codeOf(() => openStreamChunk(new Uint8Array(MIN_CHUNK_LENGTH - 1), key))).toBe(
      'ERR_WIRE_MALFORMED',
    );
    expect(codeOf(() => openStreamChunk(bytesToBase64(new Uint8Array(27)), key))).toBe('ERR_WIRE_MALFORMED');
    expect(codeOf(() => openStreamChunk('AAAA=', key))).toBe('ERR_BASE64_INVALID');
    expect(codeOf(() => openStreamChunk(new Uint8Array(MIN_CHUNK_LENGTH), key))).toBe('ERR_DECRYPT_FAILED');
  });

  it('a chunk whose plaintext is not UTF-8 is a typed error', () => {
    const key = new Uint8Array(32).fill(1);
    const chunk = sealStreamChunk(new Uint8Array([0xff, 0xfe]), key);
    expect(openStreamChunkBytes(chunk, key)).toEqual(new Uint8Array([0xff, 0xfe]));
    expect(codeOf(() => openStreamChunk(chunk, key))).toBe('ERR_WIRE_MALFORMED');
  });

  it('wrong key and wrong direction fail at the tag', () => {
    const { blob } = sealRequest(instance.publicKey, { model: 'm' });
    expect(codeOf(() => openRequest(blob, client.secretKey))).toBe('ERR_DECRYPT_FAILED');
    // A request blob is not a response blob (different HKDF label).
    const response = sealBlob(client.publicKey, gzip(utf8ToBytes('{}')), REQUEST_INFO);
    expect(codeOf(() => openResponse(response, client.secretKey))).toBe('ERR_DECRYPT_FAILED');
    const other = generateKeyPair();
    const { init } = beginStream(client.publicKey);
    const wrongKey = openStreamInit(init, other.secretKey);
    const chunk = sealStreamChunk('data: x\n', openStreamInit(init, client.secretKey));
    expect(codeOf(() => openStreamChunk(chunk, wrongKey))).toBe('ERR_DECRYPT_FAILED');
  });

  it('gzip and JSON failures inside an authentic blob are typed', () => {
    const notGzip = sealBlob(client.publicKey, utf8ToBytes('{"a":1}'), RESPONSE_INFO);
    expect(codeOf(() => openResponse(notGzip, client.secretKey))).toBe('ERR_DECOMPRESS_FAILED');
    const notJson = sealBlob(client.publicKey, gzip(utf8ToBytes('{"a":')), RESPONSE_INFO);
    expect(codeOf(() => openResponse(notJson, client.secretKey))).toBe('ERR_JSON_INVALID');
    const notUtf8 = sealBlob(client.publicKey, gzip(new Uint8Array([0x22, 0xff, 0x22])), RESPONSE_INFO);
    expect(codeOf(() => openResponse(notUtf8, client.secretKey))).toBe('ERR_JSON_INVALID');
    const array = sealBlob(instance.publicKey, gzip(utf8ToBytes('[1,2]')), REQUEST_INFO);
    expect(codeOf(() => openRequest(array, instance.secretKey))).toBe('ERR_JSON_INVALID');
    const noKey = sealBlob(instance.publicKey, gzip(utf8ToBytes('{"model":"m"}')), REQUEST_INFO);
    expect(codeOf(() => openRequest(noKey, instance.secretKey))).toBe('ERR_KEY_INVALID');
    const shortKey = sealBlob(
      instance.publicKey,
      gzip(utf8ToBytes(JSON.stringify({ e2e_response_pk: bytesToBase64(new Uint8Array(1183)) }))),
      REQUEST_INFO,
    );
    expect(codeOf(() => openRequest(shortKey, instance.secretKey))).toBe('ERR_KEY_INVALID');
    const badBase64 = sealBlob(
      instance.publicKey,
      gzip(utf8ToBytes('{"e2e_response_pk":"@@@@"}')),
      REQUEST_INFO,
    );
    expect(codeOf(() => openRequest(badBase64, instance.secretKey))).toBe('ERR_BASE64_INVALID');
  });

  it('gzip bombs stop at maxPlaintextBytes', () => {
    const bomb = gzip(new Uint8Array(4 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(10_000);
    const blob = sealBlob(client.publicKey, bomb, RESPONSE_INFO);
    for (const backend of ['js', 'auto'] as const) {
      expect(
        codeOf(() => openResponse(blob, client.secretKey, { backend, maxPlaintextBytes: 1024 * 1024 })),
      ).toBe('ERR_PAYLOAD_TOO_LARGE');
      expect(codeOf(() => gunzip(bomb, { backend, maxPlaintextBytes: 4 * 1024 * 1024 - 1 }))).toBe(
        'ERR_PAYLOAD_TOO_LARGE',
      );
      expect(gunzip(bomb, { backend, maxPlaintextBytes: 4 * 1024 * 1024 }).length).toBe(4 * 1024 * 1024);
    }
    expect(() => gunzip(bomb, { maxPlaintextBytes: -1 })).toThrow(RangeError);
  });

  it('argument errors are TypeError/RangeError naming the argument', () => {
    expect(() => sealRequest(instance.publicKey, [] as unknown as Record<string, unknown>)).toThrow(
      TypeError,
    );
    expect(() => sealRequest('x' as unknown as Uint8Array, {})).toThrow(/publicKey/);
    expect(() => openResponse('x' as unknown as Uint8Array, client.secretKey)).toThrow(TypeError);
    expect(() => generateKeyPair(new Uint8Array(63))).toThrow(RangeError);
    expect(() => sealStreamChunk('x', new Uint8Array(32), { random: () => new Uint8Array(11) })).toThrow(
      RangeError,
    );
    expect(() => gunzip(new Uint8Array(20), { backend: 'fast' as never })).toThrow(TypeError);
  });

  it('errors carry a stable code, a marker and no secret material', () => {
    let caught: unknown;
    try {
      openResponse(new Uint8Array(MIN_BLOB_LENGTH + 10), client.secretKey);
    } catch (error) {
      caught = error;
    }
    expect(ChutesCryptoError.isInstance(caught)).toBe(true);
    expect(caught).toBeInstanceOf(ChutesCryptoError);
    expect((caught as ChutesCryptoError).name).toBe('ChutesCryptoError');
    expect((caught as ChutesCryptoError).message).not.toMatch(/[0-9a-f]{32}/i);
    expect(ChutesCryptoError.isInstance(new Error('x'))).toBe(false);
    expect(ChutesCryptoError.isInstance(null)).toBe(false);
  });
});

describe('gzip helpers', () => {
  const text = utf8ToBytes('{"hello":"world","n":[1,2,3]}'.repeat(50));

  it.each(['js', 'auto'] as const)('interoperate with node:zlib (backend %s)', (backend) => {
    expect(gunzipSync(gzip(text, { backend }))).toEqual(Buffer.from(text));
    expect(gunzip(gzipSync(text), { backend })).toEqual(text);
    expect(gunzip(gzipSync(new Uint8Array(0)), { backend })).toEqual(new Uint8Array(0));
  });

  it.each(['js', 'auto'] as const)('reject malformed containers the same way (backend %s)', (backend) => {
    const good = gzipSync(text);
    const cases: [string, Uint8Array][] = [
      ['truncated', good.subarray(0, good.length - 9)],
      ['bad magic', Uint8Array.from(good, (b, i) => (i === 0 ? 0 : b))],
      ['bad method', Uint8Array.from(good, (b, i) => (i === 2 ? 7 : b))],
      ['reserved flag', Uint8Array.from(good, (b, i) => (i === 3 ? 0x20 : b))],
      ['bad crc', Uint8Array.from(good, (b, i) => (i === good.length - 8 ? b ^ 1 : b))],
      ['bad isize', Uint8Array.from(good, (b, i) => (i === good.length - 1 ? b ^ 1 : b))],
      ['garbage after the member', new Uint8Array([...good, 0x41, 0x42, 0x43, 0x44])],
      ['empty', new Uint8Array(0)],
    ];
    for (const [name, data] of cases) {
      let outcome = 'accepted';
      try {
        gunzip(data, { backend });
      } catch (error) {
        outcome = ChutesCryptoError.isInstance(error) ? error.code : String(error);
      }
      expect([name, outcome]).toEqual([name, 'ERR_DECOMPRESS_FAILED']);
    }
  });

  it('accepts optional header fields (FEXTRA, FNAME, FCOMMENT, FHCRC)', () => {
    const deflated = gzipSync(text).subarray(10);
    const header = [0x1f, 0x8b, 8, 0x1c, 0, 0, 0, 0, 0, 3, 2, 0, 0xaa, 0xbb, 0x61, 0x00, 0x62, 0x00];
    expect(gunzip(new Uint8Array([...header, ...deflated]))).toEqual(text);
    const withHcrc = [0x1f, 0x8b, 8, 0x02, 0, 0, 0, 0, 0, 3];
    const hcrc = crc32(new Uint8Array(withHcrc)) & 0xffff;
    expect(gunzip(new Uint8Array([...withHcrc, hcrc & 0xff, hcrc >> 8, ...deflated]))).toEqual(text);
    expect(
      codeOf(() => gunzip(new Uint8Array([...withHcrc, (hcrc & 0xff) ^ 1, hcrc >> 8, ...deflated]))),
    ).toBe('ERR_DECOMPRESS_FAILED');
  });

  it('round trips through base64 of a full blob', () => {
    const blob = sealResponse('{"a":1}', instance.publicKey);
    expect(
      openBlob(base64ToBytes(bytesToBase64(blob)), instance.secretKey, RESPONSE_INFO).length,
    ).toBeGreaterThan(0);
  });
});
