import type * as NodeCrypto from 'node:crypto';
import {
  assertBytes,
  type Bytes,
  bytesToHex,
  bytesToUtf8,
  concatBytes,
  hexToBytes,
  isBytes,
  toBytes,
  utf8ToBytes,
} from '@confidential-ai/bytes';
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { VeniceE2eeError } from './errors.js';

/**
 * Key-agreement suite of a packed field.
 * - `secp256k1`: ECDH on secp256k1 (shared secret = X coordinate); the packed prefix is a 65-byte uncompressed
 *   point. Used by Venice and by the vllm-proxy `ecdsa` algo.
 * - `ed25519`: X25519 where the recipient holds an Ed25519 key (converted to X25519 by the birational map);
 *   the packed prefix is a 32-byte raw X25519 public key. Used by the vllm-proxy `ed25519` algo.
 */
export type FieldSuite = 'secp256k1' | 'ed25519';

/** Size of the AES-GCM nonce in a packed field. */
export const FIELD_NONCE_LENGTH = 12;
/** Size of the AES-GCM tag in a packed field. */
export const FIELD_TAG_LENGTH = 16;
/** Size of the ephemeral public key prefix for the `secp256k1` suite (uncompressed SEC1). */
export const SECP256K1_EPHEMERAL_LENGTH = 65;
/** Size of the ephemeral public key prefix for the `ed25519` suite (raw X25519). */
export const X25519_EPHEMERAL_LENGTH = 32;
/** Minimum packed length in hex characters for the `secp256k1` suite (empty plaintext): 186. */
export const SECP256K1_MIN_FIELD_HEX_LENGTH =
  2 * (SECP256K1_EPHEMERAL_LENGTH + FIELD_NONCE_LENGTH + FIELD_TAG_LENGTH);
/** Default HKDF info of the `secp256k1` suite (Venice and vllm-proxy `ecdsa`). */
export const DEFAULT_SECP256K1_INFO = 'ecdsa_encryption';
/** Default HKDF info of the `ed25519` suite (vllm-proxy `ed25519`). */
export const DEFAULT_ED25519_INFO = 'ed25519_encryption';

/** Options shared by every field-cipher function. */
export interface FieldCipherOptions {
  /** Key-agreement suite. Default `secp256k1`. */
  suite?: FieldSuite;
  /** HKDF-SHA256 info (string as UTF-8, or bytes). Default `ecdsa_encryption` / `ed25519_encryption`. */
  info?: string | Uint8Array;
  /** AES-GCM additional authenticated data (string as UTF-8, or bytes); vllm-proxy v2 labels. Default none. */
  aad?: string | Uint8Array;
  /**
   * Use `node:crypto` for secp256k1 ECDH, HKDF and AES-GCM when the runtime has it (feature-detected through
   * `process.getBuiltinModule`). Default true; false forces the portable noble implementation.
   */
  native?: boolean;
}

/** Options of {@link encryptField} and {@link encryptFieldBytes}. */
export interface EncryptFieldOptions extends FieldCipherOptions {
  /** Randomness source; default `globalThis.crypto.getRandomValues`. */
  random?: (length: number) => Uint8Array;
  /** Fixed ephemeral private key (known-answer tests only; never reuse in production). */
  ephemeralPrivateKey?: Uint8Array;
  /** Fixed 12-byte AES-GCM nonce (known-answer tests only; never reuse in production). */
  nonce?: Uint8Array;
}

/** The parts of a packed field. */
export interface PackedField {
  /** Sender's ephemeral public key (65 bytes for `secp256k1`, 32 for `ed25519`). */
  ephemeralPublicKey: Bytes;
  /** AES-GCM nonce, 12 bytes. */
  nonce: Bytes;
  /** Ciphertext followed by the 16-byte tag. */
  sealed: Bytes;
}

/** A key pair of a field suite. */
export interface FieldKeyPair {
  /** secp256k1: 32-byte scalar. ed25519: 32-byte Ed25519 seed. */
  privateKey: Bytes;
  /** secp256k1: 65-byte uncompressed point. ed25519: 32-byte Ed25519 public key. */
  publicKey: Bytes;
}

type NodeCryptoModule = typeof NodeCrypto;
let nodeCrypto: NodeCryptoModule | null | undefined;

