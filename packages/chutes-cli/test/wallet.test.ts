import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { bip39Generate, bip39ToMiniSecret, sr25519KeypairFromSeed, waitReady } from '@polkadot/wasm-crypto';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  hotkeyFromSeed,
  keyfileJson,
  keypairFromMnemonic,
  miniSecretFromMnemonic,
  parseConfig,
  readColdkeyPub,
  readHotkeyFile,
  schnorrkelSecretBytes,
  ss58Encode,
  verifyMessage,
} from '../src/index.js';
import { chutes, type ProcessSetup, processSetup } from './process.js';
import bittensorWallet from './vectors/bittensor-wallet.json' with { type: 'json' };
import substrateBip39 from './vectors/substrate-bip39.json' with { type: 'json' };

beforeAll(async () => {
  await waitReady();
});

describe('substrate mnemonic derivation (published vectors and a second implementation)', () => {
  it('reproduces every substrate-bip39 vector (entropy -> PBKDF2 mini secret, password "Substrate")', () => {
    expect(substrateBip39.vectors).toHaveLength(24);
    for (const vector of substrateBip39.vectors) {
      expect(bytesToHex(miniSecretFromMnemonic(vector.phrase, substrateBip39.password)), vector.phrase).toBe(
        vector.seed.slice(0, 64),
      );
    }
  });

  it('reproduces bittensor-wallet and substrate dev-phrase keys: address, public key and keyfile privateKey', () => {
    const [btwallet, dev] = bittensorWallet.keypairs;
    const fromBtwallet = keypairFromMnemonic(btwallet!.mnemonic);
    expect(fromBtwallet.hotkey.ss58Address).toBe(btwallet!.ss58Address);
    expect(bytesToHex(fromBtwallet.hotkey.publicKey)).toBe(btwallet!.publicKey);
    expect(bytesToHex(schnorrkelSecretBytes(fromBtwallet.hotkey.secretKey))).toBe(btwallet!.privateKey);
    const fromDev = keypairFromMnemonic(dev!.mnemonic);
    expect(bytesToHex(fromDev.miniSecret)).toBe(dev!.miniSecret);
    expect(bytesToHex(fromDev.hotkey.secretKey)).toBe(dev!.ed25519Secret);
    expect(fromDev.hotkey.ss58Address).toBe(dev!.ss58Address);
  });

  it('agrees with schnorrkel + substrate-bip39 compiled to wasm (@polkadot/wasm-crypto) on random mnemonics', () => {
    for (const words of [12, 15, 18, 21, 24] as const) {
      for (let round = 0; round < 4; round++) {
        const phrase = bip39Generate(words);
        const password = round % 2 === 0 ? '' : 'pass';
        const mini = miniSecretFromMnemonic(phrase, password);
        expect(bytesToHex(mini)).toBe(bytesToHex(bip39ToMiniSecret(phrase, password)));
        const pair = sr25519KeypairFromSeed(mini);
        expect(bytesToHex(hotkeyFromSeed(mini).publicKey)).toBe(bytesToHex(pair.subarray(64)));
      }
    }
  });

  it('rejects a mnemonic with a bad checksum or an unknown word', () => {
    expect(() => miniSecretFromMnemonic('abandon '.repeat(12).trim())).toThrow(
      /not a valid English BIP39 mnemonic/,
    );
    expect(() => miniSecretFromMnemonic('zzz '.repeat(12).trim())).toThrow(
      /not a valid English BIP39 mnemonic/,
    );
  });
});

let env: ProcessSetup;
beforeEach(async () => {
  env = await processSetup();
});
afterEach(async () => {
  await env.close();
});

