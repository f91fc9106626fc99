import type * as NodeCrypto from 'node:crypto';
import { assertBytes, type Bytes } from '@confidential-ai/bytes';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import {
  ML_KEM_768_CIPHERTEXT_LENGTH,
  ML_KEM_768_MESSAGE_LENGTH,
  ML_KEM_768_PUBLIC_KEY_LENGTH,
  ML_KEM_768_SECRET_KEY_LENGTH,
  ML_KEM_768_SEED_LENGTH,
} from './constants.js';
import { expandedSecretKeyFromPkcs8, expandedSecretKeyToPkcs8 } from './der.js';
import { ChutesCryptoError } from './errors.js';
import { type NodeCryptoModule, nodeCrypto, plainBytes, useNative } from './native.js';
import { type CryptoOptions, randomBytes } from './options.js';

/** An ML-KEM-768 key pair. */
export interface KemKeyPair {
  /** 1184-byte encapsulation key. */
  publicKey: Bytes;
  /** 2400-byte expanded FIPS 203 decapsulation key (`dk`), the form the Chutes clients use. */
  secretKey: Bytes;
}

/** Result of an ML-KEM-768 encapsulation. */
export interface Encapsulation {
  /** 1088-byte ciphertext for the holder of the secret key. */
  ciphertext: Bytes;
  /** 32-byte shared secret. */
  sharedSecret: Bytes;
}

const Q = 3329;
const POLY_BYTES = 384; // 256 coefficients of 12 bits
const VECTOR_BYTES = 3 * POLY_BYTES; // k = 3

/** True when every 12-bit coefficient in `bytes[offset, offset + 1152)` is below q (FIPS 203 modulus check). */
function vectorIsReduced(bytes: Uint8Array, offset: number): boolean {
  let ok = 1;
  for (let i = offset; i < offset + VECTOR_BYTES; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1]!;
    const b2 = bytes[i + 2]!;
    const c0 = b0 | ((b1 & 0x0f) << 8);
    const c1 = (b1 >> 4) | (b2 << 4);
    ok &= (c0 < Q ? 1 : 0) & (c1 < Q ? 1 : 0);
  }
  return ok === 1;
}

