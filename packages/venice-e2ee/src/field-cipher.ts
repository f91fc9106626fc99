import {
  assertBytes,
  type Bytes,
  bytesToHex,
  bytesToUtf8,
  hexToBytes,
  isBytes,
  toBytes,
  utf8ToBytes,
} from '@confidential-ai/bytes';
import { ed25519 } from '@noble/curves/ed25519.js';
import { VeniceE2eeError } from './errors.js';
import {
  type AesKey,
  aesGcmOpen,
  aesGcmSealInto,
  FIELD_NONCE_LENGTH,
  FIELD_TAG_LENGTH,
  hkdfSha256,
  nativeAesGcmSealHex,
  pooledNonceInto,
  prepareAesKey,
} from './field-aead.js';
import {
  assertSecp256k1PrivateKey,
  ed25519PrivateKeyToX25519,
  ed25519PublicKeyToX25519,
  type FieldKeyAgreement,
  type FieldKeyPair,
  type FieldSuite,
  generateSecp256k1KeyPair,
  keyAgreementFor,
  normalizeSecp256k1PublicKey,
  secp256k1AgreementFor,
  secp256k1BackendFor,
  secp256k1EphemeralAgreement,
  secp256k1PublicKey,
  secp256k1SharedSecret,
  x25519EphemeralAgreement,
  x25519SharedSecret,
} from './key-agreement.js';

export { FIELD_NONCE_LENGTH, FIELD_TAG_LENGTH } from './field-aead.js';

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
   * Use the fast backends when the runtime has them (feature-detected through `process.getBuiltinModule`, see
   * {@link fieldCipherBackends}): libsecp256k1's native addon (the optional `secp256k1` package) for secp256k1
   * ECDH, public keys and point decompression, else `node:crypto` for secp256k1 ECDH; `node:crypto` for X25519,
   * HKDF and AES-GCM. Default true; false forces the portable noble implementation. All give the same bytes;
   * every multiplication by a secret scalar is constant-time.
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

function defaultRandom(length: number): Uint8Array {
  const out = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
}

function suiteOf(options: { suite?: FieldSuite } | undefined): FieldSuite {
  const suite = options?.suite ?? 'secp256k1';
  if (suite !== 'secp256k1' && suite !== 'ed25519')
    throw new TypeError('options.suite must be secp256k1 or ed25519');
  return suite;
}

const DEFAULT_INFO_BYTES: Record<FieldSuite, Bytes> = {
  secp256k1: utf8ToBytes(DEFAULT_SECP256K1_INFO),
  ed25519: utf8ToBytes(DEFAULT_ED25519_INFO),
};

function infoBytes(suite: FieldSuite, info: string | Uint8Array | undefined): Uint8Array {
  if (info === undefined) return DEFAULT_INFO_BYTES[suite];
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
    return { privateKey: seed, publicKey: getFieldPublicKey(seed, 'ed25519') };
  }
  return generateSecp256k1KeyPair(random, secp256k1BackendFor(true));
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
  return secp256k1PublicKey(privateKey, secp256k1BackendFor(true));
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
    const peer = uncompressedPeer(peerPublicKey);
    shared = secp256k1SharedSecret(privateKey, peer, secp256k1AgreementFor(native));
  } else {
    assertBytes(privateKey, 'privateKey', 32);
    if (!isBytes(peerPublicKey))
      throw new TypeError('peerPublicKey must be a Uint8Array for the ed25519 suite');
    assertBytes(peerPublicKey, 'peerPublicKey', 32);
    const secret = options.privateIsX25519 ? privateKey : ed25519PrivateKeyToX25519(privateKey);
    const peer = options.peerIsX25519 ? peerPublicKey : ed25519PublicKeyToX25519(peerPublicKey, native);
    shared = x25519SharedSecret(secret, peer, native);
  }
  return hkdfSha256(shared, info, native);
}

