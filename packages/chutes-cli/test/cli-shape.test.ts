import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliContext, createProgram, defaultIo, run } from '../src/index.js';
import { chutes, FAKE_API_BIN, type ProcessSetup, processSetup, runProcess } from './process.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

let env: ProcessSetup;
beforeAll(async () => {
  env = await processSetup();
});
afterAll(async () => {
  await env.close();
});

describe('the one CLI shape (child processes)', () => {
  it('--help on every subcommand prints its usage on stdout and exits 0', async () => {
    const paths = commandPaths(createProgram(new CliContext(defaultIo())));
    expect(paths.map((path) => path.join(' '))).toEqual(
      expect.arrayContaining(['wallet create', 'keys get']),
    );
    // Every subcommand through run() (the bin's code path, in process: fast), a few as real processes.
    for (const path of paths) {
      let stdout = '';
      let stderr = '';
      const code = await run(['node', 'chutes', ...path, '--help'], {
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
      });
      expect(code, path.join(' ')).toBe(0);
      expect(stdout, path.join(' ')).toMatch(new RegExp(`^Usage: chutes ${path.join(' ')} `));
      expect(stderr).toBe('');
    }
    for (const path of [['deploy'], ['wallet', 'create'], ['keys', 'get']]) {
      const result = await chutes([...path, '-h'], { env: env.env });
      expect(result.code, path.join(' ')).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: chutes ${path.join(' ')} `));
    }
  }, 120_000);

  it('--version prints the package version', async () => {
    const result = await chutes(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('usage errors exit 2 with one line naming the command help, and the JSON failure shape with --json', async () => {
    let result = await chutes(['keys', 'get', '--json'], { env: env.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "chutes: ERR_USAGE: missing required argument 'name_or_id' (see chutes keys get --help)\n",
    );
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_USAGE', message: "missing required argument 'name_or_id'" },
    });
    result = await chutes(['chutes', 'list', '--limit', 'x'], { env: env.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^chutes: ERR_USAGE: .*--limit must be a non-negative integer \(see chutes chutes list --help\)\n$/,
    );
    expect(result.stdout).toBe('');
    result = await chutes(['nope']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^chutes: ERR_USAGE: unknown command 'nope' \(see chutes --help\)\n$/);
  });

  it('operation failures: one stderr line, and with --json one JSON line on stdout with status and detail', async () => {
    const result = await chutes(['chutes', 'get', 'missing', '--json'], { env: env.env });
    expect(result.code).toBe(5);
    expect(result.stderr).toBe(
      'chutes: ERR_HTTP: getting chutes/missing failed with HTTP 404: Chute not found\n',
    );
    expect(result.stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: {
        code: 'ERR_HTTP',
        message: 'getting chutes/missing failed with HTTP 404: Chute not found',
        status: 404,
        detail: 'Chute not found',
      },
    });
  });

  it('exits quietly when stdout is closed early (`... | head -1`)', async () => {
    env.api.addImage({ username: 'alice', name: 'img', tag: '1' });
    const result = await chutes(['images', 'list', '--json'], {
      env: env.env,
      onSpawn: (child) => child.stdout!.destroy(),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('chutes-fake-api', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolvePromise) => blocker.listen(0, '127.0.0.1', () => resolvePromise()));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolvePromise) => blocker.close(resolvePromise));
  });

  it('names the address when the port is in use, in the failure shape', async () => {
    const result = await runProcess(FAKE_API_BIN, ['--port', String(port), '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `chutes-fake-api: ERR_ADDRESS_IN_USE: 127.0.0.1:${port} is already in use (listen EADDRINUSE); pick another --port\n`,
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'ERR_ADDRESS_IN_USE' } });
  });

  it('--help exits 0, --version prints the version, a bad port is a usage error', async () => {
    const help = await runProcess(FAKE_API_BIN, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: chutes-fake-api /);
    expect((await runProcess(FAKE_API_BIN, ['--version'])).stdout).toBe(`${version}\n`);
    const bad = await runProcess(FAKE_API_BIN, ['--port', 'abc']);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: { code: 'ERR_USAGE' } });
    expect(bad.stderr).toMatch(
      /^chutes-fake-api: ERR_USAGE: .*must be an integer 0-65535 \(see chutes-fake-api --help\)\n$/,
    );
  });
});
