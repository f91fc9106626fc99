import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OccupiedPort, occupyLoopbackPort } from './occupied-port.js';
import { runBin } from './run-command.js';

/** What a bin says where the one CLI shape lets its wording differ. */
export interface CliShapeOptions {
  /** The command's name, as in its usage line and its error lines (`<name>: ERR_...`). */
  name: string;
  /** Absolute path of the bin launcher run by {@link runBin}. */
  bin: string;
  /** The `message` of the `ERR_USAGE` for `--bogus`, e.g. `unknown option '--bogus'`. */
  unknownOptionMessage: string;
  /** A part of the stderr line for `--port http`, e.g. `expected a port number 0-65535`. */
  invalidPortMessage: string;
  /** What the `ERR_ADDRESS_IN_USE` message says after `is already in use (EADDRINUSE); `. */
  addressInUseHint: string;
  /** Arguments that let the server start apart from its address (`--simulate`, ...); none by default. */
  serveArgs?: string[];
  /** Whether stderr may hold log lines besides the error line when the port is in use (a server that logs). */
  logsToStderr?: boolean;
}

/**
 * Registers the tests of the one CLI shape against the real bin: `--help`/`-h` (usage on stdout, exit 0),
 * `--version`, an unknown option and a bad `--port` (exit 2, `ERR_USAGE` as JSON on stdout, one line on stderr
 * naming the help), and a port already in use (exit 1, `ERR_ADDRESS_IN_USE` naming host:port, no stack trace).
 * Every case exits before serving.
 * @example
 * ```ts
 * describeCliShape({
 *   name: 'tee-gateway',
 *   bin: fileURLToPath(new URL('../bin/tee-gateway.js', import.meta.url)),
 *   unknownOptionMessage: "unknown option '--bogus'",
 *   invalidPortMessage: 'expected a port number 0-65535',
 *   addressInUseHint: 'choose another --port or stop the process listening there',
 * });
 * ```
 */
export function describeCliShape(options: CliShapeOptions): void {
  const { name, bin } = options;
  let occupied: OccupiedPort;
  beforeAll(async () => {
    occupied = await occupyLoopbackPort();
  });
  afterAll(() => occupied.close());

  describe(`${name}: the one CLI shape (the real bin)`, () => {
    it('--help / -h prints the usage on stdout and exits 0; --version prints the version', async () => {
      for (const flag of ['--help', '-h']) {
        const result = await runBin(bin, [flag]);
        expect(result.code, flag).toBe(0);
        expect(result.stdout).toMatch(new RegExp(`^Usage: ${name} `));
        expect(result.stderr).toBe('');
      }
      const version = await runBin(bin, ['--version']);
      expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    }, 60_000);

    it('an unknown option exits 2 with ERR_USAGE: JSON on stdout, one line on stderr naming the help', async () => {
      const result = await runBin(bin, ['--bogus']);
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toEqual({
        ok: false,
        error: { code: 'ERR_USAGE', message: options.unknownOptionMessage },
      });
      expect(result.stderr).toBe(
        `${name}: ERR_USAGE: ${options.unknownOptionMessage} (see ${name} --help)\n`,
      );
      const port = await runBin(bin, ['--port', 'http', '--json']);
      expect(port.code).toBe(2);
      expect(port.stdout.trim().split('\n')).toHaveLength(1);
      expect(JSON.parse(port.stdout).error).toMatchObject({ code: 'ERR_USAGE' });
      expect(port.stderr).toContain(options.invalidPortMessage);
    }, 60_000);

    it('a port already in use: exit 1, ERR_ADDRESS_IN_USE naming host:port, no stack trace', async () => {
      const address = `127.0.0.1:${occupied.port}`;
      const args = [...(options.serveArgs ?? []), '--host', '127.0.0.1', '--port', String(occupied.port)];
      const result = await runBin(bin, [...args, '--json']);
      expect(result.code).toBe(1);
      const failure = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '');
      expect(failure).toMatchObject({ ok: false, error: { code: 'ERR_ADDRESS_IN_USE', address } });
      const line = `${name}: ERR_ADDRESS_IN_USE: ${address} is already in use (EADDRINUSE); ${options.addressInUseHint}\n`;
      if (options.logsToStderr) expect(result.stderr).toContain(line);
      else expect(result.stderr).toBe(line);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }, 120_000);
  });
}
