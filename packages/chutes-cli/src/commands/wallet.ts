import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.js';
import { MNEMONIC_WORD_COUNTS, type MnemonicWordCount } from '../sdk/mnemonic.js';
import { defaultWalletsPath } from '../sdk/wallet.js';
import { createWallet, summarizeWallets } from '../sdk/wallet-create.js';

interface WalletOptions {
  walletsPath?: string;
  wallet?: string;
  hotkey?: string;
  nWords?: MnemonicWordCount;
  json?: boolean;
}

function wordCount(value: string): MnemonicWordCount {
  const words = Number(value);
  if (!(MNEMONIC_WORD_COUNTS as readonly number[]).includes(words))
    throw new InvalidArgumentError('must be 12, 15, 18, 21 or 24');
  return words as MnemonicWordCount;
}

const WALLETS_PATH_HELP = 'path to the bittensor wallets directory (default ~/.bittensor/wallets)';

/** `chutes wallet create|list`: bittensor wallets in btcli's on-disk format. */
export function registerWalletCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('wallet')
    .description('Create and list bittensor wallets (coldkeypub.txt + hotkeys/<name>, as btcli writes them)');

  command
    .command('create')
    .description(
      'create a coldkey and a hotkey from new BIP39 mnemonics (shown once); writes coldkeypub.txt and hotkeys/<hotkey>, never overwrites',
    )
    .option('--wallets-path <path>', WALLETS_PATH_HELP)
    .option('--wallet <name>', 'wallet name', 'default')
    .option('--hotkey <name>', 'hotkey name', 'default')
    .option('--n-words <n>', 'words per mnemonic: 12, 15, 18, 21 or 24', wordCount, 12)
    .option('--json', 'machine-readable JSON on stdout (includes the mnemonics)')
    .action(async (options: WalletOptions) => {
      const walletsPath = options.walletsPath ?? defaultWalletsPath(ctx.io.home);
      const created = await createWallet({
        walletsPath,
        wallet: options.wallet ?? 'default',
        hotkey: options.hotkey ?? 'default',
        words: options.nWords ?? 12,
      });
      ctx.result(
        options,
        {
          wallet: created.wallet,
          wallets_path: walletsPath,
          coldkey: {
            ss58_address: created.coldkey.ss58Address,
            mnemonic: created.coldkey.mnemonic,
            public_key_file: created.coldkey.path,
          },
          hotkey: {
            name: created.hotkey,
            ss58_address: created.hotkeyKey.ss58Address,
            mnemonic: created.hotkeyKey.mnemonic,
            file: created.hotkeyKey.path,
          },
        },
        [
          `Created wallet "${created.wallet}" with hotkey "${created.hotkey}" in ${walletsPath}`,
          `  coldkey ${created.coldkey.ss58Address}  (public key: ${created.coldkey.path})`,
          `  hotkey  ${created.hotkeyKey.ss58Address}  (${created.hotkeyKey.path})`,
          '',
          'Write these mnemonics down now: they are shown only this once and are the only way to recover the keys.',
          `  coldkey mnemonic: ${created.coldkey.mnemonic}`,
          `  hotkey mnemonic:  ${created.hotkeyKey.mnemonic}`,
          '',
          'The private coldkey was not written (btcli keeps it encrypted with a password). To use the coldkey with btcli,',
          `restore it there: btcli wallet regen-coldkey --wallet-name ${created.wallet} --mnemonic "<coldkey mnemonic>"`,
        ].join('\n'),
      );
    });

  command
    .command('list')
    .description('list wallets with their coldkey and hotkey addresses (btcli-made wallets included)')
    .option('--wallets-path <path>', WALLETS_PATH_HELP)
    .option('--json', 'machine-readable JSON on stdout')
    .action(async (options: WalletOptions) => {
      const walletsPath = options.walletsPath ?? defaultWalletsPath(ctx.io.home);
      const wallets = await summarizeWallets(walletsPath);
      ctx.result(
        options,
        {
          wallets_path: walletsPath,
          wallets: wallets.map((wallet) => ({
            name: wallet.name,
            coldkey: wallet.coldkey,
            has_coldkey: wallet.hasColdkey,
            hotkeys: wallet.hotkeys.map((hotkey) => ({
              name: hotkey.name,
              ss58_address: hotkey.ss58Address,
              encrypted: hotkey.encrypted,
            })),
          })),
        },
        () =>
          wallets.length === 0
            ? `No wallets in ${walletsPath} (create one with "chutes wallet create")`
            : [
                `Wallets in ${walletsPath}:`,
                ...wallets.flatMap((wallet) => [
                  `${wallet.name} (coldkey ${wallet.coldkey ?? '?'})`,
                  ...wallet.hotkeys.map(
                    (hotkey) =>
                      `  ${hotkey.name} (hotkey ${hotkey.ss58Address ?? '?'}${hotkey.encrypted ? ', encrypted' : ''})`,
                  ),
                ]),
              ].join('\n'),
      );
    });
}
