import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToHex } from '@confidential-ai/bytes';
import { ChutesCliError } from '../errors.js';
import {
  createMnemonic,
  keypairFromMnemonic,
  type MnemonicKeypair,
  type MnemonicWordCount,
  schnorrkelSecretBytes,
} from './mnemonic.js';
import { pythonJsonDumps } from './python-json.js';
import { hotkeyPath, listHotkeys, readColdkeyPub, readHotkeyFile } from './wallet.js';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Keyfile prefixes of the encryptions bittensor uses (NaCl secretbox, Ansible vault, legacy Fernet). */
const ENCRYPTED_PREFIXES = ['$NACL', '$ANSIBLE_VAULT', 'gAAAAA'];

/** True when keyfile bytes are encrypted by bittensor (`$NACL`, `$ANSIBLE_VAULT` or legacy `gAAAAA`). */
export function isEncryptedKeyfile(text: string): boolean {
  return ENCRYPTED_PREFIXES.some((prefix) => text.startsWith(prefix));
}

/**
 * A bittensor keyfile as bittensor's Python wallet writes it (`json.dumps` of accountId, publicKey, privateKey,
 * secretPhrase, secretSeed, ss58Address, in that order; hex with 0x; absent values null). btcli (and
 * bittensor-wallet, which reads every field as an optional string) reads it back.
 */
export function keyfileJson(
  keypair: MnemonicKeypair | { publicKey: Uint8Array; ss58Address: string },
): string {
  const full = 'mnemonic' in keypair;
  const publicKey = full ? keypair.hotkey.publicKey : keypair.publicKey;
  return pythonJsonDumps({
    accountId: `0x${bytesToHex(publicKey)}`,
    publicKey: `0x${bytesToHex(publicKey)}`,
    privateKey: full ? `0x${bytesToHex(schnorrkelSecretBytes(keypair.hotkey.secretKey))}` : null,
    secretPhrase: full ? keypair.mnemonic : null,
    secretSeed: full ? `0x${bytesToHex(keypair.miniSecret)}` : null,
    ss58Address: full ? keypair.hotkey.ss58Address : keypair.ss58Address,
  });
}

/** Options of {@link createWallet}. */
export interface CreateWalletOptions {
  /** The wallets directory (`~/.bittensor/wallets` by default in the CLI). */
  walletsPath: string;
  /** Wallet name (default `default`, like btcli). */
  wallet?: string;
  /** Hotkey name (default `default`, like btcli). */
  hotkey?: string;
  /** Words per mnemonic (default 12, like btcli). */
  words?: MnemonicWordCount;
}

/** What {@link createWallet} wrote. The mnemonics are secrets, returned once to be shown once. */
export interface CreatedWallet {
  /** Wallet name. */
  wallet: string;
  /** Hotkey name. */
  hotkey: string;
  /** The coldkey: address, mnemonic, and the public file written (the private coldkey is not written). */
  coldkey: { ss58Address: string; mnemonic: string; path: string };
  /** The hotkey: address, mnemonic and its (unencrypted, like btcli's default) keyfile. */
  hotkeyKey: { ss58Address: string; mnemonic: string; path: string };
}

