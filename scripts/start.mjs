#!/usr/bin/env node
// `npm start`: install the workspace with the pinned pnpm, build the composed server and the packages it uses
// (JavaScript only: `npm test` builds and checks everything, declarations included), then run `serve` on the
// demo configuration. Arguments after `--` go to `serve` (e.g. `npm start -- --port 9000`).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const root = new URL('..', import.meta.url).pathname;
const server = '@confidential-ai/proxy-server';
const serveArgs = process.argv.slice(2);

function say(text) {
  process.stdout.write(`${text}\n`);
}

function seconds(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Runs a command; resolves with its exit code. `onLine` (if given) receives its output instead of the terminal. */
function run(command, args, { env, onLine } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: onLine ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (onLine) {
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream.setEncoding('utf8');
        stream.on('data', (text) => {
          const lines = (rest + text).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) onLine(line);
        });
        stream.on('end', () => rest && onLine(rest));
      }
    }
    child.on('error', (error) => {
      say(`could not start ${command}: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const pnpm = (args, options) => run(process.execPath, [`${root}scripts/pnpm.mjs`, ...args], options);

/**
 * Whether node_modules already holds exactly what pnpm-lock.yaml pins: pnpm keeps a copy of the lockfile it last
 * installed in node_modules/.pnpm/lock.yaml, so equal bytes mean `pnpm install --frozen-lockfile` has nothing to do
 * (it would still spend 10 s or more fetching pnpm and resolving on a slow machine).
 */
function installIsCurrent() {
  try {
    const installed = readFileSync(`${root}node_modules/.pnpm/lock.yaml`);
    return (
      existsSync(`${root}node_modules/.modules.yaml`) &&
      installed.equals(readFileSync(`${root}pnpm-lock.yaml`))
    );
  } catch {
    return false;
  }
}

const started = performance.now();
if (installIsCurrent()) {
  say('[1/3] Dependencies: up to date (node_modules matches pnpm-lock.yaml)');
} else {
  say('[1/3] Installing dependencies (pinned pnpm from the npm registry)…');
  if ((await pnpm(['install', '--frozen-lockfile'])) !== 0) process.exit(1);
  say(`      done in ${seconds(started)}`);
}

const buildStarted = performance.now();
say('[2/3] Building the server and the packages it uses (JavaScript only; `npm test` builds everything)…');
const log = [];
const building = new Set();
const code = await pnpm(
  ['exec', 'turbo', 'run', 'build', `--filter=${server}...`, '--output-logs=full', '--log-order=stream'],
  {
    env: { BUILD_DECLARATIONS: 'false', FORCE_COLOR: '0' },
    onLine(line) {
      log.push(line);
      const task = /^(@confidential-ai\/[\w-]+):build: (.*)$/.exec(line);
      if (!task) return;
      const [, name, text] = task;
      if (/^cache hit/.test(text)) say(`      ${name}: up to date`);
      else if (/^cache miss/.test(text)) building.add(name);
      else if (/Build success/.test(text) && building.delete(name)) say(`      ${name}: built`);
    },
  },
);
if (code !== 0) {
  process.stdout.write(`${log.join('\n')}\nThe build failed (output above).\n`);
  process.exit(1);
}
say(`      done in ${seconds(buildStarted)}`);

say(`[3/3] Starting the composed server (set up in ${seconds(started)})…`);
const child = spawn(
  process.execPath,
  [
    `${root}packages/proxy-server/dist/bin/confidential-proxy.js`,
    'serve',
    '--config',
    `${root}packages/proxy-server/demo.toml`,
    ...serveArgs,
  ],
  // Its own process group: a Ctrl-C in the terminal reaches this script only, which passes it on exactly once.
  { stdio: 'inherit', detached: true },
);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    child.kill(signal);
  });
}
child.on('close', (exitCode, signal) => {
  if (stopping && exitCode === 0) say('server stopped cleanly');
  process.exit(exitCode ?? (signal ? 0 : 1));
});
