import {
  assertBytes,
  type Bytes,
  bytesToHex,
  concatBytes,
  hexToBytes,
  isBytes,
  toBytes,
  utf8ToBytes,
} from '@confidential-ai/bytes';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { TeeSigningError } from './errors.js';
import { keccak256 } from './hashes.js';
import { nativeEd25519PublicKey, nativeEd25519Signer, nativeSecp256k1PublicKey } from './native-keys.js';

/** Signing algorithms of the vllm-proxy scheme. */
export type VllmSigningAlgorithm = 'ecdsa' | 'ed25519';

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_ORDER = SECP256K1_ORDER >> 1n;

function algorithmOf(value: unknown): VllmSigningAlgorithm {
  if (value === 'ecdsa' || value === 'ed25519') return value;
  throw new TypeError("algorithm must be 'ecdsa' or 'ed25519'");
}

function bytesInput(data: Uint8Array | string, name: string): Uint8Array {
  if (typeof data === 'string') return utf8ToBytes(data);
  assertBytes(data, name);
  return data;
}

// ---------------------------------------------------------------------------------------------------
// Hashes and signed text
// ---------------------------------------------------------------------------------------------------

/**
 * The request hash the proxy signs: the `X-Request-Hash` header value when one is given (trusted as-is,
 * as the reference does), otherwise SHA-256 hex of the raw request body bytes as received (the
 * ciphertext body in E2EE mode).
 * @example
 * ```ts
 * vllmRequestHash(rawBody, request.headers.get('x-request-hash'));
 * ```
 */
export function vllmRequestHash(body: Uint8Array | string, requestHashHeader?: string | null): string {
  if (typeof requestHashHeader === 'string' && requestHashHeader !== '') return requestHashHeader;
  return bytesToHex(nobleSha256(bytesInput(body, 'body')));
}

/** SHA-256 hex over exactly the response bytes sent to the client (D5). */
export function vllmResponseHash(sentBytes: Uint8Array | string): string {
  return bytesToHex(nobleSha256(bytesInput(sentBytes, 'sentBytes')));
}

/** Incremental SHA-256 over every byte written to a (streamed) response body. */
export interface ResponseHasher {
  /** Adds bytes in the order they are written (strings as UTF-8). */
  update(chunk: Uint8Array | string): void;
  /** Lowercase hex digest; the hasher cannot be updated afterwards. */
  digestHex(): string;
}

/**
 * Creates a {@link ResponseHasher} for streams: hash every byte written, in order, including
 * `data: [DONE]` and all blank-line framing (D5).
 * @example
 * ```ts
 * const hasher = createResponseHasher();
 * for (const chunk of outgoing) { hasher.update(chunk); write(chunk); }
 * const text = vllmSignedText(requestHash, hasher.digestHex());
 * ```
 */
export function createResponseHasher(): ResponseHasher {
  const state = nobleSha256.create();
  let done = false;
  return {
    update(chunk) {
      if (done) throw new Error('response hasher already finished');
      state.update(bytesInput(chunk, 'chunk'));
    },
    digestHex() {
      if (done) throw new Error('response hasher already finished');
      done = true;
      return bytesToHex(state.digest());
    },
  };
}

/** The signed text: `"<request_sha256_hex>:<response_sha256_hex>"`. */
export function vllmSignedText(requestHash: string, responseHash: string): string {
  if (typeof requestHash !== 'string' || typeof responseHash !== 'string')
    throw new TypeError('hashes must be strings');
  return `${requestHash}:${responseHash}`;
}

// ---------------------------------------------------------------------------------------------------
// Ethereum: EIP-191 personal_sign, addresses
// ---------------------------------------------------------------------------------------------------

/**
 * EIP-191 version 0x45 hash (`personal_sign`, eth_account `encode_defunct(text=…)`):
 * `keccak256("\x19Ethereum Signed Message:\n" + byteLength + message)`.
 */
