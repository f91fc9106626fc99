import { assertBytes, type Bytes, utf8ToBytes } from '@confidential-ai/bytes';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ML_KEM_768_CIPHERTEXT_LENGTH, SALT_LENGTH, SHARED_SECRET_LENGTH } from './constants.js';
import { ChutesCryptoError } from './errors.js';
import { nativeCipherSetupIsSlow, nodeCrypto, useNative } from './native.js';
import type { CryptoOptions } from './options.js';

/** HKDF `info` label for the request key (client to instance). */
export const REQUEST_INFO = 'e2e-req-v1';
/** HKDF `info` label for the non-stream response key (instance to client). */
export const RESPONSE_INFO = 'e2e-resp-v1';
/** HKDF `info` label for the stream key (instance to client). */
export const STREAM_INFO = 'e2e-stream-v1';

/**
 * HKDF-SHA256 (RFC 5869, extract then expand).
 *
 * @param inputKeyMaterial - IKM.
 * @param salt - Salt (may be empty).
 * @param info - Context label, as bytes or as an ASCII/UTF-8 string.
 * @param length - Output length in bytes, 1 to 8160.
 * @param options - Backend.
 * @returns `length` bytes of output keying material.
 * @throws RangeError for a length out of range.
 */
export function hkdfSha256(
  inputKeyMaterial: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array | string,
  length: number,
  options?: CryptoOptions,
): Bytes {
  assertBytes(inputKeyMaterial, 'inputKeyMaterial');
  assertBytes(salt, 'salt');
  const infoBytes = typeof info === 'string' ? utf8ToBytes(info) : info;
  assertBytes(infoBytes, 'info');
  if (!Number.isSafeInteger(length) || length < 1 || length > 255 * 32) {
    throw new RangeError('length must be an integer from 1 to 8160');
  }
  // Under `auto`, OpenSSL >= 3.5 (Node 24) costs more per hkdfSync call (a key object per call) than the pure
  // HKDF for the 32-byte keys of the protocol (bench/run.mjs); both give the same bytes.
  const preferPure = options?.backend !== 'native' && length <= 64 && nativeCipherSetupIsSlow();
  const crypto = !preferPure && useNative('hkdf', options?.backend) ? nodeCrypto() : undefined;
  if (crypto) return new Uint8Array(crypto.hkdfSync('sha256', inputKeyMaterial, salt, infoBytes, length));
  return hkdf(sha256, inputKeyMaterial, salt, infoBytes, length) as Bytes;
}

/**
 * The Chutes key derivation: `HKDF-SHA256(IKM = sharedSecret, salt = kemCiphertext[0:16], info, L = 32)`.
 *
 * @param sharedSecret - 32-byte ML-KEM shared secret.
 * @param kemCiphertext - The 1088-byte ML-KEM ciphertext of the same encapsulation (its first 16 bytes are
 * the salt).
 * @param info - One of {@link REQUEST_INFO}, {@link RESPONSE_INFO}, {@link STREAM_INFO} (or raw bytes).
 * @param options - Backend.
 * @returns The 32-byte ChaCha20-Poly1305 key.
 * @throws ChutesCryptoError `ERR_KEY_INVALID` when the shared secret is not 32 bytes, `ERR_WIRE_MALFORMED`
 * when the ciphertext is not 1088 bytes.
 * @example
 * ```ts
 * const key = deriveKey(sharedSecret, ciphertext, REQUEST_INFO);
 * ```
 */
export function deriveKey(
  sharedSecret: Uint8Array,
  kemCiphertext: Uint8Array,
  info: Uint8Array | string,
  options?: CryptoOptions,
): Bytes {
  assertBytes(sharedSecret, 'sharedSecret');
  assertBytes(kemCiphertext, 'kemCiphertext');
  if (sharedSecret.length !== SHARED_SECRET_LENGTH) {
    throw new ChutesCryptoError('ERR_KEY_INVALID', `shared secret must be ${SHARED_SECRET_LENGTH} bytes`);
  }
  if (kemCiphertext.length !== ML_KEM_768_CIPHERTEXT_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_WIRE_MALFORMED',
      `ML-KEM ciphertext must be ${ML_KEM_768_CIPHERTEXT_LENGTH} bytes, got ${kemCiphertext.length}`,
    );
  }
  return hkdfSha256(sharedSecret, kemCiphertext.subarray(0, SALT_LENGTH), info, 32, options);
}