function loadNodeCrypto(): NodeCryptoModule | null {
  if (nodeCrypto !== undefined) return nodeCrypto;
  nodeCrypto = null;
  try {
    const processObject = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    const loaded = processObject?.getBuiltinModule?.('node:crypto') as NodeCryptoModule | undefined;
    if (loaded && typeof loaded.createECDH === 'function' && typeof loaded.hkdfSync === 'function') {
      loaded.createECDH('secp256k1');
      nodeCrypto = loaded;
    }
  } catch {
    nodeCrypto = null;
  }
  return nodeCrypto;
}

function defaultRandom(length: number): Uint8Array {
  const out = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
}

// Field nonces come from a pool filled 4 KiB at a time: one CSPRNG call costs some 6 µs, as much as the AES-GCM
// seal of a stream chunk, so per-nonce calls were a quarter of the cost of an encrypted token. Nonces are public
// (they travel in the packed field) and only need to be unique and unpredictable, which a pooled CSPRNG output
// is; the pool never hands out the same bytes twice.
const NONCE_POOL_SIZE = 4096 - (4096 % FIELD_NONCE_LENGTH);
let noncePool: Uint8Array | undefined;
let noncePoolOffset = NONCE_POOL_SIZE;

function pooledNonce(): Uint8Array {
  if (noncePoolOffset + FIELD_NONCE_LENGTH > NONCE_POOL_SIZE) {
    noncePool ??= new Uint8Array(NONCE_POOL_SIZE);
    globalThis.crypto.getRandomValues(noncePool);
    noncePoolOffset = 0;
  }
  const nonce = noncePool!.slice(noncePoolOffset, noncePoolOffset + FIELD_NONCE_LENGTH);
  noncePool!.fill(0, noncePoolOffset, noncePoolOffset + FIELD_NONCE_LENGTH);
  noncePoolOffset += FIELD_NONCE_LENGTH;
  return nonce;
}

function suiteOf(options: FieldCipherOptions | undefined): FieldSuite {
  const suite = options?.suite ?? 'secp256k1';
  if (suite !== 'secp256k1' && suite !== 'ed25519')
    throw new TypeError('options.suite must be secp256k1 or ed25519');
  return suite;
}

function infoBytes(suite: FieldSuite, info: string | Uint8Array | undefined): Uint8Array {
  if (info === undefined)
    return utf8ToBytes(suite === 'secp256k1' ? DEFAULT_SECP256K1_INFO : DEFAULT_ED25519_INFO);
  if (typeof info === 'string') return utf8ToBytes(info);
  assertBytes(info, 'options.info');
  return info;
}

function aadBytes(aad: string | Uint8Array | undefined): Uint8Array | undefined {
  if (aad === undefined) return undefined;
  if (typeof aad === 'string') return utf8ToBytes(aad);
  assertBytes(aad, 'options.aad');
  return aad;
}

function keyError(message: string, cause?: unknown): VeniceE2eeError {
  return new VeniceE2eeError('ERR_KEY_INVALID', message, cause === undefined ? {} : { cause });
}

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
  try {
    return toBytes(secp256k1.Point.fromBytes(bytes).toBytes(false));
  } catch (cause) {
    throw keyError('secp256k1 public key is not a valid curve point', cause);
  }
}

function assertSecp256k1PrivateKey(privateKey: Uint8Array, name: string): void {
  assertBytes(privateKey, name, 32);
  if (!secp256k1.utils.isValidSecretKey(privateKey))
    throw keyError(`${name} is not a valid secp256k1 scalar`);
}

/**
 * Generates a key pair for a suite.
 * @param suite - `secp256k1` (default) or `ed25519`.
 * @param random - Randomness source; default `crypto.getRandomValues`.
 * @example
 * ```ts
 * const { privateKey, publicKey } = generateFieldKeyPair('secp256k1');
 * ```
 */
