import { type Bytes, bytesToHex, hexToBytes, toBytes } from '@confidential-ai/bytes';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { VeniceE2eeError } from './errors.js';
import { normalizeSecp256k1PublicKey } from './key-agreement.js';

/**
 * The 20-byte Ethereum-style address of a secp256k1 public key: the last 20 bytes of Keccak-256 (original
 * Keccak padding, not SHA3-256) over the 64-byte `X ‖ Y`.
 * @param publicKey - Any form accepted by {@link normalizeSecp256k1PublicKey}.
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid key.
 */
export function signingAddressBytes(publicKey: string | Uint8Array): Bytes {
  const point = normalizeSecp256k1PublicKey(publicKey);
  return toBytes(keccak_256(point.subarray(1)).subarray(12));
}

/**
 * The signing address of a secp256k1 public key as `0x` + 40 lowercase hex characters.
 * @example
 * ```ts
 * signingAddress(getFieldPublicKey(one)); // '0x7e5f4552091a69125d5dfcb7b8c2659029395bdf'
 * ```
 * @throws VeniceE2eeError `ERR_KEY_INVALID` for an invalid key.
 */
export function signingAddress(publicKey: string | Uint8Array): string {
  return `0x${bytesToHex(signingAddressBytes(publicKey))}`;
}

/**
 * Parses a signing address: 40 hex characters with an optional `0x`, any case.
 * @throws VeniceE2eeError `ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH` when it is not an address.
 */
export function parseSigningAddress(text: string): Bytes {
  try {
    if (typeof text !== 'string') throw new TypeError('not a string');
    return hexToBytes(text.trim(), { allowPrefix: true, length: 20 });
  } catch (cause) {
    throw new VeniceE2eeError(
      'ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH',
      'signing_address is not a 20-byte hex address',
      {
        cause,
      },
    );
  }
}
