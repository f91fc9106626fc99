import { assertBytes, type Bytes, concatBytes, equalBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';

/** Size of TDX REPORTDATA. */
export const REPORT_DATA_SIZE = 64;

/**
 * Builds the Venice REPORTDATA: `signing address (20) || 12 zero bytes || nonce (32)`.
 * @param signingAddress the 20 raw bytes of the Keccak signing address
 * @param nonce the 32 raw bytes of the client nonce
 * @throws TypeError / RangeError for wrong types or lengths
 * @example
 * ```ts
 * const expected = veniceReportData(address, nonce);
 * await verifyTdxQuote(quote, { expectedReportData: expected });
 * ```
 */
export function veniceReportData(signingAddress: Uint8Array, nonce: Uint8Array): Bytes {
  assertBytes(signingAddress, 'signingAddress', 20);
  assertBytes(nonce, 'nonce', 32);
  return concatBytes(signingAddress, new Uint8Array(12), nonce);
}

/** Which part of a Venice REPORTDATA differs, or `undefined` when it matches. */
export type VeniceReportDataMismatch = 'address' | 'padding' | 'nonce' | undefined;

/**
 * Compares REPORTDATA with the Venice binding part by part, so that callers can report which part differs
 * (address first, then padding, then nonce).
 * @throws TypeError / RangeError for wrong types or lengths
 */
export function compareVeniceReportData(
  reportData: Uint8Array,
  signingAddress: Uint8Array,
  nonce: Uint8Array,
): VeniceReportDataMismatch {
  assertBytes(reportData, 'reportData', REPORT_DATA_SIZE);
  assertBytes(signingAddress, 'signingAddress', 20);
  assertBytes(nonce, 'nonce', 32);
  if (!equalBytes(reportData.subarray(0, 20), signingAddress)) return 'address';
  if (!equalBytes(reportData.subarray(20, 32), new Uint8Array(12))) return 'padding';
  if (!equalBytes(reportData.subarray(32, 64), nonce)) return 'nonce';
  return undefined;
}

/**
 * Computes the Chutes binding digest that must fill REPORTDATA bytes 0..32:
 * `SHA-256(UTF-8(nonceHex + publicKeyBase64))` (chutes >= 0.6.0).
 * @param nonceHex the caller's nonce string exactly as sent (64 lowercase hex characters in practice)
 * @param publicKeyBase64 the instance's `e2e_pubkey` string exactly as returned
 * @example
 * ```ts
 * await verifyTdxQuote(quote, { expectedReportData: chutesReportDataPrefix(nonce, pubkey) });
 * ```
 */
export function chutesReportDataPrefix(nonceHex: string, publicKeyBase64: string): Bytes {
  if (typeof nonceHex !== 'string') throw new TypeError('nonceHex must be a string');
  if (typeof publicKeyBase64 !== 'string') throw new TypeError('publicKeyBase64 must be a string');
  return sha256(utf8ToBytes(nonceHex + publicKeyBase64)) as Bytes;
}

/** True when the first 32 bytes of REPORTDATA hold the Chutes binding digest. */
export function matchesChutesReportData(
  reportData: Uint8Array,
  nonceHex: string,
  publicKeyBase64: string,
): boolean {
  assertBytes(reportData, 'reportData', REPORT_DATA_SIZE);
  return equalBytes(reportData.subarray(0, 32), chutesReportDataPrefix(nonceHex, publicKeyBase64));
}
