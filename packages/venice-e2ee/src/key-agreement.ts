import type * as NodeCrypto from 'node:crypto';
import {
  assertBytes,
  type Bytes,
  base64UrlToBytes,
  bytesToBase64Url,
  bytesToHex,
  concatBytes,
  equalBytes,
  hexToBytes,
  isBytes,
  toBytes,
} from '@confidential-ai/bytes';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { VeniceE2eeError } from './errors.js';
import { loadNativeSecp256k1, nativeSharedSecret } from './native-secp256k1.js';
import { loadNativeSodium, type NativeSodium } from './native-sodium.js';

// Key agreement for the field cipher, with one implementation per backend:
// - secp256k1 ECDH (a secret scalar times a point that is not the generator: the model key times a client's
//   ephemeral point, an ephemeral scalar times the client's key), constant-time in the scalar on every backend:
//   libsecp256k1's `secp256k1_ecdh` (`secp256k1_ecmult_const`) through the native addon of the `secp256k1`
//   package (src/native-secp256k1.ts), else `node:crypto` ECDH (OpenSSL 3 multiplies a single point with its
//   Montgomery ladder, `ossl_ec_scalar_mul_ladder`: 12-18 times the CPU of libsecp256k1), else @noble/curves
//   (constant-time `Point.multiply`). A variable-time multiplication (libsecp256k1's `secp256k1_ecmult`, e.g.
//   `secp256k1_ec_pubkey_tweak_mul`) is never used: a client choosing points could time the model's long-term key.
// - secp256k1 public keys: the public key of a scalar (`secp256k1_ec_pubkey_create`, constant-time) and the
//   decompression and validation of public keys (public data): the native addon, else @noble/curves.
// - X25519: `node:crypto` KeyObjects, else @noble/curves.
// - Encryption to an Ed25519 recipient (the validation and X25519 form of its key, the ephemeral X25519 key and
//   the agreement): libsodium through the native addon of the `sodium-native` package (src/native-sodium.ts),
//   else the conversion on @noble/curves and the X25519 as above. Every backend refuses the same keys: not a
//   canonical point, of small order, or outside the prime-order subgroup (libsodium's rules, which the Python
//   vllm-proxy reference applies through PyNaCl).
// Browsers and other runtimes without `process.getBuiltinModule` get the noble paths. Every fast backend is
// checked once against known answers before it is used (docs/decisions/0004-native-secp256k1-ecdh.md,
// docs/decisions/0006-native-ed25519-recipients.md).

/**
 * Key-agreement suite of a packed field.
 * - `secp256k1`: ECDH on secp256k1 (shared secret = X coordinate); the packed prefix is a 65-byte uncompressed
 *   point. Used by Venice and by the vllm-proxy `ecdsa` algo.
 * - `ed25519`: X25519 where the recipient holds an Ed25519 key (converted to X25519 by the birational map);
 *   the packed prefix is a 32-byte raw X25519 public key. Used by the vllm-proxy `ed25519` algo.
 */
export type FieldSuite = 'secp256k1' | 'ed25519';

/** A key pair of a field suite. */
export interface FieldKeyPair {
  /** secp256k1: 32-byte scalar. ed25519: 32-byte Ed25519 seed. */
  privateKey: Bytes;
  /** secp256k1: 65-byte uncompressed point. ed25519: 32-byte Ed25519 public key. */
  publicKey: Bytes;
}