export function generateFieldKeyPair(
  suite: FieldSuite = 'secp256k1',
  random: (length: number) => Uint8Array = defaultRandom,
): FieldKeyPair {
  if (suite === 'ed25519') {
    const seed = toBytes(random(32));
    assertBytes(seed, 'random(32)', 32);
    return { privateKey: seed, publicKey: toBytes(ed25519.getPublicKey(seed)) };
  }
  for (let attempt = 0; attempt < 16; attempt++) {
    const candidate = toBytes(random(32));
    assertBytes(candidate, 'random(32)', 32);
    if (secp256k1.utils.isValidSecretKey(candidate)) {
      return { privateKey: candidate, publicKey: getFieldPublicKey(candidate, 'secp256k1') };
    }
  }
  throw new RangeError('random() did not produce a valid secp256k1 scalar');
}

/**
 * The public key of a private key: 65-byte uncompressed secp256k1 point, or 32-byte Ed25519 public key.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` when the secp256k1 scalar is out of range.
 */
export function getFieldPublicKey(privateKey: Uint8Array, suite: FieldSuite = 'secp256k1'): Bytes {
  if (suite === 'ed25519') {
    assertBytes(privateKey, 'privateKey', 32);
    return toBytes(ed25519.getPublicKey(privateKey));
  }
  assertSecp256k1PrivateKey(privateKey, 'privateKey');
  return toBytes(secp256k1.getPublicKey(privateKey, false));
}

/** Converts an Ed25519 public key to its X25519 (Montgomery u) form. @throws VeniceE2eeError `ERR_KEY_INVALID`. */
export function ed25519PublicKeyToX25519(publicKey: Uint8Array): Bytes {
  assertBytes(publicKey, 'publicKey', 32);
  try {
    return toBytes(ed25519.utils.toMontgomery(publicKey));
  } catch (cause) {
    throw keyError('Ed25519 public key is not a valid point', cause);
  }
}

/** Converts an Ed25519 seed to the X25519 private key (first half of SHA-512(seed); clamped on use). */
export function ed25519PrivateKeyToX25519(seed: Uint8Array): Bytes {
  assertBytes(seed, 'privateKey', 32);
  return toBytes(ed25519.utils.toMontgomerySecret(seed));
}

function ecdhSecp256k1(privateKey: Uint8Array, publicKey: Uint8Array, native: boolean): Uint8Array {
  const node = native ? loadNodeCrypto() : null;
  if (node) {
    const ecdh = node.createECDH('secp256k1');
    ecdh.setPrivateKey(privateKey);
    return new Uint8Array(ecdh.computeSecret(publicKey));
  }
  return secp256k1.getSharedSecret(privateKey, publicKey, true).subarray(1);
}

function hkdfSha256(secret: Uint8Array, info: Uint8Array, native: boolean): Bytes {
  const node = native ? loadNodeCrypto() : null;
  if (node) return new Uint8Array(node.hkdfSync('sha256', secret, new Uint8Array(0), info, 32));
  return toBytes(hkdf(sha256, secret, undefined, info, 32));
}

function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array | undefined,
  native: boolean,
  nativeKey?: NodeCrypto.KeyObject,
): Uint8Array {
  const node = native ? loadNodeCrypto() : null;
  if (node) {
    // A KeyObject made once per key halves the cost of createCipheriv on Node 24 (no per-call key import).
    const cipher = node.createCipheriv('aes-256-gcm', nativeKey ?? key, nonce);
    if (aad) cipher.setAAD(aad);
    const head = cipher.update(plaintext);
    const tail = cipher.final();
    return concatBytes(head, tail, cipher.getAuthTag());
  }
  return gcm(key, nonce, aad).encrypt(plaintext);
}

function aesGcmOpen(
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
      return concatBytes(head, decipher.final());
    }
    return toBytes(gcm(key, nonce, aad).decrypt(sealed));
  } catch (cause) {
    throw new VeniceE2eeError('ERR_FIELD_DECRYPT_FAILED', 'field authentication failed', { cause });
  }
}

/**
 * Derives the 32-byte AES-256-GCM key of a field: ECDH (secp256k1 X coordinate, or X25519 with the Ed25519
 * keys converted), then HKDF-SHA256 without salt.
 * @param privateKey - The local private key (secp256k1 scalar or Ed25519 seed; for the sender, the ephemeral).
 * @param peerPublicKey - secp256k1: any accepted form; ed25519: the 32-byte Ed25519 public key of the
 *   recipient when sending, or the 32-byte X25519 ephemeral key from a packed field when receiving (set
 *   `peerIsX25519`).
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid key.
 */
