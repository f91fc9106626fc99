import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ChutesCliError } from '../errors.js';
import { ChutesClient } from '../sdk/client.js';
import { loadConfig } from '../sdk/config.js';
import { type Hotkey, hotkeyFromSeed } from '../sdk/signing.js';
import { readHotkeyFile } from '../sdk/wallet.js';
import { addFlag } from './shared.js';

/** `chutes refinger`: changes the website-login fingerprint. */
export function registerRefingerCommand(program: Command, ctx: CliContext): void {
  const command = program
    .command('refinger')
    .description('Change your fingerprint (the website login credential)')
    .option('--config-path <path>', 'custom path to the chutes config')
    .option('--hotkey-path <path>', 'path to a bittensor hotkey JSON file (default: the config hotkey)')
    .option('--json', 'machine-readable JSON on stdout');
  addFlag(command, 'debug', 'enable debug logging');
  command.action(async (options: { configPath?: string; hotkeyPath?: string; json?: boolean }) => {
    const config = await loadConfig({
      configPath: options.configPath,
      env: ctx.io.env,
      home: ctx.io.home,
      allowMissing: options.hotkeyPath !== undefined,
    });
    let hotkey: Hotkey;
    if (options.hotkeyPath) hotkey = (await readHotkeyFile(options.hotkeyPath)).hotkey;
    else if (config.auth) hotkey = hotkeyFromSeed(config.auth.hotkeySeed);
    else
      throw new ChutesCliError(
        'ERR_AUTH_REQUIRED',
        `${config.path} has no [auth] section; pass --hotkey-path`,
      );
    const fingerprint = (await ctx.io.prompt('New fingerprint: ', { hidden: true })).trim();
    if (!fingerprint) throw new ChutesCliError('ERR_VALIDATION', 'the fingerprint must not be empty');
    const client = new ChutesClient({
      baseUrl: config.apiBaseUrl,
      fetch: ctx.fetchFor(options),
      now: ctx.io.now,
    });
    const data = await client.changeFingerprint(fingerprint, hotkey);
    ctx.result(options, data, 'Fingerprint updated.');
  });
}
