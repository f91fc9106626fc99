import type { Bytes } from './bytes.js';
import { EncodingError } from './errors.js';

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Encodes a string as UTF-8. */
export function utf8ToBytes(text: string): Bytes {
  return encoder.encode(text) as Bytes;
}

/**
 * Decodes UTF-8 strictly (invalid sequences are an error, a BOM is kept as U+FEFF).
 * @throws EncodingError with code `ERR_ENCODING_UTF8`.
 */
export function bytesToUtf8(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (cause) {
    throw new EncodingError('ERR_ENCODING_UTF8', 'input is not valid UTF-8', { cause });
  }
}
