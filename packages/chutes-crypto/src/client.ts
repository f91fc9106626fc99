import { type Bytes, bytesToBase64, bytesToUtf8, utf8ToBytes } from '@confidential-ai/bytes';
import { chacha20Poly1305Open } from './aead.js';
import {
  MIN_CHUNK_LENGTH,
  ML_KEM_768_CIPHERTEXT_LENGTH,
  NONCE_LENGTH,
  RESPONSE_PUBLIC_KEY_FIELD,
} from './constants.js';
import { decodeBase64, openBlob, parseJson, sealBlob } from './envelope.js';
import { ChutesCryptoError } from './errors.js';
import { gunzip, gzip } from './gzip.js';
import { deriveKey, REQUEST_INFO, RESPONSE_INFO, STREAM_INFO } from './kdf.js';
import { decapsulate, generateKeyPair, type KemKeyPair } from './kem.js';
import type { CryptoOptions } from './options.js';

/** Result of {@link sealRequest}. */
export interface SealedRequest {
  /** The request blob, the raw body of `POST /e2e/invoke`. */
  blob: Bytes;
  /** The fresh ephemeral key pair whose public key travels in the request; keep the secret key to open the reply. */
  responseKeyPair: KemKeyPair;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Client side: builds the encrypted request blob for an instance.
 *
 * Generates a fresh ephemeral ML-KEM-768 response key pair, adds its public key as `e2e_response_pk`
 * (standard base64, added as the last member, replacing any existing one), serializes the payload as UTF-8
 * JSON, gzips it, encapsulates to the instance key, derives the `e2e-req-v1` key and seals with
 * ChaCha20-Poly1305: `kemCiphertext (1088) || nonce (12) || ciphertext || tag (16)`.
 *
 * Injected randomness is drawn in this order: 64-byte response key seed, 32-byte ML-KEM message, 12-byte
 * nonce.
 *
 * @param instancePublicKey - The instance's 1184-byte ML-KEM-768 key (see {@link parsePublicKey}).
 * @param payload - The OpenAI request body as a JSON object.
 * @param options - Backend and randomness.
 * @returns The blob and the response key pair.
 * @throws ChutesCryptoError `ERR_KEY_INVALID` for a bad instance key; TypeError for a payload that is not a
 * JSON-serializable object.
 * @example
 * ```ts
 * const { blob, responseKeyPair } = sealRequest(parsePublicKey(instance.e2e_pubkey), {
 *   model: 'deepseek-ai/DeepSeek-V3',
 *   messages: [{ role: 'user', content: 'hi' }],
 * });
 * // POST blob to /e2e/invoke, then: openResponse(responseBody, responseKeyPair.secretKey)
 * ```
 */
export function sealRequest(
  instancePublicKey: Uint8Array,
  payload: Record<string, unknown>,
  options?: CryptoOptions,
): SealedRequest {
  if (!isPlainObject(payload)) throw new TypeError('payload must be a JSON object');
  const responseKeyPair = generateKeyPair(undefined, options);
  // No prototype: a payload key named `__proto__` stays an own property (a `{}` would drop it via the setter).
  const body: Record<string, unknown> = Object.create(null);
  for (const name of Object.keys(payload)) {
    if (name !== RESPONSE_PUBLIC_KEY_FIELD) body[name] = payload[name];
  }
  body[RESPONSE_PUBLIC_KEY_FIELD] = bytesToBase64(responseKeyPair.publicKey);
  const json = JSON.stringify(body);
  const compressed = gzip(utf8ToBytes(json), options);
  const blob = sealBlob(instancePublicKey, compressed, REQUEST_INFO, options);
  return { blob, responseKeyPair };
}

/**
 * Client side: opens a non-stream response blob (`e2e-resp-v1`): decapsulate, derive, verify and decrypt,
 * gunzip (bounded by `maxPlaintextBytes`), parse JSON.
 *
 * @param blob - The raw 200 response body (at least 1116 bytes).
 * @param responseSecretKey - `responseKeyPair.secretKey` from {@link sealRequest}.
 * @param options - Backend and size limit.
 * @returns The parsed JSON document.
 * @throws ChutesCryptoError `ERR_WIRE_MALFORMED`, `ERR_KEY_INVALID`, `ERR_DECRYPT_FAILED`,
 * `ERR_DECOMPRESS_FAILED`, `ERR_PAYLOAD_TOO_LARGE` or `ERR_JSON_INVALID`.
 * @example
 * ```ts
 * const completion = openResponse(new Uint8Array(await response.arrayBuffer()), responseKeyPair.secretKey);
 * ```
 */
export function openResponse(
  blob: Uint8Array,
  responseSecretKey: Uint8Array,
  options?: CryptoOptions,
): unknown {
  const compressed = openBlob(blob, responseSecretKey, RESPONSE_INFO, options);
  return parseJson(gunzip(compressed, options));
}

function decodeInput(value: Uint8Array | string, what: string): Uint8Array {
  return typeof value === 'string' ? decodeBase64(value, what) : value;
}

/**
 * Client side: opens the `e2e_init` event of a stream and returns the 32-byte stream key
 * (`e2e-stream-v1`).
 *
 * @param init - The event's value: base64 text or the decoded 1088 bytes.
 * @param responseSecretKey - `responseKeyPair.secretKey` from {@link sealRequest}.
 * @param options - Backend.
 * @returns The stream key for {@link openStreamChunk}.
 * @throws ChutesCryptoError `ERR_BASE64_INVALID`, `ERR_WIRE_MALFORMED` (not exactly 1088 bytes),
 * `ERR_KEY_INVALID`.
 */
export function openStreamInit(
  init: Uint8Array | string,
  responseSecretKey: Uint8Array,
  options?: CryptoOptions,
): Bytes {
  const ciphertext = decodeInput(init, 'e2e_init');
  if (!(ciphertext instanceof Uint8Array)) throw new TypeError('init must be a string or a Uint8Array');
  if (ciphertext.length !== ML_KEM_768_CIPHERTEXT_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_WIRE_MALFORMED',
      `e2e_init must be ${ML_KEM_768_CIPHERTEXT_LENGTH} bytes, got ${ciphertext.length}`,
    );
  }
  const sharedSecret = decapsulate(ciphertext, responseSecretKey, options);
  const key = deriveKey(sharedSecret, ciphertext, STREAM_INFO, options);
  sharedSecret.fill(0);
  return key;
}

