import { assertBytes, type Bytes } from '@confidential-ai/bytes';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { KEY_LENGTH, NONCE_LENGTH, TAG_LENGTH } from './constants.js';
import { ChutesCryptoError } from './errors.js';
import { nativeCipherSetupIsSlow, nodeCrypto, plainBytes, useNative } from './native.js';
import type { CryptoOptions } from './options.js';

const EMPTY = new Uint8Array(0);

/**
 * Under `auto`, messages up to this size use the pure implementation when creating a native cipher is
 * expensive (OpenSSL >= 3.5, e.g. Node 24): there the fixed cost of `createCipheriv` outweighs the pure
 * cipher for SSE-sized chunks. Both paths produce identical bytes; this only picks the faster one.
 */
const SMALL_MESSAGE_BYTES = 2048;

interface BufferConstructorLike {
  allocUnsafeSlow(size: number): Uint8Array;
}

/**
 * A plain Uint8Array whose contents the caller overwrites completely. On Node it skips the zero fill by
 * taking a non-pooled `Buffer`'s own ArrayBuffer (only reached on the native path).
 */
function uninitialized(length: number): Bytes {
  const buffer = (globalThis as { Buffer?: BufferConstructorLike }).Buffer;
  return buffer ? plainBytes(buffer.allocUnsafeSlow(length)) : new Uint8Array(length);
}

function nativeFor(length: number, options: CryptoOptions | undefined): ReturnType<typeof nodeCrypto> {
  if (!useNative('chacha20Poly1305', options?.backend)) return undefined;
  if (options?.backend !== 'native' && length <= SMALL_MESSAGE_BYTES && nativeCipherSetupIsSlow())
    return undefined;
  return nodeCrypto();
}

function checkKeyAndNonce(key: Uint8Array, nonce: Uint8Array): void {
  assertBytes(key, 'key');
  if (key.length !== KEY_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_KEY_INVALID',
      `ChaCha20-Poly1305 key must be ${KEY_LENGTH} bytes, got ${key.length}`,
    );
  }
  assertBytes(nonce, 'nonce', NONCE_LENGTH);
}

/**
 * ChaCha20-Poly1305 encryption (RFC 8439 section 2.8).
 *
 * @param key - 32-byte key.
 * @param nonce - 12-byte nonce; never reuse one with the same key.
 * @param plaintext - Bytes to encrypt.
 * @param associatedData - Authenticated but unencrypted data; the Chutes protocol uses none.
 * @param options - Backend.
 * @returns `ciphertext || tag` (plaintext length + 16 bytes).
 * @throws ChutesCryptoError `ERR_KEY_INVALID` for a key that is not 32 bytes; RangeError for a bad nonce.
 */
export function chacha20Poly1305Seal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  associatedData?: Uint8Array,
  options?: CryptoOptions,
): Bytes {
  checkKeyAndNonce(key, nonce);
  assertBytes(plaintext, 'plaintext');
  if (associatedData !== undefined) assertBytes(associatedData, 'associatedData');
  const crypto = nativeFor(plaintext.length, options);
  if (crypto) {
    const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
    if (associatedData && associatedData.length > 0) {
      cipher.setAAD(associatedData, { plaintextLength: plaintext.length });
    }
    const body = cipher.update(plaintext);
    const tail = cipher.final();
    const tag = cipher.getAuthTag();
    const out = uninitialized(body.length + tail.length + tag.length);
    out.set(body, 0);
    out.set(tail, body.length);
    out.set(tag, body.length + tail.length);
    return out;
  }
  return chacha20poly1305(key, nonce, associatedData ?? EMPTY).encrypt(plaintext) as Bytes;
}

/**
 * ChaCha20-Poly1305 decryption with tag verification (RFC 8439 section 2.8). No plaintext is returned or
 * kept when the tag does not verify.
 *
 * @param key - 32-byte key.
 * @param nonce - 12-byte nonce.
 * @param sealed - `ciphertext || tag`.
 * @param associatedData - The associated data used at encryption.
 * @param options - Backend.
 * @returns The plaintext.
 * @throws ChutesCryptoError `ERR_DECRYPT_FAILED` when the tag does not verify, `ERR_WIRE_MALFORMED` when
 * `sealed` is shorter than a tag, `ERR_KEY_INVALID` for a key that is not 32 bytes.
 */
export function chacha20Poly1305Open(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  associatedData?: Uint8Array,
  options?: CryptoOptions,
): Bytes {
  checkKeyAndNonce(key, nonce);
  assertBytes(sealed, 'sealed');
  if (associatedData !== undefined) assertBytes(associatedData, 'associatedData');
  if (sealed.length < TAG_LENGTH) {
    throw new ChutesCryptoError('ERR_WIRE_MALFORMED', `sealed data must be at least ${TAG_LENGTH} bytes`);
  }
  const crypto = nativeFor(sealed.length, options);
  if (crypto) {
    const split = sealed.length - TAG_LENGTH;
    const decipher = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(sealed.subarray(split));
    if (associatedData && associatedData.length > 0)
      decipher.setAAD(associatedData, { plaintextLength: split });
    const body = decipher.update(sealed.subarray(0, split));
    let tail: Uint8Array;
    try {
      tail = decipher.final();
    } catch (cause) {
      body.fill(0); // unauthenticated plaintext never leaves this function
      throw new ChutesCryptoError('ERR_DECRYPT_FAILED', 'decryption failed: authentication tag mismatch', {
        cause,
      });
    }
    // node:crypto returns the plaintext in a buffer of its own; hand it out as a plain Uint8Array without a
    // copy when that buffer holds nothing else, otherwise copy it out.
    if (tail.length === 0) return plainBytes(body);
    const out = new Uint8Array(body.length + tail.length);
    out.set(body, 0);
    out.set(tail, body.length);
    body.fill(0);
    return out;
  }
  try {
    return chacha20poly1305(key, nonce, associatedData ?? EMPTY).decrypt(sealed) as Bytes;
  } catch (cause) {
    throw new ChutesCryptoError('ERR_DECRYPT_FAILED', 'decryption failed: authentication tag mismatch', {
      cause,
    });
  }
}
