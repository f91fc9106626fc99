import { ethereumAddressFromPublicKey, vllmProxyPublicKey } from '@confidential-ai/tee-signing';
import { secp256k1 } from '@noble/curves/secp256k1.js';

/**
 * The EIP-55 checksum address of a secp256k1 private key (32 bytes): Keccak-256 of the uncompressed public key,
 * last 20 bytes, as Ethereum accounts (and viem's `privateKeyToAccount`) derive it. The public key comes from
 * tee-signing's `vllmProxyPublicKey` (node:crypto where available: no precomputed curve tables at start-up).
 * @example
 * ```ts
 * ethereumAddressOfPrivateKey(privateKey); // '0x…' (mixed case)
 * ```
 * @throws {TypeError | RangeError} for a key that is not a valid secp256k1 secret key.
 */
export function ethereumAddressOfPrivateKey(privateKey: Uint8Array): string {
  if (!(privateKey instanceof Uint8Array)) throw new TypeError('privateKey must be a Uint8Array');
  if (privateKey.length !== 32 || !secp256k1.utils.isValidSecretKey(privateKey)) {
    throw new RangeError('privateKey must be a valid 32-byte secp256k1 secret key');
  }
  return ethereumAddressFromPublicKey(vllmProxyPublicKey('ecdsa', privateKey));
}

/**
 * The address of a fresh Ethereum account of the gateway (the reference generates one at start-up and publishes
 * its address in `/signing-key` and the heartbeat). The private key comes from `crypto.getRandomValues` and is not
 * kept: the gateway signs nothing with it.
 * @example
 * ```ts
 * const walletAddress = generateWalletAddress();
 * ```
 */
export function generateWalletAddress(): string {
  return ethereumAddressOfPrivateKey(secp256k1.utils.randomSecretKey());
}
