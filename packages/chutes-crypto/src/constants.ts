/** Length in bytes of an ML-KEM-768 encapsulation (public) key. */
export const ML_KEM_768_PUBLIC_KEY_LENGTH = 1184;
/** Length in bytes of an expanded ML-KEM-768 decapsulation (secret) key, FIPS 203 `dk`. */
export const ML_KEM_768_SECRET_KEY_LENGTH = 2400;
/** Length in bytes of an ML-KEM-768 ciphertext. */
export const ML_KEM_768_CIPHERTEXT_LENGTH = 1088;
/** Length in bytes of an ML-KEM-768 key-generation seed (`d || z`, FIPS 203). */
export const ML_KEM_768_SEED_LENGTH = 64;
/** Length in bytes of the ML-KEM encapsulation randomness `m`. */
export const ML_KEM_768_MESSAGE_LENGTH = 32;
/** Length in bytes of an ML-KEM shared secret and of every derived ChaCha20-Poly1305 key. */
export const SHARED_SECRET_LENGTH = 32;
/** Length in bytes of a ChaCha20-Poly1305 key. */
export const KEY_LENGTH = 32;
/** Length in bytes of a ChaCha20-Poly1305 nonce. */
export const NONCE_LENGTH = 12;
/** Length in bytes of a Poly1305 tag. */
export const TAG_LENGTH = 16;
/** Length in bytes of the HKDF salt: the first bytes of the KEM ciphertext. */
export const SALT_LENGTH = 16;
/** Shortest valid request or response blob: KEM ciphertext, nonce and tag around an empty ciphertext. */
export const MIN_BLOB_LENGTH = ML_KEM_768_CIPHERTEXT_LENGTH + NONCE_LENGTH + TAG_LENGTH;
/** Shortest valid stream chunk: nonce and tag around an empty ciphertext. */
export const MIN_CHUNK_LENGTH = NONCE_LENGTH + TAG_LENGTH;
/** Default upper bound on a decompressed payload (64 MiB); protects against gzip and JSON bombs. */
export const DEFAULT_MAX_PLAINTEXT_BYTES = 64 * 1024 * 1024;
/** Name of the JSON member that carries the client's response public key inside a request. */
export const RESPONSE_PUBLIC_KEY_FIELD = 'e2e_response_pk';
