import type * as NodeCrypto from 'node:crypto';
import type * as NodeZlib from 'node:zlib';
import { concatBytes } from '@confidential-ai/bytes';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { inflateRaw } from 'pako';
import { expandedSecretKeyFromPkcs8, expandedSecretKeyToPkcs8 } from './der.js';

// Lazy, feature-detected access to Node's built-in crypto and zlib. Nothing is imported statically, so
// browser bundlers never see a `node:` specifier and the module has no top-level await: the built-ins are
// reached through `process.getBuiltinModule` (Node >= 20.16). Every native primitive is checked once against
// the pure implementation before it is used.

interface ProcessWithBuiltins {
  getBuiltinModule?: (id: string) => unknown;
}

function builtin<T>(id: string): T | undefined {
  try {
    const process = (globalThis as { process?: ProcessWithBuiltins }).process;
    const loaded = process?.getBuiltinModule?.(id);
    return (loaded ?? undefined) as T | undefined;
  } catch {
    return undefined;
  }
}

/** The ML-KEM functions of `node:crypto` (Node >= 24.7), absent from the Node 20 type definitions. */
export interface NodeKemFunctions {
  encapsulate?: (key: NodeCrypto.KeyObject) => { sharedKey: Uint8Array; ciphertext: Uint8Array };
  decapsulate?: (key: NodeCrypto.KeyObject, ciphertext: Uint8Array) => Uint8Array;
}

/** `node:crypto` as seen by this package. */
export type NodeCryptoModule = typeof NodeCrypto & NodeKemFunctions;

let cryptoModule: NodeCryptoModule | null | undefined;
let zlibModule: typeof NodeZlib | null | undefined;

/** `node:crypto` when the runtime exposes it, otherwise `undefined`. @internal */
export function nodeCrypto(): NodeCryptoModule | undefined {
  if (cryptoModule === undefined) cryptoModule = builtin<NodeCryptoModule>('node:crypto') ?? null;
  return cryptoModule ?? undefined;
}

/** `node:zlib` when the runtime exposes it, otherwise `undefined`. @internal */
export function nodeZlib(): typeof NodeZlib | undefined {
  if (zlibModule === undefined) zlibModule = builtin<typeof NodeZlib>('node:zlib') ?? null;
  return zlibModule ?? undefined;
}

let bufferMaxLength: number | undefined;

/**
 * The largest `Buffer` this runtime can allocate (`buffer.constants.MAX_LENGTH`: 2^32 on Node 20, 2^53 - 1
 * on Node 22+), the upper bound `node:zlib` accepts for `maxOutputLength`. @internal
 */
export function nodeBufferMaxLength(): number {
  if (bufferMaxLength === undefined) {
    const value = builtin<{ constants?: { MAX_LENGTH?: unknown } }>('node:buffer')?.constants?.MAX_LENGTH;
    bufferMaxLength = typeof value === 'number' && value >= 1 ? value : 2 ** 31 - 1;
  }
  return bufferMaxLength;
}

/**
 * Returns bytes produced by a Node built-in as a plain `Uint8Array`: a view when the bytes own their whole
 * buffer (no copy), a copy when they share a pooled buffer with unrelated data.
 * @internal
 */
export function plainBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (
    bytes.byteOffset === 0 &&
    bytes.buffer.byteLength === bytes.length &&
    bytes.buffer instanceof ArrayBuffer
  ) {
    return new Uint8Array(bytes.buffer);
  }
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

let slowCipherSetup: boolean | undefined;

/**
 * True when the runtime's OpenSSL is 3.5 or newer (Node 24), whose per-call cipher setup in `createCipheriv`
 * costs several times more than in OpenSSL 3.0 (Node 20), measured by `bench/run.mjs`.
 * @internal
 */
export function nativeCipherSetupIsSlow(): boolean {
  if (slowCipherSetup === undefined) {
    const version = (globalThis as { process?: { versions?: { openssl?: string } } }).process?.versions
      ?.openssl;
    const match = /^(\d+)\.(\d+)/.exec(version ?? '');
    slowCipherSetup = match
      ? Number(match[1]) > 3 || (Number(match[1]) === 3 && Number(match[2]) >= 5)
      : false;
  }
  return slowCipherSetup;
}

/** Which primitives run on `node:crypto` / `node:zlib` in this runtime under `backend: 'auto'`. */
export interface NativeSupport {
  /** ML-KEM-768 through `crypto.encapsulate` / `crypto.decapsulate` (Node >= 24.7). */
  mlKem768: boolean;
  /** The `chacha20-poly1305` cipher of `node:crypto`. */
  chacha20Poly1305: boolean;
  /** `crypto.hkdfSync` with SHA-256. */
  hkdf: boolean;
  /** `zlib.deflateRawSync` (gzip) and `zlib.gunzipSync` (gunzip). */
  gzip: boolean;
}

/** The backends a caller may ask for; see `CryptoOptions.backend`. */
export type Backend = 'auto' | 'native' | 'js';

