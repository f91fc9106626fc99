import { fileURLToPath } from 'node:url';
import { type OccupiedPort, occupyLoopbackPort, runBin as runScript } from '@confidential-ai/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/confidential-proxy.js', import.meta.url));

/** Runs the real bin to completion (a server that starts would hang the test: every case here fails or exits). */
const runBin = (args: string[], env: Record<string, string> = {}) => runScript(BIN, args, env);

let occupied: OccupiedPort;
let occupiedPort: number;
beforeAll(async () => {
  occupied = await occupyLoopbackPort();
  occupiedPort = occupied.port;
});
afterAll(() => occupied.close());

describe('confidential-proxy: the one CLI shape (the real bin)', () => {
  it('--help on every subcommand prints its usage on stdout and exits 0; --version prints the version', async () => {
    const cases = [['--help'], ['serve', '--help'], ['serve', '-h'], ['config', '-h'], ['venice', '--help']];
    for (const args of [...cases, ['tee-gateway', '-h']]) {
      const result = await runBin(args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toMatch(/^Usage: /);
      expect(result.stderr).toBe('');
    }
    const version = await runBin(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  }, 120_000);

  it('an unknown option exits 2 with ERR_USAGE: JSON on stdout, one line on stderr naming the help', async () => {
    const result = await runBin(['serve', '--bogus']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_USAGE', message: "unknown option '--bogus'" },
    });
    expect(result.stdout).toContain('\n  '); // pretty-printed without --json
    expect(result.stderr).toBe(
      "confidential-proxy: ERR_USAGE: unknown option '--bogus' (see confidential-proxy serve --help)\n",
    );
    const json = await runBin(['serve', '--port', 'http', '--json']);
    expect(json.code).toBe(2);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout).error.code).toBe('ERR_USAGE');
    const unknownCommand = await runBin(['nope']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toMatch(
      /^confidential-proxy: ERR_USAGE: .*\(see confidential-proxy --help\)\n$/,
    );
  }, 60_000);

  it('a configuration error exits 1 naming the key and env var, never the value', async () => {
    const result = await runBin(['serve', '--port', '0'], {
      CHUTES_ENABLED: 'perhaps',
      TOKEN: 'super-secret',
    });
    expect(result.code).toBe(1);
    const failure = JSON.parse(result.stdout);
    expect(failure.ok).toBe(false);
    expect(failure.error.code).toBe('ERR_CONFIG_INVALID');
    expect(failure.error.message).toContain('chutes.enabled (env CHUTES_ENABLED)');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^confidential-proxy: ERR_CONFIG_INVALID: invalid configuration: /);
    expect(result.stdout + result.stderr).not.toContain('super-secret');
    expect(result.stdout + result.stderr).not.toContain('perhaps');
  }, 60_000);

  it('a port already in use: exit 1, ERR_ADDRESS_IN_USE naming host:port, no stack trace', async () => {
    const result = await runBin(['serve', '--host', '127.0.0.1', '--port', String(occupiedPort), '--json'], {
      LOG_LEVEL: 'silent',
    });
    expect(result.code).toBe(1);
    const failure = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(failure).toMatchObject({
      ok: false,
      error: { code: 'ERR_ADDRESS_IN_USE', address: `127.0.0.1:${occupiedPort}` },
    });
    expect(result.stderr).toContain(
      `confidential-proxy: ERR_ADDRESS_IN_USE: 127.0.0.1:${occupiedPort} is already in use`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