/**
 * Client side: decrypts one `e2e` stream chunk `nonce (12) || ciphertext || tag (16)` and returns the raw
 * plaintext bytes. The nonce is used as given and never interpreted (decision D2).
 *
 * @param chunk - The event's value: base64 text or decoded bytes (at least 28).
 * @param streamKey - The key from {@link openStreamInit}.
 * @param options - Backend.
 * @returns The plaintext bytes.
 * @throws ChutesCryptoError `ERR_BASE64_INVALID`, `ERR_WIRE_MALFORMED`, `ERR_KEY_INVALID`,
 * `ERR_DECRYPT_FAILED`.
 */
export function openStreamChunkBytes(
  chunk: Uint8Array | string,
  streamKey: Uint8Array,
  options?: CryptoOptions,
): Bytes {
  const data = decodeInput(chunk, 'e2e chunk');
  if (!(data instanceof Uint8Array)) throw new TypeError('chunk must be a string or a Uint8Array');
  if (data.length < MIN_CHUNK_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_WIRE_MALFORMED',
      `e2e chunk must be at least ${MIN_CHUNK_LENGTH} bytes, got ${data.length}`,
    );
  }
  return chacha20Poly1305Open(
    streamKey,
    data.subarray(0, NONCE_LENGTH),
    data.subarray(NONCE_LENGTH),
    undefined,
    options,
  );
}

/**
 * Client side: decrypts one `e2e` stream chunk and decodes it as UTF-8 (one upstream SSE line such as
 * `data: {...}\n`).
 *
 * @param chunk - The event's value: base64 text or decoded bytes (at least 28).
 * @param streamKey - The key from {@link openStreamInit}.
 * @param options - Backend.
 * @returns The plaintext text.
 * @throws ChutesCryptoError `ERR_BASE64_INVALID`, `ERR_WIRE_MALFORMED` (too short, or plaintext not UTF-8),
 * `ERR_KEY_INVALID`, `ERR_DECRYPT_FAILED`.
 * @example
 * ```ts
 * const streamKey = openStreamInit(event.e2e_init, responseKeyPair.secretKey);
 * const line = openStreamChunk(event.e2e, streamKey); // 'data: {"choices":[...]}\n'
 * ```
 */
export function openStreamChunk(
  chunk: Uint8Array | string,
  streamKey: Uint8Array,
  options?: CryptoOptions,
): string {
  const plaintext = openStreamChunkBytes(chunk, streamKey, options);
  try {
    return bytesToUtf8(plaintext);
  } catch (cause) {
    throw new ChutesCryptoError('ERR_WIRE_MALFORMED', 'e2e chunk plaintext is not valid UTF-8', { cause });
  }
}
