import {
  type Bytes,
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  concatBytes,
  isBytes,
  toBytes,
} from '@confidential-ai/bytes';
import { TeeSigningError } from './errors.js';
import { keccak256 } from './hashes.js';

/** An RSA public key: SPKI PEM (`PUBLIC KEY`), PKCS#1 PEM (`RSA PUBLIC KEY`), SPKI DER bytes, a JWK or a CryptoKey. */
export type RsaPublicKeyInput = string | Uint8Array | JsonWebKey | CryptoKey;
/** An RSA private key: PKCS#8 PEM (`PRIVATE KEY`), PKCS#1 PEM (`RSA PRIVATE KEY`), PKCS#8 DER bytes, a JWK or a CryptoKey. */
export type RsaPrivateKeyInput = string | Uint8Array | JsonWebKey | CryptoKey;

/** The WebCrypto algorithm of the OpenGradient scheme: RSASSA-PSS, SHA-256, MGF1-SHA-256. */
export const RSA_PSS_SHA256: RsaHashedImportParams = Object.freeze({ name: 'RSA-PSS', hash: 'SHA-256' });
/** PSS salt length of the OpenGradient scheme (equals the SHA-256 output size). */
export const PSS_SALT_LENGTH = 32;
const MIN_MODULUS_BITS = 2048;
const MAX_MODULUS_BITS = 16384;

/**
 * Returns `globalThis.crypto.subtle`.
 * @throws TeeSigningError `ERR_CRYPTO_UNAVAILABLE` when WebCrypto is missing.
 */
export function getSubtle(): SubtleCrypto {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle)
    throw new TeeSigningError(
      'ERR_CRYPTO_UNAVAILABLE',
      'WebCrypto (globalThis.crypto.subtle) is not available',
    );
  return subtle;
}

function keyError(message: string, cause?: unknown): TeeSigningError {
  return new TeeSigningError('ERR_KEY_INVALID', message, cause === undefined ? undefined : { cause });
}

// --- Minimal DER writer, only to wrap PKCS#1 keys (which WebCrypto cannot import) in SPKI / PKCS#8. ---
function derLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}
function der(tag: number, ...content: Uint8Array[]): Bytes {
  const body = concatBytes(...content);
  return concatBytes(Uint8Array.of(tag), derLength(body.length), body);
}
// AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
const RSA_ALGORITHM_ID = Uint8Array.of(
  0x30,
  0x0d,
  0x06,
  0x09,
  0x2a,
  0x86,
  0x48,
  0x86,
  0xf7,
  0x0d,
  0x01,
  0x01,
  0x01,
  0x05,
  0x00,
);
function spkiFromPkcs1(pkcs1: Uint8Array): Bytes {
  return der(0x30, RSA_ALGORITHM_ID, der(0x03, Uint8Array.of(0), pkcs1));
}
function pkcs8FromPkcs1(pkcs1: Uint8Array): Bytes {
  return der(0x30, Uint8Array.of(0x02, 0x01, 0x00), RSA_ALGORITHM_ID, der(0x04, pkcs1));
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/;

/**
 * Decodes the first PEM block of a text (RFC 7468, strict base64 body).
 * @throws TeeSigningError `ERR_KEY_INVALID` when there is no well-formed block.
 */
export function decodePem(text: string): { label: string; der: Bytes } {
  const match = PEM_BLOCK.exec(text);
  if (match === null || match[1] !== match[3]) throw keyError('not a PEM block');
  const body = match[2]!.replace(/[\r\n\t ]/g, '');
  try {
    return { label: match[1]!, der: base64ToBytes(body) };
  } catch (cause) {
    throw keyError('PEM body is not valid base64', cause);
  }
}

/** Encodes DER bytes as PEM with 64-character lines and a trailing newline (like Python `cryptography`). */
export function encodePem(label: string, derBytes: Uint8Array): string {
  const base64 = bytesToBase64(derBytes);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function isCryptoKey(value: unknown): value is CryptoKey {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CryptoKey).type === 'string' &&
    typeof (value as CryptoKey).algorithm === 'object' &&
    Array.isArray((value as CryptoKey).usages)
  );
}

function checkModulus(key: CryptoKey): CryptoKey {
  const algorithm = key.algorithm as RsaHashedKeyAlgorithm;
  const bits = algorithm.modulusLength;
  if (typeof bits !== 'number' || bits < MIN_MODULUS_BITS || bits > MAX_MODULUS_BITS) {
    throw keyError(`RSA modulus must be ${MIN_MODULUS_BITS}-${MAX_MODULUS_BITS} bits`);
  }
  return key;
}

