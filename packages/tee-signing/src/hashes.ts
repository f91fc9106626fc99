import {
  assertBytes,
  type Bytes,
  bytesToHex,
  concatBytes,
  hexToBytes,
  utf8ToBytes,
} from '@confidential-ai/bytes';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

function toInputBytes(data: Uint8Array | string, name: string): Uint8Array {
  if (typeof data === 'string') return utf8ToBytes(data);
  assertBytes(data, name);
  return data;
}

/**
 * Ethereum Keccak-256 (original Keccak padding, not SHA3-256). Strings are hashed as UTF-8.
 * @example
 * ```ts
 * bytesToHex(keccak256('')); // 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
 * ```
 */
export function keccak256(data: Uint8Array | string): Bytes {
  return keccak_256(toInputBytes(data, 'data')) as Bytes;
}

/** SHA-256. Strings are hashed as UTF-8. */
export function sha256(data: Uint8Array | string): Bytes {
  return nobleSha256(toInputBytes(data, 'data')) as Bytes;
}

/**
 * Encodes a non-negative integer as 32 big-endian bytes (Solidity `uint256`, Python `to_bytes(32, "big")`).
 * @throws TypeError for non-integers; RangeError for negative values or values of 2^256 or more.
 */
export function uint256BigEndian(value: number | bigint): Bytes {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new TypeError('value must be a safe integer or a bigint');
  }
  if (typeof value !== 'number' && typeof value !== 'bigint') throw new TypeError('value must be an integer');
  let big = BigInt(value);
  if (big < 0n || big >= 1n << 256n) throw new RangeError('value must be in [0, 2^256)');
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0 && big > 0n; i--) {
    out[i] = Number(big & 0xffn);
    big >>= 8n;
  }
  return out;
}

/** The three values the gateway's `compute_tee_msg_hash` returns. */
export interface TeeMessageHash {
  /** `keccak256(requestHash ‖ outputHash ‖ uint256_be(timestamp))`: the PSS *message*. */
  msgHash: Bytes;
  /** keccak256 of the request bytes, lowercase hex without `0x`. */
  requestHash: string;
  /** keccak256 of the UTF-8 response content, lowercase hex without `0x`. */
  outputHash: string;
}

/**
 * `msg_hash = keccak256(requestHash ‖ outputHash ‖ uint256_be(timestamp))` from two 32-byte hashes.
 * @throws RangeError when a hash is not 32 bytes or the timestamp is out of range.
 */
export function teeMessageHash(
  requestHash: Uint8Array,
  outputHash: Uint8Array,
  timestamp: number | bigint,
): Bytes {
  assertBytes(requestHash, 'requestHash', 32);
  assertBytes(outputHash, 'outputHash', 32);
  return keccak256(concatBytes(requestHash, outputHash, uint256BigEndian(timestamp)));
}

/**
 * Mirrors the gateway's `compute_tee_msg_hash(request_bytes, response_content, timestamp)`.
 * @example
 * ```ts
 * const { msgHash, requestHash, outputHash } = computeTeeMessageHash(requestBytes, 'Hello!', 1747000000);
 * ```
 */
export function computeTeeMessageHash(
  requestBytes: Uint8Array | string,
  responseContent: string,
  timestamp: number | bigint,
): TeeMessageHash {
  if (typeof responseContent !== 'string') throw new TypeError('responseContent must be a string');
  const request = keccak256(toInputBytes(requestBytes, 'requestBytes'));
  const output = keccak256(responseContent);
  return {
    msgHash: teeMessageHash(request, output, timestamp),
    requestHash: bytesToHex(request),
    outputHash: bytesToHex(output),
  };
}

/**
 * The heartbeat message the gateway signs: `keccak256(teeId(32 bytes) ‖ uint256_be(timestamp))`.
 * @param teeId - 32-byte tee_id as hex, with or without `0x`.
 * @throws RangeError when the tee_id is not 32 bytes of hex.
 */
export function heartbeatMessageHash(teeId: string, timestamp: number | bigint): Bytes {
  if (typeof teeId !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(teeId)) {
    throw new RangeError('teeId must be 32 bytes of hex');
  }
  return keccak256(concatBytes(hexToBytes(teeId, { allowPrefix: true }), uint256BigEndian(timestamp)));
}
