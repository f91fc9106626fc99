import type * as NodeCrypto from 'node:crypto';
import type * as NodeModule from 'node:module';
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

// Key agreement for the field cipher, with one implementation per backend:
// - secp256k1 ECDH (a secret scalar times a point that is not the generator: the model key times a client's
//   ephemeral point, an ephemeral scalar times the client's key): `node:crypto` ECDH, else @noble/curves. Both are
//   constant-time in the scalar: OpenSSL 3 multiplies a single point with its Montgomery ladder
//   (`ossl_ec_scalar_mul_ladder`), noble with its constant-time `Point.multiply`. libsecp256k1 as packaged by
//   `tiny-secp256k1` only offers `pointMultiply` (`secp256k1_ec_pubkey_tweak_mul`, i.e. the variable-time
//   `secp256k1_ecmult`): a client choosing points could time the model's long-term key, so it is never used for
//   an agreement. OpenSSL costs some 4 times the CPU per agreement (bench/run.mjs): the price of the fix.
// - secp256k1 public keys: libsecp256k1 compiled to WebAssembly (`tiny-secp256k1`, loaded lazily on Node through
//   `createRequire`), else @noble/curves, for two operations only: the public key of a scalar
//   (`pointFromScalar` = `secp256k1_ec_pubkey_create`, the constant-time `secp256k1_ecmult_gen`) and the
//   decompression and validation of public keys (`pointCompress`, public data only). It is some 3 times faster
//   than OpenSSL or noble there.
// - X25519: `node:crypto` KeyObjects, else @noble/curves.
// Browsers and other runtimes without `process.getBuiltinModule` get the noble paths. Every fast backend is
// checked once against known answers before it is used.

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
   * secp256k1 ECDH, i.e. every multiplication of a point by a secret scalar (model, client and ephemeral keys),
   * including the generation of the ephemeral keys of encryption: `node:crypto` (OpenSSL) or `noble`, both
   * constant-time in the scalar.
   */
  secp256k1: 'node:crypto' | 'noble';
  /**
   * secp256k1 public keys: the public key of a scalar ({@link getFieldPublicKey}, {@link generateFieldKeyPair},
   * constant-time) and the decompression and validation of public keys: `libsecp256k1` (WebAssembly) or `noble`.
   */
  secp256k1PublicKeys: 'libsecp256k1' | 'noble';
  /** X25519: `node:crypto` or `noble`. */
  x25519: 'node:crypto' | 'noble';
  /** AES-256-GCM and HKDF-SHA256: `node:crypto` or `noble`. */
  aesGcm: 'node:crypto' | 'noble';
}

type NodeCryptoModule = typeof NodeCrypto;

/**
 * The subset of `tiny-secp256k1` this package uses: `pointFromScalar` (`secp256k1_ec_pubkey_create`, constant-time
 * `secp256k1_ecmult_gen`) and `pointCompress` (parses, validates and serializes public points). Not
 * `pointMultiply`: it is variable-time in the scalar (see the top of this file).
 */
