import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CommandResult, runCommand } from '@confidential-ai/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeConfig } from '../src/index.js';
import { ALICE_SEED, ALICE_SS58 } from './helpers.js';

const BIN = fileURLToPath(new URL('../dist/bin/chutes.js', import.meta.url));
const FAKE_BIN = fileURLToPath(new URL('../dist/bin/chutes-fake-api.js', import.meta.url));

function runBin(args: string[], env: Record<string, string>): Promise<CommandResult> {
  return runCommand(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
}

let fake: ChildProcess;
let url: string;
let dir: string;

beforeAll(async () => {
  expect(existsSync(BIN), 'run `npx tsup` before the e2e test').toBe(true);
  dir = await mkdtemp(join(tmpdir(), 'chutes-e2e-'));
  fake = spawn(process.execPath, [FAKE_BIN, '--port', '0', '--user', `alice:${ALICE_SS58}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  url = await new Promise<string>((resolvePromise, reject) => {
    let buffer = '';
    fake.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(buffer);
      if (match) resolvePromise(match[1]!);
    });
    fake.on('exit', (code) => reject(new Error(`fake API exited with ${code}`)));
  });
  await writeFile(
    join(dir, 'config.ini'),
    serializeConfig({
      apiBaseUrl: url,
      auth: {
        username: 'alice',
        userId: 'u1',
        hotkeySeed: ALICE_SEED,
        hotkeyName: 'default',
        hotkeySs58Address: ALICE_SS58,
      },
    }),
  );
});

afterAll(async () => {
  if (fake && fake.exitCode === null) {
    const exited = new Promise((resolvePromise) => fake.once('exit', resolvePromise));
    fake.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
  await rm(dir, { recursive: true, force: true });
});

describe('the built chutes bin against the built fake API bin', () => {
  it('creates an API key and uses it (signed over HTTP between two processes)', async () => {
    const created = await runBin(
      ['keys', 'create', '--name', 'e2e', '--admin', '--json', '--config-path', join(dir, 'config.ini')],
      {},
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { secret_key: string; admin: boolean };
    expect(key.admin).toBe(true);
    const viaKey = await runBin(['keys', 'list', '--json', '--api-key', key.secret_key], {
      CHUTES_CONFIG_PATH: join(dir, 'none.ini'),
      CHUTES_API_URL: url,
    });
    expect(viaKey.code).toBe(0);
    expect((JSON.parse(viaKey.stdout) as { total: number }).total).toBe(1);
  });

  it('exit codes and one-line errors', async () => {
    const missing = await runBin(['chutes', 'list'], { CHUTES_CONFIG_PATH: join(dir, 'none.ini') });
    expect(missing.code).toBe(3);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const usage = await runBin(['nope'], {});
    expect(usage.code).toBe(2);
  });
});
