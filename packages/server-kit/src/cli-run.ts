import type { Command } from 'commander';
import { configIssuesOf, formatConfigIssues, isToolkitError } from './errors.js';

/** The streams and environment a command line uses (injectable for tests). */
export interface CliStreams {
  /** Standard output (the ready line, `--json` reports, the JSON failure object). */
  stdout: (text: string) => void;
  /** Standard error (the one human line of a failure). */
  stderr: (text: string) => void;
  /** Environment variables. */
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Fills in the process's streams and environment for whatever `io` leaves out. A reader that went away (EPIPE on
 * stdout/stderr, e.g. `confidential-proxy config | head -1`) must not print a stack trace nor crash a running
 * server, so errors of the real streams are ignored: a command that finishes exits normally, a server keeps serving.
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

/** The `error` member of the JSON failure object of every CLI (`{"ok": false, "error": CliFailure}`). */
export interface CliFailure {
  /** Stable code: `ERR_USAGE`, `ERR_ADDRESS_IN_USE`, `ERR_CONFIG_INVALID`, a package's own code, or `ERR_UNEXPECTED`. */
  code: string;
  /** One line, safe to show (no secrets, no configuration values). */
  message: string;
  /** Configuration issues (key, env var, what is wrong; never the value), for `ERR_CONFIG_INVALID`. */
  issues?: ReadonlyArray<{ tomlKey: string; envVar: string | undefined; message: string }>;
  /** The address that could not be bound (`host:port`), for `ERR_ADDRESS_IN_USE`. */
  address?: string;
}

/** The system error of a failed `listen` (`EADDRINUSE`) anywhere in a chain of causes, else undefined. */
function listenFailureOf(
  error: unknown,
): (Error & { code: string; address?: string; port?: number }) | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const candidate = current as Error & { code?: unknown; syscall?: unknown };
    if (candidate.code === 'EADDRINUSE') return candidate as Error & { code: string };
    current = candidate.cause;
  }
  return undefined;
}

/**
 * Classifies any failure of a command into the one CLI shape's `error` object (without the usage case): a port
 * already in use (`ERR_ADDRESS_IN_USE` naming `host:port`, found anywhere in the `cause` chain), a configuration
 * error (its code, every issue with key and env var), a toolkit error (its code and first line), else
 * `ERR_UNEXPECTED` with the error's name and first line.
 * @example
 * ```ts
 * cliFailureOf(new TypeError('bad')); // { code: 'ERR_UNEXPECTED', message: 'TypeError: bad' }
 * ```
 */
export function cliFailureOf(error: unknown): CliFailure {
  const inUse = listenFailureOf(error);
  if (inUse) {
    const host = inUse.address ?? '';
    const shownHost = host.includes(':') ? `[${host}]` : host;
    const address = `${shownHost}:${inUse.port ?? ''}`;
    return {
      code: 'ERR_ADDRESS_IN_USE',
      message: `${address} is already in use (EADDRINUSE); choose another --port or stop the process listening there`,
      address,
    };
  }
  const issues = configIssuesOf(error);
  const message = describeFailure(error)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  if (issues) {
    return {
      code: (error as { code: string }).code,
      message,
      issues: issues.map(({ tomlKey, envVar, message: what }) => ({ tomlKey, envVar, message: what })),
    };
  }
  if (isToolkitError(error)) return { code: error.code, message };
  return { code: 'ERR_UNEXPECTED', message };
}

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

/** The subcommand path named by `args` (`confidential-proxy serve`), for the usage hint of a usage error. */
function commandPath(program: Command, args: readonly string[]): string {
  const names = [program.name()];
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
  return names.join(' ');
}

/** Silences commander's own error lines on every command of the tree (failures are reported once, by runProgram). */
function silenceCommanderErrors(command: Command): void {
  command.configureOutput({ ...command.configureOutput(), outputError: () => {} });
  for (const sub of command.commands) silenceCommanderErrors(sub);
}

/**
 * Runs a commander program (built with `exitOverride()`) on `argv` (as `process.argv`) in the repository's one CLI
 * shape, and resolves to the exit code:
 * - 0 when the command finishes or keeps serving, and for `--help` / `-h` (on every subcommand) and `--version`;
 * - 2 for a usage error (unknown option or command, bad option value, missing command): code `ERR_USAGE`, and the
 *   stderr line ends with `(see <cli> <subcommand> --help)`;
 * - 1 for any other failure, classified by {@link cliFailureOf} (`ERR_ADDRESS_IN_USE` naming `host:port`,
 *   `ERR_CONFIG_INVALID` naming each key and env var, a package's own code, `ERR_UNEXPECTED`); no stack trace.
 *
 * A failure writes `{"ok": false, "error": {"code", "message", ...}}` on stdout (pretty-printed, one line with
 * `--json`) and one line `<cli>: <code>: <message>` on stderr.
 * @example
 * ```ts
 * const code = await runProgram(createProgram(io), process.argv, io);
 * if (code !== 0) process.exitCode = code;
 * ```
 */
export async function runProgram(
  program: Command,
  argv: readonly string[],
  io: Pick<CliStreams, 'stdout' | 'stderr'>,
): Promise<number> {
  const args = argv.slice(2);
  const json = args.includes('--json');
  const name = program.name();
  silenceCommanderErrors(program);
  const report = (failure: CliFailure, hint?: string): void => {
    io.stdout(`${JSON.stringify({ ok: false, error: failure }, null, json ? undefined : 2)}\n`);
    io.stderr(`${name}: ${failure.code}: ${failure.message}${hint ? ` (see ${hint} --help)` : ''}\n`);
  };
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number; message?: string };
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) {
      if (
        commanderError.code === 'commander.helpDisplayed' ||
        commanderError.code === 'commander.version' ||
        commanderError.exitCode === 0
      ) {
        return 0;
      }
      const message =
        commanderError.code === 'commander.help'
          ? 'a command is required'
          : String(commanderError.message ?? 'invalid usage').replace(/^error:\s*/i, '');
      report(
        { code: 'ERR_USAGE', message: message.replace(/\s*\n\s*/g, ' ').trim() },
        commandPath(program, args),
      );
      return EXIT_USAGE;
    }
    report(cliFailureOf(error));
    return EXIT_FAILURE;
  }
}