export function deriveFieldKey(
  privateKey: Uint8Array,
  peerPublicKey: string | Uint8Array,
  options: FieldCipherOptions & { peerIsX25519?: boolean; privateIsX25519?: boolean } = {},
): Bytes {
  const suite = suiteOf(options);
  const native = options.native !== false;
  const info = infoBytes(suite, options.info);
  let shared: Uint8Array;
  if (suite === 'secp256k1') {
    assertSecp256k1PrivateKey(privateKey, 'privateKey');
    // OpenSSL validates uncompressed points itself; other forms are normalized (and validated) first
    const fast =
      native &&
      loadNodeCrypto() !== null &&
      isBytes(peerPublicKey) &&
      peerPublicKey.length === 65 &&
      peerPublicKey[0] === 4;
    const peer = fast ? (peerPublicKey as Uint8Array) : normalizeSecp256k1PublicKey(peerPublicKey);
    try {
      shared = ecdhSecp256k1(privateKey, peer, native);
    } catch (cause) {
      throw keyError('secp256k1 public key is not a valid curve point', cause);
    }
  } else {
    assertBytes(privateKey, 'privateKey', 32);
    if (!isBytes(peerPublicKey))
      throw new TypeError('peerPublicKey must be a Uint8Array for the ed25519 suite');
    assertBytes(peerPublicKey, 'peerPublicKey', 32);
    const secret = options.privateIsX25519 ? privateKey : ed25519PrivateKeyToX25519(privateKey);
    const peer = options.peerIsX25519 ? peerPublicKey : ed25519PublicKeyToX25519(peerPublicKey);
    try {
      shared = x25519.getSharedSecret(secret, peer);
    } catch (cause) {
      throw keyError('X25519 peer key is invalid or of low order', cause);
    }
  }
  return hkdfSha256(shared, info, native);
}

