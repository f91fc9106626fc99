import { assertBytes, type Bytes, base64ToBytes, bytesToUtf8, utf8ToBytes } from '@confidential-ai/bytes';
import { chacha20Poly1305Open, chacha20Poly1305Seal } from './aead.js';
import {
  MIN_BLOB_LENGTH,
  ML_KEM_768_CIPHERTEXT_LENGTH,
  ML_KEM_768_PUBLIC_KEY_LENGTH,
  NONCE_LENGTH,
} from './constants.js';
import { ChutesCryptoError } from './errors.js';
import { deriveKey } from './kdf.js';
import { decapsulate, encapsulate, isValidPublicKey } from './kem.js';
import { type CryptoOptions, randomBytes } from './options.js';

/**
 * Seals `plaintext` to `recipientPublicKey` in the Chutes blob layout
 * `kemCiphertext (1088) || nonce (12) || ciphertext (N) || tag (16)`.
 *
 * Randomness, when injected, is drawn in this order: 32 bytes ML-KEM message `m`, then the 12-byte nonce.
 *
 * @param recipientPublicKey - 1184-byte ML-KEM-768 public key.
 * @param plaintext - Bytes to seal (for the protocol: gzip of the JSON document).
 * @param info - HKDF label.
 * @param options - Backend and randomness.
 * @returns The blob, `1116 + plaintext.length` bytes.
 * @throws ChutesCryptoError `ERR_KEY_INVALID` for a bad public key.
 */
export function sealBlob(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  info: Uint8Array | string,
  options?: CryptoOptions,
): Bytes {
  assertBytes(plaintext, 'plaintext');
  const { ciphertext, sharedSecret } = encapsulate(recipientPublicKey, options);
  const key = deriveKey(sharedSecret, ciphertext, info, options);
  sharedSecret.fill(0);
  const nonce = randomBytes(NONCE_LENGTH, options);
  const sealed = chacha20Poly1305Seal(key, nonce, plaintext, undefined, options);
  key.fill(0);
  const blob = new Uint8Array(ML_KEM_768_CIPHERTEXT_LENGTH + NONCE_LENGTH + sealed.length);
  blob.set(ciphertext, 0);
  blob.set(nonce, ML_KEM_768_CIPHERTEXT_LENGTH);
  blob.set(sealed, ML_KEM_768_CIPHERTEXT_LENGTH + NONCE_LENGTH);
  return blob;
}

/**
 * Opens a blob made by {@link sealBlob}: checks the size, decapsulates, derives the key and verifies the tag.
 *
 * @param blob - At least 1116 bytes.
 * @param secretKey - 2400-byte expanded ML-KEM-768 secret key.
 * @param info - HKDF label.
 * @param options - Backend.
 * @returns The plaintext.
 * @throws ChutesCryptoError `ERR_WIRE_MALFORMED` (too short, checked before any cryptography),
 * `ERR_KEY_INVALID`, `ERR_DECRYPT_FAILED`.
 */
export function openBlob(
  blob: Uint8Array,
  secretKey: Uint8Array,
  info: Uint8Array | string,
  options?: CryptoOptions,
): Bytes {
  assertBytes(blob, 'blob');
  if (blob.length < MIN_BLOB_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_WIRE_MALFORMED',
      `blob must be at least ${MIN_BLOB_LENGTH} bytes, got ${blob.length}`,
    );
  }
  const kemCiphertext = blob.subarray(0, ML_KEM_768_CIPHERTEXT_LENGTH);
  const nonce = blob.subarray(ML_KEM_768_CIPHERTEXT_LENGTH, ML_KEM_768_CIPHERTEXT_LENGTH + NONCE_LENGTH);
  const sealed = blob.subarray(ML_KEM_768_CIPHERTEXT_LENGTH + NONCE_LENGTH);
  const sharedSecret = decapsulate(kemCiphertext, secretKey, options);
  const key = deriveKey(sharedSecret, kemCiphertext, info, options);
  sharedSecret.fill(0);
  try {
    return chacha20Poly1305Open(key, nonce, sealed, undefined, options);
  } finally {
    key.fill(0);
  }
}

/**
 * Decodes strict standard base64 (padding required, no whitespace).
 * @throws ChutesCryptoError `ERR_BASE64_INVALID`.
 */
export function decodeBase64(text: string, what: string): Bytes {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`);
  try {
    return base64ToBytes(text);
  } catch (cause) {
    throw new ChutesCryptoError('ERR_BASE64_INVALID', `${what} is not valid standard base64`, { cause });
  }
}

/**
 * Decodes an ML-KEM-768 public key given as standard base64 (an instance `e2e_pubkey` or a request's
 * `e2e_response_pk`). It must decode to exactly 1184 bytes that pass the FIPS 203 modulus check.
 *
 * @param base64 - Standard base64 with padding (1580 characters).
 * @returns The 1184-byte key.
 * @throws ChutesCryptoError `ERR_BASE64_INVALID` for malformed base64, `ERR_KEY_INVALID` for a wrong length or
 * a key that fails the modulus check.
 * @example
 * ```ts
 * const instanceKey = parsePublicKey(instance.e2e_pubkey);
 * ```
 */
export function parsePublicKey(base64: string): Bytes {
  const key = decodeBase64(base64, 'public key');
  if (key.length !== ML_KEM_768_PUBLIC_KEY_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_KEY_INVALID',
      `public key must decode to ${ML_KEM_768_PUBLIC_KEY_LENGTH} bytes, got ${key.length}`,
    );
  }
  if (!isValidPublicKey(key)) {
    throw new ChutesCryptoError(
      'ERR_KEY_INVALID',
      'public key is not a valid ML-KEM-768 key (modulus check failed)',
    );
  }
  return key;
}

/**
 * Strict UTF-8 then JSON parsing of a decompressed payload.
 * @throws ChutesCryptoError `ERR_JSON_INVALID`.
 */
export function parseJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = bytesToUtf8(bytes);
  } catch (cause) {
    throw new ChutesCryptoError('ERR_JSON_INVALID', 'payload is not valid UTF-8', { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ChutesCryptoError('ERR_JSON_INVALID', 'payload is not valid JSON', { cause });
  }
}

/** Encodes a body given as text or bytes. */
export function bodyBytes(body: Uint8Array | string, name: string): Uint8Array {
  if (typeof body === 'string') return utf8ToBytes(body);
  assertBytes(body, name);
  return body;
}
