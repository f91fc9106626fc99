// The root README's quick start on a fresh copy of the repository (tracked and new files; no node_modules, no
// dist, no turbo cache): `npm start` installs, builds what the server needs and serves the four faces, which
// examples/client.mjs then chats with through the OpenAI SDK; SIGTERM stops it cleanly. (`npm test`, the other
// command, is the run this test is part of.)
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repositoryRoot, runCommand } from '../src/project.js';

let copy: string | undefined;
let server: ChildProcess | undefined;

afterAll(() => {
  if (server?.exitCode === null) server.kill('SIGKILL');
  if (copy) rmSync(copy, { recursive: true, force: true });
});

function freshCopy(): string {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repositoryRoot,
    encoding: 'utf8',
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  const target = mkdtempSync(join(tmpdir(), 'quick-start-'));
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    mkdirSync(join(target, dirname(file)), { recursive: true });
    cpSync(join(repositoryRoot, file), join(target, file), { errorOnExist: false, force: true });
  }
  return target;
}

it('npm start serves every face on a fresh copy, quietly, and stops on SIGTERM', async () => {
  copy = freshCopy();
  const started = Date.now();
  const child = spawn('npm', ['start', '--', '--port', '0'], {
    cwd: copy,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  server = child;
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line after 240 s:\n${output}`)), 240_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const ready = /^listening on (http:\/\/\S+)$/m.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  const readySeconds = (Date.now() - started) / 1000;
  console.log(`npm start on a fresh copy: ready in ${readySeconds.toFixed(1)} s at ${url}`);

  expect(output).not.toMatch(/\bWARN\b|approve-builds|Ignored build scripts/);
  expect(output).toMatch(/\[2\/3\] Building/);
  expect(output).toMatch(/@confidential-ai\/proxy-server: built/);

  const client = await runCommand(process.execPath, ['examples/client.mjs', url], {
    cwd: copy,
    env: process.env,
    timeoutMs: 60_000,
  });
  expect(client.code, client.output).toBe(0);
  for (const face of ['/v1', '/v1/chutes', '/venice', '/tee-gateway']) expect(client.output).toContain(face);

  // npm forwards SIGTERM to the script and then ends itself by that signal; the server must have stopped cleanly.
  const exited = new Promise<string>((resolve) =>
    child.on('close', (code, signal) => resolve(`${code ?? signal}`)),
  );
  child.kill('SIGTERM');
  expect(['0', 'SIGTERM']).toContain(await exited);
  expect(output).toMatch(/^server stopped cleanly$/m);
}, 420_000);
