import type { Command } from 'commander';
import { configIssuesOf, formatConfigIssues, isToolkitError } from './errors.js';

/** The streams and environment a command line uses (injectable for tests). */
export interface CliStreams {
  /** Standard output (the one ready line, `--json` reports). */
  stdout: (text: string) => void;
  /** Standard error (one-line failure reasons). */
  stderr: (text: string) => void;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Fills in the process's streams and environment for whatever `io` leaves out. A reader that went away (EPIPE on
 * stdout/stderr) must not crash a running server, so errors of the real streams are ignored.
 * @example
 * ```ts
 * const io = cliStreams({ env: { TOKEN: 'x' } }); // process stdout/stderr, the given env
 * ```
 */
export function cliStreams<Extra extends object = object>(
  io?: Partial<CliStreams> & Extra,
): CliStreams & Partial<Extra> {
  if (!io?.stdout) process.stdout.on('error', () => {});
  if (!io?.stderr) process.stderr.on('error', () => {});
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    ...io,
  } as CliStreams & Partial<Extra>;
}

/**
 * One line saying why a command failed: every configuration issue with its key and env var, the message of a
 * toolkit error (written to be shown), or the name and first line of anything else.
 * @example
 * ```ts
 * describeFailure(new TypeError('bad\nmore')); // 'TypeError: bad'
 * ```
 */
export function describeFailure(error: unknown): string {
  const issues = configIssuesOf(error);
  if (issues) return `invalid configuration: ${formatConfigIssues(issues)}`;
  if (error instanceof Error) {
    const first = error.message.split('\n')[0] ?? '';
    return isToolkitError(error) ? first : `${error.name}: ${first}`;
  }
  return String(error);
}

/**
 * Runs a commander program (built with `exitOverride()`) on `argv` (as `process.argv`): resolves to 0 when it
 * finishes or keeps serving, to commander's exit code for usage errors and `--help`/`--version`, and to 1 after
 * writing `error: <one line>` to `stderr` for any other failure.
 * @example
 * ```ts
 * const code = await runProgram(createProgram(io), process.argv, io);
 * if (code !== 0) process.exitCode = code;
 * ```
 */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  io: Pick<CliStreams, 'stderr'>,
): Promise<number> {
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) {
      return commanderError.exitCode ?? 1;
    }
    io.stderr(`error: ${describeFailure(error)}\n`);
    return 1;
  }
}
