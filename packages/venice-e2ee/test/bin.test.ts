import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin/venice-fake.js', import.meta.url));

describe.skipIf(!existsSync(bin))('venice-fake bin (built)', () => {
  it('prints one line with its base URL, serves, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, '--host', '127.0.0.1', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (data: Buffer) => {
        buffer += data.toString();
        if (buffer.includes('\n')) resolve(buffer);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    const match = /^listening on (http:\/\/127\.0\.0\.1:\d+\/api\/v1)\n$/.exec(line);
    expect(match).not.toBeNull();
    const models = (await (await fetch(`${match![1]}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.length).toBeGreaterThan(0);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('exits non-zero with a one-line reason for a bad port', async () => {
    const child = spawn(process.execPath, [bin, '--port', 'nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (value) => resolve(value)));
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('invalid --port');
  });
});