/** Which implementation performs each primitive of the field cipher in this runtime (`native` not false). */
export interface FieldCipherBackends {
  /**
   * secp256k1 ECDH, i.e. every multiplication of a point by a secret scalar (model, client and ephemeral keys):
   * `libsecp256k1` (its constant-time `secp256k1_ecdh`, native addon of the `secp256k1` package), `node:crypto`
   * (OpenSSL's ladder) or `noble`, all constant-time in the scalar, in this order of preference.
   */
  secp256k1: 'libsecp256k1' | 'node:crypto' | 'noble';
  /**
   * secp256k1 public keys: the public key of a scalar ({@link getFieldPublicKey}, {@link generateFieldKeyPair},
   * the ephemeral keys of encryption when `secp256k1` is `libsecp256k1`; constant-time) and the decompression
   * and validation of public keys: `libsecp256k1` (native addon) or `noble`.
   */
  secp256k1PublicKeys: 'libsecp256k1' | 'noble';
  /** X25519 (decryption, and encryption when `ed25519Recipients` is not `libsodium`): `node:crypto` or `noble`. */
  x25519: 'node:crypto' | 'noble';
  /**
   * Encryption to an Ed25519 recipient (the vllm-proxy `ed25519` algo): `libsodium` (native addon of the
   * optional `sodium-native` package) validates and converts the recipient's key and runs the ephemeral X25519;
   * otherwise the key is converted with `noble` (about 1 ms: the subgroup check is a full multiplication) and the
   * X25519 runs on the `x25519` backend. Both refuse the same keys.
   */
  ed25519Recipients: 'libsodium' | 'noble';
  /** AES-256-GCM and HKDF-SHA256: `node:crypto` or `noble`. */
  aesGcm: 'node:crypto' | 'noble';
}

type NodeCryptoModule = typeof NodeCrypto;

interface ProcessWithBuiltins {
  getBuiltinModule?: (id: string) => unknown;
}

// Each lookup names its module right inside `getBuiltinModule?.(...)` (no helper taking the name), so a browser
// bundle shows every `node:` name only as the argument of that runtime lookup (verifier's test/bundle.test.ts).
function runtimeProcess(): ProcessWithBuiltins | undefined {
  return (globalThis as { process?: ProcessWithBuiltins }).process;
}

let nodeCryptoModule: NodeCryptoModule | null | undefined;

/** `node:crypto` when the runtime has it (with secp256k1 ECDH, HKDF and X25519), otherwise null. @internal */
export function loadNodeCrypto(): NodeCryptoModule | null {
  if (nodeCryptoModule !== undefined) return nodeCryptoModule;
  nodeCryptoModule = null;
  try {
    const loaded = runtimeProcess()?.getBuiltinModule?.('node:crypto') as NodeCryptoModule | undefined;
    if (loaded && typeof loaded.createECDH === 'function' && typeof loaded.hkdfSync === 'function') {
      loaded.createECDH('secp256k1');
      nodeCryptoModule = loaded;
    }
  } catch {
    nodeCryptoModule = null;
  }
  return nodeCryptoModule;
}

/** Reports the implementation of each primitive that `native: true` (the default) selects in this runtime. */
export function fieldCipherBackends(): FieldCipherBackends {
  const node = loadNodeCrypto();
  const agreement = secp256k1AgreementFor(true);
  return {
    secp256k1: agreement === 'node' ? 'node:crypto' : agreement,
    secp256k1PublicKeys: secp256k1BackendFor(true),
    x25519: node ? 'node:crypto' : 'noble',
    ed25519Recipients: ed25519ConversionFor(true),
    aesGcm: node ? 'node:crypto' : 'noble',
  };
}

/** The backend of secp256k1 public-key operations (public key of a scalar, decompression). @internal */
export type Secp256k1Backend = 'libsecp256k1' | 'noble';

/** The backend of secp256k1 public-key operations that `native` selects. @internal */
export function secp256k1BackendFor(native: boolean): Secp256k1Backend {
  return native && loadNativeSecp256k1() !== null ? 'libsecp256k1' : 'noble';
}

/** The implementation of secp256k1 ECDH (secret scalar times a point): all constant-time. @internal */
export type Secp256k1Agreement = 'libsecp256k1' | 'node' | 'noble';

/**
 * The secp256k1 ECDH implementation `native` selects: libsecp256k1's native `secp256k1_ecdh`, else node:crypto,
 * else noble. @internal
 */