function isPssSha256(key: CryptoKey): boolean {
  const algorithm = key.algorithm as RsaHashedKeyAlgorithm;
  return algorithm.name === 'RSA-PSS' && algorithm.hash?.name === 'SHA-256';
}

async function importOrFail(
  format: 'spki' | 'pkcs8' | 'jwk',
  data: Uint8Array | JsonWebKey,
  usage: 'sign' | 'verify',
  extractable: boolean,
): Promise<CryptoKey> {
  const subtle = getSubtle();
  try {
    const key =
      format === 'jwk'
        ? await subtle.importKey('jwk', data as JsonWebKey, RSA_PSS_SHA256, extractable, [usage])
        : await subtle.importKey(format, toBytes(data as Uint8Array), RSA_PSS_SHA256, extractable, [usage]);
    return checkModulus(key);
  } catch (cause) {
    if (TeeSigningError.isInstance(cause)) throw cause;
    throw keyError(`could not import the RSA ${usage === 'sign' ? 'private' : 'public'} key`, cause);
  }
}

function publicJwk(jwk: JsonWebKey): JsonWebKey {
  if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string' || typeof jwk.e !== 'string')
    throw keyError('JWK is not an RSA key');
  return { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'PS256', ext: true };
}

/**
 * Imports an RSA public key for RSA-PSS/SHA-256 verification. A private key (JWK or extractable
 * CryptoKey) is reduced to its public half.
 * @throws TeeSigningError `ERR_KEY_INVALID` for anything that is not an RSA key of 2048-16384 bits.
 */
export async function importRsaPublicKey(input: RsaPublicKeyInput): Promise<CryptoKey> {
  if (isCryptoKey(input)) {
    if (
      input.algorithm.name !== 'RSA-PSS' &&
      input.algorithm.name !== 'RSASSA-PKCS1-v1_5' &&
      input.algorithm.name !== 'RSA-OAEP'
    ) {
      throw keyError('CryptoKey is not an RSA key');
    }
    if (input.type === 'public' && isPssSha256(input) && input.usages.includes('verify'))
      return checkModulus(input);
    if (input.type === 'public')
      return importOrFail('spki', new Uint8Array(await getSubtle().exportKey('spki', input)), 'verify', true);
    if (!input.extractable)
      throw keyError('cannot derive a public key from a non-extractable private CryptoKey');
    const jwk = await getSubtle().exportKey('jwk', input);
    return importOrFail('jwk', publicJwk(jwk), 'verify', true);
  }
  if (typeof input === 'string') {
    const { label, der: body } = decodePem(input);
    if (label === 'PUBLIC KEY') return importOrFail('spki', body, 'verify', true);
    if (label === 'RSA PUBLIC KEY') return importOrFail('spki', spkiFromPkcs1(body), 'verify', true);
    if (label === 'PRIVATE KEY' || label === 'RSA PRIVATE KEY') {
      const privateKey = await importRsaPrivateKey(input, { extractable: true });
      return importRsaPublicKey(privateKey);
    }
    throw keyError(`unsupported PEM label ${JSON.stringify(label)}`);
  }
  if (isBytes(input)) return importOrFail('spki', input, 'verify', true);
  if (typeof input === 'object' && input !== null)
    return importOrFail('jwk', publicJwk(input as JsonWebKey), 'verify', true);
  throw new TypeError('publicKey must be a PEM string, SPKI DER bytes, a JWK or a CryptoKey');
}

/** Options for {@link importRsaPrivateKey}. */
export interface ImportRsaPrivateKeyOptions {
  /** Whether the imported CryptoKey may be exported (needed to derive the public key). Default false. */
  extractable?: boolean;
}

/**
 * Imports an RSA private key for RSA-PSS/SHA-256 signing.
 * @throws TeeSigningError `ERR_KEY_INVALID` for anything that is not an RSA private key of 2048-16384 bits.
 */
