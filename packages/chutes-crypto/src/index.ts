export type { Bytes } from '@confidential-ai/bytes';
export { chacha20Poly1305Open, chacha20Poly1305Seal } from './aead.js';
export {
  openResponse,
  openStreamChunk,
  openStreamChunkBytes,
  openStreamInit,
  type SealedRequest,
  sealRequest,
} from './client.js';
export {
  DEFAULT_MAX_PLAINTEXT_BYTES,
  KEY_LENGTH,
  MIN_BLOB_LENGTH,
  MIN_CHUNK_LENGTH,
  ML_KEM_768_CIPHERTEXT_LENGTH,
  ML_KEM_768_MESSAGE_LENGTH,
  ML_KEM_768_PUBLIC_KEY_LENGTH,
  ML_KEM_768_SECRET_KEY_LENGTH,
  ML_KEM_768_SEED_LENGTH,
  NONCE_LENGTH,
  RESPONSE_PUBLIC_KEY_FIELD,
  SALT_LENGTH,
  SHARED_SECRET_LENGTH,
  TAG_LENGTH,
} from './constants.js';
export { openBlob, parsePublicKey, sealBlob } from './envelope.js';
export { ChutesCryptoError, type ChutesCryptoErrorCode } from './errors.js';
export { crc32, gunzip, gzip } from './gzip.js';
export {
  beginStream,
  type OpenedRequest,
  openRequest,
  type StreamStart,
  sealResponse,
  sealStreamChunk,
} from './instance.js';
export { deriveKey, hkdfSha256, REQUEST_INFO, RESPONSE_INFO, STREAM_INFO } from './kdf.js';
export {
  decapsulate,
  type Encapsulation,
  encapsulate,
  generateKeyPair,
  isValidPublicKey,
  type KemKeyPair,
} from './kem.js';
export { type Backend, type NativeSupport, nativeSupport } from './native.js';
export { type CryptoOptions, defaultRandom, type RandomSource } from './options.js';