export function secp256k1AgreementFor(native: boolean): Secp256k1Agreement {
  if (!native) return 'noble';
  if (loadNativeSecp256k1() !== null) return 'libsecp256k1';
  return loadNodeCrypto() !== null ? 'node' : 'noble';
}

/** Whether X25519 runs on `node:crypto`. @internal */
export function x25519IsNative(native: boolean): boolean {
  return native && loadNodeCrypto() !== null;
}

/** A typed `ERR_KEY_INVALID` error. @internal */
export function keyError(message: string, cause?: unknown): VeniceE2eeError {
  return new VeniceE2eeError('ERR_KEY_INVALID', message, cause === undefined ? {} : { cause });
}

function defaultRandom(length: number): Bytes {
  const out: Bytes = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
}

// ---- secp256k1 ------------------------------------------------------------------------------------------

/**
 * Normalizes a secp256k1 public key to its 65-byte uncompressed form. Accepts bytes or hex (optional `0x`) in
 * the 33-byte compressed, 64-byte raw `X ‖ Y` (gets `04` prepended) or 65-byte uncompressed form, and checks
 * that the point is on the curve.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for any other length, encoding or an invalid point.
 * @example
 * ```ts
 * const key = normalizeSecp256k1PublicKey('0x' + '04'.padEnd(130, '0')); // throws: not on the curve
 * ```
 */
export function normalizeSecp256k1PublicKey(input: string | Uint8Array): Bytes {
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      bytes = hexToBytes(input.trim(), { allowPrefix: true });
    } catch (cause) {
      throw keyError('secp256k1 public key is not valid hex', cause);
    }
  } else if (isBytes(input)) {
    bytes = input;
  } else {
    throw new TypeError('publicKey must be a hex string or a Uint8Array');
  }
  if (bytes.length === 64) bytes = concatBytes(Uint8Array.of(4), bytes);
  if (bytes.length !== 65 && bytes.length !== 33) {
    throw keyError(`secp256k1 public key must be 33, 64 or 65 bytes, got ${bytes.length}`);
  }
  return secp256k1PointToUncompressed(bytes, secp256k1BackendFor(true));
}

/**
 * A 33-byte compressed (`02`/`03`) or 65-byte uncompressed (`04`) secp256k1 point, checked to be on the curve,
 * as its 65-byte uncompressed form: libsecp256k1 when it is the backend (native `publicKeyConvert`; a compressed
 * key is decompressed some 15 times faster than by noble), else @noble/curves. Both accept and reject the same
 * inputs (src/field-cipher.test.ts).
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for any other prefix or length, or a point off the curve.
 * @internal
 */
export function secp256k1PointToUncompressed(bytes: Uint8Array, backend: Secp256k1Backend): Bytes {
  const prefix = bytes[0];
  const wellFormed =
    (bytes.length === 65 && prefix === 4) || (bytes.length === 33 && (prefix === 2 || prefix === 3));
  try {
    if (backend === 'libsecp256k1' && wellFormed) {
      return toBytes(loadNativeSecp256k1()!.publicKeyConvert(bytes, false));
    }
    return toBytes(secp256k1.Point.fromBytes(bytes).toBytes(false));
  } catch (cause) {
    throw keyError('secp256k1 public key is not a valid curve point', cause);
  }
}

/** @throws VeniceE2eeError `ERR_KEY_INVALID` when `privateKey` is not a valid secp256k1 scalar. @internal */
export function assertSecp256k1PrivateKey(privateKey: Uint8Array, name: string): void {
  assertBytes(privateKey, name, 32);
  if (!secp256k1.utils.isValidSecretKey(privateKey))
    throw keyError(`${name} is not a valid secp256k1 scalar`);
}

