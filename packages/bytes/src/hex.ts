import type { Bytes } from './bytes.js';
import { EncodingError } from './errors.js';
import { NATIVE_THRESHOLD, nativeDecode, nativeEncode, nodeBuffer } from './native.js';

const HEX = '0123456789abcdef';
const BYTE_TO_HEX: string[] = Array.from({ length: 256 }, (_, i) => HEX[i >> 4]! + HEX[i & 15]!);

/** Encodes bytes as lowercase hex. */
export function bytesToHex(bytes: Uint8Array): string {
  if (nodeBuffer && bytes.length >= NATIVE_THRESHOLD) return nativeEncode(nodeBuffer, bytes, 'hex');
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_HEX[bytes[i]!]!;
  return out;
}

const HEX_ONLY = /^[0-9a-fA-F]*$/;

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/** Options for {@link hexToBytes}. */
export interface HexOptions {
  /** Accept and strip a leading `0x`/`0X`. Default false. */
  allowPrefix?: boolean;
  /** Require this many decoded bytes. */
  length?: number;
}

/**
 * Decodes hex (either case). Rejects odd length, non-hex characters and, when asked, a wrong decoded length.
 * @throws EncodingError with code `ERR_ENCODING_HEX`.
 */
export function hexToBytes(text: string, options: HexOptions = {}): Bytes {
  if (typeof text !== 'string') throw new EncodingError('ERR_ENCODING_HEX', 'hex input must be a string');
  let body = text;
  if (options.allowPrefix && (body.startsWith('0x') || body.startsWith('0X'))) body = body.slice(2);
  if (body.length % 2 !== 0) throw new EncodingError('ERR_ENCODING_HEX', 'hex input has an odd length');
  if (nodeBuffer && body.length >= NATIVE_THRESHOLD && HEX_ONLY.test(body)) {
    const out = nativeDecode(nodeBuffer, body, 'hex');
    if (options.length !== undefined && out.length !== options.length) {
      throw new EncodingError(
        'ERR_ENCODING_HEX',
        `hex input must decode to ${options.length} bytes, got ${out.length}`,
      );
    }
    return out;
  }
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = nibble(body.charCodeAt(2 * i));
    const low = nibble(body.charCodeAt(2 * i + 1));
    if (high < 0 || low < 0) {
      throw new EncodingError('ERR_ENCODING_HEX', `hex input has a non-hex character at offset ${2 * i}`);
    }
    out[i] = (high << 4) | low;
  }
  if (options.length !== undefined && out.length !== options.length) {
    throw new EncodingError(
      'ERR_ENCODING_HEX',
      `hex input must decode to ${options.length} bytes, got ${out.length}`,
    );
  }
  return out;
}
