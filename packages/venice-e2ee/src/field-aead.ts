import type * as NodeCrypto from 'node:crypto';
import { type Bytes, bytesToHex, toBytes } from '@confidential-ai/bytes';
import { gcm } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { VeniceE2eeError } from './errors.js';
import { loadNodeCrypto } from './key-agreement.js';

// AES-256-GCM, HKDF-SHA256 and field nonces of the field cipher: node:crypto when the runtime has it, noble
// otherwise. Both produce the same bytes (src/field-cipher.test.ts).

/** Size of the AES-GCM nonce in a packed field. */
export const FIELD_NONCE_LENGTH = 12;
/** Size of the AES-GCM tag in a packed field. */
export const FIELD_TAG_LENGTH = 16;

const EMPTY = new Uint8Array(0);

/** HKDF-SHA256 without salt, 32 bytes. @internal */
export function hkdfSha256(secret: Uint8Array, info: Uint8Array, native: boolean): Bytes {
  const node = native ? loadNodeCrypto() : null;
  if (node) return new Uint8Array(node.hkdfSync('sha256', secret, EMPTY, info, 32));
  return toBytes(hkdf(sha256, secret, undefined, info, 32));
}

/** An AES key prepared for repeated use: a `node:crypto` KeyObject, or the raw bytes for noble. @internal */
export type AesKey = NodeCrypto.KeyObject | Uint8Array;

/** Prepares a 32-byte key for {@link aesGcmSealInto}; a KeyObject spares Node 24 a key import per call. @internal */
export function prepareAesKey(key: Uint8Array, native: boolean): AesKey {
  const node = native ? loadNodeCrypto() : null;
  return node ? node.createSecretKey(key) : key;
}

/**
 * AES-256-GCM seal of `plaintext`, written as `ciphertext ‖ tag` into `out` at `offset` (which must have room
 * for `plaintext.length + 16` bytes). @internal
 */
export function aesGcmSealInto(
  key: AesKey,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  out: Uint8Array,
  offset: number,
): void {
  if (key instanceof Uint8Array) {
    out.set(gcm(key, nonce, aad).encrypt(plaintext), offset);
    return;
  }
  const cipher = loadNodeCrypto()!.createCipheriv('aes-256-gcm', key, nonce);
  if (aad) cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  out.set(head, offset);
  const tail = cipher.final();
  out.set(tail, offset + head.length);
  out.set(cipher.getAuthTag(), offset + head.length + tail.length);
}

/**
 * AES-256-GCM seal on `node:crypto` that returns `nonce ‖ ciphertext ‖ tag` as lowercase hex, the packed-field
 * tail: a string plaintext is UTF-8 encoded and the ciphertext hex encoded by the cipher itself, so no
 * intermediate byte arrays are made per field (the same bytes as {@link aesGcmSealInto} followed by
 * `bytesToHex`, src/field-cipher.test.ts). Lone surrogates in a string become U+FFFD, as with `TextEncoder`.
 * @internal
 */
export function nativeAesGcmSealHex(
  key: NodeCrypto.KeyObject,
  nonce: Uint8Array,
  plaintext: string | Uint8Array,
  aad: Uint8Array | undefined,
): string {
  const cipher = loadNodeCrypto()!.createCipheriv('aes-256-gcm', key, nonce);
  if (aad) cipher.setAAD(aad);
  const head =
    typeof plaintext === 'string'
      ? cipher.update(plaintext, 'utf8', 'hex')
      : cipher.update(plaintext, undefined, 'hex');
  const tail = cipher.final('hex');
  return bytesToHex(nonce) + head + tail + bytesToHex(cipher.getAuthTag());
}

/**
 * AES-256-GCM open of `sealed` (`ciphertext ‖ tag`).
 * @throws VeniceE2eeError `ERR_FIELD_DECRYPT_FAILED` when the tag does not verify (no plaintext is returned).
 * @internal
 */
export function aesGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array | undefined,
  native: boolean,
): Bytes {
  try {
    const node = native ? loadNodeCrypto() : null;
    if (node) {
      const decipher = node.createDecipheriv('aes-256-gcm', key, nonce);
      if (aad) decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(sealed.length - FIELD_TAG_LENGTH));
      const head = decipher.update(sealed.subarray(0, sealed.length - FIELD_TAG_LENGTH));
      const tail = decipher.final();
      const out = new Uint8Array(head.length + tail.length);
      out.set(head, 0);
      out.set(tail, head.length);
      return out;
    }
    return toBytes(gcm(key, nonce, aad).decrypt(sealed));
  } catch (cause) {
    throw new VeniceE2eeError('ERR_FIELD_DECRYPT_FAILED', 'field authentication failed', { cause });
  }
}

// Field nonces come from a pool filled 4 KiB at a time: one CSPRNG call costs some 6 µs, as much as the AES-GCM
// seal of a stream chunk, so per-nonce calls were a quarter of the cost of an encrypted token. Nonces are public
// (they travel in the packed field) and only need to be unique and unpredictable, which a pooled CSPRNG output
// is; the pool never hands out the same bytes twice.
const NONCE_POOL_SIZE = 4096 - (4096 % FIELD_NONCE_LENGTH);
let noncePool: Uint8Array | undefined;
let noncePoolOffset = NONCE_POOL_SIZE;

/** Copies the next 12 pooled CSPRNG bytes into `out` at `offset` and erases them from the pool. @internal */
export function pooledNonceInto(out: Uint8Array, offset: number): void {
  if (noncePoolOffset + FIELD_NONCE_LENGTH > NONCE_POOL_SIZE) {
    noncePool ??= new Uint8Array(NONCE_POOL_SIZE);
    globalThis.crypto.getRandomValues(noncePool);
    noncePoolOffset = 0;
  }
  const pool = noncePool!;
  out.set(pool.subarray(noncePoolOffset, noncePoolOffset + FIELD_NONCE_LENGTH), offset);
  pool.fill(0, noncePoolOffset, noncePoolOffset + FIELD_NONCE_LENGTH);
  noncePoolOffset += FIELD_NONCE_LENGTH;
}