/**
 * The 65-byte uncompressed public key of a valid secp256k1 scalar: libsecp256k1's `publicKeyCreate`
 * (`secp256k1_ec_pubkey_create`, constant-time `secp256k1_ecmult_gen`) when it is the backend, else noble
 * (constant-time). @internal
 */
export function secp256k1PublicKey(privateKey: Uint8Array, backend: Secp256k1Backend): Bytes {
  if (backend === 'libsecp256k1') return toBytes(loadNativeSecp256k1()!.publicKeyCreate(privateKey, false));
  return toBytes(secp256k1.getPublicKey(privateKey, false));
}

/**
 * Rejects, with the same error on every backend, a peer point that is not a 33-byte compressed (`02`/`03`) or
 * 65-byte uncompressed (`04`) encoding: the backends differ on the rest (OpenSSL and libsecp256k1 accept the
 * hybrid `06`/`07` form, noble does not).
 * @throws VeniceE2eeError `ERR_KEY_INVALID`.
 */
function assertPointEncoding(publicKey: Uint8Array): void {
  const prefix = publicKey[0];
  const wellFormed =
    (publicKey.length === 65 && prefix === 4) || (publicKey.length === 33 && (prefix === 2 || prefix === 3));
  if (!wellFormed) throw keyError('secp256k1 public key is not a valid curve point');
}

/**
 * The ECDH shared secret (X coordinate, 32 bytes) of a valid scalar and a 65-byte uncompressed (or 33-byte
 * compressed) point, computed in constant time in the scalar by `agreement`. Every backend validates the point.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` when the point is badly encoded or not on the curve.
 * @internal
 */
export function secp256k1SharedSecret(
  privateKey: Uint8Array,
  publicKey: Uint8Array,
  agreement: Secp256k1Agreement,
): Bytes {
  assertBytes(publicKey, 'publicKey');
  assertPointEncoding(publicKey);
  try {
    if (agreement === 'libsecp256k1') {
      return nativeSharedSecret(loadNativeSecp256k1()!, privateKey, publicKey);
    }
    if (agreement === 'node') {
      const ecdh = loadNodeCrypto()!.createECDH('secp256k1');
      ecdh.setPrivateKey(privateKey);
      return new Uint8Array(ecdh.computeSecret(publicKey));
    }
    return toBytes(secp256k1.getSharedSecret(privateKey, publicKey, true).subarray(1));
  } catch (cause) {
    throw keyError('secp256k1 public key is not a valid curve point', cause);
  }
}

/**
 * A fresh secp256k1 key pair from `random` (32-byte candidates until one is a valid scalar; default
 * `crypto.getRandomValues`, whose array is used as is, while a caller's `random` output is copied); with
 * `withPublicKey` false only the scalar (the public key is then empty). Rejected candidates are zeroed. @internal
 */
export function generateSecp256k1KeyPair(
  random: ((length: number) => Uint8Array) | undefined,
  backend: Secp256k1Backend,
  withPublicKey = true,
): FieldKeyPair {
  for (let attempt = 0; attempt < 16; attempt++) {
    const candidate = random ? toBytes(random(32)) : defaultRandom(32);
    assertBytes(candidate, 'random(32)', 32);
    if (secp256k1.utils.isValidSecretKey(candidate)) {
      const publicKey = withPublicKey ? secp256k1PublicKey(candidate, backend) : new Uint8Array(0);
      return { privateKey: candidate, publicKey };
    }
    candidate.fill(0);
  }
  throw new RangeError('random() did not produce a valid secp256k1 scalar');
}

/**
 * A fresh ephemeral secp256k1 key and its ECDH shared secret with `recipient` (a 65-byte uncompressed point).
 * - libsecp256k1: a scalar from `random` (default `crypto.getRandomValues`) or the `fixed` test key, its public
 *   key (`publicKeyCreate`) and the agreement (`ecdh`); a drawn scalar is zeroed before returning.
 * - `node:crypto`: one ECDH object generates the key (or `setPrivateKey` of a drawn scalar, then zeroed, or of the
 *   `fixed` key) and computes the secret; the object itself cannot be zeroed.
 * - noble: as libsecp256k1, with noble's functions.
 * The private key never leaves this function; a `fixed` key belongs to the caller and is left as it is.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` when `recipient` is not on the curve.
 * @internal
 */
