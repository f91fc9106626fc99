import { readFileSync } from 'node:fs';
import { hexToBytes } from '@confidential-ai/bytes';
import { type Backend, ChutesCryptoError, type ChutesCryptoErrorCode, nativeSupport } from '../src/index.js';

/** Reads a JSON vector file from test/vectors. */
export function vector<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** Hex (either case) to bytes. */
export function hex(text: string): Uint8Array {
  return hexToBytes(text.toLowerCase());
}

/** Bytes to lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A seeded pseudo-random source (xorshift) for reproducible but varied tests. */
export function seededRandom(seed: number): (length: number) => Uint8Array {
  let state = seed >>> 0 || 1;
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      out[i] = state & 0xff;
    }
    return out;
  };
}

export const support = nativeSupport();

/** Backends to run every vector on: pure always; auto; and native when every primitive is native. */
export const backends: Backend[] = ['js', 'auto', ...(support.mlKem768 ? (['native'] as const) : [])];

/** Backends for the symmetric primitives, native on every supported Node. */
export const symmetricBackends: Backend[] = ['js', 'auto', 'native'];

/** Runs `fn` and returns the ChutesCryptoError code it throws (fails the test otherwise). */
export function codeOf(fn: () => unknown): ChutesCryptoErrorCode {
  try {
    fn();
  } catch (error) {
    if (ChutesCryptoError.isInstance(error)) return error.code;
    throw error;
  }
  throw new Error('expected a ChutesCryptoError, nothing was thrown');
}

/** A deterministic random source handing out the given byte strings in order (the packages' tests use it too). */
export { scripted } from '@confidential-ai/test-kit/scripted-random';
