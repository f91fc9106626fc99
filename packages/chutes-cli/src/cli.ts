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
import { registerWarmupCommand } from './commands/warmup.js';
import { CliContext, type CliIo, defaultIo } from './context.js';
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
    });
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

/**
 * Runs the `chutes` CLI with `argv` (as `process.argv`: node and script first) and returns the exit code
 * (see `EXIT_CODES`). Errors become one line on stderr: `error: <message>`; nothing throws.
 *
 * @example
 * ```ts
 * const code = await run(['node', 'chutes', 'chutes', 'list', '--json'], { env: { CHUTES_CONFIG_PATH: '/tmp/c.ini' } });
 * ```
 */
export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const ctx = new CliContext({ ...defaultIo(), ...io });
  const program = createProgram(ctx);
  try {
    await program.parseAsync([...argv]);
    return EXIT_CODES.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return EXIT_CODES.ok;
      }
      if (error.code === 'commander.executeSubCommandAsync') return EXIT_CODES.ok;
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    }
    const message = ChutesCliError.isInstance(error)
      ? error.message
      : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
    ctx.io.stderr(`error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
    return exitCodeFor(error);
  }
}