function pattern(length: number, start: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (start + i) & 0xff;
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function probeMlKem(): boolean {
  const crypto = nodeCrypto();
  if (typeof crypto?.encapsulate !== 'function' || typeof crypto.decapsulate !== 'function') return false;
  const { publicKey, secretKey } = ml_kem768.keygen(pattern(64, 0));
  // Public key import (raw-public) and native encapsulation, checked by pure decapsulation.
  const nativePublic = crypto.createPublicKey({
    key: publicKey,
    format: 'raw-public',
    asymmetricKeyType: 'ml-kem-768',
  } as unknown as NodeCrypto.PublicKeyInput);
  const encapsulated = crypto.encapsulate(nativePublic);
  if (!same(ml_kem768.decapsulate(encapsulated.ciphertext, secretKey), encapsulated.sharedKey)) return false;
  // Expanded secret key import (PKCS#8 expandedKey) and native decapsulation of a pure encapsulation.
  const nativeSecret = crypto.createPrivateKey({
    key: expandedSecretKeyToPkcs8(secretKey) as unknown as Buffer,
    format: 'der',
    type: 'pkcs8',
  });
  const pure = ml_kem768.encapsulate(publicKey, pattern(32, 64));
  if (!same(crypto.decapsulate(nativeSecret, pure.cipherText), pure.sharedSecret)) return false;
  // Seeded key generation (raw-seed import) reproduces the pure key pair exactly.
  const seeded = crypto.createPrivateKey({
    key: pattern(64, 0),
    format: 'raw-seed',
    asymmetricKeyType: 'ml-kem-768',
  } as unknown as NodeCrypto.PrivateKeyInput);
  const seededExpanded = expandedSecretKeyFromPkcs8(seeded.export({ format: 'der', type: 'pkcs8' }));
  if (seededExpanded === undefined || !same(seededExpanded, secretKey)) return false;
  // Native key generation exports an expanded key the pure path accepts.
  const generated = crypto.generateKeyPairSync(
    'ml-kem-768' as never,
  ) as unknown as NodeCrypto.KeyPairKeyObjectResult;
  const expanded = expandedSecretKeyFromPkcs8(generated.privateKey.export({ format: 'der', type: 'pkcs8' }));
  const raw = generated.publicKey.export({ format: 'raw-public' } as never) as unknown as Uint8Array;
  return expanded !== undefined && same(ml_kem768.getPublicKey(expanded), raw);
}

function probeChaCha(): boolean {
  const crypto = nodeCrypto();
  if (!crypto?.getCiphers().includes('chacha20-poly1305')) return false;
  const key = pattern(32, 0);
  const nonce = pattern(12, 32);
  const plaintext = pattern(100, 7);
  const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const sealed = concatBytes(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
  return same(sealed, chacha20poly1305(key, nonce).encrypt(plaintext));
}

function probeHkdf(): boolean {
  const crypto = nodeCrypto();
  if (typeof crypto?.hkdfSync !== 'function') return false;
  const ikm = pattern(32, 1);
  const salt = pattern(16, 2);
  const info = pattern(10, 3);
  const native = new Uint8Array(crypto.hkdfSync('sha256', ikm, salt, info, 32));
  return same(native, hkdf(sha256, ikm, salt, info, 32));
}

function probeGzip(): boolean {
  const zlib = nodeZlib();
  if (
    typeof zlib?.deflateRawSync !== 'function' ||
    typeof zlib.inflateRawSync !== 'function' ||
    typeof zlib.gunzipSync !== 'function'
  )
    return false;
  const data = pattern(300, 9);
  const deflated = zlib.deflateRawSync(data);
  return same(inflateRaw(deflated), data) && same(zlib.inflateRawSync(deflated), data);
}

const probes: Record<keyof NativeSupport, () => boolean> = {
  mlKem768: probeMlKem,
  chacha20Poly1305: probeChaCha,
  hkdf: probeHkdf,
  gzip: probeGzip,
};
const detected: Partial<Record<keyof NativeSupport, boolean>> = {};

/** Runs the self-test of one primitive once, lazily, and remembers the answer. */
function available(name: keyof NativeSupport): boolean {
  let result = detected[name];
  if (result === undefined) {
    try {
      result = probes[name]() === true;
    } catch {
      result = false;
    }
    detected[name] = result;
  }
  return result;
}

/**
 * Reports which native primitives this runtime offers and this package uses under `backend: 'auto'`. Each
 * one is detected by feature and confirmed once against the pure implementation.
 *
 * @example
 * ```ts
 * import { nativeSupport } from '@confidential-ai/chutes-crypto';
 * console.log(nativeSupport());
 * // Node 24.7+: { mlKem768: true, chacha20Poly1305: true, hkdf: true, gzip: true }
 * // Node 20:    { mlKem768: false, chacha20Poly1305: true, hkdf: true, gzip: true }
 * // browsers:   all false
 * ```
 */
export function nativeSupport(): NativeSupport {
  return {
    mlKem768: available('mlKem768'),
    chacha20Poly1305: available('chacha20Poly1305'),
    hkdf: available('hkdf'),
    gzip: available('gzip'),
  };
}

/**
 * Decides whether one primitive runs natively: `auto` uses it when available, `native` requires it, `js`
 * never uses it.
 * @throws TypeError for an unknown backend; Error when `native` is requested and the primitive is missing.
 * @internal
 */
export function useNative(name: keyof NativeSupport, backend: Backend | undefined): boolean {
  if (backend === 'js') return false;
  if (backend !== undefined && backend !== 'auto' && backend !== 'native') {
    throw new TypeError(`options.backend must be 'auto', 'native' or 'js'`);
  }
  const native = available(name);
  if (backend === 'native' && !native) {
    throw new Error(`options.backend is 'native' but native ${name} is not available in this runtime`);
  }
  return native;
}