describe('chutes wallet create / list (child processes)', () => {
  it('writes btcli-format coldkeypub.txt and hotkey files (0600 in 0700 dirs) matching the mnemonics shown once', async () => {
    const wallets = join(env.dir, 'wallets');
    const result = await chutes(
      ['wallet', 'create', '--wallets-path', wallets, '--wallet', 'main', '--hotkey', 'hk', '--json'],
      { env: env.env },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as {
      coldkey: { ss58_address: string; mnemonic: string; public_key_file: string };
      hotkey: { name: string; ss58_address: string; mnemonic: string; file: string };
    };
    expect(out.coldkey.mnemonic.split(' ')).toHaveLength(12);
    expect(out.coldkey.mnemonic).not.toBe(out.hotkey.mnemonic);
    for (const path of [wallets, join(wallets, 'main'), join(wallets, 'main', 'hotkeys')])
      expect((await stat(path)).mode & 0o777, path).toBe(0o700);
    const coldPath = join(wallets, 'main', 'coldkeypub.txt');
    const hotPath = join(wallets, 'main', 'hotkeys', 'hk');
    for (const path of [coldPath, hotPath]) expect((await stat(path)).mode & 0o777, path).toBe(0o600);
    expect(await readdir(join(wallets, 'main'))).toEqual(['coldkeypub.txt', 'hotkeys']);

    // The files are exactly bittensor's Python keyfile JSON for keys derived from the shown mnemonics.
    const cold = keypairFromMnemonic(out.coldkey.mnemonic);
    const hot = keypairFromMnemonic(out.hotkey.mnemonic);
    const coldHex = bytesToHex(cold.hotkey.publicKey);
    expect(await readFile(coldPath, 'utf8')).toBe(
      `{"accountId": "0x${coldHex}", "publicKey": "0x${coldHex}", "privateKey": null, "secretPhrase": null, "secretSeed": null, "ss58Address": "${cold.hotkey.ss58Address}"}`,
    );
    const hotText = await readFile(hotPath, 'utf8');
    const hotHex = bytesToHex(hot.hotkey.publicKey);
    expect(hotText).toBe(
      `{"accountId": "0x${hotHex}", "publicKey": "0x${hotHex}", "privateKey": "0x${bytesToHex(schnorrkelSecretBytes(hot.hotkey.secretKey))}", "secretPhrase": "${out.hotkey.mnemonic}", "secretSeed": "0x${bytesToHex(hot.miniSecret)}", "ss58Address": "${hot.hotkey.ss58Address}"}`,
    );
    expect(out.coldkey.ss58_address).toBe(cold.hotkey.ss58Address);
    expect(out.hotkey.ss58_address).toBe(hot.hotkey.ss58Address);
    // Every keyfile value is a string or null, as bittensor-wallet reads them (HashMap<String, Option<String>>).
    for (const value of Object.values(JSON.parse(hotText) as Record<string, unknown>))
      expect(value === null || typeof value === 'string').toBe(true);
    // The independent wasm implementation derives the same key from the file's secretSeed.
    const seed = hexToBytes((JSON.parse(hotText) as { secretSeed: string }).secretSeed, {
      allowPrefix: true,
    });
    expect(bytesToHex(sr25519KeypairFromSeed(seed).subarray(64))).toBe(hotHex);

    // Refuses to overwrite: the same names fail and leave the files untouched.
    const again = await chutes(
      ['wallet', 'create', '--wallets-path', wallets, '--wallet', 'main', '--hotkey', 'hk'],
      {
        env: env.env,
      },
    );
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(
      /^chutes: ERR_WALLET_EXISTS: refusing to overwrite existing wallet files: .*coldkeypub\.txt/,
    );
    expect(await readFile(hotPath, 'utf8')).toBe(hotText);

    const listed = await chutes(['wallet', 'list', '--wallets-path', wallets, '--json'], { env: env.env });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({
      wallets_path: wallets,
      wallets: [
        {
          name: 'main',
          coldkey: cold.hotkey.ss58Address,
          has_coldkey: false,
          hotkeys: [{ name: 'hk', ss58_address: hot.hotkey.ss58Address, encrypted: false }],
        },
      ],
    });
  });

  it('the human output shows both mnemonics once and says how to restore the coldkey with btcli', async () => {
    const result = await chutes(
      ['wallet', 'create', '--wallets-path', join(env.dir, 'w'), '--n-words', '24'],
      {
        env: env.env,
      },
    );
    expect(result.code).toBe(0);
    const mnemonics = [...result.stdout.matchAll(/(coldkey|hotkey) mnemonic: +(.+)/g)].map(
      (match) => match[2]!,
    );
    expect(mnemonics).toHaveLength(2);
    for (const mnemonic of mnemonics) expect(mnemonic.split(' ')).toHaveLength(24);
    expect(result.stdout).toContain('btcli wallet regen-coldkey --wallet-name default --mnemonic');
    expect(await readdir(join(env.dir, 'w', 'default', 'hotkeys'))).toEqual(['default']);
  });

  it('register reads a wallet made by wallet create, and the key signs for the fake API', async () => {
    const wallets = join(env.dir, 'wallets');
    const created = await chutes(
      ['wallet', 'create', '--wallets-path', wallets, '--wallet', 'bob', '--json'],
      {
        env: env.env,
      },
    );
    const hotkey = (JSON.parse(created.stdout) as { hotkey: { ss58_address: string } }).hotkey.ss58_address;
    const configPath = join(env.dir, 'bob.ini');
    const result = await chutes(
      [
        'register',
        '--username',
        'bob',
        '--wallets-path',
        wallets,
        '--wallet',
        'bob',
        '--hotkey',
        'default',
        '--yes',
      ],
      { env: { ...env.env, CHUTES_API_URL: env.api.url, CHUTES_CONFIG_PATH: configPath } },
    );
    expect(result.stderr).not.toContain('ERR_');
    expect(result.code).toBe(0);
    const config = parseConfig(await readFile(configPath, 'utf8'));
    expect(config.auth?.hotkeySs58Address).toBe(hotkey);
    const request = env.api.requests.find((entry) => entry.path === '/users/register')!;
    expect(request.auth.verified).toBe(true);
    expect(verifyMessage(hotkey, request.auth.message!, request.headers['x-chutes-signature']!)).toBe(true);
  });
});

describe('wallets made by btcli (files built from the documented formats and vectors)', () => {
  const [btwallet, dev] = bittensorWallet.keypairs;

  it('reads the Python bittensor format and the bittensor-wallet (Rust) format, with hotkeypub files beside', async () => {
    const wallets = join(env.dir, 'btcli');
    await mkdir(join(wallets, 'py', 'hotkeys'), { recursive: true });
    await mkdir(join(wallets, 'rs', 'hotkeys'), { recursive: true });
    const btHot = keypairFromMnemonic(btwallet!.mnemonic);
    const devKey = keypairFromMnemonic(dev!.mnemonic);
    // bittensor (Python): json.dumps with the fixed field order and nulls.
    await writeFile(join(wallets, 'py', 'hotkeys', 'default'), keyfileJson(btHot));
    await writeFile(
      join(wallets, 'py', 'coldkeypub.txt'),
      keyfileJson({ publicKey: devKey.hotkey.publicKey, ss58Address: devKey.hotkey.ss58Address }),
    );
    // bittensor-wallet (Rust): compact serde_json of a HashMap (any key order, absent fields left out), plus the
    // hotkeypub file it writes beside the hotkey. Only a mnemonic for the hotkey: the seed is derived from it.
    await writeFile(
      join(wallets, 'rs', 'hotkeys', 'default'),
      JSON.stringify({
        ss58Address: btwallet!.ss58Address,
        secretPhrase: btwallet!.mnemonic,
        publicKey: `0x${btwallet!.publicKey}`,
        privateKey: `0x${btwallet!.privateKey}`,
        accountId: `0x${btwallet!.publicKey}`,
      }),
    );
    await writeFile(
      join(wallets, 'rs', 'hotkeys', 'defaultpub.txt'),
      JSON.stringify({ ss58Address: btwallet!.ss58Address, publicKey: `0x${btwallet!.publicKey}` }),
    );
    await writeFile(
      join(wallets, 'rs', 'coldkeypub.txt'),
      JSON.stringify({
        publicKey: `0x${dev!.publicKey}`,
        ss58Address: dev!.ss58Address,
        accountId: `0x${dev!.publicKey}`,
      }),
    );
    await writeFile(join(wallets, 'rs', 'coldkey'), '$NACL' + 'x'.repeat(80));
    for (const wallet of ['py', 'rs']) {
      expect(await readColdkeyPub(wallets, wallet)).toBe(dev!.ss58Address);
      const hotkey = await readHotkeyFile(join(wallets, wallet, 'hotkeys', 'default'));
      expect(hotkey.ss58Address).toBe(btwallet!.ss58Address);
      expect(ss58Encode(hotkey.hotkey.publicKey)).toBe(btwallet!.ss58Address);
    }
    const listed = await chutes(['wallet', 'list', '--wallets-path', wallets, '--json'], { env: env.env });
    expect(JSON.parse(listed.stdout).wallets).toEqual([
      {
        name: 'py',
        coldkey: dev!.ss58Address,
        has_coldkey: false,
        hotkeys: [{ name: 'default', ss58_address: btwallet!.ss58Address, encrypted: false }],
      },
      {
        name: 'rs',
        coldkey: dev!.ss58Address,
        has_coldkey: true,
        hotkeys: [{ name: 'default', ss58_address: btwallet!.ss58Address, encrypted: false }],
      },
    ]);
    // register offers the hotkey, not the hotkeypub file.
    const result = await chutes(
      ['register', '--username', 'rusty', '--wallets-path', wallets, '--wallet', 'rs'],
      {
        env: { ...env.env, CHUTES_API_URL: env.api.url, CHUTES_CONFIG_PATH: join(env.dir, 'rs.ini') },
        input: '0\ny\n',
      },
    );
    expect(result.stderr).toContain('[ 0] default');
    expect(result.stderr).not.toContain('defaultpub.txt');
    expect(result.code).toBe(0);
  });

  it('an encrypted (btcli --use-password) hotkey is a clear error, and is listed as encrypted', async () => {
    const wallets = join(env.dir, 'enc');
    await mkdir(join(wallets, 'w', 'hotkeys'), { recursive: true });
    await writeFile(join(wallets, 'w', 'hotkeys', 'default'), `$NACL${'\u0001'.repeat(60)}`);
    await writeFile(
      join(wallets, 'w', 'hotkeys', 'defaultpub.txt'),
      JSON.stringify({ ss58Address: btwallet!.ss58Address }),
    );
    await expect(readHotkeyFile(join(wallets, 'w', 'hotkeys', 'default'))).rejects.toMatchObject({
      code: 'ERR_WALLET_INVALID',
      message: expect.stringMatching(/is encrypted \(btcli --use-password\)/),
    });
    const listed = await chutes(['wallet', 'list', '--wallets-path', wallets, '--json'], { env: env.env });
    expect(JSON.parse(listed.stdout).wallets[0].hotkeys).toEqual([
      { name: 'default', ss58_address: btwallet!.ss58Address, encrypted: true },
    ]);
  });
});