/**
 * True when `publicKey` is a well-formed ML-KEM-768 encapsulation key: 1184 bytes whose encoded vector passes
 * the FIPS 203 section 7.2 modulus check.
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  return publicKey.length === ML_KEM_768_PUBLIC_KEY_LENGTH && vectorIsReduced(publicKey, 0);
}

function checkPublicKeyLength(publicKey: unknown, name: string): asserts publicKey is Uint8Array {
  assertBytes(publicKey, name);
  if (publicKey.length !== ML_KEM_768_PUBLIC_KEY_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_KEY_INVALID',
      `${name} must be ${ML_KEM_768_PUBLIC_KEY_LENGTH} bytes, got ${publicKey.length}`,
    );
  }
}

function checkPublicKeyModulus(publicKey: Uint8Array, name: string): void {
  if (!vectorIsReduced(publicKey, 0)) {
    throw new ChutesCryptoError(
      'ERR_KEY_INVALID',
      `${name} is not a valid ML-KEM-768 key (modulus check failed)`,
    );
  }
}

function checkSecretKey(secretKey: unknown, name: string): asserts secretKey is Uint8Array {
  assertBytes(secretKey, name);
  if (secretKey.length !== ML_KEM_768_SECRET_KEY_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_KEY_INVALID',
      `${name} must be ${ML_KEM_768_SECRET_KEY_LENGTH} bytes, got ${secretKey.length}`,
    );
  }
}

// FIPS 203 section 7.3 input check for an expanded key (done by OpenSSL on import for the native path):
// dk = s (1152) || ek (1184) || H(ek) (32) || z (32). The s and ek vectors must be reduced and H(ek) must match.
function secretKeyIsValid(secretKey: Uint8Array): boolean {
  const ek = secretKey.subarray(VECTOR_BYTES, VECTOR_BYTES + ML_KEM_768_PUBLIC_KEY_LENGTH);
  const stored = secretKey.subarray(
    VECTOR_BYTES + ML_KEM_768_PUBLIC_KEY_LENGTH,
    VECTOR_BYTES + ML_KEM_768_PUBLIC_KEY_LENGTH + 32,
  );
  const hash = sha3_256(ek);
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= hash[i]! ^ stored[i]!;
  return diff === 0 && vectorIsReduced(secretKey, 0) && vectorIsReduced(ek, 0);
}

function invalidSecretKey(name: string, cause?: unknown): ChutesCryptoError {
  return new ChutesCryptoError('ERR_KEY_INVALID', `${name} is not a valid ML-KEM-768 decapsulation key`, {
    cause,
  });
}

// node:crypto KeyObjects for keys seen before, keyed by the caller's array and guarded by a copy of its
// contents, so importing a key (the dominant native cost) happens once per key and a mutated array is
// re-imported. Entries disappear with the caller's array.
interface CachedKey {
  copy: Uint8Array;
  key: NodeCrypto.KeyObject;
}
const publicKeyCache = new WeakMap<Uint8Array, CachedKey>();
const secretKeyCache = new WeakMap<Uint8Array, CachedKey>();

function unchanged(crypto: NodeCryptoModule, cached: CachedKey | undefined, bytes: Uint8Array): boolean {
  // timingSafeEqual is a native comparison, much faster than a JavaScript loop over 2400 bytes.
  return (
    cached !== undefined && cached.copy.length === bytes.length && crypto.timingSafeEqual(cached.copy, bytes)
  );
}

function remember(cache: WeakMap<Uint8Array, CachedKey>, bytes: Uint8Array, key: NodeCrypto.KeyObject): void {
  cache.set(bytes, { copy: copy(bytes), key });
}

function nativePublicKey(
  crypto: NodeCryptoModule,
  publicKey: Uint8Array,
  name: string,
): NodeCrypto.KeyObject {
  const cached = publicKeyCache.get(publicKey);
  // A cached key passed the modulus check when it was imported and its bytes are unchanged.
  if (unchanged(crypto, cached, publicKey)) return (cached as CachedKey).key;
  checkPublicKeyModulus(publicKey, name);
  let key: NodeCrypto.KeyObject;
  try {
    key = crypto.createPublicKey({
      key: publicKey,
      format: 'raw-public',
      asymmetricKeyType: 'ml-kem-768',
    } as unknown as NodeCrypto.PublicKeyInput);
  } catch (cause) {
    throw new ChutesCryptoError('ERR_KEY_INVALID', `${name} is not a valid ML-KEM-768 key`, { cause });
  }
  remember(publicKeyCache, publicKey, key);
  return key;
}

function nativeSecretKey(
  crypto: NodeCryptoModule,
  secretKey: Uint8Array,
  name: string,
): NodeCrypto.KeyObject {
  const cached = secretKeyCache.get(secretKey);
  if (unchanged(crypto, cached, secretKey)) return (cached as CachedKey).key;
  let key: NodeCrypto.KeyObject;
  const der = expandedSecretKeyToPkcs8(secretKey);
  try {
    key = crypto.createPrivateKey({ key: der as unknown as Buffer, format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw invalidSecretKey(name, cause);
  } finally {
    der.fill(0);
  }
  remember(secretKeyCache, secretKey, key);
  return key;
}

function copy(bytes: Uint8Array): Bytes {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/**
 * Generates an ML-KEM-768 key pair (FIPS 203 `ML-KEM.KeyGen`).
 *
 * With a 64-byte `seed` (`d || z`) the result is deterministic. Without one, the seed is drawn from
 * `options.random` (64 bytes) when given, otherwise the native generator is used when available.
 *
 * @param seed - Optional 64-byte seed `d || z`.
 * @param options - Backend and randomness.
 * @returns The 1184-byte public key and the 2400-byte expanded secret key.
 * @throws RangeError when `seed` is not 64 bytes.
 * @example
 * ```ts
 * const { publicKey, secretKey } = generateKeyPair();
 * ```
 */
export function generateKeyPair(seed?: Uint8Array, options?: CryptoOptions): KemKeyPair {
  if (seed !== undefined) assertBytes(seed, 'seed', ML_KEM_768_SEED_LENGTH);
  const native = useNative('mlKem768', options?.backend);
  const crypto = native ? nodeCrypto() : undefined;
  if (crypto) {
    let privateKey: NodeCrypto.KeyObject;
    let publicKeyObject: NodeCrypto.KeyObject;
    if (seed === undefined && options?.random === undefined) {
      const pair = crypto.generateKeyPairSync(
        'ml-kem-768' as never,
      ) as unknown as NodeCrypto.KeyPairKeyObjectResult;
      privateKey = pair.privateKey;
      publicKeyObject = pair.publicKey;
    } else {
      const material = seed ?? randomBytes(ML_KEM_768_SEED_LENGTH, options);
      privateKey = crypto.createPrivateKey({
        key: material,
        format: 'raw-seed',
        asymmetricKeyType: 'ml-kem-768',
      } as unknown as NodeCrypto.PrivateKeyInput);
      if (seed === undefined) material.fill(0);
      publicKeyObject = crypto.createPublicKey(privateKey);
    }
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const secretKey = expandedSecretKeyFromPkcs8(der);
    der.fill(0);
    if (!secretKey) throw new Error('node:crypto exported an ML-KEM-768 key in an unexpected PKCS#8 form');
    const publicKey = plainBytes(
      publicKeyObject.export({ format: 'raw-public' } as never) as unknown as Uint8Array,
    );
    // Keep the secret key's KeyObject: the holder of a fresh key pair usually decapsulates with it next.
    // The public key usually leaves the process, so its KeyObject is not kept.
    remember(secretKeyCache, secretKey, privateKey);
    return { publicKey, secretKey };
  }
  const material = seed ?? randomBytes(ML_KEM_768_SEED_LENGTH, options);
  const pair = ml_kem768.keygen(material);
  if (seed === undefined) material.fill(0);
  return { publicKey: plainBytes(pair.publicKey), secretKey: plainBytes(pair.secretKey) };
}

