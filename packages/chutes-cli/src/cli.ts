import { Command, CommanderError } from 'commander';
import { registerBuildCommand } from './commands/build.js';
import { registerChatCommand } from './commands/chat.js';
import { registerChutesCommand } from './commands/chutes.js';
import { registerDeployCommand } from './commands/deploy.js';
import { registerImagesCommand } from './commands/images.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerLoginCommand } from './commands/login.js';
import { registerRefingerCommand } from './commands/refinger.js';
import { registerRegisterCommand } from './commands/register.js';
import { registerReportCommand } from './commands/report.js';
import { registerSecretsCommand } from './commands/secrets.js';
import { registerShareCommand } from './commands/share.js';
import { registerWalletCommand } from './commands/wallet.js';
import { registerWarmupCommand } from './commands/warmup.js';
import { CliContext, type CliIo, closeStdinReader, defaultIo } from './context.js';
import { ChutesCliError, EXIT_CODES, exitCodeFor } from './errors.js';
import { VERSION } from './sdk/version.js';

/** Builds the commander program of the `chutes` CLI bound to an I/O context. */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('chutes')
    .description('Chutes development kit and CLI (TypeScript port).')
    .version(VERSION.package, '-V, --version')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (text) => ctx.io.stdout(text),
      writeErr: (text) => ctx.io.stderr(text),
      // Usage errors are reported once, in the CLI shape, by run().
      outputError: () => {},
    });
  registerWalletCommand(program, ctx);
  registerRegisterCommand(program, ctx);
  registerLoginCommand(program, ctx);
  registerRefingerCommand(program, ctx);
  registerReportCommand(program, ctx);
  registerKeysCommand(program, ctx);
  registerChutesCommand(program, ctx);
  registerImagesCommand(program, ctx);
  registerSecretsCommand(program, ctx);
  registerShareCommand(program, ctx);
  registerWarmupCommand(program, ctx);
  registerBuildCommand(program, ctx);
  registerDeployCommand(program, ctx);
  registerChatCommand(program, ctx);
  return program;
}

/** The subcommand path named by `argv` (`keys create`), for the usage hint of a usage error. */
function commandPath(program: Command, args: readonly string[]): string {
  const names: string[] = [];
  let command = program;
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    const sub = command.commands.find(
      (candidate) => candidate.name() === arg || candidate.aliases().includes(arg),
    );
    if (!sub) break;
    names.push(sub.name());
    command = sub;
  }
  return ['chutes', ...names].join(' ');
}

/**
 * Reports a failure in the one CLI shape: stderr gets `chutes: <code>: <message>` (usage errors end with
 * `(see chutes <subcommand> --help)`); with `--json`, stdout also gets `{"ok":false,"error":{code,message,...}}`.
 */
function reportFailure(ctx: CliContext, json: boolean, error: unknown, usageOf: string): number {
  const known = ChutesCliError.isInstance(error);
  const code = known ? error.code : 'ERR_INTERNAL';
  const raw = known ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
  const message = raw.replace(/\s*\n\s*/g, ' ').trim();
  const hint = code === 'ERR_USAGE' ? ` (see ${usageOf} --help)` : '';
  ctx.io.stderr(`chutes: ${code}: ${message}${hint}\n`);
  if (json) {
    const detail: Record<string, unknown> = { code, message };
    if (known && error.status !== undefined) detail['status'] = error.status;
    if (known && error.detail) detail['detail'] = error.detail;
    ctx.io.stdout(`${JSON.stringify({ ok: false, error: detail })}\n`);
  }
  return exitCodeFor(error);
}

/**
 * Runs the `chutes` CLI with `argv` (as `process.argv`: node and script first) and returns the exit code
 * (see `EXIT_CODES`). A failure prints `chutes: <code>: <message>` on stderr and, with `--json`,
 * `{"ok":false,"error":{"code","message"}}` on stdout; nothing throws.
 *
 * @example
 * ```ts
 * const code = await run(['node', 'chutes', 'chutes', 'list', '--json'], { env: { CHUTES_CONFIG_PATH: '/tmp/c.ini' } });
 * ```
 */
export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const ctx = new CliContext({ ...defaultIo(), ...io });
  const program = createProgram(ctx);
  const args = argv.slice(2);
  const json = args.includes('--json');
  try {
    await program.parseAsync([...argv]);
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help' ||
        error.code === 'commander.executeSubCommandAsync' ||
        error.exitCode === 0
      ) {
        return EXIT_CODES.ok;
      }
      const usage = new ChutesCliError('ERR_USAGE', error.message.replace(/^error:\s*/i, ''), {
        cause: error,
      });
      return reportFailure(ctx, json, usage, commandPath(program, args));
    }
    return reportFailure(ctx, json, error, commandPath(program, args));
  } finally {
    closeStdinReader();
  }
}
