// The gateway's Ethereum account without viem: addresses derived with tee-signing's Keccak and noble's secp256k1
// must be byte-identical to viem's `privateKeyToAccount` (an independent implementation, devDependency only).
import { hexToBytes } from '@confidential-ai/bytes';
import { isChecksumAddressValid } from '@confidential-ai/tee-signing';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { ethereumAddressOfPrivateKey, generateWalletAddress } from '../src/wallet.js';

describe('gateway wallet address', () => {
  it('equals viem privateKeyToAccount(key).address for 200 random keys and for edge keys', () => {
    const keys: string[] = Array.from({ length: 200 }, () => generatePrivateKey());
    // The smallest and the largest valid scalars (n - 1).
    keys.push(`0x${'0'.repeat(63)}1`);
    keys.push('0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140');
    for (const key of keys) {
      expect(ethereumAddressOfPrivateKey(hexToBytes(key.slice(2))), key).toBe(
        privateKeyToAccount(key as `0x${string}`).address,
      );
    }
  });

  it('matches a published vector (the Hardhat/Anvil default account 0)', () => {
    const key = hexToBytes('ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
    expect(ethereumAddressOfPrivateKey(key)).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
  });

  it('refuses keys that are not secp256k1 secret keys', () => {
    expect(() => ethereumAddressOfPrivateKey(new Uint8Array(32))).toThrow(RangeError);
    expect(() => ethereumAddressOfPrivateKey(new Uint8Array(31).fill(1))).toThrow(RangeError);
    expect(() => ethereumAddressOfPrivateKey('00' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('a generated address is a valid EIP-55 address, fresh every time', () => {
    const first = generateWalletAddress();
    expect(isChecksumAddressValid(first)).toBe(true);
    expect(first).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(generateWalletAddress()).not.toBe(first);
    // Mixed case: the checksum carries information (an all-lowercase address would pass any check).
    expect(first).not.toBe(first.toLowerCase());
  });
});