export function secp256k1EphemeralAgreement(
  recipient: Uint8Array,
  random: ((length: number) => Uint8Array) | undefined,
  fixed: Uint8Array | undefined,
  native: boolean,
): { publicKey: Bytes; shared: Bytes } {
  if (fixed) assertSecp256k1PrivateKey(fixed, 'options.ephemeralPrivateKey');
  assertPointEncoding(recipient);
  const agreement = secp256k1AgreementFor(native);
  if (agreement === 'node') {
    const ecdh = loadNodeCrypto()!.createECDH('secp256k1');
    if (fixed) ecdh.setPrivateKey(fixed);
    else if (random) {
      const scalar = generateSecp256k1KeyPair(random, 'noble', false).privateKey;
      ecdh.setPrivateKey(scalar);
      scalar.fill(0);
    } else ecdh.generateKeys();
    const publicKey = new Uint8Array(ecdh.getPublicKey());
    try {
      return { publicKey, shared: new Uint8Array(ecdh.computeSecret(recipient)) };
    } catch (cause) {
      throw keyError('secp256k1 public key is not a valid curve point', cause);
    }
  }
  const backend: Secp256k1Backend = agreement === 'libsecp256k1' ? 'libsecp256k1' : 'noble';
  const scalar = fixed ?? generateSecp256k1KeyPair(random, backend, false).privateKey;
  try {
    const publicKey = secp256k1PublicKey(scalar, backend);
    return { publicKey, shared: secp256k1SharedSecret(scalar, recipient, agreement) };
  } finally {
    if (!fixed) scalar.fill(0);
  }
}

// ---- X25519 and the Ed25519 conversions ------------------------------------------------------------------

const X25519_PKCS8_PREFIX = hexToBytes('302e020100300506032b656e04220420');

/** Converts an Ed25519 seed to the X25519 private key (first half of SHA-512(seed); clamped on use). */
export function ed25519PrivateKeyToX25519(seed: Uint8Array): Bytes {
  assertBytes(seed, 'privateKey', 32);
  return toBytes(ed25519.utils.toMontgomerySecret(seed));
}

/** The implementation of the Ed25519 to X25519 public key conversion. @internal */
export type Ed25519ConversionBackend = 'libsodium' | 'noble';

/**
 * The X25519 form (u = (1 + y) / (1 - y)) of an Ed25519 public key, uncached, refusing on every backend what
 * libsodium's `crypto_sign_ed25519_pk_to_curve25519` refuses: an encoding that is not a point (with @noble/curves:
 * RFC 8032 decoding, which also refuses non-canonical encodings; libsodium reduces them, and every one of them
 * is then off the curve or of small order), a point of small order, a point outside the prime-order subgroup
 * (with @noble/curves a multiplication by the group order: about 1 ms). `libsodium` needs its native addon.
 * @throws VeniceE2eeError `ERR_KEY_INVALID`.
 * @internal
 */
export function convertEd25519PublicKey(publicKey: Uint8Array, backend: Ed25519ConversionBackend): Bytes {
  try {
    if (backend === 'libsodium') {
      const sodium = loadNativeSodium();
      if (!sodium) throw new Error('the libsodium addon is not available');
      const converted = new Uint8Array(32);
      sodium.crypto_sign_ed25519_pk_to_curve25519(converted, publicKey);
      return converted;
    }
    const point = ed25519.Point.fromBytes(publicKey);
    if (point.isSmallOrder()) throw new RangeError('point of small order');
    if (!point.isTorsionFree()) throw new RangeError('point outside the prime-order subgroup');
    // u = (1 + y) / (1 - y) from the point decoded above (`ed25519.utils.toMontgomery` would decode it again: a
    // square root). y ≠ 1: the neutral point is of small order, refused above.
    const { Fp } = ed25519.Point;
    const { y } = point;
    return toBytes(Fp.toBytes(Fp.div(Fp.add(Fp.ONE, y), Fp.sub(Fp.ONE, y))));
  } catch (cause) {
    throw keyError('Ed25519 public key is not a valid point of the prime-order subgroup', cause);
  }
}

