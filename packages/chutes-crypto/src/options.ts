import { type Bytes, isBytes } from '@confidential-ai/bytes';
import { DEFAULT_MAX_PLAINTEXT_BYTES } from './constants.js';
import type { Backend } from './native.js';

/**
 * A source of random bytes: returns exactly `length` fresh bytes. The default is
 * `globalThis.crypto.getRandomValues`. Inject one only for known-answer tests.
 */
export type RandomSource = (length: number) => Uint8Array;

/** Options accepted by every function of this package. */
export interface CryptoOptions {
  /**
   * Randomness for key seeds, encapsulation messages and nonces. When given, ML-KEM key generation and
   * encapsulation run on the pure implementation so the output is reproducible. Bytes are drawn in a
   * documented order per function (see each function).
   */
  random?: RandomSource | undefined;
  /**
   * `auto` (default): native `node:crypto` / `node:zlib` where available, pure JavaScript elsewhere;
   * `native`: require the native primitive (throws `Error` when it is missing); `js`: pure JavaScript only.
   */
  backend?: Backend | undefined;
  /**
   * Upper bound in bytes on a decompressed payload (gzip bomb and JSON bomb protection). Default 64 MiB.
   */
  maxPlaintextBytes?: number | undefined;
}

/** Draws `length` bytes from the default source, `globalThis.crypto.getRandomValues`. */
export function defaultRandom(length: number): Bytes {
  const out = new Uint8Array(length);
  const webCrypto = (globalThis as { crypto?: { getRandomValues?: (array: Uint8Array) => Uint8Array } })
    .crypto;
  if (typeof webCrypto?.getRandomValues !== 'function') {
    throw new Error('globalThis.crypto.getRandomValues is not available; pass options.random');
  }
  for (let offset = 0; offset < length; offset += 65536) {
    webCrypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)));
  }
  return out;
}

/**
 * Draws `length` bytes from `options.random` (checked) or from the default source.
 * @throws TypeError / RangeError when an injected source returns something other than `length` bytes.
 */
export function randomBytes(length: number, options: CryptoOptions | undefined): Bytes {
  const source = options?.random;
  if (source === undefined) return defaultRandom(length);
  if (typeof source !== 'function') throw new TypeError('options.random must be a function');
  const value = source(length);
  if (!isBytes(value)) throw new TypeError('options.random must return a Uint8Array');
  if (value.length !== length) {
    throw new RangeError(`options.random returned ${value.length} bytes, expected ${length}`);
  }
  const out = new Uint8Array(length);
  out.set(value);
  return out;
}

/**
 * Reads and checks `options.maxPlaintextBytes`.
 * @throws RangeError when it is not a positive safe integer.
 */
export function maxPlaintextBytes(options: CryptoOptions | undefined): number {
  const value = options?.maxPlaintextBytes;
  if (value === undefined) return DEFAULT_MAX_PLAINTEXT_BYTES;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError('options.maxPlaintextBytes must be a non-negative safe integer');
  }
  return value;
}