export async function importRsaPrivateKey(
  input: RsaPrivateKeyInput,
  options: ImportRsaPrivateKeyOptions = {},
): Promise<CryptoKey> {
  const extractable = options.extractable === true;
  if (isCryptoKey(input)) {
    if (input.type !== 'private') throw keyError('CryptoKey is not a private key');
    if (isPssSha256(input) && input.usages.includes('sign')) return checkModulus(input);
    if (!input.extractable)
      throw keyError('private CryptoKey must be RSA-PSS/SHA-256 with the sign usage, or extractable');
    return importOrFail(
      'pkcs8',
      new Uint8Array(await getSubtle().exportKey('pkcs8', input)),
      'sign',
      extractable,
    );
  }
  if (typeof input === 'string') {
    const { label, der: body } = decodePem(input);
    if (label === 'PRIVATE KEY') return importOrFail('pkcs8', body, 'sign', extractable);
    if (label === 'RSA PRIVATE KEY') return importOrFail('pkcs8', pkcs8FromPkcs1(body), 'sign', extractable);
    if (label === 'ENCRYPTED PRIVATE KEY')
      throw keyError('encrypted private keys are not supported; decrypt it first');
    throw keyError(`unsupported PEM label ${JSON.stringify(label)}`);
  }
  if (isBytes(input)) return importOrFail('pkcs8', input, 'sign', extractable);
  if (typeof input === 'object' && input !== null) {
    const jwk = input as JsonWebKey;
    if (jwk.kty !== 'RSA' || typeof jwk.d !== 'string') throw keyError('JWK is not an RSA private key');
    const { key_ops: _ops, use: _use, alg: _alg, ...rest } = jwk;
    return importOrFail('jwk', { ...rest, alg: 'PS256' }, 'sign', extractable);
  }
  throw new TypeError('privateKey must be a PEM string, PKCS#8 DER bytes, a JWK or a CryptoKey');
}

/** A freshly generated RSA key pair for the OpenGradient scheme. */
export interface RsaSigningKeyPair {
  /** RSA-PSS/SHA-256 private key (sign). */
  privateKey: CryptoKey;
  /** RSA-PSS/SHA-256 public key (verify). */
  publicKey: CryptoKey;
}

/** Options for {@link generateRsaSigningKeyPair}. */
export interface GenerateRsaSigningKeyPairOptions {
  /** Modulus size in bits. Default 2048 (as the reference gateway). */
  modulusLength?: number;
  /** Whether the private key may be exported. Default false. */
  extractable?: boolean;
}

/**
 * Generates an RSA key pair (public exponent 65537, 2048 bits by default) for RSA-PSS/SHA-256, as the
 * gateway does at start-up.
 * @example
 * ```ts
 * const { privateKey, publicKey } = await generateRsaSigningKeyPair();
 * ```
 */
export async function generateRsaSigningKeyPair(
  options: GenerateRsaSigningKeyPairOptions = {},
): Promise<RsaSigningKeyPair> {
  const modulusLength = options.modulusLength ?? 2048;
  if (
    !Number.isInteger(modulusLength) ||
    modulusLength < MIN_MODULUS_BITS ||
    modulusLength > MAX_MODULUS_BITS
  ) {
    throw new RangeError(`modulusLength must be an integer in [${MIN_MODULUS_BITS}, ${MAX_MODULUS_BITS}]`);
  }
  const pair = (await getSubtle().generateKey(
    { ...RSA_PSS_SHA256, modulusLength, publicExponent: new Uint8Array([1, 0, 1]) },
    options.extractable === true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** DER SubjectPublicKeyInfo of an RSA public key (the bytes tee_id hashes). */
export async function exportSpki(publicKey: RsaPublicKeyInput): Promise<Bytes> {
  const key = await importRsaPublicKey(publicKey);
  return new Uint8Array(await getSubtle().exportKey('spki', key));
}

/** SPKI PEM (`-----BEGIN PUBLIC KEY-----`) of an RSA public key, as served by `/signing-key`. */
export async function exportPublicKeyPem(publicKey: RsaPublicKeyInput): Promise<string> {
  return encodePem('PUBLIC KEY', await exportSpki(publicKey));
}

/** `0x` + keccak256 of SPKI DER bytes. */
export function teeIdFromSpki(spki: Uint8Array): string {
  return '0x' + bytesToHex(keccak256(spki));
}

/**
 * tee_id of an RSA public key: `0x` + Keccak-256 of its DER SubjectPublicKeyInfo (re-encoded canonically,
 * as Python `cryptography` does).
 * @example
 * ```ts
 * const teeId = await computeTeeId(publicKeyPem); // '0x…' (64 hex digits)
 * ```
 * @throws TeeSigningError `ERR_KEY_INVALID` when the key cannot be imported.
 */
export async function computeTeeId(publicKey: RsaPublicKeyInput): Promise<string> {
  return teeIdFromSpki(await exportSpki(publicKey));
}
