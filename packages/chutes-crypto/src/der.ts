import type { Bytes } from '@confidential-ai/bytes';
import { ML_KEM_768_SECRET_KEY_LENGTH } from './constants.js';

// DER framing for ML-KEM-768 keys (RFC 9935 / draft-ietf-lamps-kyber-certificates): the algorithm identifier
// is id-alg-ml-kem-768 (OID 2.16.840.1.101.3.4.4.2) without parameters. The private key uses the
// `expandedKey` choice, an OCTET STRING of the 2400-byte FIPS 203 decapsulation key, so that node:crypto
// (OpenSSL >= 3.5) can import the same expanded key that the pure implementation uses.

const ALGORITHM_IDENTIFIER = [0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x02];

function header(tag: number, length: number): number[] {
  return [tag, 0x82, length >> 8, length & 0xff];
}

/** Wraps a 2400-byte expanded ML-KEM-768 decapsulation key as PKCS#8 DER (`expandedKey` form). */
export function expandedSecretKeyToPkcs8(secretKey: Uint8Array): Bytes {
  const inner = ML_KEM_768_SECRET_KEY_LENGTH + 4; // OCTET STRING { expandedKey }
  const octet = inner + 4; // privateKey OCTET STRING wrapping it
  const body = 3 + ALGORITHM_IDENTIFIER.length + octet;
  const prefix = [
    ...header(0x30, body),
    0x02,
    0x01,
    0x00,
    ...ALGORITHM_IDENTIFIER,
    ...header(0x04, inner),
    ...header(0x04, ML_KEM_768_SECRET_KEY_LENGTH),
  ];
  const out = new Uint8Array(prefix.length + ML_KEM_768_SECRET_KEY_LENGTH);
  out.set(prefix, 0);
  out.set(secretKey, prefix.length);
  return out;
}

/**
 * Extracts the 2400-byte expanded key from a PKCS#8 export of node:crypto, which uses either the `both`
 * form (SEQUENCE { seed, expandedKey }) or the `expandedKey` form; in both the expanded key is the last
 * 2400 bytes, preceded by its OCTET STRING header.
 */
export function expandedSecretKeyFromPkcs8(der: Uint8Array): Bytes | undefined {
  const start = der.length - ML_KEM_768_SECRET_KEY_LENGTH;
  if (start < 4) return undefined;
  const expected = header(0x04, ML_KEM_768_SECRET_KEY_LENGTH);
  for (let i = 0; i < 4; i++) if (der[start - 4 + i] !== expected[i]) return undefined;
  // Copy explicitly: `der` may be a Node Buffer, whose slice() is a view.
  const out = new Uint8Array(ML_KEM_768_SECRET_KEY_LENGTH);
  out.set(der.subarray(start));
  return out;
}
