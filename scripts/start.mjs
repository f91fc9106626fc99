#!/usr/bin/env node
// `npm start`: install what the composed server and the examples need with the pinned pnpm, build the JavaScript of
// the packages they load with esbuild in this process (tooling/quick-start; `npm test` builds and checks every
// package with tsup, declarations included), then run `serve` on the demo configuration. Arguments after `--` go to
// `serve` (e.g. `npm start -- --port 9000`). The first two steps are skipped when their output is current.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pinnedPnpm, pnpmCommand } from './pinned-pnpm.mjs';

const root = new URL('..', import.meta.url).pathname;
const serveArgs = process.argv.slice(2);
const lockfile = join(root, 'pnpm-lock.yaml');
const modulesState = join(root, 'node_modules', '.modules.yaml');
const quickInstallStamp = join(root, 'node_modules', '.cache', 'confidential-ai', 'quick-install.json');
// The production dependencies of the server and of the examples, and esbuild (a production dependency of
// tooling/quick-start): a tenth of the files of the full development install. Any later `pnpm install` (`npm test` runs one) completes the tree:
// pnpm-workspace.yaml sets confirmModulesPurge: false, so pnpm rebuilds node_modules without asking.
const quickInstallArgs = [
  'install',
  '--frozen-lockfile',
  '--prod',
  '--filter',
  '@confidential-ai/proxy-server...',
  '--filter',
  '@confidential-ai/examples...',
  '--filter',
  '@confidential-ai/quick-start',
];

function say(text) {
  process.stdout.write(`${text}\n`);
}

function seconds(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Runs the pinned pnpm with its output on the terminal; resolves with its exit code. */
function pnpm(args) {
  const { command, args: commandArgs, env } = pnpmCommand(args);
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {
      cwd: root,
      env,
      stdio: 'inherit',
    });
    child.on('error', (error) => {
      say(`could not start ${pinnedPnpm}: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

function lockfileDigest() {
  return createHash('sha256').update(readFileSync(lockfile)).update(quickInstallArgs.join(' ')).digest('hex');
}

/**
 * What node_modules holds: 'full' when it is the complete install of pnpm-lock.yaml (pnpm keeps a copy of the
 * lockfile it last installed in node_modules/.pnpm/lock.yaml), 'quick' when it is this script's install of the
 * current lockfile, 'development' when it is an older full install (devDependencies included), else 'none'.
 */
function installState() {
  if (!existsSync(modulesState)) return 'none';
  try {
    if (readFileSync(join(root, 'node_modules', '.pnpm', 'lock.yaml')).equals(readFileSync(lockfile)))
      return 'full';
  } catch {
    // No lockfile copy: not a complete install.
  }
  try {
    if (JSON.parse(readFileSync(quickInstallStamp, 'utf8')).lockfile === lockfileDigest()) return 'quick';
  } catch {
    // No stamp: not this script's install.
  }
  // pnpm writes .modules.yaml as JSON (which is YAML); `included` says which dependency kinds it installed.
  return /"?devDependencies"?:\s*true/.test(readFileSync(modulesState, 'utf8')) ? 'development' : 'none';
}

const started = performance.now();
const state = installState();
if (state === 'full' || state === 'quick') {
  say('[1/3] Dependencies: up to date (node_modules matches pnpm-lock.yaml)');
} else if (state === 'development') {
  // A developer's tree with an older lockfile: keep it complete rather than trading it for the quick install.
  say(
    `[1/3] Installing dependencies (${pinnedPnpm}, the whole workspace: node_modules is a development install)…`,
  );
  if ((await pnpm(['install', '--frozen-lockfile'])) !== 0) process.exit(1);
  say(`      done in ${seconds(started)}`);
} else {
  say(`[1/3] Installing what the server needs (${pinnedPnpm}; \`npm test\` installs the rest)…`);
  if ((await pnpm(quickInstallArgs)) !== 0) process.exit(1);
  mkdirSync(join(quickInstallStamp, '..'), { recursive: true });
  writeFileSync(quickInstallStamp, `${JSON.stringify({ lockfile: lockfileDigest() })}\n`);
  say(`      done in ${seconds(started)}`);
}

const buildStarted = performance.now();
const { formatBuildFailure, quickBuild, quickBuildIsCurrent, runtimeClosure } = await import(
  '../tooling/quick-start/quick-build.mjs'
);
const packages = runtimeClosure(root, ['packages/proxy-server', 'examples']);
if (quickBuildIsCurrent(root, packages)) {
  say('[2/3] Build: up to date (no source changed since the last build)');
} else {
  say(
    `[2/3] Building the ${packages.length} packages the server and the examples load (esbuild, JavaScript only)…`,
  );
  try {
    const built = await quickBuild(root, packages);
    say(`      ${built.files} source files built in ${seconds(buildStarted)}`);
  } catch (error) {
    process.stdout.write(`${formatBuildFailure(error)}\nThe build failed (esbuild's messages above).\n`);
    process.exit(1);
  }
}

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
    // Passed on exactly once (npm may pass a signal on more than once); the server closes and exits on its own.
    if (stopping) return;
    stopping = true;
    child.kill(signal);
  });
}
child.on('close', (exitCode, signal) => {
  if (stopping && exitCode === 0) say('server stopped cleanly');
  process.exit(exitCode ?? (signal ? 0 : 1));
});