interface Libsecp256k1 {
  pointFromScalar(d: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointCompress(p: Uint8Array, compressed?: boolean): Uint8Array;
}

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

function pattern(length: number, start: number): Bytes {
  const out = new Uint8Array(length);
  for (let index = 0; index < length; index++) out[index] = (start + 7 * index) & 0xff;
  return out;
}

// The package name is assembled at run time so that bundlers for the browser never try to resolve the
// WebAssembly module: browsers use the noble path.
const LIBSECP256K1_PACKAGE = ['tiny', 'secp256k1'].join('-');
// scalar = pattern(32, 1); other = pattern(32, 3) (see `pattern`).
const SELF_TEST = {
  scalarPoint:
    '04b37e346e416155b2b0fa289e09ca1f70a2c6fed7da70a9080520219f161050c127c7290bff83b48bad4adeffc490ddfbc8fd85ca592c9181d84d07d611ae8ef1',
  otherPoint:
    '04f324133f92f203537cd7f9c4f1cf1078020159111a18457809ce3c11950d87eb693da4bbd795cd01afbcccde9f45ac47793302f151c734f562836abfbb2f9c49',
  otherCompressed: '03f324133f92f203537cd7f9c4f1cf1078020159111a18457809ce3c11950d87eb',
};
let libsecp256k1Module: Libsecp256k1 | null | undefined;

/** libsecp256k1 (WebAssembly) on Node, checked once against noble; null elsewhere or when it fails. @internal */
export function loadLibsecp256k1(): Libsecp256k1 | null {
  if (libsecp256k1Module !== undefined) return libsecp256k1Module;
  libsecp256k1Module = null;
  try {
    const moduleApi = runtimeProcess()?.getBuiltinModule?.('node:module') as typeof NodeModule | undefined;
    if (typeof moduleApi?.createRequire !== 'function') return null;
    const loaded = moduleApi.createRequire(import.meta.url)(LIBSECP256K1_PACKAGE) as Libsecp256k1;
    // Known answers (computed with @noble/curves and node:crypto ECDH, which agree) rather than a noble call
    // here, which would build noble's precomputed tables on the fast path. Only the two functions used.
    const point = loaded.pointFromScalar(pattern(32, 1), false);
    const decompressed = loaded.pointCompress(hexToBytes(SELF_TEST.otherCompressed), false);
    if (
      point &&
      bytesToHex(point) === SELF_TEST.scalarPoint &&
      bytesToHex(decompressed) === SELF_TEST.otherPoint
    ) {
      libsecp256k1Module = loaded;
    }
  } catch {
    libsecp256k1Module = null;
  }
  return libsecp256k1Module;
}

/** Reports the implementation of each primitive that `native: true` (the default) selects in this runtime. */
export function fieldCipherBackends(): FieldCipherBackends {
  const node = loadNodeCrypto();
  return {
    secp256k1: node ? 'node:crypto' : 'noble',
    secp256k1PublicKeys: loadLibsecp256k1() ? 'libsecp256k1' : 'noble',
    x25519: node ? 'node:crypto' : 'noble',
    aesGcm: node ? 'node:crypto' : 'noble',
  };
}

/** The backend of secp256k1 public-key operations (public key of a scalar, decompression). @internal */
export type Secp256k1Backend = 'libsecp256k1' | 'node' | 'noble';

/** The backend of secp256k1 public-key operations that `native` selects. @internal */
export function secp256k1BackendFor(native: boolean): Secp256k1Backend {
  if (!native) return 'noble';
  if (loadLibsecp256k1()) return 'libsecp256k1';
  return loadNodeCrypto() ? 'node' : 'noble';
}

/** The implementation of secp256k1 ECDH (secret scalar times a point): both are constant-time. @internal */
export type Secp256k1Agreement = 'node' | 'noble';

/** The secp256k1 ECDH implementation `native` selects: never libsecp256k1 (variable-time). @internal */
export function secp256k1AgreementFor(native: boolean): Secp256k1Agreement {
  return native && loadNodeCrypto() !== null ? 'node' : 'noble';
}

/** Whether X25519 runs on `node:crypto`. @internal */
export function x25519IsNative(native: boolean): boolean {
  return native && loadNodeCrypto() !== null;
}

/** A typed `ERR_KEY_INVALID` error. @internal */
export function keyError(message: string, cause?: unknown): VeniceE2eeError {
  return new VeniceE2eeError('ERR_KEY_INVALID', message, cause === undefined ? {} : { cause });
}

function defaultRandom(length: number): Uint8Array {
  const out = new Uint8Array(length);
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
 * as its 65-byte uncompressed form: libsecp256k1 when it is the backend (a compressed key is decompressed in
 * WebAssembly, some 3 times faster than noble), else @noble/curves. Both accept and reject the same inputs
 * (src/field-cipher.test.ts).
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for any other prefix or length, or a point off the curve.
 * @internal
 */
export function secp256k1PointToUncompressed(bytes: Uint8Array, backend: Secp256k1Backend): Bytes {
  const prefix = bytes[0];
  const wellFormed =
    (bytes.length === 65 && prefix === 4) || (bytes.length === 33 && (prefix === 2 || prefix === 3));
  try {
    if (backend === 'libsecp256k1' && wellFormed) {
      return toBytes(loadLibsecp256k1()!.pointCompress(bytes, false));
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
 * The 65-byte uncompressed public key of a valid secp256k1 scalar: libsecp256k1's `pointFromScalar`
 * (constant-time `secp256k1_ecmult_gen`) when it is the backend, else noble (constant-time). @internal
 */
export function secp256k1PublicKey(privateKey: Uint8Array, backend: Secp256k1Backend): Bytes {
  if (backend === 'libsecp256k1') {
    const point = loadLibsecp256k1()!.pointFromScalar(privateKey, false);
    if (point) return toBytes(point);
  }
  return toBytes(secp256k1.getPublicKey(privateKey, false));
}

/**
 * The ECDH shared secret (X coordinate, 32 bytes) of a valid scalar and a 65-byte uncompressed point, computed in
 * constant time in the scalar. The point is validated by both implementations.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` when the point is not on the curve.
 * @internal
 */
export function secp256k1SharedSecret(
  privateKey: Uint8Array,
  publicKey: Uint8Array,
  agreement: Secp256k1Agreement,
): Bytes {
  try {
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
 * A fresh secp256k1 key pair from `random` (32-byte candidates until one is a valid scalar); with `withPublicKey`
 * false only the scalar (the public key is then empty). @internal
 */
export function generateSecp256k1KeyPair(
  random: (length: number) => Uint8Array,
  backend: Secp256k1Backend,
  withPublicKey = true,
): FieldKeyPair {
  for (let attempt = 0; attempt < 16; attempt++) {
    const candidate = toBytes(random(32));
    assertBytes(candidate, 'random(32)', 32);
    if (secp256k1.utils.isValidSecretKey(candidate)) {
      const publicKey = withPublicKey ? secp256k1PublicKey(candidate, backend) : new Uint8Array(0);
      return { privateKey: candidate, publicKey };
    }
  }
  throw new RangeError('random() did not produce a valid secp256k1 scalar');
}

/**
 * A fresh ephemeral secp256k1 key and its ECDH shared secret with `recipient` (a 65-byte uncompressed point). On
 * `node:crypto` one ECDH object generates the key (OpenSSL's ladder, or `setPrivateKey` of a scalar drawn from
 * `random` or the `fixed` test key) and computes the secret: cheaper than a libsecp256k1 public key plus an
 * OpenSSL agreement (bench/run.mjs). The private key never leaves this function (a noble scalar is zeroed).
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
  if (secp256k1AgreementFor(native) === 'node') {
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
  const pair = fixed
    ? { privateKey: toBytes(fixed), publicKey: secp256k1PublicKey(fixed, 'noble') }
    : generateSecp256k1KeyPair(random ?? defaultRandom, 'noble');
  const shared = secp256k1SharedSecret(pair.privateKey, recipient, 'noble');
  if (!fixed) pair.privateKey.fill(0);
  return { publicKey: pair.publicKey, shared };
}

// ---- X25519 and the Ed25519 conversions ------------------------------------------------------------------

const X25519_PKCS8_PREFIX = hexToBytes('302e020100300506032b656e04220420');

/** Converts an Ed25519 seed to the X25519 private key (first half of SHA-512(seed); clamped on use). */
export function ed25519PrivateKeyToX25519(seed: Uint8Array): Bytes {
  assertBytes(seed, 'privateKey', 32);
  return toBytes(ed25519.utils.toMontgomerySecret(seed));
}

// Converted client keys (public data) are kept in a small bounded map: a client usually sends the same
// X-Client-Pub-Key for many requests, and the conversion (a point decompression) costs as much as an X25519.
const MONTGOMERY_CACHE_LIMIT = 1024;
const montgomeryCache = new Map<string, Bytes>();

/** Converts an Ed25519 public key to its X25519 (Montgomery u) form. @throws VeniceE2eeError `ERR_KEY_INVALID`. */
export function ed25519PublicKeyToX25519(publicKey: Uint8Array): Bytes {
  assertBytes(publicKey, 'publicKey', 32);
  const id = bytesToHex(publicKey);
  const cached = montgomeryCache.get(id);
  if (cached) return cached.slice();
  let converted: Bytes;
  try {
    converted = toBytes(ed25519.utils.toMontgomery(publicKey));
  } catch (cause) {
    throw keyError('Ed25519 public key is not a valid point', cause);
  }
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