// Every backend validates an uncompressed point itself; other forms are normalized (and validated) first.
function uncompressedPeer(peer: string | Uint8Array): Uint8Array {
  return isBytes(peer) && peer.length === 65 && peer[0] === 4 ? peer : normalizeSecp256k1PublicKey(peer);
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

/** An ephemeral key for sending: its public key and the field key derived with the recipient. */
interface SenderKey {
  ephemeralPublicKey: Bytes;
  key: Bytes;
}

// One ephemeral key agreement towards a recipient. secp256k1: the recipient in any accepted form; ed25519: the
// recipient's 32-byte Ed25519 public key. The ephemeral private key never leaves this function.
function senderKey(
  suite: FieldSuite,
  recipientPublicKey: string | Uint8Array,
  options: EncryptFieldOptions,
  native: boolean,
): SenderKey {
  const info = infoBytes(suite, options.info);
  if (suite === 'secp256k1') {
    const recipient = uncompressedPeer(recipientPublicKey);
    const ephemeral = secp256k1EphemeralAgreement(
      recipient,
      options.random,
      options.ephemeralPrivateKey,
      native,
    );
    const key = hkdfSha256(ephemeral.shared, info, native);
    ephemeral.shared.fill(0);
    return { ephemeralPublicKey: ephemeral.publicKey, key };
  }
  if (!isBytes(recipientPublicKey))
    throw new TypeError('recipientPublicKey must be a Uint8Array for ed25519');
  assertBytes(recipientPublicKey, 'recipientPublicKey', 32);
  const peer = ed25519PublicKeyToX25519(recipientPublicKey, native);
  const ephemeral = x25519EphemeralAgreement(peer, options.random, options.ephemeralPrivateKey, native);
  const key = hkdfSha256(ephemeral.shared, info, native);
  ephemeral.shared.fill(0);
  return { ephemeralPublicKey: ephemeral.publicKey, key };
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
  const native = options.native !== false;
  const nonce = options.nonce ?? (options.random ?? defaultRandom)(FIELD_NONCE_LENGTH);
  assertBytes(nonce, options.nonce ? 'options.nonce' : 'random(12)', FIELD_NONCE_LENGTH);
  const { ephemeralPublicKey, key } = senderKey(suite, recipientPublicKey, options, native);
  const data = plaintextBytes(plaintext);
  const prefix = ephemeralPublicKey.length + FIELD_NONCE_LENGTH;
  const out = new Uint8Array(prefix + data.length + FIELD_TAG_LENGTH);
  out.set(ephemeralPublicKey, 0);
  out.set(nonce, ephemeralPublicKey.length);
  aesGcmSealInto(prepareAesKey(key, native), nonce, data, aadBytes(options.aad), out, prefix);
  key.fill(0);
  return out;
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

function utf8Text(bytes: Uint8Array): string {
  try {
    return bytesToUtf8(bytes);
  } catch (cause) {
    throw new VeniceE2eeError('ERR_FIELD_NOT_UTF8', 'decrypted field is not valid UTF-8', { cause });
  }
}

/**
 * Decrypts a packed field (hex or bytes) and returns the plaintext bytes. The key agreement of `privateKey` is
 * prepared once and reused by later calls with the same key array (see {@link createFieldKeyAgreement}).
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
  if (!isBytes(privateKey)) throw new TypeError('privateKey must be a Uint8Array');
  const agreement = keyAgreementFor(privateKey, suite, native);
  const field = parsePackedField(packed, suite);
  const key = fieldKey(agreement, field.ephemeralPublicKey, infoBytes(suite, options.info), native);
  return aesGcmOpen(key, field.nonce, field.sealed, aadBytes(options.aad), native);
}

function fieldKey(
  agreement: FieldKeyAgreement,
  ephemeral: Uint8Array,
  info: Uint8Array,
  native: boolean,
): Bytes {
  let shared: Bytes;
  try {
    shared = agreement.sharedSecret(ephemeral);
  } catch (cause) {
    throw malformed('encrypted field carries an invalid ephemeral public key', 'point', cause);
  }
  const key = hkdfSha256(shared, info, native);
  shared.fill(0);
  return key;
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
  return utf8Text(decryptFieldBytes(packed, privateKey, options));
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
  const native = options.native !== false;
  const random = options.random;
  const { ephemeralPublicKey, key } = senderKey(suite, recipientPublicKey, options, native);
  const aesKey: AesKey = prepareAesKey(key, native);
  // The hex of the ephemeral key is the same in front of every field: computed once.
  const prefixHex = bytesToHex(ephemeralPublicKey);
  // A stream repeats one AAD label (same id, choice and field) for every token: its bytes are kept.
  let lastAad: string | undefined;
  let lastAadBytes: Uint8Array | undefined;
  const labelBytes = (aad: string | Uint8Array | undefined): Uint8Array | undefined => {
    if (typeof aad !== 'string') return aadBytes(aad);
    if (aad !== lastAad) {
      lastAadBytes = utf8ToBytes(aad);
      lastAad = aad;
    }
    return lastAadBytes;
  };
  return {
    ephemeralPublicKey,
    encrypt(plaintext, aad) {
      if (!(aesKey instanceof Uint8Array) && (typeof plaintext === 'string' || isBytes(plaintext))) {
        // node:crypto: the cipher encodes the UTF-8 input and the hex output itself (one string per field).
        const nonce = new Uint8Array(FIELD_NONCE_LENGTH);
        if (random) {
          const drawn = random(FIELD_NONCE_LENGTH);
          assertBytes(drawn, 'random(12)', FIELD_NONCE_LENGTH);
          nonce.set(drawn, 0);
        } else {
          pooledNonceInto(nonce, 0);
        }
        return prefixHex + nativeAesGcmSealHex(aesKey, nonce, plaintext, labelBytes(aad));
      }
      const data = plaintextBytes(plaintext);
      const out = new Uint8Array(FIELD_NONCE_LENGTH + data.length + FIELD_TAG_LENGTH);
      if (random) {
        const nonce = random(FIELD_NONCE_LENGTH);
        assertBytes(nonce, 'random(12)', FIELD_NONCE_LENGTH);
        out.set(nonce, 0);
      } else {
        pooledNonceInto(out, 0);
      }
      aesGcmSealInto(
        aesKey,
        out.subarray(0, FIELD_NONCE_LENGTH),
        data,
        labelBytes(aad),
        out,
        FIELD_NONCE_LENGTH,
      );
      return prefixHex + bytesToHex(out);
    },
  };
}

/** A decryptor for the fields of one request, bound to one private key. */
export interface FieldDecryptor {
  /** Decrypts one field to bytes; `aad` is the field's AAD (vllm-proxy v2), if any. */
  decryptBytes(packed: string | Uint8Array, aad?: string | Uint8Array): Bytes;
  /** Decrypts one field to UTF-8 text. */
  decrypt(packed: string | Uint8Array, aad?: string | Uint8Array): string;
}

/** Options of {@link createFieldDecryptor}. */
export interface FieldDecryptorOptions extends Omit<FieldCipherOptions, 'aad'> {
  /** How many derived keys (one per distinct ephemeral key) the decryptor remembers. Default 16. */
  maxCachedKeys?: number;
}

/**
 * Creates a decryptor for the fields of **one request**: the private key's key agreement is the long-lived one
 * (imported once per key), and the AES key derived for an ephemeral public key is remembered for the other
 * fields of the same request that carry the same ephemeral key (clients commonly use one ephemeral key per
 * request), so each distinct ephemeral key costs one key agreement. Derived keys live as long as the decryptor:
 * create one per request and drop it with the request, so that no derived key outlives the request it belongs
 * to.
 * @param privateKey - The private key (secp256k1 scalar or Ed25519 seed), or a {@link FieldKeyAgreement}.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid private key.
 * @example
 * ```ts
 * const decryptor = createFieldDecryptor(modelKeys.privateKey, { suite: 'secp256k1' });
 * const texts = request.messages.map((message, index) => decryptor.decrypt(message.content, aadFor(index)));
 * ```
 */
export function createFieldDecryptor(
  privateKey: Uint8Array | FieldKeyAgreement,
  options: FieldDecryptorOptions = {},
): FieldDecryptor {
  const native = options.native !== false;
  const agreement = isBytes(privateKey) ? keyAgreementFor(privateKey, suiteOf(options), native) : privateKey;
  const suite = agreement.suite;
  if (options.suite !== undefined && options.suite !== suite)
    throw new TypeError('options.suite does not match the key agreement');
  const info = infoBytes(suite, options.info);
  const limit = options.maxCachedKeys ?? 16;
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError('options.maxCachedKeys must be a non-negative integer');
  const keys = new Map<string, Bytes>();
  const decryptBytes = (packed: string | Uint8Array, aad?: string | Uint8Array): Bytes => {
    const field = parsePackedField(packed, suite);
    const id = bytesToHex(field.ephemeralPublicKey);
    let key = keys.get(id);
    if (key === undefined) {
      key = fieldKey(agreement, field.ephemeralPublicKey, info, native);
      if (keys.size >= limit) keys.clear();
      if (limit > 0) keys.set(id, key);
    }
    return aesGcmOpen(key, field.nonce, field.sealed, aadBytes(aad), native);
  };
  return { decryptBytes, decrypt: (packed, aad) => utf8Text(decryptBytes(packed, aad)) };
}
