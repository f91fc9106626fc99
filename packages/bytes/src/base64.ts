import type { Bytes } from './bytes.js';
import { EncodingError } from './errors.js';
import { NATIVE_THRESHOLD, nativeDecode, nativeEncode, nodeBuffer } from './native.js';

const STANDARD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function table(alphabet: string): Int16Array {
  const lookup = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) lookup[alphabet.charCodeAt(i)] = i;
  return lookup;
}
const STANDARD_LOOKUP = table(STANDARD);
const URL_SAFE_LOOKUP = table(URL_SAFE);

function encode(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

function decode(
  text: string,
  lookup: Int16Array,
  padding: 'required' | 'forbidden' | 'optional',
  what: string,
): Bytes {
  if (typeof text !== 'string')
    throw new EncodingError('ERR_ENCODING_BASE64', `${what} input must be a string`);
  let end = text.length;
  let pads = 0;
  while (end > 0 && text.charCodeAt(end - 1) === 61 /* = */) {
    end--;
    pads++;
  }
  if (pads > 2) throw new EncodingError('ERR_ENCODING_BASE64', `${what} input has too much padding`);
  if (padding === 'required' && text.length % 4 !== 0) {
    throw new EncodingError('ERR_ENCODING_BASE64', `${what} input length is not a multiple of 4`);
  }
  if (padding === 'forbidden' && pads > 0) {
    throw new EncodingError('ERR_ENCODING_BASE64', `${what} input must not be padded`);
  }
  if (padding === 'optional' && pads > 0 && text.length % 4 !== 0) {
    throw new EncodingError('ERR_ENCODING_BASE64', `${what} input has misplaced padding`);
  }
  if (end % 4 === 1) throw new EncodingError('ERR_ENCODING_BASE64', `${what} input has an impossible length`);
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? lookup[code]! : -1;
    if (value < 0)
      throw new EncodingError('ERR_ENCODING_BASE64', `${what} input has an invalid character at offset ${i}`);
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  // Non-canonical encodings (non-zero trailing bits) are rejected: one byte string, one text.
  if (bits > 0 && (buffer & ((1 << bits) - 1)) !== 0) {
    throw new EncodingError('ERR_ENCODING_BASE64', `${what} input has non-zero trailing bits`);
  }
  return out;
}

const CANONICAL_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** True when `text` is padded standard base64 whose unused trailing bits are zero. */
function isCanonicalBase64(text: string): boolean {
  if (text.length % 4 !== 0 || !CANONICAL_BASE64.test(text)) return false;
  const pads = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (pads === 0) return true;
  const last = STANDARD_LOOKUP[text.charCodeAt(text.length - pads - 1)]!;
  return (last & (pads === 2 ? 0b1111 : 0b11)) === 0;
}

/** Encodes bytes as standard base64 with padding (RFC 4648 section 4). */
export function bytesToBase64(bytes: Uint8Array): string {
  if (nodeBuffer && bytes.length >= NATIVE_THRESHOLD) return nativeEncode(nodeBuffer, bytes, 'base64');
  return encode(bytes, STANDARD, true);
}

/**
 * Decodes standard base64 strictly: padding required, no whitespace, no URL-safe characters, canonical
 * trailing bits.
 * @throws EncodingError with code `ERR_ENCODING_BASE64`.
 */
export function base64ToBytes(text: string): Bytes {
  if (nodeBuffer && typeof text === 'string' && text.length >= NATIVE_THRESHOLD && isCanonicalBase64(text)) {
    return nativeDecode(nodeBuffer, text, 'base64');
  }
  // The loop also produces the precise error for anything the fast check refused.
  return decode(text, STANDARD_LOOKUP, 'required', 'base64');
}

/** Encodes bytes as base64url without padding (RFC 4648 section 5). */
export function bytesToBase64Url(bytes: Uint8Array): string {
  if (nodeBuffer && bytes.length >= NATIVE_THRESHOLD) return nativeEncode(nodeBuffer, bytes, 'base64url');
  return encode(bytes, URL_SAFE, false);
}

/**
 * Decodes base64url strictly; padding is accepted only when it is complete.
 * @throws EncodingError with code `ERR_ENCODING_BASE64`.
 */
export function base64UrlToBytes(text: string): Bytes {
  return decode(text, URL_SAFE_LOOKUP, 'optional', 'base64url');
}
