import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '@confidential-ai/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from './helpers.js';
import { CLI_BIN, FAKE_API_BIN, freePort } from './process.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The first ```sh block of the README's "Quick start" section, verbatim. */
async function quickStartBlock(): Promise<string> {
  const text = await readFile(README, 'utf8');
  const section = text.slice(text.indexOf('## Quick start'));
  const match = /```sh\n([\s\S]*?)\n```/.exec(section);
  if (!match) throw new Error('README has no ```sh block in its Quick start section');
  return `${match[1]!}\n`;
}

let dir: string | undefined;
afterEach(async () => {
  if (!dir) return;
  // If the block failed before its last line, stop the fake API it started.
  try {
    process.kill(
      Number((await readFile(join(dir, 'chutes-demo', 'fake-api.pid'), 'utf8')).trim()),
      'SIGTERM',
    );
  } catch {
    // already stopped by the block itself
  }
  await rm(dir, { recursive: true, force: true });
});

describe('README quick start', () => {
  it('runs top to bottom, verbatim, against chutes-fake-api', async () => {
    const block = await quickStartBlock();
    expect(block).toContain('chutes wallet create');
    expect(block).toContain('chutes deploy llama1b:chute');
    const root = join(PACKAGE_DIR, 'node_modules', '.tmp');
    await mkdir(root, { recursive: true });
    dir = await mkdtemp(join(root, 'quickstart-'));
    // `chutes` and `chutes-fake-api` on PATH, as a global install puts them.
    const bin = join(dir, 'bin');
    await mkdir(bin);
    for (const [name, script] of [
      ['chutes', CLI_BIN],
      ['chutes-fake-api', FAKE_API_BIN],
    ] as const) {
      await writeFile(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
      await chmod(join(bin, name), 0o755);
    }
    const work = join(dir, 'work');
    await mkdir(work);
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env))
      if (value !== undefined && !/^(CHUTES_|HTTPS?_PROXY|NO_PROXY)/i.test(key)) env[key] = value;
    Object.assign(env, {
      PATH: `${bin}:${process.env['PATH']}`,
      HOME: join(dir, 'home'),
      PORT: String(port),
    });
    // No terminal, stdin closed: nothing may wait for an answer.
    const result = await runCommand('bash', ['-euo', 'pipefail', '-c', block], { cwd: work, env });
    expect(result.stderr).not.toMatch(/chutes: ERR_/);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`listening on http://127.0.0.1:${port} (pid `);
    expect(result.stdout).toMatch(/coldkey mnemonic: (\w+ ){11}\w+\n/);
    expect(result.stdout).toMatch(/Successfully registered username=alice/);
    expect(result.stdout).toMatch(/"secret_key": "cpk_[0-9a-f]{32}\.[0-9a-f]{32}\.[A-Za-z0-9]{32}"/);
    expect(result.stdout).toMatch(/Successfully deployed chute unsloth\/Llama-3\.2-1B-Instruct chute_id=/);
    expect(result.stderr).toContain(
      'Deployment fee notice: this new chute costs a one-time fee of about $0.60',
    );
    const list = result.stdout.slice(result.stdout.lastIndexOf('{\n  "total"'));
    expect(JSON.parse(list)).toMatchObject({ total: 1, items: [{ name: 'unsloth/Llama-3.2-1B-Instruct' }] });
  }, 240_000);
});
