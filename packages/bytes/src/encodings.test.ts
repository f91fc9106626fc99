import { Buffer } from 'node:buffer';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  base64UrlToBytes,
  bytesToBase64,
  bytesToBase64Url,
  bytesToHex,
  bytesToUtf8,
  EncodingError,
  equalBytes,
  hexToBytes,
  utf8ToBytes,
} from './index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return EncodingError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
  return undefined;
}

describe('base64 (checked against Node Buffer)', () => {
  test.prop([fc.uint8Array({ maxLength: 300 })])('encodes like Buffer and decodes back', (bytes) => {
    const text = bytesToBase64(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(base64ToBytes(text)).toEqual(new Uint8Array(bytes));
    const url = bytesToBase64Url(bytes);
    expect(url).toBe(Buffer.from(bytes).toString('base64url'));
    expect(base64UrlToBytes(url)).toEqual(new Uint8Array(bytes));
  });

  it('rejects RFC 4648 violations with ERR_ENCODING_BASE64', () => {
    for (const bad of ['A', 'AB', 'AB=', 'A===', 'AB==CD==', 'AB C', 'AB-_', 'Zg=', 'Zh==', '====', 'é===']) {
      expect(
        codeOf(() => base64ToBytes(bad)),
        bad,
      ).toBe('ERR_ENCODING_BASE64');
    }
    expect(codeOf(() => base64UrlToBytes('ab+/'))).toBe('ERR_ENCODING_BASE64');
    expect(codeOf(() => base64UrlToBytes('Zg='))).toBe('ERR_ENCODING_BASE64');
  });

  test.prop([fc.string({ maxLength: 64 })])('arbitrary text: decodes like Buffer or fails typed', (text) => {
    const code = codeOf(() => base64ToBytes(text));
    if (code === undefined) {
      expect(Buffer.from(base64ToBytes(text)).toString('base64')).toBe(text);
    } else {
      expect(code).toBe('ERR_ENCODING_BASE64');
    }
  });
});

describe('hex', () => {
  test.prop([fc.uint8Array({ maxLength: 200 })])('matches Buffer', (bytes) => {
    const text = bytesToHex(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('hex'));
    expect(hexToBytes(text.toUpperCase())).toEqual(new Uint8Array(bytes));
  });

  it('is strict', () => {
    expect(codeOf(() => hexToBytes('abc'))).toBe('ERR_ENCODING_HEX');
    expect(codeOf(() => hexToBytes('zz'))).toBe('ERR_ENCODING_HEX');
    expect(codeOf(() => hexToBytes('0x00'))).toBe('ERR_ENCODING_HEX');
    expect(hexToBytes('0x00ff', { allowPrefix: true })).toEqual(new Uint8Array([0, 255]));
    expect(codeOf(() => hexToBytes('00', { length: 2 }))).toBe('ERR_ENCODING_HEX');
  });
});

describe('utf8 and compare', () => {
  it('rejects invalid UTF-8 and keeps a BOM', () => {
    expect(codeOf(() => bytesToUtf8(new Uint8Array([0xc3, 0x28])))).toBe('ERR_ENCODING_UTF8');
    expect(bytesToUtf8(utf8ToBytes('\ufeffhé'))).toBe('\ufeffhé');
  });

  it('compares bytes', () => {
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(equalBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});

describe('native fast paths agree with the portable loops', () => {
  test.prop([fc.uint8Array({ minLength: 60, maxLength: 2000 })])('long inputs', (bytes) => {
    const text = bytesToBase64(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    const decoded = base64ToBytes(text);
    expect(decoded).toEqual(new Uint8Array(bytes));
    expect(Buffer.isBuffer(decoded)).toBe(false);
    expect(decoded.byteOffset).toBe(0);
    expect(decoded.buffer.byteLength).toBe(decoded.length);
    expect(hexToBytes(bytesToHex(bytes))).toEqual(new Uint8Array(bytes));
  });

  test.prop([
    fc.uint8Array({ minLength: 64, maxLength: 300 }),
    fc.nat(),
    fc.constantFrom('!', ' ', '-', '_', '=', '\n'),
  ])('long inputs with one bad character are still rejected', (bytes, at, bad) => {
    const text = bytesToBase64(bytes);
    const index = at % text.length;
    const mutated = text.slice(0, index) + bad + text.slice(index + 1);
    if (mutated !== text) {
      const code = codeOf(() => base64ToBytes(mutated));
      if (code === undefined) expect(Buffer.from(base64ToBytes(mutated)).toString('base64')).toBe(mutated);
      else expect(code).toBe('ERR_ENCODING_BASE64');
    }
    const hex = bytesToHex(bytes);
    const badHex = hex.slice(0, index % hex.length) + 'g' + hex.slice((index % hex.length) + 1);
    expect(codeOf(() => hexToBytes(badHex))).toBe('ERR_ENCODING_HEX');
  });

  it('rejects non-canonical trailing bits on long inputs', () => {
    const text = bytesToBase64(new Uint8Array(64)); // 88 chars ending in '=='
    expect(text.endsWith('==')).toBe(true);
    const mutated = text.slice(0, -3) + 'B==';
    expect(codeOf(() => base64ToBytes(mutated))).toBe('ERR_ENCODING_BASE64');
  });
});
