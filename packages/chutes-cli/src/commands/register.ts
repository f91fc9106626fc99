import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { ChutesClient } from '../sdk/client.js';
import {
  type ChutesConfigFile,
  genericApiBaseUrl,
  resolveConfigPath,
  saveConfig,
  serializeConfig,
} from '../sdk/config.js';
import {
  defaultWalletsPath,
  hotkeyPath,
  listHotkeys,
  listWallets,
  readColdkeyPub,
  readHotkeyFile,
} from '../sdk/wallet.js';
import { addFlag } from './shared.js';

const USERNAME_RE = /^[a-zA-Z0-9_]{3,15}$/;

interface RegisterOptions {
  configPath?: string;
  username?: string;
  walletsPath?: string;
  wallet?: string;
  hotkey?: string;
  token?: string;
  yes?: boolean;
  json?: boolean;
  debug?: boolean;
}

async function choose(ctx: CliContext, label: string, items: string[]): Promise<string> {
  if (items.length === 0) throw new ChutesCliError('ERR_WALLET_MISSING', `no ${label}s found`);
  ctx.info(`${label[0]!.toUpperCase()}${label.slice(1)}s available:`);
  for (const [index, item] of items.entries()) ctx.info(`[${String(index).padStart(2)}] ${item}`);
  const choice = (await ctx.io.prompt('Enter your choice (number, not name): ')).trim();
  const index = /^\d+$/.test(choice) ? Number(choice) : -1;
  if (index < 0 || index >= items.length) throw new ChutesCliError('ERR_VALIDATION', 'Bad choice!');
  return items[index]!;
}

/** `chutes register`: creates an account from a bittensor wallet and writes config.ini. */
export function registerRegisterCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('register')
    .description('Create an account with the chutes run platform!')
    .option('--config-path <path>', 'custom path to write the chutes config to')
    .option('--username <name>', 'username (3-15 letters, digits or _)')
    .option('--wallets-path <path>', 'path to the bittensor wallets directory (default ~/.bittensor/wallets)')
    .option('--wallet <name>', 'name of the wallet to use')
    .option('--hotkey <name>', 'hotkey to register with')
    .option(
      '--token <token>',
      'registration token (production: from https://rtok.chutes.ai/users/registration_token)',
    )
    .option('-y, --yes', 'save the config without asking')
    .option('--json', 'machine-readable JSON on stdout');
  addFlag(command, 'debug', 'enable debug logging');
  command.action(async (options: RegisterOptions) => {
    const baseUrl = genericApiBaseUrl(ctx.io.env);
    const client = new ChutesClient({ baseUrl, fetch: ctx.fetchFor(options), now: ctx.io.now });
    if (!(await client.ping(AbortSignal.timeout(12_000)))) {
      throw new ChutesCliError('ERR_HTTP', `the Chutes API at ${baseUrl} did not answer /ping with 200`, {
        status: 503,
      });
    }
    const username = options.username ?? (await ctx.io.prompt('Enter desired username: ')).trim();
    if (!USERNAME_RE.test(username)) {
      throw new ChutesCliError('ERR_VALIDATION', 'Invalid username: use 3-15 letters, digits or underscores');
    }
    const walletsPath = options.walletsPath ?? defaultWalletsPath(ctx.io.home);
    const wallet = options.wallet ?? (await choose(ctx, 'wallet', await listWallets(walletsPath)));
    const hotkeyName =
      options.hotkey ?? (await choose(ctx, 'hotkey', await listHotkeys(walletsPath, wallet)));
    const hotkeyFile = hotkeyPath(walletsPath, wallet, hotkeyName);
    const walletHotkey = await readHotkeyFile(hotkeyFile);
    const coldkey = await readColdkeyPub(walletsPath, wallet);

    let token = options.token ?? 'replaceme';
    let url = `${baseUrl.replace(/\/+$/, '')}/users/register`;
    if (baseUrl.startsWith('https://api.chutes.ai')) {
      url = 'https://rtok.chutes.ai/users/register';
      if (!options.token) {
        ctx.info('Registration token required: visit https://rtok.chutes.ai/users/registration_token');
        token = (await ctx.io.prompt('Paste your registration token here: ')).trim();
        if (!token) throw new ChutesCliError('ERR_ABORTED', 'No token provided. Registration cancelled.');
      }
    }
    ctx.info(
      `Attempting to register the user ${username} with the wallet located at ${hotkeyPath(walletsPath, wallet, hotkeyName)}.`,
    );
    const data = await client.register({ username, coldkey, token, hotkey: walletHotkey.hotkey, url });
    const config: ChutesConfigFile = {
      apiBaseUrl: baseUrl,
      auth: {
        username,
        userId: String(data.user_id),
        hotkeySeed: walletHotkey.secretSeed,
        hotkeyName,
        hotkeySs58Address: walletHotkey.ss58Address,
      },
      paymentAddress: String(data.payment_address),
    };
    const path = resolveConfigPath({ configPath: options.configPath, env: ctx.io.env, home: ctx.io.home });
    const hiddenConfig = serializeConfig(config).replace(
      /hotkey_seed = .*/,
      `hotkey_seed = <the secretSeed of ${hotkeyFile}, without 0x>`,
    );
    if (!options.json)
      ctx.info(`User created successfully: user_id=${data.user_id}, config.ini:\n${hiddenConfig}`);
    // From here on the account exists on the server: never end without either saving the config or printing the
    // credentials once, with a non-zero exit.
    const keepCredentials = (why: string, cause: unknown): never => {
      ctx.io.stderr(
        [
          '',
          `The account ${String(data.username)} was registered, but ${why}. Save these credentials now (shown once):`,
          `  user_id = ${String(data.user_id)}`,
          `  fingerprint = ${String(data.fingerprint)}   (the website login; do not share it)`,
          `  payment address = ${String(data.payment_address)}`,
          `config.ini for ${path}:`,
          hiddenConfig,
          '',
        ].join('\n'),
      );
      throw new ChutesCliError(
        ChutesCliError.isInstance(cause) && cause.code === 'ERR_ABORTED' ? 'ERR_ABORTED' : 'ERR_CONFIG_WRITE',
        `registered, but ${why}; the credentials are printed above`,
        { cause },
      );
    };
    let saved = options.yes === true;
    if (!saved) {
      let answer: string;
      try {
        answer = await ctx.io.prompt(`Save to ${path} (y/n): `);
      } catch (error) {
        return keepCredentials(`there was no answer to "Save to ${path}"`, error);
      }
      saved = answer.trim().toLowerCase() === 'y';
    }
    if (saved) {
      try {
        await saveConfig(path, config);
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? 'error';
        keepCredentials(`${path} could not be written (${reason})`, error);
      }
    }
    ctx.result(
      options,
      {
        user_id: data.user_id,
        username: data.username,
        fingerprint: data.fingerprint,
        payment_address: data.payment_address,
        config_path: path,
        saved,
      },
      [
        `Successfully registered username=${data.username}, with fingerprint ${data.fingerprint}`,
        'Keep the fingerprint safe as this is account login credentials - do not lose or share it!',
        `  To add balance for your account, send tao to: ${data.payment_address}`,
        saved ? `Config saved to ${path}` : 'Config not saved.',
      ].join('\n'),
    );
  });
}