/** The Ed25519 conversion backend that `native` selects. @internal */
export function ed25519ConversionFor(native: boolean): Ed25519ConversionBackend {
  return native && loadNativeSodium() !== null ? 'libsodium' : 'noble';
}

// Converted client keys (public data) are kept in a small bounded map: a client usually sends the same
// X-Client-Pub-Key for many requests. Every backend refuses the same keys, so the map serves them all.
const MONTGOMERY_CACHE_LIMIT = 1024;
const montgomeryCache = new Map<string, Bytes>();

/**
 * Converts an Ed25519 public key to its X25519 (Montgomery u) form, u = (1 + y) / (1 - y), after checking that
 * it is a canonical encoding of a curve point of the prime-order subgroup (not of small order): libsodium's
 * `crypto_sign_ed25519_pk_to_curve25519` when its native addon is available (`native` not false), else
 * @noble/curves with the same checks. Results are cached for the last 1,024 keys.
 * @throws VeniceE2eeError `ERR_KEY_INVALID`.
 */
export function ed25519PublicKeyToX25519(publicKey: Uint8Array, native = true): Bytes {
  assertBytes(publicKey, 'publicKey', 32);
  const id = bytesToHex(publicKey);
  const cached = montgomeryCache.get(id);
  if (cached) return cached.slice();
  const converted = convertEd25519PublicKey(publicKey, ed25519ConversionFor(native));
  if (montgomeryCache.size >= MONTGOMERY_CACHE_LIMIT) montgomeryCache.clear();
  montgomeryCache.set(id, converted.slice());
  return converted;
}

