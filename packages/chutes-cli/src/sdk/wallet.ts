import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '@confidential-ai/bytes';
import { ChutesCliError } from '../errors.js';
import { miniSecretFromMnemonic } from './mnemonic.js';
import { type Hotkey, hotkeyFromSeed, ss58Decode } from './signing.js';

/** Default bittensor wallets directory, `~/.bittensor/wallets`. */
export function defaultWalletsPath(home: string = homedir()): string {
  return join(home, '.bittensor', 'wallets');
}

/** A bittensor hotkey file (`{wallets}/{wallet}/hotkeys/{hotkey}`). */
export interface WalletHotkey {
  /** `ss58Address` from the file. */
  ss58Address: string;
  /** `secretSeed` without the 0x prefix (64 hex characters). Secret. */
  secretSeed: string;
  /** Key pair derived from the seed. */
  hotkey: Hotkey;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ChutesCliError('ERR_WALLET_MISSING', `no ${what} found: ${path}`, { cause: error });
  }
  if (/^(\$NACL|\$ANSIBLE_VAULT|gAAAAA)/.test(text)) {
    throw new ChutesCliError(
      'ERR_WALLET_INVALID',
      `${what} is encrypted (btcli --use-password): ${path}; chutes needs an unencrypted hotkey, e.g. btcli wallet regen-hotkey --no-use-password`,
    );
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ChutesCliError('ERR_WALLET_INVALID', `${what} is not a JSON object: ${path}`, { cause: error });
  }
}

/**
 * Reads a bittensor hotkey JSON file (`ss58Address`, `secretSeed`) and checks that the seed derives the
 * address.
 * @throws ChutesCliError `ERR_WALLET_MISSING` (no file) or `ERR_WALLET_INVALID` (bad JSON, seed or mismatch).
 */
export async function readHotkeyFile(path: string): Promise<WalletHotkey> {
  const data = await readJson(path, 'hotkey file');
  const ss58Address = data['ss58Address'];
  let secretSeed = data['secretSeed'];
  if (typeof secretSeed !== 'string' && typeof data['secretPhrase'] === 'string') {
    try {
      secretSeed = bytesToHex(miniSecretFromMnemonic(data['secretPhrase']));
    } catch (error) {
      throw new ChutesCliError('ERR_WALLET_INVALID', `hotkey file has a malformed secretPhrase: ${path}`, {
        cause: error,
      });
    }
  }
  if (typeof ss58Address !== 'string' || typeof secretSeed !== 'string') {
    throw new ChutesCliError('ERR_WALLET_INVALID', `hotkey file lacks ss58Address/secretSeed: ${path}`);
  }
  const seed = secretSeed.startsWith('0x') ? secretSeed.slice(2) : secretSeed;
  let hotkey: Hotkey;
  try {
    hotkey = hotkeyFromSeed(seed);
  } catch (error) {
    throw new ChutesCliError('ERR_WALLET_INVALID', `hotkey file has a malformed secretSeed: ${path}`, {
      cause: error,
    });
  }
  if (hotkey.ss58Address !== ss58Address) {
    throw new ChutesCliError(
      'ERR_WALLET_INVALID',
      `hotkey file's secretSeed does not match its ss58Address: ${path}`,
    );
  }
  return { ss58Address, secretSeed: seed.toLowerCase(), hotkey };
}

/**
 * Reads `{wallets}/{wallet}/coldkeypub.txt` (JSON with `ss58Address`) and returns the coldkey address.
 * @throws ChutesCliError `ERR_WALLET_MISSING` / `ERR_WALLET_INVALID`.
 */
export async function readColdkeyPub(walletsPath: string, wallet: string): Promise<string> {
  const path = join(walletsPath, wallet, 'coldkeypub.txt');
  const data = await readJson(path, 'coldkeypub.txt');
  const address = data['ss58Address'];
  if (typeof address !== 'string')
    throw new ChutesCliError('ERR_WALLET_INVALID', `coldkeypub.txt lacks ss58Address: ${path}`);
  try {
    ss58Decode(address);
  } catch (error) {
    throw new ChutesCliError('ERR_WALLET_INVALID', `coldkeypub.txt has a malformed ss58Address: ${path}`, {
      cause: error,
    });
  }
  return address;
}

/** Path of a hotkey file inside a wallet. */
export function hotkeyPath(walletsPath: string, wallet: string, hotkey: string): string {
  return join(walletsPath, wallet, 'hotkeys', hotkey);
}

/** Sorted wallet names (directories) in a wallets directory; empty when it does not exist. */
export async function listWallets(walletsPath: string): Promise<string[]> {
  try {
    const entries = await readdir(walletsPath, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * Sorted hotkey file names of a wallet; empty when none. The public `<hotkey>pub.txt` files that newer btcli
 * versions write beside each hotkey are not hotkeys and are left out.
 */
export async function listHotkeys(walletsPath: string, wallet: string): Promise<string[]> {
  const dir = join(walletsPath, wallet, 'hotkeys');
  try {
    const names = (await readdir(dir)).sort();
    const files: string[] = [];
    for (const name of names) if ((await stat(join(dir, name))).isFile()) files.push(name);
    return files.filter(
      (name) => !(name.endsWith('pub.txt') && files.includes(name.slice(0, -'pub.txt'.length))),
    );
  } catch {
    return [];
  }
}
