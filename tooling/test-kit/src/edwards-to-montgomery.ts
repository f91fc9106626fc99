// An oracle independent of the packages' own curve code: BigInt arithmetic only.
import { Buffer } from 'node:buffer';

const P = 2n ** 255n - 19n;

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

function littleEndianToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let index = bytes.length - 1; index >= 0; index--) value = (value << 8n) | BigInt(bytes[index]!);
  return value;
}

/** `value` as `length` little-endian bytes (the encoding of Curve25519 and Ed25519 field elements). */
export function bigIntToLittleEndian(value: bigint, length: number): Buffer {
  const out = Buffer.alloc(length);
  let v = value;
  for (let index = 0; index < length; index++) {
    out[index] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Ed25519 public key → X25519 u-coordinate, u = (1 + y) / (1 − y) mod p (the RFC 7748 birational map), computed with
 * BigInt only: a check of the packages' conversions that shares none of their code.
 * @param edPublic The 32-byte Ed25519 public key (the sign bit of x is ignored).
 * @returns The 32-byte little-endian u-coordinate.
 * @example
 * ```ts
 * expect(ed25519PublicKeyToX25519(publicKey)).toEqual(new Uint8Array(edPublicToX25519(publicKey)));
 * ```
 */
export function edPublicToX25519(edPublic: Uint8Array): Buffer {
  const y = littleEndianToBigInt(edPublic) & ((1n << 255n) - 1n);
  const u = (((1n + y) % P) * modPow((1n - y + P) % P, P - 2n, P)) % P;
  return bigIntToLittleEndian(u, 32);
}
