import { bytesToHex, concatBytes, equalBytes, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { blake2b } from '@noble/hashes/blake2.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58 } from '@scure/base';
import * as sr25519 from '@scure/sr25519';
import { ChutesCliError } from '../errors.js';

/** The SS58 network prefix used by Chutes / Bittensor (generic Substrate). */
export const SS58_PREFIX = 42;

/** Header names the Python SDK sends (SDK:chutes/constants.py). */
export const HEADERS = {
  userId: 'X-Chutes-UserID',
  hotkey: 'X-Chutes-Hotkey',
  signature: 'X-Chutes-Signature',
  nonce: 'X-Chutes-Nonce',
  coldkey: 'X-Chutes-Coldkey',
  version: 'X-Chutes-Version',
} as const;

const SS58_CONTEXT = utf8ToBytes('SS58PRE');

function ss58Checksum(payload: Uint8Array): Uint8Array {
  return blake2b(concatBytes(SS58_CONTEXT, payload), { dkLen: 64 }).subarray(0, 2);
}

/**
 * Encodes a 32-byte public key as an SS58 address (single-byte prefix, default 42).
 * @example
 * ```ts
 * ss58Encode(new Uint8Array(32)); // '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM'
 * ```
 * @throws TypeError / RangeError for a public key that is not 32 bytes or a prefix outside 0..63.
 */
export function ss58Encode(publicKey: Uint8Array, prefix: number = SS58_PREFIX): string {
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('publicKey must be a Uint8Array');
  if (publicKey.length !== 32) throw new RangeError('publicKey must be 32 bytes');
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 63) throw new RangeError('prefix must be 0..63');
  const payload = concatBytes(Uint8Array.of(prefix), publicKey);
  return base58.encode(concatBytes(payload, ss58Checksum(payload)));
}

/**
 * Decodes an SS58 address with a single-byte prefix and a 2-byte checksum.
 * @returns the prefix and the 32-byte public key.
 * @throws ChutesCliError `ERR_VALIDATION` when the address is malformed or its checksum is wrong.
 */
export function ss58Decode(address: string): { prefix: number; publicKey: Uint8Array } {
  let raw: Uint8Array;
  try {
    raw = base58.decode(address);
  } catch (error) {
    throw new ChutesCliError('ERR_VALIDATION', 'SS58 address is not valid base58', { cause: error });
  }
  if (raw.length !== 35 || raw[0]! > 63) {
    throw new ChutesCliError('ERR_VALIDATION', 'SS58 address has an unsupported length or prefix');
  }
  const payload = raw.subarray(0, 33);
  if (!equalBytes(ss58Checksum(payload), raw.subarray(33))) {
    throw new ChutesCliError('ERR_VALIDATION', 'SS58 address checksum mismatch');
  }
  return { prefix: raw[0]!, publicKey: raw.slice(1, 33) };
}

/** An sr25519 key pair derived from a 32-byte mini secret (Ed25519-mode expansion, as schnorrkel). */
export interface Hotkey {
  /** 64-byte expanded secret key. Never log it. */
  readonly secretKey: Uint8Array;
  /** 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** SS58 (prefix 42) address of the public key. */
  readonly ss58Address: string;
}

/**
 * Derives the hotkey from the mini secret, given as 64 hex characters with or without `0x`
 * (the config.ini `hotkey_seed` or the wallet's `secretSeed`), or as 32 bytes.
 * @example
 * ```ts
 * hotkeyFromSeed('e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a').ss58Address;
 * // '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'
 * ```
 * @throws ChutesCliError `ERR_CONFIG_INVALID` when the seed is not 32 bytes of hex.
 */