/**
 * ML-KEM-768 encapsulation to `publicKey` (FIPS 203 `ML-KEM.Encaps`).
 *
 * With `options.random` the 32-byte message `m` is drawn from it and the pure implementation runs, so the
 * result is reproducible; otherwise the native implementation is used when available.
 *
 * @param publicKey - 1184-byte encapsulation key.
 * @param options - Backend and randomness.
 * @returns The 1088-byte ciphertext and the 32-byte shared secret.
 * @throws ChutesCryptoError `ERR_KEY_INVALID` when the key has the wrong size or fails the modulus check.
 */
export function encapsulate(publicKey: Uint8Array, options?: CryptoOptions): Encapsulation {
  checkPublicKeyLength(publicKey, 'publicKey');
  const deterministic = options?.random !== undefined;
  if (deterministic && options?.backend === 'native') {
    throw new Error(
      `options.backend 'native' cannot encapsulate with injected randomness; use 'auto' or 'js'`,
    );
  }
  const crypto = !deterministic && useNative('mlKem768', options?.backend) ? nodeCrypto() : undefined;
  if (crypto) {
    const key = nativePublicKey(crypto, publicKey, 'publicKey');
    let result: { sharedKey: Uint8Array; ciphertext: Uint8Array };
    try {
      result = crypto.encapsulate!(key);
    } catch (cause) {
      throw new ChutesCryptoError('ERR_KEY_INVALID', 'publicKey is not a valid ML-KEM-768 key', { cause });
    }
    return { ciphertext: plainBytes(result.ciphertext), sharedSecret: plainBytes(result.sharedKey) };
  }
  checkPublicKeyModulus(publicKey, 'publicKey');
  const message = randomBytes(ML_KEM_768_MESSAGE_LENGTH, options);
  let result: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    result = ml_kem768.encapsulate(publicKey, message);
  } catch (cause) {
    throw new ChutesCryptoError('ERR_KEY_INVALID', 'publicKey is not a valid ML-KEM-768 key', { cause });
  } finally {
    message.fill(0);
  }
  return { ciphertext: plainBytes(result.cipherText), sharedSecret: plainBytes(result.sharedSecret) };
}

/**
 * ML-KEM-768 decapsulation (FIPS 203 `ML-KEM.Decaps`). A wrong or tampered ciphertext does not throw: ML-KEM
 * returns an unrelated secret (implicit rejection), so the failure shows up at the AEAD tag check.
 *
 * @param ciphertext - 1088-byte ciphertext.
 * @param secretKey - 2400-byte expanded decapsulation key.
 * @param options - Backend.
 * @returns The 32-byte shared secret.
 * @throws ChutesCryptoError `ERR_WIRE_MALFORMED` for a ciphertext that is not 1088 bytes; `ERR_KEY_INVALID`
 * for a secret key that is not 2400 bytes or fails the FIPS 203 input checks.
 */
export function decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array, options?: CryptoOptions): Bytes {
  assertBytes(ciphertext, 'ciphertext');
  if (ciphertext.length !== ML_KEM_768_CIPHERTEXT_LENGTH) {
    throw new ChutesCryptoError(
      'ERR_WIRE_MALFORMED',
      `ML-KEM ciphertext must be ${ML_KEM_768_CIPHERTEXT_LENGTH} bytes, got ${ciphertext.length}`,
    );
  }
  checkSecretKey(secretKey, 'secretKey');
  const crypto = useNative('mlKem768', options?.backend) ? nodeCrypto() : undefined;
  if (crypto) {
    const key = nativeSecretKey(crypto, secretKey, 'secretKey');
    return plainBytes(crypto.decapsulate!(key, ciphertext));
  }
  if (!secretKeyIsValid(secretKey)) throw invalidSecretKey('secretKey');
  try {
    return plainBytes(ml_kem768.decapsulate(ciphertext, secretKey));
  } catch (cause) {
    throw invalidSecretKey('secretKey', cause);
  }
}
