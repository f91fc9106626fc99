import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { ChutesClient } from '../sdk/client.js';
import { genericApiBaseUrl, loadConfig } from '../sdk/config.js';
import { type Hotkey, hotkeyFromSeed } from '../sdk/signing.js';
import { defaultWalletsPath, hotkeyPath, readHotkeyFile } from '../sdk/wallet.js';
import { addFlag } from './shared.js';

interface LoginOptions {
  configPath?: string;
  walletsPath?: string;
  wallet?: string;
  hotkey?: string;
  browser?: boolean;
  json?: boolean;
}

/** `chutes login`: signs the IDP nonce and opens the browser login URL. */
export function registerLoginCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('login')
    .description('Log in to the chutes.ai website with your hotkey (opens a browser)')
    .option('--config-path <path>', 'custom path to the chutes config')
    .option('--wallets-path <path>', 'path to the bittensor wallets directory')
    .option('--wallet <name>', 'wallet to use instead of the config hotkey')
    .option('--hotkey <name>', 'hotkey of --wallet (default: "default")')
    .option('--browser', 'open the login URL in a browser (default)')
    .option('--no-browser', 'only print the login URL')
    .option('--json', 'machine-readable JSON on stdout');
  addFlag(command, 'debug', 'enable debug logging');
  command.action(async (options: LoginOptions) => {
    let hotkey: Hotkey;
    if (options.wallet) {
      const walletsPath = options.walletsPath ?? defaultWalletsPath(ctx.io.home);
      hotkey = (await readHotkeyFile(hotkeyPath(walletsPath, options.wallet, options.hotkey ?? 'default')))
        .hotkey;
    } else {
      const config = await loadConfig({ configPath: options.configPath, env: ctx.io.env, home: ctx.io.home });
      if (!config.auth)
        throw new ChutesCliError(
          'ERR_AUTH_REQUIRED',
          `${config.path} has no [auth] section; pass --wallet or run "chutes register"`,
        );
      hotkey = hotkeyFromSeed(config.auth.hotkeySeed);
    }
    const client = new ChutesClient({
      baseUrl: genericApiBaseUrl(ctx.io.env),
      fetch: ctx.fetchFor(options),
      now: ctx.io.now,
    });
    const nonce = await client.cliLoginNonce();
    const url = client.cliLoginUrl(nonce, hotkey);
    const open = options.browser !== false;
    if (open) await ctx.io.openBrowser(url);
    ctx.result(
      options,
      { url, hotkey: hotkey.ss58Address, opened: open },
      `${open ? 'Opening' : 'Open this URL to log in'}: ${url}`,
    );
  });
}