function checkName(kind: string, name: string): void {
  if (!NAME_RE.test(name) || name === '.' || name === '..')
    throw new ChutesCliError(
      'ERR_VALIDATION',
      `${kind} name ${JSON.stringify(name)} must be letters, digits, ., _ or -`,
    );
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates a bittensor wallet in btcli's layout: a coldkey pair and a hotkey pair from new BIP39 mnemonics (sr25519,
 * substrate derivation), writing `{wallets}/{wallet}/coldkeypub.txt` (public) and `{wallets}/{wallet}/hotkeys/{hotkey}`
 * (unencrypted, like btcli's default), files 0600 and new directories 0700. The encrypted `coldkey` file is not
 * written: btcli encrypts it with argon2i (1 GiB) + NaCl secretbox; restore it with `btcli wallet regen-coldkey`
 * from the coldkey mnemonic. Refuses to overwrite any existing key file.
 * @throws ChutesCliError `ERR_WALLET_EXISTS` when a key file exists, `ERR_VALIDATION` for a bad name.
 */
export async function createWallet(options: CreateWalletOptions): Promise<CreatedWallet> {
  const wallet = options.wallet ?? 'default';
  const hotkey = options.hotkey ?? 'default';
  checkName('wallet', wallet);
  checkName('hotkey', hotkey);
  const walletDir = join(options.walletsPath, wallet);
  const coldkeyPubPath = join(walletDir, 'coldkeypub.txt');
  const hotkeyFile = hotkeyPath(options.walletsPath, wallet, hotkey);
  const present = [];
  for (const path of [join(walletDir, 'coldkey'), coldkeyPubPath, hotkeyFile])
    if (await exists(path)) present.push(path);
  if (present.length > 0)
    throw new ChutesCliError(
      'ERR_WALLET_EXISTS',
      `refusing to overwrite existing wallet files: ${present.join(', ')}`,
    );

  const coldkey = keypairFromMnemonic(createMnemonic(options.words ?? 12));
  const hot = keypairFromMnemonic(createMnemonic(options.words ?? 12));
  for (const dir of [options.walletsPath, walletDir, join(walletDir, 'hotkeys')]) {
    if (!(await exists(dir))) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    }
  }
  await writeFile(
    coldkeyPubPath,
    keyfileJson({ publicKey: coldkey.hotkey.publicKey, ss58Address: coldkey.hotkey.ss58Address }),
    { mode: 0o600, flag: 'wx' },
  );
  try {
    await writeFile(hotkeyFile, keyfileJson(hot), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    await rm(coldkeyPubPath, { force: true });
    throw new ChutesCliError('ERR_WALLET_EXISTS', `cannot write ${hotkeyFile}`, { cause: error });
  }
  return {
    wallet,
    hotkey,
    coldkey: { ss58Address: coldkey.hotkey.ss58Address, mnemonic: coldkey.mnemonic, path: coldkeyPubPath },
    hotkeyKey: { ss58Address: hot.hotkey.ss58Address, mnemonic: hot.mnemonic, path: hotkeyFile },
  };
}

/** One wallet as `wallet list` shows it. */
export interface WalletSummary {
  /** Wallet name. */
  name: string;
  /** Coldkey address from coldkeypub.txt, or null when missing or unreadable. */
  coldkey: string | null;
  /** Whether the (encrypted) private `coldkey` file exists. */
  hasColdkey: boolean;
  /** Hotkeys: name, address (null when unreadable) and whether the file is encrypted. */
  hotkeys: Array<{ name: string; ss58Address: string | null; encrypted: boolean }>;
}

/** Summarizes every wallet in a wallets directory (no secret is read into the result). */
export async function summarizeWallets(walletsPath: string): Promise<WalletSummary[]> {
  let entries: string[];
  try {
    entries = (await readdir(walletsPath, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
  const out: WalletSummary[] = [];
  for (const name of entries) {
    let coldkey: string | null = null;
    try {
      coldkey = await readColdkeyPub(walletsPath, name);
    } catch {
      coldkey = null;
    }
    const hotkeys: WalletSummary['hotkeys'] = [];
    for (const hotkey of await listHotkeys(walletsPath, name)) {
      const path = hotkeyPath(walletsPath, name, hotkey);
      let text = '';
      try {
        text = await readFile(path, 'utf8');
      } catch {
        // unreadable: listed without an address
      }
      if (isEncryptedKeyfile(text)) {
        let address: string | null = null;
        try {
          address =
            (JSON.parse(await readFile(`${path}pub.txt`, 'utf8')) as { ss58Address?: string }).ss58Address ??
            null;
        } catch {
          address = null;
        }
        hotkeys.push({ name: hotkey, ss58Address: address, encrypted: true });
        continue;
      }
      try {
        hotkeys.push({
          name: hotkey,
          ss58Address: (await readHotkeyFile(path)).ss58Address,
          encrypted: false,
        });
      } catch {
        hotkeys.push({ name: hotkey, ss58Address: null, encrypted: false });
      }
    }
    out.push({ name, coldkey, hasColdkey: await exists(join(walletsPath, name, 'coldkey')), hotkeys });
  }
  return out;
}
