import type { Bytes } from '@confidential-ai/bytes';
import { chacha20Poly1305Seal } from './aead.js';
import { NONCE_LENGTH, RESPONSE_PUBLIC_KEY_FIELD } from './constants.js';
import { bodyBytes, openBlob, parseJson, parsePublicKey, sealBlob } from './envelope.js';
import { ChutesCryptoError } from './errors.js';
import { gunzip, gzip } from './gzip.js';
import { deriveKey, REQUEST_INFO, RESPONSE_INFO, STREAM_INFO } from './kdf.js';
import { encapsulate } from './kem.js';
import { type CryptoOptions, randomBytes } from './options.js';

/** Result of {@link openRequest}. */
export interface OpenedRequest {
  /** The decrypted JSON object without `e2e_response_pk`. */
  payload: Record<string, unknown>;
  /** The client's 1184-byte response public key taken from `e2e_response_pk`. */
  responsePublicKey: Bytes;
}

/** Result of {@link beginStream}. */
export interface StreamStart {
  /** The 1088-byte ML-KEM ciphertext; send it base64-encoded as the `e2e_init` event. */
  init: Bytes;
  /** The 32-byte `e2e-stream-v1` key for {@link sealStreamChunk}. */
  streamKey: Bytes;
}

/**
 * Instance side: opens a request blob with the instance secret key: size check (1116 bytes minimum, before
 * any cryptography), decapsulate, derive `e2e-req-v1`, verify and decrypt, gunzip (bounded), parse the JSON
 * object, then take out and validate `e2e_response_pk` (exactly 1184 bytes).
 *
 * @param blob - The raw body of `POST /e2e/invoke`.
 * @param instanceSecretKey - The instance's 2400-byte expanded secret key.
 * @param options - Backend and size limit.
 * @returns The payload without `e2e_response_pk` and the response public key.
 * @throws ChutesCryptoError `ERR_WIRE_MALFORMED`, `ERR_KEY_INVALID` (also for a missing or bad
 * `e2e_response_pk`), `ERR_BASE64_INVALID`, `ERR_DECRYPT_FAILED`, `ERR_DECOMPRESS_FAILED`,
 * `ERR_PAYLOAD_TOO_LARGE`, `ERR_JSON_INVALID` (also when the JSON is not an object).
 * @example
 * ```ts
 * const { payload, responsePublicKey } = openRequest(body, instanceKeyPair.secretKey);
 * const reply = sealResponse(JSON.stringify(completion), responsePublicKey);
 * ```
 */
export function openRequest(
  blob: Uint8Array,
  instanceSecretKey: Uint8Array,
  options?: CryptoOptions,
): OpenedRequest {
  const compressed = openBlob(blob, instanceSecretKey, REQUEST_INFO, options);
  const document = parseJson(gunzip(compressed, options));
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new ChutesCryptoError('ERR_JSON_INVALID', 'request payload is not a JSON object');
  }
  const payload = document as Record<string, unknown>;
  const encoded = payload[RESPONSE_PUBLIC_KEY_FIELD];
  if (typeof encoded !== 'string') {
    throw new ChutesCryptoError(
      'ERR_KEY_INVALID',
      `request payload has no string ${RESPONSE_PUBLIC_KEY_FIELD}`,
    );
  }
  const responsePublicKey = parsePublicKey(encoded);
  delete payload[RESPONSE_PUBLIC_KEY_FIELD];
  return { payload, responsePublicKey };
}

/**
 * Instance side: seals a non-stream response body: gzip, encapsulate to the client's response key, derive
 * `e2e-resp-v1`, seal. Injected randomness: 32-byte ML-KEM message, then 12-byte nonce.
 *
 * @param body - The raw JSON response body, as bytes or text.
 * @param responsePublicKey - `responsePublicKey` from {@link openRequest}.
 * @param options - Backend and randomness.
 * @returns The response blob.
 * @throws ChutesCryptoError `ERR_KEY_INVALID` for a bad response key.
 */
export function sealResponse(
  body: Uint8Array | string,
  responsePublicKey: Uint8Array,
  options?: CryptoOptions,
): Bytes {
  const compressed = gzip(bodyBytes(body, 'body'), options);
  return sealBlob(responsePublicKey, compressed, RESPONSE_INFO, options);
}

/**
 * Instance side: starts an encrypted stream: one encapsulation to the client's response key, giving the
 * `e2e_init` ciphertext and the `e2e-stream-v1` key. Injected randomness: 32-byte ML-KEM message.
 *
 * @param responsePublicKey - `responsePublicKey` from {@link openRequest}.
 * @param options - Backend and randomness.
 * @returns The 1088-byte init ciphertext and the 32-byte stream key.
 * @throws ChutesCryptoError `ERR_KEY_INVALID` for a bad response key.
 */
export function beginStream(responsePublicKey: Uint8Array, options?: CryptoOptions): StreamStart {
  const { ciphertext, sharedSecret } = encapsulate(responsePublicKey, options);
  const streamKey = deriveKey(sharedSecret, ciphertext, STREAM_INFO, options);
  sharedSecret.fill(0);
  return { init: ciphertext, streamKey };
}

/**
 * Instance side: seals one stream chunk as `nonce (12) || ciphertext || tag (16)` with a fresh random nonce
 * (12 bytes of injected randomness when given).
 *
 * @param plaintext - One upstream SSE line (bytes or text), e.g. `data: {...}\n`.
 * @param streamKey - The key from {@link beginStream}.
 * @param options - Backend and randomness.
 * @returns The chunk; send it base64-encoded as an `e2e` event.
 * @throws ChutesCryptoError `ERR_KEY_INVALID` for a stream key that is not 32 bytes.
 */
export function sealStreamChunk(
  plaintext: Uint8Array | string,
  streamKey: Uint8Array,
  options?: CryptoOptions,
): Bytes {
  const data = bodyBytes(plaintext, 'plaintext');
  const nonce = randomBytes(NONCE_LENGTH, options);
  const sealed = chacha20Poly1305Seal(streamKey, nonce, data, undefined, options);
  const out = new Uint8Array(NONCE_LENGTH + sealed.length);
  out.set(nonce, 0);
  out.set(sealed, NONCE_LENGTH);
  return out;
}