function malformed(message: string, reason: string, cause?: unknown): VeniceE2eeError {
  return new VeniceE2eeError('ERR_FIELD_MALFORMED', message, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Splits a packed field (`ephemeral ‖ nonce(12) ‖ ciphertext ‖ tag(16)`) given as hex or bytes. Strict: hex
 * only (no `0x`, no whitespace), the minimum length of the suite, and for `secp256k1` a leading `04` byte.
 * The point itself is validated when the key is derived.
 * @throws VeniceE2eeError `ERR_FIELD_MALFORMED` with `details.reason` `type`, `hex`, `length` or `prefix`.
 */
export function parsePackedField(packed: string | Uint8Array, suite: FieldSuite = 'secp256k1'): PackedField {
  let bytes: Uint8Array;
  if (typeof packed === 'string') {
    try {
      bytes = hexToBytes(packed);
    } catch (cause) {
      throw malformed('encrypted field is not valid hex', 'hex', cause);
    }
  } else if (isBytes(packed)) {
    bytes = packed;
  } else {
    throw malformed('encrypted field must be a hex string', 'type');
  }
  const prefix = suite === 'secp256k1' ? SECP256K1_EPHEMERAL_LENGTH : X25519_EPHEMERAL_LENGTH;
  if (bytes.length < prefix + FIELD_NONCE_LENGTH + FIELD_TAG_LENGTH) {
    throw malformed(
      `encrypted field is too short: ${bytes.length} bytes, minimum ${prefix + FIELD_NONCE_LENGTH + FIELD_TAG_LENGTH}`,
      'length',
    );
  }
  if (suite === 'secp256k1' && bytes[0] !== 4)
    throw malformed('encrypted field does not start with 04', 'prefix');
  return {
    ephemeralPublicKey: toBytes(bytes.subarray(0, prefix)),
    nonce: toBytes(bytes.subarray(prefix, prefix + FIELD_NONCE_LENGTH)),
    sealed: toBytes(bytes.subarray(prefix + FIELD_NONCE_LENGTH)),
  };
}

/**
 * True when a response value looks like a Venice ciphertext: at least 186 characters, all hex, even length,
 * starting `04` (the D3 pass-through rule when `requireEncryptedResponseContent` is false).
 */
export function looksLikeCiphertext(value: string): boolean {
  return (
    typeof value === 'string' &&
    value.length >= SECP256K1_MIN_FIELD_HEX_LENGTH &&
    value.length % 2 === 0 &&
    value.startsWith('04') &&
    /^[0-9a-fA-F]+$/.test(value)
  );
}

function plaintextBytes(plaintext: string | Uint8Array): Uint8Array {
  if (typeof plaintext === 'string') return utf8ToBytes(plaintext);
  assertBytes(plaintext, 'plaintext');
  return plaintext;
}

/**
 * Encrypts one field and returns the packed bytes `ephemeral ‖ nonce ‖ ciphertext ‖ tag`.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid recipient key.
 */
export function encryptFieldBytes(
  plaintext: string | Uint8Array,
  recipientPublicKey: string | Uint8Array,
  options: EncryptFieldOptions = {},
): Bytes {
  const suite = suiteOf(options);
  const random = options.random ?? defaultRandom;
  const native = options.native !== false;
  const nonce = options.nonce ?? random(FIELD_NONCE_LENGTH);
  assertBytes(nonce, options.nonce ? 'options.nonce' : 'random(12)', FIELD_NONCE_LENGTH);
  let ephemeralPublicKey: Uint8Array;
  let key: Uint8Array;
  if (suite === 'secp256k1') {
    const recipient = normalizeSecp256k1PublicKey(recipientPublicKey);
    let ephemeral = options.ephemeralPrivateKey;
    if (ephemeral) assertSecp256k1PrivateKey(ephemeral, 'options.ephemeralPrivateKey');
    const node = native ? loadNodeCrypto() : null;
    let shared: Uint8Array;
    if (node) {
      const ecdh = node.createECDH('secp256k1');
      if (ephemeral) ecdh.setPrivateKey(ephemeral);
      else if (options.random) ecdh.setPrivateKey(generateFieldKeyPair('secp256k1', random).privateKey);
      else ecdh.generateKeys();
      ephemeralPublicKey = new Uint8Array(ecdh.getPublicKey());
      shared = new Uint8Array(ecdh.computeSecret(recipient));
    } else {
      ephemeral ??= generateFieldKeyPair('secp256k1', random).privateKey;
      ephemeralPublicKey = secp256k1.getPublicKey(ephemeral, false);
      shared = ecdhSecp256k1(ephemeral, recipient, false);
    }
    key = hkdfSha256(shared, infoBytes(suite, options.info), native);
  } else {
    if (!isBytes(recipientPublicKey))
      throw new TypeError('recipientPublicKey must be a Uint8Array for ed25519');
    const ephemeral = options.ephemeralPrivateKey ?? random(32);
    assertBytes(ephemeral, 'options.ephemeralPrivateKey', 32);
    ephemeralPublicKey = x25519.getPublicKey(ephemeral);
    key = deriveFieldKey(ephemeral, recipientPublicKey, { ...options, privateIsX25519: true });
  }
  const sealed = aesGcmSeal(key, nonce, plaintextBytes(plaintext), aadBytes(options.aad), native);
  return concatBytes(ephemeralPublicKey, nonce, sealed);
}

/**
 * Encrypts one field (a message `content` string) and returns lowercase hex
 * `ephemeral ‖ nonce(12) ‖ ciphertext ‖ tag(16)`, as Venice and vllm-proxy expect.
 * @param plaintext - UTF-8 text (or raw bytes).
 * @param recipientPublicKey - secp256k1: the model key in any accepted form; ed25519: 32-byte Ed25519 key.
 * @param options - Suite, HKDF info, AAD, randomness.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid recipient key.
 * @example
 * ```ts
 * const model = generateFieldKeyPair();
 * const hex = encryptField('hello', model.publicKey);
 * decryptField(hex, model.privateKey); // 'hello'
 * ```
 */
export function encryptField(
  plaintext: string | Uint8Array,
  recipientPublicKey: string | Uint8Array,
  options: EncryptFieldOptions = {},
): string {
  return bytesToHex(encryptFieldBytes(plaintext, recipientPublicKey, options));
}

/**
 * Decrypts a packed field (hex or bytes) and returns the plaintext bytes.
 * @throws VeniceE2eeError `ERR_FIELD_MALFORMED` (not hex, too short, bad prefix or point),
 *   `ERR_FIELD_DECRYPT_FAILED` (tag mismatch: wrong key, wrong info/AAD or tampered data).
 */
export function decryptFieldBytes(
  packed: string | Uint8Array,
  privateKey: Uint8Array,
  options: FieldCipherOptions = {},
): Bytes {
  const suite = suiteOf(options);
  const native = options.native !== false;
  if (suite === 'secp256k1') assertSecp256k1PrivateKey(privateKey, 'privateKey');
  else assertBytes(privateKey, 'privateKey', 32);
  const field = parsePackedField(packed, suite);
  let key: Uint8Array;
  try {
    key = deriveFieldKey(privateKey, field.ephemeralPublicKey, { ...options, peerIsX25519: true });
  } catch (cause) {
    throw malformed('encrypted field carries an invalid ephemeral public key', 'point', cause);
  }
  return aesGcmOpen(key, field.nonce, field.sealed, aadBytes(options.aad), native);
}

/**
 * Decrypts a packed field and returns its UTF-8 plaintext.
 * @throws VeniceE2eeError `ERR_FIELD_MALFORMED`, `ERR_FIELD_DECRYPT_FAILED`, or `ERR_FIELD_NOT_UTF8`.
 * @example
 * ```ts
 * const text = decryptField(chunk.choices[0].delta.content, clientPrivateKey);
 * ```
 */
export function decryptField(
  packed: string | Uint8Array,
  privateKey: Uint8Array,
  options: FieldCipherOptions = {},
): string {
  const bytes = decryptFieldBytes(packed, privateKey, options);
  try {
    return bytesToUtf8(bytes);
  } catch (cause) {
    throw new VeniceE2eeError('ERR_FIELD_NOT_UTF8', 'decrypted field is not valid UTF-8', { cause });
  }
}

/** A reusable encryptor bound to one ephemeral key (one ECDH, fresh nonce per field). */
export interface FieldEncryptor {
  /** The ephemeral public key placed in front of every field. */
  readonly ephemeralPublicKey: Bytes;
  /** Encrypts one field to lowercase hex; `aad` overrides the options' AAD for this field. */
  encrypt(plaintext: string | Uint8Array, aad?: string | Uint8Array): string;
}

/**
 * Creates an encryptor that derives the key once and encrypts many fields with fresh nonces, as the
 * vllm-proxy server does per response (one ephemeral key per request). Venice clients should prefer
 * {@link encryptField}, which uses a fresh ephemeral key per field.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid recipient key.
 */
export function createFieldEncryptor(
  recipientPublicKey: string | Uint8Array,
  options: Omit<EncryptFieldOptions, 'nonce' | 'aad'> = {},
): FieldEncryptor {
  const suite = suiteOf(options);
  const random = options.random ?? defaultRandom;
  const nonceSource = options.random ?? pooledNonce;
  const native = options.native !== false;
  let ephemeralPublicKey: Bytes;
  let key: Uint8Array;
  if (suite === 'secp256k1') {
    const ephemeral = options.ephemeralPrivateKey ?? generateFieldKeyPair('secp256k1', random).privateKey;
    assertSecp256k1PrivateKey(ephemeral, 'options.ephemeralPrivateKey');
    ephemeralPublicKey = toBytes(secp256k1.getPublicKey(ephemeral, false));
    key = deriveFieldKey(ephemeral, recipientPublicKey, options);
  } else {
    if (!isBytes(recipientPublicKey))
      throw new TypeError('recipientPublicKey must be a Uint8Array for ed25519');
    const ephemeral = options.ephemeralPrivateKey ?? random(32);
    assertBytes(ephemeral, 'options.ephemeralPrivateKey', 32);
    ephemeralPublicKey = toBytes(x25519.getPublicKey(ephemeral));
    key = deriveFieldKey(ephemeral, recipientPublicKey, { ...options, privateIsX25519: true });
  }
  const node = native ? loadNodeCrypto() : null;
  const nativeKey = node ? node.createSecretKey(key) : undefined;
  return {
    ephemeralPublicKey,
    encrypt(plaintext, aad) {
      const nonce = nonceSource(FIELD_NONCE_LENGTH);
      assertBytes(nonce, 'random(12)', FIELD_NONCE_LENGTH);
      const sealed = aesGcmSeal(key, nonce, plaintextBytes(plaintext), aadBytes(aad), native, nativeKey);
      return bytesToHex(concatBytes(ephemeralPublicKey, nonce, sealed));
    },
  };
}

/** Fields of a vllm-proxy v2 request AAD label. */
export interface RequestAadFields {
  /** `ecdsa` or `ed25519`. */
  algo: string;
  /** The request body's `model`. */
  model: string;
  /** 0-based message index. */
  messageIndex: number;
  /** 0-based content-part index, or undefined/null for string content (`-`). */
  contentIndex?: number | null;
  /** The `X-E2EE-Nonce` value. */
  nonce: string;
  /** The `X-E2EE-Timestamp` value (unix seconds, as sent). */
  timestamp: string | number;
}

/** Fields of a vllm-proxy v2 response AAD label. */
export interface ResponseAadFields {
  /** `ecdsa` or `ed25519`. */
  algo: string;
  /** `model` of the response object or chunk. */
  model: string;
  /** `id` of the response object or chunk. */
  id: string;
  /** `choices[].index` of the choice. */
  choice: number;
  /** Field name: `content`, `reasoning_content` or `reasoning`. */
  field: string;
  /** The request's `X-E2EE-Nonce`. */
  nonce: string;
  /** The request's `X-E2EE-Timestamp`. */
  timestamp: string | number;
}

/**
 * The vllm-proxy v2 request AAD label
 * `v2|req|algo=<algo>|model=<model>|m=<i>|c=<j or ->|n=<nonce>|ts=<timestamp>`.
 * @example
 * ```ts
 * buildRequestAad({ algo: 'ecdsa', model: 'm', messageIndex: 0, nonce: 'n'.repeat(16), timestamp: 1 });
 * ```
 */
export function buildRequestAad(fields: RequestAadFields): string {
  const content =
    fields.contentIndex === undefined || fields.contentIndex === null ? '-' : String(fields.contentIndex);
  return `v2|req|algo=${fields.algo}|model=${fields.model}|m=${fields.messageIndex}|c=${content}|n=${fields.nonce}|ts=${fields.timestamp}`;
}

/**
 * The vllm-proxy v2 response AAD label
 * `v2|resp|algo=<algo>|model=<model>|id=<id>|choice=<index>|field=<field>|n=<nonce>|ts=<timestamp>`.
 */
export function buildResponseAad(fields: ResponseAadFields): string {
  return `v2|resp|algo=${fields.algo}|model=${fields.model}|id=${fields.id}|choice=${fields.choice}|field=${fields.field}|n=${fields.nonce}|ts=${fields.timestamp}`;
}

/**
 * Maps a vllm-proxy `X-Signing-Algo` value (trimmed, case-insensitive) to a field suite: `ecdsa` →
 * `secp256k1`, `ed25519` → `ed25519`; anything else gives undefined (the caller reports
 * `e2ee_invalid_signing_algo`).
 */
export function fieldSuiteForAlgo(algo: string): FieldSuite | undefined {
  const normalized = typeof algo === 'string' ? algo.trim().toLowerCase() : '';
  if (normalized === 'ecdsa') return 'secp256k1';
  if (normalized === 'ed25519') return 'ed25519';
  return undefined;
}

/**
 * The vllm-proxy error `type` for a field-cipher failure (spec vllm-proxy section 2.5): a too-short blob or a
 * failed tag → `e2ee_decryption_failed`; any other parse problem (non-hex, bad point, non-UTF-8 plaintext) →
 * `invalid_e2ee_request`. Returns undefined for errors that are not field-cipher errors.
 */
export function vllmE2eeErrorType(
  error: unknown,
): 'e2ee_decryption_failed' | 'invalid_e2ee_request' | undefined {
  if (!VeniceE2eeError.isInstance(error)) return undefined;
  if (error.code === 'ERR_FIELD_DECRYPT_FAILED') return 'e2ee_decryption_failed';
  if (error.code === 'ERR_FIELD_MALFORMED') {
    return error.details?.['reason'] === 'length' ? 'e2ee_decryption_failed' : 'invalid_e2ee_request';
  }
  if (error.code === 'ERR_FIELD_NOT_UTF8' || error.code === 'ERR_KEY_INVALID') return 'invalid_e2ee_request';
  return undefined;
}