/** A native X25519 private key from its 32 raw bytes. @internal */
export function nativeX25519PrivateKey(secret: Uint8Array): NodeCrypto.KeyObject {
  const der = concatBytes(X25519_PKCS8_PREFIX, secret);
  try {
    return loadNodeCrypto()!.createPrivateKey({ key: der as Buffer, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

function nativeX25519Agree(privateKey: NodeCrypto.KeyObject, peer: Uint8Array): Bytes {
  const node = loadNodeCrypto()!;
  try {
    const publicKey = node.createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: bytesToBase64Url(peer) },
      format: 'jwk',
    });
    return new Uint8Array(node.diffieHellman({ privateKey, publicKey }));
  } catch (cause) {
    throw keyError('X25519 peer key is invalid or of low order', cause);
  }
}

/**
 * X25519 of a raw 32-byte secret (or a native private key) and a raw 32-byte peer key; all-zero results (low
 * order peers) are rejected by both backends.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for a low-order peer key.
 * @internal
 */
export function x25519SharedSecret(
  secret: Uint8Array | NodeCrypto.KeyObject,
  peer: Uint8Array,
  native: boolean,
): Bytes {
  if (!isBytes(secret)) return nativeX25519Agree(secret, peer);
  if (x25519IsNative(native)) return nativeX25519Agree(nativeX25519PrivateKey(secret), peer);
  try {
    return toBytes(x25519.getSharedSecret(secret, peer));
  } catch (cause) {
    throw keyError('X25519 peer key is invalid or of low order', cause);
  }
}

/** A fresh X25519 ephemeral key: the raw public key, and the private key as bytes or as a native key. @internal */
export function generateX25519Ephemeral(
  random: ((length: number) => Uint8Array) | undefined,
  native: boolean,
  fixed?: Uint8Array,
): { publicKey: Bytes; privateKey: Uint8Array | NodeCrypto.KeyObject } {
  if (x25519IsNative(native) && fixed === undefined && random === undefined) {
    const pair = loadNodeCrypto()!.generateKeyPairSync('x25519');
    const jwk = pair.publicKey.export({ format: 'jwk' }) as { x?: string };
    return { publicKey: base64UrlToBytes(jwk.x ?? ''), privateKey: pair.privateKey };
  }
  const secret = fixed ?? (random ?? defaultRandom)(32);
  assertBytes(secret, fixed ? 'options.ephemeralPrivateKey' : 'random(32)', 32);
  return { publicKey: toBytes(x25519.getPublicKey(secret)), privateKey: secret };
}

/**
 * A fresh ephemeral X25519 key and its shared secret with `peer` (a raw 32-byte X25519 public key, e.g. the
 * converted key of an Ed25519 recipient).
 * - libsodium (`native` and the addon available): a scalar from `random` (default `crypto.getRandomValues`) or the
 *   `fixed` test key, its public key (`crypto_scalarmult_base`) and the agreement (`crypto_scalarmult`).
 * - otherwise {@link generateX25519Ephemeral} and {@link x25519SharedSecret} (`node:crypto`, else noble).
 * A scalar drawn from `random` is zeroed before returning; a `fixed` key belongs to the caller.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for a low-order peer (an all-zero shared secret).
 * @internal
 */
export function x25519EphemeralAgreement(
  peer: Uint8Array,
  random: ((length: number) => Uint8Array) | undefined,
  fixed: Uint8Array | undefined,
  native: boolean,
): { publicKey: Bytes; shared: Bytes } {
  assertBytes(peer, 'peer', 32);
  const sodium = native ? loadNativeSodium() : null;
  if (!sodium) {
    const ephemeral = generateX25519Ephemeral(random, native, fixed);
    try {
      return {
        publicKey: ephemeral.publicKey,
        shared: x25519SharedSecret(ephemeral.privateKey, peer, native),
      };
    } finally {
      if (!fixed && isBytes(ephemeral.privateKey)) ephemeral.privateKey.fill(0);
    }
  }
  const scalar = fixed ?? (random ?? defaultRandom)(32);
  assertBytes(scalar, fixed ? 'options.ephemeralPrivateKey' : 'random(32)', 32);
  try {
    return { publicKey: sodiumX25519Base(sodium, scalar), shared: sodiumX25519(sodium, scalar, peer) };
  } finally {
    if (!fixed) scalar.fill(0);
  }
}

function sodiumX25519Base(sodium: NativeSodium, scalar: Uint8Array): Bytes {
  const publicKey = new Uint8Array(32);
  sodium.crypto_scalarmult_base(publicKey, scalar);
  return publicKey;
}

function sodiumX25519(sodium: NativeSodium, scalar: Uint8Array, peer: Uint8Array): Bytes {
  const shared = new Uint8Array(32);
  try {
    sodium.crypto_scalarmult(shared, scalar, peer);
  } catch (cause) {
    throw keyError('X25519 peer key is invalid or of low order', cause);
  }
  return shared;
}

// ---- long-lived key agreement (one per private key) ------------------------------------------------------

/**
 * The local side of the key agreement for one private key (a model key, or a client key reading responses):
 * the key is checked and imported once, then every {@link FieldKeyAgreement.sharedSecret} costs one scalar
 * multiplication. It holds no derived secret.
 */
export interface FieldKeyAgreement {
  /** The suite of the key. */
  readonly suite: FieldSuite;
  /**
   * The raw shared secret with a packed field's ephemeral key: the X coordinate for `secp256k1` (peer: the
   * 65-byte uncompressed point), the X25519 output for `ed25519` (peer: the 32-byte X25519 key).
   * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid point or a low-order X25519 key.
   */
  sharedSecret(ephemeralPublicKey: Uint8Array): Bytes;
}

/** Options of {@link createFieldKeyAgreement}. */
export interface FieldKeyAgreementOptions {
  /** Key-agreement suite. Default `secp256k1`. */
  suite?: FieldSuite;
  /** Use the fast backends ({@link fieldCipherBackends}); default true. False forces @noble/curves. */
  native?: boolean;
}

/**
 * Creates the key agreement of one private key (secp256k1 scalar, or Ed25519 seed converted to X25519 once).
 * {@link decryptField} keeps one per private key by itself; use this to hold one explicitly.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid secp256k1 scalar; RangeError for a wrong length.
 * @example
 * ```ts
 * const model = generateFieldKeyPair();
 * const agreement = createFieldKeyAgreement(model.privateKey);
 * const decryptor = createFieldDecryptor(agreement);
 * ```
 */
export function createFieldKeyAgreement(
  privateKey: Uint8Array,
  options: FieldKeyAgreementOptions = {},
): FieldKeyAgreement {
  const suite = options.suite ?? 'secp256k1';
  if (suite !== 'secp256k1' && suite !== 'ed25519')
    throw new TypeError('options.suite must be secp256k1 or ed25519');
  const native = options.native !== false;
  if (suite === 'secp256k1') {
    assertSecp256k1PrivateKey(privateKey, 'privateKey');
    const secret = toBytes(privateKey.slice());
    const agreement = secp256k1AgreementFor(native);
    if (agreement === 'node') {
      // One ECDH object per key: setPrivateKey derives the public key, which is paid once here. Reusing it is
      // safe: computeSecret is synchronous and reads only the key pair set here, so calls cannot interleave.
      const ecdh = loadNodeCrypto()!.createECDH('secp256k1');
      ecdh.setPrivateKey(secret);
      secret.fill(0);
      return {
        suite,
        sharedSecret(peer) {
          assertBytes(peer, 'ephemeralPublicKey');
          assertPointEncoding(peer);
          try {
            return new Uint8Array(ecdh.computeSecret(peer));
          } catch (cause) {
            throw keyError('secp256k1 public key is not a valid curve point', cause);
          }
        },
      };
    }
    return { suite, sharedSecret: (peer) => secp256k1SharedSecret(secret, peer, agreement) };
  }
  assertBytes(privateKey, 'privateKey', 32);
  const secret = ed25519PrivateKeyToX25519(privateKey);
  const key: Uint8Array | NodeCrypto.KeyObject = x25519IsNative(native)
    ? nativeX25519PrivateKey(secret)
    : secret;
  return { suite, sharedSecret: (peer) => x25519SharedSecret(key, peer, native) };
}

interface CachedAgreement {
  copy: Bytes;
  agreements: Map<string, FieldKeyAgreement>;
}
const agreementCache = new WeakMap<Uint8Array, CachedAgreement>();

/**
 * The key agreement of `privateKey`, made once per key array and suite and reused while the array's bytes are
 * unchanged (a copy guards against mutation). Entries disappear with the caller's array.
 * @internal
 */
export function keyAgreementFor(
  privateKey: Uint8Array,
  suite: FieldSuite,
  native: boolean,
): FieldKeyAgreement {
  const id = `${suite}:${native ? 'fast' : 'noble'}`;
  let cached = agreementCache.get(privateKey);
  if (cached && !equalBytes(cached.copy, privateKey)) cached = undefined;
  const existing = cached?.agreements.get(id);
  if (existing) return existing;
  const agreement = createFieldKeyAgreement(privateKey, { suite, native });
  if (!cached) {
    cached = { copy: toBytes(privateKey.slice()), agreements: new Map() };
    agreementCache.set(privateKey, cached);
  }
  cached.agreements.set(id, agreement);
  return agreement;
}
