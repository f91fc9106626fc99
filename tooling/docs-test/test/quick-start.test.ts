// The root README's quick start on a fresh copy of the repository (tracked and new files; no node_modules, no
// dist, no build cache): `npm start` installs what the server and the examples need, builds their JavaScript and
// serves the four faces, which the three examples then use (examples/client.mjs chats with each through the OpenAI
// SDK); SIGTERM stops it cleanly; no output line is a warning. A second start reuses the install and the build; a
// third, after a source file changed, rebuilds and serves the changed code; a fourth, after another build replaced
// one of the outputs, rebuilds too. (`npm test`, the other command, is the run this test is part of.)
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repositoryRoot, runCommand } from '../src/project.js';

let copy: string | undefined;
let server: ChildProcess | undefined;

afterAll(async () => {
  // SIGTERM first: npm passes it to scripts/start.mjs, which stops the server (its own process group, so a SIGKILL
  // of npm alone would leave it running); SIGKILL only if that does not end it in 15 s.
  if (server && server.exitCode === null && server.signalCode === null) {
    const running = server;
    const closed = new Promise((resolve) => running.on('close', resolve));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
    await closed;
    clearTimeout(timer);
  }
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

interface Started {
  child: ChildProcess;
  url: string;
  seconds: number;
  output: () => string;
}

/** `npm start -- --port 0` in `directory`, resolved at its ready line. */
async function start(directory: string): Promise<Started> {
  const began = Date.now();
  // A user's shell: without the npm_config_* variables `pnpm exec` sets (npm warns about each of them); the CA file
  // stays, for a machine whose registry traffic goes through a proxy.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.toLowerCase().startsWith('npm_config_') || name.toLowerCase() === 'npm_config_cafile',
    ),
  );
  const child = spawn('npm', ['start', '--', '--port', '0'], {
    cwd: directory,
    env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' },
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
  return { child, url, seconds: (Date.now() - began) / 1000, output: () => output };
}

/** Stops a started server with SIGTERM; npm forwards it and then ends itself by that signal. */
async function stop(started: Started): Promise<void> {
  const exited = new Promise<string>((resolve) =>
    started.child.on('close', (code, signal) => resolve(`${code ?? signal}`)),
  );
  started.child.kill('SIGTERM');
  expect(['0', 'SIGTERM']).toContain(await exited);
  expect(started.output()).toMatch(/^server stopped cleanly$/m);
}

/** The lines a user would read as warnings: pnpm's and npm's WARN lines, approve-builds notices, Node warnings. */
function warningLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) =>
      /\bWARN\b|npm warn|approve-builds|Ignored build scripts|Warning:|DeprecationWarning/i.test(line),
    );
}

async function chatWithEveryFace(url: string): Promise<string> {
  const client = await runCommand(process.execPath, ['examples/client.mjs', url], {
    cwd: copy!,
    env: process.env,
    timeoutMs: 60_000,
  });
  expect(client.code, client.output).toBe(0);
  for (const face of ['/v1', '/v1/chutes', '/venice', '/tee-gateway']) expect(client.output).toContain(face);
  return client.output;
}

it('npm start serves every face on a fresh copy, quietly, reuses its work, rebuilds on a change, stops on SIGTERM', async () => {
  copy = freshCopy();

  const cold = await start(copy);
  console.log(`npm start on a fresh copy: ready in ${cold.seconds.toFixed(1)} s at ${cold.url}`);
  expect(warningLines(cold.output())).toEqual([]);
  expect(cold.output()).toMatch(/^\[1\/3\] Installing what the server needs/m);
  expect(cold.output()).toMatch(/^\[2\/3\] Building the \d+ packages the server and the examples load/m);
  expect(cold.output()).toMatch(/^ +\d+ source files built in \d+\.\d s$/m);
  const chat = await fetch(`${cold.url}/ui/`);
  expect(chat.status).toBe(200);
  expect(await chat.text()).toMatch(/<script[^>]+src="[^"]*app\.js"/);
  expect(await chatWithEveryFace(cold.url)).toMatch(/Simulated reply [0-9a-f]+: you sent/);
  // The other two examples the README names after `npm start`: they load the built workspace packages.
  for (const example of [['examples/verify.mjs', cold.url], ['examples/chutes-demo.mjs']]) {
    const run = await runCommand(process.execPath, example, {
      cwd: copy,
      env: process.env,
      timeoutMs: 120_000,
    });
    expect(run.code, `${example[0]}:\n${run.output}`).toBe(0);
  }
  await stop(cold);

  const warm = await start(copy);
  console.log(`npm start again (warm): ready in ${warm.seconds.toFixed(1)} s`);
  expect(warningLines(warm.output())).toEqual([]);
  expect(warm.output()).toMatch(/^\[1\/3\] Dependencies: up to date/m);
  expect(warm.output()).toMatch(/^\[2\/3\] Build: up to date/m);
  await chatWithEveryFace(warm.url);
  await stop(warm);

  // A changed source file must never be served from the old bundle.
  const source = join(copy, 'packages/proxy-server/src/fake-vllm.ts');
  const text = readFileSync(source, 'utf8');
  const reply = '`Simulated reply $' + '{digest}';
  expect(text).toContain(reply);
  writeFileSync(source, text.replace(reply, '`Changed simulated reply $' + '{digest}'));
  const changed = await start(copy);
  console.log(`npm start after a source change: ready in ${changed.seconds.toFixed(1)} s`);
  expect(warningLines(changed.output())).toEqual([]);
  expect(changed.output()).toMatch(/^\[1\/3\] Dependencies: up to date/m);
  expect(changed.output()).toMatch(/^\[2\/3\] Building the \d+ packages/m);
  expect(await chatWithEveryFace(changed.url)).toMatch(/Changed simulated reply [0-9a-f]+: you sent/);
  await stop(changed);

  // Nor an output that another build (tsup, of other sources) replaced since.
  const output = join(copy, 'packages/bytes/dist/index.js');
  writeFileSync(output, `${readFileSync(output, 'utf8')}// another build\n`);
  const replaced = await start(copy);
  expect(replaced.output()).toMatch(/^\[2\/3\] Building the \d+ packages/m);
  expect(readFileSync(output, 'utf8')).not.toContain('// another build');
  await stop(replaced);
}, 600_000);
