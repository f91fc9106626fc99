import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const NAME = 'tee-gateway';
const BIN = fileURLToPath(new URL(`../bin/${NAME}.js`, import.meta.url));

/** Runs the real bin to completion (every case here fails or exits before serving). */
function runBin(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let occupied: Server;
let occupiedPort: number;
beforeAll(async () => {
  occupied = createServer();
  await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
  occupiedPort = (occupied.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => occupied.close(() => resolve())));

describe(`${NAME}: the one CLI shape (the real bin)`, () => {
  it('--help / -h prints the usage on stdout and exits 0; --version prints the version', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await runBin([flag]);
      expect(result.code, flag).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: ${NAME} `));
      expect(result.stderr).toBe('');
    }
    const version = await runBin(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  }, 60_000);

  it('an unknown option exits 2 with ERR_USAGE: JSON on stdout, one line on stderr naming the help', async () => {
    const result = await runBin(['--bogus']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_USAGE', message: "unknown option '--bogus'" },
    });
    expect(result.stderr).toBe(`${NAME}: ERR_USAGE: unknown option '--bogus' (see ${NAME} --help)\n`);
    const json = await runBin(['--port', 'http', '--json']);
    expect(json.code).toBe(2);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'ERR_USAGE' });
    expect(json.stderr).toContain('expected a port number 0-65535');
  }, 60_000);

  it('a port already in use: exit 1, ERR_ADDRESS_IN_USE naming host:port, no stack trace', async () => {
    const result = await runBin([
      '--simulate',
      '--no-x402',
      '--opg-price-usd',
      '1',
      '--log-level',
      'silent',
      '--host',
      '127.0.0.1',
      '--port',
      String(occupiedPort),
      '--json',
    ]);
    expect(result.code).toBe(1);
    const failure = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(failure).toMatchObject({
      ok: false,
      error: { code: 'ERR_ADDRESS_IN_USE', address: `127.0.0.1:${occupiedPort}` },
    });
    expect(result.stderr).toContain(
      `${NAME}: ERR_ADDRESS_IN_USE: 127.0.0.1:${occupiedPort} is already in use`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
