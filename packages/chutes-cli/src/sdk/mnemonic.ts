import { concatBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { generateMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { ChutesCliError } from '../errors.js';
import { type Hotkey, hotkeyFromSeed } from './signing.js';

function bytesToNumberLE(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let index = bytes.length - 1; index >= 0; index--) value = (value << 8n) | BigInt(bytes[index]!);
  return value;
}

function numberToBytesLE(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let index = 0; index < length; index++, value >>= 8n) out[index] = Number(value & 0xffn);
  return out;
}

/** Word counts of a BIP39 mnemonic (128 to 256 bits of entropy). */
export const MNEMONIC_WORD_COUNTS = [12, 15, 18, 21, 24] as const;

/** A BIP39 word count. */
export type MnemonicWordCount = (typeof MNEMONIC_WORD_COUNTS)[number];

/**
 * A new English BIP39 mnemonic from the system CSPRNG (12 words by default, like `btcli wallet create`).
 * @throws RangeError for a word count other than 12, 15, 18, 21 or 24.
 */
export function createMnemonic(words: MnemonicWordCount = 12): string {
  if (!MNEMONIC_WORD_COUNTS.includes(words)) throw new RangeError('words must be 12, 15, 18, 21 or 24');
  return generateMnemonic(wordlist, (words / 3) * 32);
}

/**
 * The sr25519 mini secret of a mnemonic exactly as substrate (substrate-bip39 `mini_secret_from_entropy`, used by
 * bittensor's wallets) derives it: PBKDF2-HMAC-SHA512 over the BIP39 **entropy** (not the phrase, unlike BIP39
 * seeds), salt `"mnemonic" + password`, 2048 rounds, first 32 of 64 bytes.
 * @throws ChutesCliError `ERR_VALIDATION` for an unknown word or a wrong checksum.
 */
export function miniSecretFromMnemonic(mnemonic: string, password = ''): Uint8Array {
  let entropy: Uint8Array;
  try {
    entropy = mnemonicToEntropy(mnemonic.trim().split(/\s+/).join(' ').normalize('NFKD'), wordlist);
  } catch (error) {
    throw new ChutesCliError(
      'ERR_VALIDATION',
      'not a valid English BIP39 mnemonic (unknown word or checksum)',
      {
        cause: error,
      },
    );
  }
  const seed = pbkdf2(sha512, entropy, utf8ToBytes(`mnemonic${password}`), { c: 2048, dkLen: 64 });
  return seed.slice(0, 32);
}

/**
 * The 64-byte secret key in schnorrkel's `SecretKey::to_bytes()` form (canonical scalar ‖ nonce), which bittensor
 * writes as a keyfile's `privateKey`, from the Ed25519-form secret `@scure/sr25519` uses (scalar × 8 ‖ nonce).
 */
export function schnorrkelSecretBytes(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 64)
    throw new RangeError('secretKey must be 64 bytes');
  const scalar = bytesToNumberLE(secretKey.subarray(0, 32)) >> 3n;
  return concatBytes(numberToBytesLE(scalar, 32), secretKey.subarray(32, 64));
}

/** An sr25519 key pair made from a mnemonic, with what a bittensor keyfile records. */
export interface MnemonicKeypair {
  /** The mnemonic (secret). */
  mnemonic: string;
  /** The 32-byte mini secret (the keyfile's `secretSeed`; secret). */
  miniSecret: Uint8Array;
  /** The key pair (public key, SS58 address, signing secret). */
  hotkey: Hotkey;
}

/** Derives the sr25519 key pair of a mnemonic as substrate / bittensor do. @throws as {@link miniSecretFromMnemonic}. */
export function keypairFromMnemonic(mnemonic: string, password = ''): MnemonicKeypair {
  const miniSecret = miniSecretFromMnemonic(mnemonic, password);
  return { mnemonic: mnemonic.trim().split(/\s+/).join(' '), miniSecret, hotkey: hotkeyFromSeed(miniSecret) };
}