export function hotkeyFromSeed(seed: string | Uint8Array): Hotkey {
  let bytes: Uint8Array;
  if (typeof seed === 'string') {
    try {
      bytes = hexToBytes(seed.trim(), { allowPrefix: true, length: 32 });
    } catch (error) {
      throw new ChutesCliError('ERR_CONFIG_INVALID', 'hotkey seed must be 32 bytes of hex (64 characters)', {
        cause: error,
      });
    }
  } else {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) {
      throw new ChutesCliError('ERR_CONFIG_INVALID', 'hotkey seed must be 32 bytes');
    }
    bytes = seed;
  }
  const secretKey = sr25519.secretFromSeed(bytes);
  const publicKey = sr25519.getPublicKey(secretKey);
  return { secretKey, publicKey, ss58Address: ss58Encode(publicKey) };
}

/** Lowercase hex SHA-256 of the given bytes (or UTF-8 of a string). */
export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === 'string' ? utf8ToBytes(data) : data));
}

/** What a signature covers: the exact body bytes (body mode) or a purpose string (purpose mode). */
export type SigningSubject = { body: Uint8Array | string } | { purpose: string } | { payloadHash: string };

/**
 * Builds the signed message of the Python SDK: `hotkey:nonce:sha256hex(body)` (body mode),
 * `hotkey:nonce:purpose` (purpose mode) or `hotkey:nonce:payloadHash`.
 * An empty body is treated like Python's falsy payload and needs a purpose instead.
 * @throws TypeError when no usable subject is given.
 */
export function signingMessage(hotkey: string, nonce: string, subject: SigningSubject): string {
  if ('body' in subject && subject.body.length > 0) return `${hotkey}:${nonce}:${sha256Hex(subject.body)}`;
  if ('purpose' in subject && subject.purpose) return `${hotkey}:${nonce}:${subject.purpose}`;
  if ('payloadHash' in subject && subject.payloadHash) return `${hotkey}:${nonce}:${subject.payloadHash}`;
  throw new TypeError('signingMessage needs a non-empty body, a purpose or a payload hash');
}

/** sr25519-signs the UTF-8 bytes of `message` (context `substrate`) and returns lowercase hex without 0x. */
export function signMessage(hotkey: Hotkey, message: string | Uint8Array): string {
  return bytesToHex(
    sr25519.sign(hotkey.secretKey, typeof message === 'string' ? utf8ToBytes(message) : message),
  );
}

/**
 * Verifies a hex sr25519 signature over `message` for an SS58 address. Never throws on malformed input.
 */
export function verifyMessage(
  ss58Address: string,
  message: string | Uint8Array,
  signatureHex: string,
): boolean {
  try {
    const { publicKey } = ss58Decode(ss58Address);
    const signature = hexToBytes(signatureHex, { length: 64 });
    return sr25519.verify(typeof message === 'string' ? utf8ToBytes(message) : message, signature, publicKey);
  } catch {
    return false;
  }
}

/** Options for {@link signRequest}. */
export interface SignRequestOptions {
  /** The hotkey that signs. */
  hotkey: Hotkey;
  /** `[auth] user_id`; sent as `X-Chutes-UserID` when given. */
  userId?: string | undefined;
  /** Nonce override (Unix seconds); defaults to the current time. */
  nonce?: number;
  /** Clock used when `nonce` is not given, in milliseconds. */
  now?: () => number;
}

/**
 * Produces the hotkey headers of a signed management request, exactly as the Python SDK's `sign_request`:
 * `X-Chutes-UserID` (when known), `X-Chutes-Hotkey`, `X-Chutes-Nonce` (seconds) and `X-Chutes-Signature`.
 * @example
 * ```ts
 * const headers = signRequest({ purpose: 'chutes' }, { hotkey, userId });
 * ```
 */
export function signRequest(subject: SigningSubject, options: SignRequestOptions): Record<string, string> {
  const nowMs = options.now ? options.now() : Date.now();
  const nonce = String(options.nonce ?? Math.floor(nowMs / 1000));
  const headers: Record<string, string> = {};
  if (options.userId !== undefined) headers[HEADERS.userId] = options.userId;
  headers[HEADERS.hotkey] = options.hotkey.ss58Address;
  headers[HEADERS.nonce] = nonce;
  headers[HEADERS.signature] = signMessage(
    options.hotkey,
    signingMessage(options.hotkey.ss58Address, nonce, subject),
  );
  return headers;
}