export function eip191MessageHash(message: Uint8Array | string): Bytes {
  const body = bytesInput(message, 'message');
  return keccak256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${body.length}`), body));
}

/**
 * EIP-55 mixed-case checksum form of a 20-byte address.
 * @throws TypeError when the input is not 40 hex digits (with or without `0x`).
 */
export function toChecksumAddress(address: string): string {
  if (typeof address !== 'string' || !/^(0x)?[0-9a-fA-F]{40}$/.test(address)) {
    throw new TypeError('address must be 20 bytes of hex');
  }
  const lower = address.replace(/^0x/, '').toLowerCase();
  const hash = bytesToHex(keccak256(lower));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const c = lower[i]!;
    out += Number.parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/**
 * True when `address` is valid EIP-55: all-lowercase and all-uppercase forms are accepted as
 * unchecksummed; mixed case must match the checksum.
 */
export function isChecksumAddressValid(address: string): boolean {
  if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address)) return false;
  const body = address.slice(2);
  if (body === body.toLowerCase() || body === body.toUpperCase()) return true;
  return toChecksumAddress(address) === address;
}

/**
 * Ethereum address (EIP-55) of a secp256k1 public key (33-byte compressed, 64-byte X‖Y or 65-byte
 * uncompressed).
 * @throws TeeSigningError `ERR_KEY_INVALID` for bytes that are not a curve point.
 */
export function ethereumAddressFromPublicKey(publicKey: Uint8Array): string {
  assertBytes(publicKey, 'publicKey');
  let point: Uint8Array;
  try {
    const input = publicKey.length === 64 ? concatBytes(Uint8Array.of(4), publicKey) : publicKey;
    point = secp256k1.Point.fromBytes(input).toBytes(false);
  } catch (cause) {
    throw new TeeSigningError('ERR_KEY_INVALID', 'not a secp256k1 public key', { cause });
  }
  return toChecksumAddress(bytesToHex(keccak256(point.subarray(1)).subarray(12)));
}

function secpSecretKey(privateKey: Uint8Array | string): Bytes {
  let key: Bytes;
  try {
    key =
      typeof privateKey === 'string'
        ? hexToBytes(privateKey, { allowPrefix: true, length: 32 })
        : toBytes(privateKey);
  } catch (cause) {
    throw new TeeSigningError('ERR_KEY_INVALID', 'secp256k1 private key must be 32 bytes (hex or bytes)', {
      cause,
    });
  }
  if (key.length !== 32 || !secp256k1.utils.isValidSecretKey(key)) {
    throw new TeeSigningError('ERR_KEY_INVALID', 'secp256k1 private key must be 32 bytes in [1, n-1]');
  }
  return key;
}

/**
 * `personal_sign` with a secp256k1 key (deterministic RFC 6979, low-S, as eth_account): returns
 * `0x` + r‖s‖v hex (65 bytes, v = 27 or 28).
 * @example
 * ```ts
 * personalSign(privateKeyHex, 'hello world'); // '0x…1b' or '0x…1c'
 * ```
 * @throws TeeSigningError `ERR_KEY_INVALID` for an invalid key.
 */
export function personalSign(privateKey: Uint8Array | string, message: Uint8Array | string): string {
  const key = secpSecretKey(privateKey);
  const recovered = secp256k1.sign(eip191MessageHash(message), key, {
    prehash: false,
    format: 'recovered',
    lowS: true,
  });
  // noble's recovered format is recovery ‖ r ‖ s; Ethereum's is r ‖ s ‖ (27 + recovery).
  return '0x' + bytesToHex(recovered.subarray(1)) + (27 + recovered[0]!).toString(16);
}

function parseEthereumSignature(signature: string | Uint8Array): Bytes {
  let bytes: Bytes;
  try {
    bytes = typeof signature === 'string' ? hexToBytes(signature, { allowPrefix: true }) : toBytes(signature);
  } catch (cause) {
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'ECDSA signature must be hex', { cause });
  }
  if (!isBytes(bytes) || bytes.length !== 65) {
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'ECDSA signature must be 65 bytes (r ‖ s ‖ v)');
  }
  const v = bytes[64]!;
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1)
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'ECDSA signature has an invalid v');
  return concatBytes(Uint8Array.of(recovery), bytes.subarray(0, 64));
}

/**
 * Recovers the EIP-55 address that produced a `personal_sign` signature over `message`.
 * High-S (malleable) signatures are refused.
 * @throws TeeSigningError `ERR_SIGNATURE_MALFORMED` (encoding, length, v, r/s range) or
 * `ERR_SIGNATURE_INVALID` (high S, no recoverable key).
 */
export function recoverPersonalSignAddress(
  message: Uint8Array | string,
  signature: string | Uint8Array,
): string {
  const recovered = parseEthereumSignature(signature);
  let parsed: ReturnType<typeof secp256k1.Signature.fromBytes>;
  try {
    parsed = secp256k1.Signature.fromBytes(recovered, 'recovered');
  } catch (cause) {
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'ECDSA signature r or s is out of range', { cause });
  }
  if (parsed.s > HALF_ORDER)
    throw new TeeSigningError('ERR_SIGNATURE_INVALID', 'ECDSA signature has a high S value');
  let point: Uint8Array;
  try {
    point = parsed.recoverPublicKey(eip191MessageHash(message)).toBytes(false);
  } catch (cause) {
    throw new TeeSigningError(
      'ERR_SIGNATURE_INVALID',
      'no public key can be recovered from the ECDSA signature',
      { cause },
    );
  }
  return toChecksumAddress(bytesToHex(keccak256(point.subarray(1)).subarray(12)));
}

// ---------------------------------------------------------------------------------------------------
// Ed25519
// ---------------------------------------------------------------------------------------------------

function edSecretKey(privateKey: Uint8Array | string): Bytes {
  try {
    const key =
      typeof privateKey === 'string' ? hexToBytes(privateKey, { allowPrefix: true }) : toBytes(privateKey);
    if (key.length !== 32) throw new RangeError('length');
    return key;
  } catch (cause) {
    throw new TeeSigningError(
      'ERR_KEY_INVALID',
      'Ed25519 private key must be a 32-byte seed (hex or bytes)',
      { cause },
    );
  }
}

/** Ed25519 signature over the UTF-8 text, as hex without `0x` (128 digits). */
export function ed25519SignText(privateKey: Uint8Array | string, text: Uint8Array | string): string {
  return bytesToHex(ed25519.sign(bytesInput(text, 'text'), edSecretKey(privateKey)));
}

/**
 * Strict RFC 8032 Ed25519 verification (non-canonical encodings refused) of a hex or byte signature over
 * the UTF-8 text.
 * @throws TeeSigningError `ERR_SIGNATURE_MALFORMED` / `ERR_KEY_INVALID` for wrongly sized inputs.
 */
export function ed25519VerifyText(
  publicKey: Uint8Array | string,
  text: Uint8Array | string,
  signature: Uint8Array | string,
): boolean {
  let key: Bytes;
  let sig: Bytes;
  try {
    key =
      typeof publicKey === 'string'
        ? hexToBytes(publicKey, { allowPrefix: true, length: 32 })
        : toBytes(publicKey);
  } catch (cause) {
    throw new TeeSigningError('ERR_KEY_INVALID', 'Ed25519 public key must be 32 bytes of hex', { cause });
  }
  if (key.length !== 32) throw new TeeSigningError('ERR_KEY_INVALID', 'Ed25519 public key must be 32 bytes');
  try {
    sig =
      typeof signature === 'string'
        ? hexToBytes(signature, { allowPrefix: true, length: 64 })
        : toBytes(signature);
  } catch (cause) {
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'Ed25519 signature must be 64 bytes of hex', {
      cause,
    });
  }
  if (sig.length !== 64)
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'Ed25519 signature must be 64 bytes');
  try {
    return ed25519.verify(sig, bytesInput(text, 'text'), key, { zip215: false });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Signers
// ---------------------------------------------------------------------------------------------------

/** The record `GET /v1/signature/{id}` returns for one algorithm. */
export interface VllmSignatureRecord {
  /** `"<request_sha256_hex>:<response_sha256_hex>"`. */
  text: string;
  /** ECDSA: `0x` + 65-byte r‖s‖v hex; Ed25519: 64-byte hex without `0x`. */
  signature: string;
  /** ECDSA: EIP-55 address; Ed25519: 32-byte public key hex. */
  signing_address: string;
  /** `ecdsa` or `ed25519`. */
  signing_algo: VllmSigningAlgorithm;
}

/** What a proxy signs after a response: either the two hashes, or the bytes they are computed from. */
export interface VllmExchange {
  /** Request hash (hex); default computed from `requestBody` / `requestHashHeader`. */
  requestHash?: string;
  /** Raw request body bytes as received. */
  requestBody?: Uint8Array | string;
  /** `X-Request-Hash` header value, trusted as-is when present. */
  requestHashHeader?: string | null;
  /** Response hash (hex), e.g. from {@link createResponseHasher}. */
  responseHash?: string;
  /** Exact response bytes sent. */
  responseBytes?: Uint8Array | string;
}

function exchangeText(exchange: VllmExchange): string {
  let requestHash = exchange.requestHash;
  if (requestHash === undefined) {
    if (exchange.requestBody === undefined && !exchange.requestHashHeader) {
      throw new TypeError('give requestHash, requestBody or requestHashHeader');
    }
    requestHash = vllmRequestHash(exchange.requestBody ?? new Uint8Array(0), exchange.requestHashHeader);
  }
  let responseHash = exchange.responseHash;
  if (responseHash === undefined) {
    if (exchange.responseBytes === undefined) throw new TypeError('give responseHash or responseBytes');
    responseHash = vllmResponseHash(exchange.responseBytes);
  }
  return vllmSignedText(requestHash, responseHash);
}

function secp256k1PublicKey(key: Bytes): Bytes {
  return toBytes(nativeSecp256k1PublicKey(key) ?? secp256k1.getPublicKey(key, false));
}

function ed25519PublicKey(key: Bytes): Bytes {
  return toBytes(nativeEd25519PublicKey(key) ?? ed25519.getPublicKey(key));
}

/**
 * The public key of a vllm-proxy signing key: for `ecdsa` the 65-byte uncompressed SEC1 point of the secp256k1
 * scalar, for `ed25519` the 32-byte public key of the seed. Computed by node:crypto where the runtime has it
 * (checked once per process against published known answers), else by @noble/curves; both give the same bytes.
 * The native path spares a process the pure implementation's precomputed tables at start-up.
 * @example
 * ```ts
 * const publicKey = vllmProxyPublicKey('ed25519', seed); // 32 bytes
 * ```
 * @throws TeeSigningError `ERR_KEY_INVALID` for an invalid private key; TypeError for an unknown algorithm.
 */
export function vllmProxyPublicKey(algorithm: VllmSigningAlgorithm, privateKey: Uint8Array | string): Bytes {
  return algorithmOf(algorithm) === 'ecdsa'
    ? secp256k1PublicKey(secpSecretKey(privateKey))
    : ed25519PublicKey(edSecretKey(privateKey));
}

/** A vllm-proxy signing identity for one algorithm. */
export interface VllmProxySigner {
  /** `ecdsa` or `ed25519`. */
  readonly algorithm: VllmSigningAlgorithm;
  /** ECDSA: EIP-55 address; Ed25519: public key hex. */
  readonly signingAddress: string;
  /** The identity bound into TDX report_data (20-byte address or 32-byte public key), before zero padding. */
  readonly signingAddressBytes: Bytes;
  /** `signing_public_key` as published in the attestation report: ECDSA X‖Y (64 bytes) hex, Ed25519 32-byte hex. */
  readonly signingPublicKey: string;
  /** Signs a text (UTF-8): ECDSA personal_sign `0x…` hex, Ed25519 hex. */
  sign(text: string): string;
  /** Builds the signed text from an exchange and signs it. */
  signExchange(exchange: VllmExchange): VllmSignatureRecord;
}

/** Options for {@link createVllmProxySigner}. */
export interface VllmProxySignerOptions {
  /** `ecdsa` (secp256k1, EIP-191) or `ed25519`. */
  algorithm: VllmSigningAlgorithm;
  /** 32-byte private key (ECDSA scalar or Ed25519 seed), hex or bytes. Omit for a fresh random key. */
  privateKey?: Uint8Array | string;
}

/**
 * Creates a vllm-proxy signer. Keys are random per process unless `privateKey` is given (D11: derive it
 * from a configured secret with {@link deriveVllmProxyKeys} to keep it stable across restarts).
 *
 * @example
 * ```ts
 * const signer = createVllmProxySigner({ algorithm: 'ecdsa' });
 * const record = signer.signExchange({ requestBody: rawBody, responseBytes: sentBytes });
 * // { text, signature, signing_address, signing_algo: 'ecdsa' }
 * ```
 * @throws TeeSigningError `ERR_KEY_INVALID` for an invalid private key; TypeError for an unknown algorithm.
 */
export function createVllmProxySigner(options: VllmProxySignerOptions): VllmProxySigner {
  const algorithm = algorithmOf(options?.algorithm);
  let sign: (text: string) => string;
  let signingAddress: string;
  let signingAddressBytes: Bytes;
  let signingPublicKey: string;
  if (algorithm === 'ecdsa') {
    const key =
      options.privateKey === undefined
        ? toBytes(secp256k1.utils.randomSecretKey())
        : secpSecretKey(options.privateKey);
    const point = secp256k1PublicKey(key);
    signingPublicKey = bytesToHex(point.subarray(1));
    signingAddress = ethereumAddressFromPublicKey(point);
    signingAddressBytes = hexToBytes(signingAddress, { allowPrefix: true });
    sign = (text) => personalSign(key, text);
  } else {
    const key =
      options.privateKey === undefined
        ? toBytes(ed25519.utils.randomSecretKey())
        : edSecretKey(options.privateKey);
    const publicKey = ed25519PublicKey(key);
    signingPublicKey = bytesToHex(publicKey);
    signingAddress = signingPublicKey;
    signingAddressBytes = publicKey;
    const native = nativeEd25519Signer(key);
    sign = native
      ? (text) => bytesToHex(native(bytesInput(text, 'text')))
      : (text) => ed25519SignText(key, text);
  }
  return Object.freeze({
    algorithm,
    signingAddress,
    signingAddressBytes,
    signingPublicKey,
    sign(text: string): string {
      if (typeof text !== 'string') throw new TypeError('text must be a string');
      return sign(text);
    },
    signExchange(exchange: VllmExchange): VllmSignatureRecord {
      const text = exchangeText(exchange);
      return { text, signature: sign(text), signing_address: signingAddress, signing_algo: algorithm };
    },
  });
}

/** The record the reference stores per completion id (both algorithms). */
export interface VllmStoredSignatures {
  /** The signed text. */
  text: string;
  /** ECDSA personal_sign signature. */
  signature_ecdsa: string;
  /** EIP-55 address. */
  signing_address_ecdsa: string;
  /** Ed25519 signature hex. */
  signature_ed25519: string;
  /** Ed25519 public key hex. */
  signing_address_ed25519: string;
}

/**
 * Signs an exchange with both signers, producing the record the reference caches under the completion
 * id (`{text, signature_ecdsa, signing_address_ecdsa, signature_ed25519, signing_address_ed25519}`).
 */
export function signVllmExchange(
  signers: { ecdsa: VllmProxySigner; ed25519: VllmProxySigner },
  exchange: VllmExchange,
): VllmStoredSignatures {
  if (signers.ecdsa?.algorithm !== 'ecdsa' || signers.ed25519?.algorithm !== 'ed25519') {
    throw new TypeError('signers must be one ecdsa and one ed25519 signer');
  }
  const text = exchangeText(exchange);
  return {
    text,
    signature_ecdsa: signers.ecdsa.sign(text),
    signing_address_ecdsa: signers.ecdsa.signingAddress,
    signature_ed25519: signers.ed25519.sign(text),
    signing_address_ed25519: signers.ed25519.signingAddress,
  };
}

/** Selects the `GET /v1/signature/{id}` answer for one algorithm from a stored record. */
export function selectVllmSignature(
  stored: VllmStoredSignatures,
  algorithm: VllmSigningAlgorithm,
): VllmSignatureRecord {
  const algo = algorithmOf(algorithm);
  return algo === 'ecdsa'
    ? {
        text: stored.text,
        signature: stored.signature_ecdsa,
        signing_address: stored.signing_address_ecdsa,
        signing_algo: 'ecdsa',
      }
    : {
        text: stored.text,
        signature: stored.signature_ed25519,
        signing_address: stored.signing_address_ed25519,
        signing_algo: 'ed25519',
      };
}

/**
 * Derives stable per-deployment keys from a secret seed (D11): HKDF-SHA256 (no salt) with info
 * `confidential-ai/vllm-proxy/ecdsa/v1` (48 bytes reduced to a scalar in [1, n-1]) and
 * `confidential-ai/vllm-proxy/ed25519/v1` (32-byte seed).
 * @throws RangeError when the seed is shorter than 32 bytes.
 */
export function deriveVllmProxyKeys(seed: Uint8Array): { ecdsaPrivateKey: Bytes; ed25519PrivateKey: Bytes } {
  assertBytes(seed, 'seed');
  if (seed.length < 32) throw new RangeError('seed must be at least 32 bytes');
  const wide = hkdf(nobleSha256, seed, undefined, utf8ToBytes('confidential-ai/vllm-proxy/ecdsa/v1'), 48);
  let scalar = 0n;
  for (const byte of wide) scalar = (scalar << 8n) | BigInt(byte);
  scalar = (scalar % (SECP256K1_ORDER - 1n)) + 1n;
  const ecdsaPrivateKey = hexToBytes(scalar.toString(16).padStart(64, '0'));
  const ed25519PrivateKey = toBytes(
    hkdf(nobleSha256, seed, undefined, utf8ToBytes('confidential-ai/vllm-proxy/ed25519/v1'), 32),
  );
  return { ecdsaPrivateKey, ed25519PrivateKey };
}

// ---------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------

/** Options for {@link verifyVllmSignature}. */
export interface VerifyVllmSignatureOptions {
  /** `ecdsa` or `ed25519`. */
  algorithm: VllmSigningAlgorithm;
  /** The signed text. */
  text: string;
  /** The signature as returned by the proxy. */
  signature: string;
  /** The trusted signing address (from an attestation): EIP-55/hex address or Ed25519 public key hex. */
  signingAddress: string;
}

/**
 * Verifies one vllm-proxy signature against a trusted signing address. ECDSA recovers the signer from
 * the EIP-191 signature and compares addresses (case-insensitively); Ed25519 verifies against the public
 * key.
 * @example
 * ```ts
 * verifyVllmSignature({ algorithm: 'ecdsa', text, signature, signingAddress: attestedAddress });
 * ```
 * @throws TeeSigningError `ERR_ADDRESS_MISMATCH` (other signer), `ERR_SIGNATURE_INVALID`,
 * `ERR_SIGNATURE_MALFORMED`, `ERR_KEY_INVALID`.
 */
export function verifyVllmSignature(options: VerifyVllmSignatureOptions): {
  algorithm: VllmSigningAlgorithm;
  signingAddress: string;
} {
  const algorithm = algorithmOf(options?.algorithm);
  if (typeof options.text !== 'string') throw new TypeError('text must be a string');
  if (typeof options.signature !== 'string')
    throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'signature must be a string');
  if (typeof options.signingAddress !== 'string') throw new TypeError('signingAddress must be a string');
  if (algorithm === 'ecdsa') {
    if (!/^(0x)?[0-9a-fA-F]{40}$/.test(options.signingAddress))
      throw new TeeSigningError('ERR_KEY_INVALID', 'signingAddress is not an Ethereum address');
    const recovered = recoverPersonalSignAddress(options.text, options.signature);
    if (recovered.toLowerCase() !== ('0x' + options.signingAddress.replace(/^0x/, '')).toLowerCase()) {
      throw new TeeSigningError(
        'ERR_ADDRESS_MISMATCH',
        `signature was made by ${recovered}, not by the expected address`,
      );
    }
    return { algorithm, signingAddress: recovered };
  }
  if (!ed25519VerifyText(options.signingAddress, options.text, options.signature)) {
    throw new TeeSigningError('ERR_SIGNATURE_INVALID', 'Ed25519 signature verification failed');
  }
  return { algorithm, signingAddress: options.signingAddress.replace(/^0x/, '').toLowerCase() };
}

/** Options for {@link verifyVllmExchange}. */
export interface VerifyVllmExchangeOptions extends VllmExchange {
  /** The `GET /v1/signature/{id}` answer. */
  record: VllmSignatureRecord;
  /** The trusted signing address (from a verified attestation). */
  expectedSigningAddress: string;
}

/**
 * Verifies a signature record against the exchange the client saw: recomputes the text from the request
 * and the received response bytes (or given hashes), requires `record.text` to equal it, requires
 * `record.signing_address` to be the expected one, then verifies the signature.
 * @throws TeeSigningError `ERR_TEXT_MISMATCH`, `ERR_ADDRESS_MISMATCH`, `ERR_SIGNATURE_INVALID`,
 * `ERR_SIGNATURE_MALFORMED`, `ERR_KEY_INVALID`, `ERR_RESPONSE_MALFORMED` (bad record).
 */
export function verifyVllmExchange(options: VerifyVllmExchangeOptions): {
  algorithm: VllmSigningAlgorithm;
  signingAddress: string;
  text: string;
} {
  const record = options?.record;
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.text !== 'string' ||
    typeof record.signature !== 'string'
  ) {
    throw new TeeSigningError(
      'ERR_RESPONSE_MALFORMED',
      'signature record must have string text and signature',
    );
  }
  if (record.signing_algo !== 'ecdsa' && record.signing_algo !== 'ed25519') {
    throw new TeeSigningError('ERR_RESPONSE_MALFORMED', 'signature record has an unknown signing_algo');
  }
  const text = exchangeText(options);
  if (record.text !== text)
    throw new TeeSigningError(
      'ERR_TEXT_MISMATCH',
      'signed text does not match the request and response hashes',
    );
  const expected = options.expectedSigningAddress;
  if (
    typeof record.signing_address !== 'string' ||
    record.signing_address.replace(/^0x/, '').toLowerCase() !==
      String(expected).replace(/^0x/, '').toLowerCase()
  ) {
    throw new TeeSigningError(
      'ERR_ADDRESS_MISMATCH',
      'record signing_address is not the expected signing address',
    );
  }
  const result = verifyVllmSignature({
    algorithm: record.signing_algo,
    text,
    signature: record.signature,
    signingAddress: expected,
  });
  return { ...result, text };
}
