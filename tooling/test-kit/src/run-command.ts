import { spawn } from 'node:child_process';

/** How a finished child process ended and what it wrote. */
export interface CommandResult {
  /** The exit code, or `null` when a signal ended the process. */
  code: number | null;
  /** Everything written to stdout (UTF-8). */
  stdout: string;
  /** Everything written to stderr (UTF-8). */
  stderr: string;
}

/** Options of {@link runCommand} and {@link runBin}. */
export interface RunCommandOptions {
  /** The child's whole environment (nothing of the test's own is passed unless listed here). */
  env: NodeJS.ProcessEnv;
  /** The working directory; the test's own when omitted. */
  cwd?: string;
}

/**
 * Runs a command to completion with stdin closed (nothing may wait for an answer) and collects its output.
 * @throws Error (the promise rejects) when the command cannot be spawned at all.
 * @example
 * ```ts
 * const result = await runCommand('bash', ['-c', 'echo hi'], { env: { PATH: process.env['PATH'] } });
 * result; // { code: 0, stdout: 'hi\n', stderr: '' }
 * ```
 */
export function runCommand(
  command: string,
  args: string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs a Node script (a package's bin launcher) with this Node, to completion. The child sees only `PATH` plus `env`,
 * so no setting of the test's environment leaks into it.
 * @param file Absolute path of the script, e.g. `fileURLToPath(new URL('../bin/tee-gateway.js', import.meta.url))`.
 * @param args Its command-line arguments.
 * @param env Variables added to `PATH`.
 * @example
 * ```ts
 * const { code, stdout } = await runBin(BIN, ['--version']);
 * ```
 */
export function runBin(
  file: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CommandResult> {
  return runCommand(process.execPath, [file, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env } });
}
