#!/usr/bin/env node
// Install size of each server package as a user gets it: every workspace package is packed (`pnpm pack`, what npm
// would publish), then each package is installed ALONE from its tarball into an empty project with npm (the
// @confidential-ai packages it depends on resolve to their tarballs through npm `overrides`), and the result is
// measured: `du -sb node_modules` and the number of installed packages (every directory with a package.json
// under node_modules, nested copies included). Optional peer dependencies are not installed unless a row adds
// them (the TEE gateway's x402 payment stack). Needs the network (the npm registry) and a build (pnpm build).
// Usage: node scripts/install-sizes.mjs [--json] [--only <package-name>]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pnpm = join(root, 'scripts/pnpm.mjs');
const args = process.argv.slice(2);
const json = args.includes('--json');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const X402 = { '@x402/core': '~2.27.0', '@x402/evm': '~2.27.0', viem: '^2.57.20' };

/** What is measured: a package, and what the user adds next to it. */
const ROWS = [
  { name: '@confidential-ai/server-kit', extra: {}, note: 'alone' },
  { name: '@confidential-ai/venice-proxy', extra: {}, note: 'alone' },
  { name: '@confidential-ai/tee-gateway', extra: {}, note: 'x402 off (optional peers not installed)' },
  { name: '@confidential-ai/tee-gateway', extra: X402, note: 'x402 on (+ @x402/core, @x402/evm, viem)' },
  { name: '@confidential-ai/proxy-server', extra: {}, note: 'every face, x402 off' },
  { name: '@confidential-ai/proxy-server', extra: X402, note: 'every face + the x402 stack' },
].filter((row) => only === undefined || row.name === only);

function check(result, what) {
  if (result.status !== 0) throw new Error(`${what} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Directories holding a package.json below `dir` (installed packages, nested ones included). */
function countPackages(dir) {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      count += countPackages(path);
      continue;
    }
    if (existsSync(join(path, 'package.json'))) count += 1;
    if (existsSync(join(path, 'node_modules'))) count += countPackages(join(path, 'node_modules'));
  }
  return count;
}

const npmVersion = check(spawnSync('npm', ['--version'], { encoding: 'utf8' }), 'npm --version').trim();
const work = mkdtempSync(join(tmpdir(), 'install-sizes-'));
try {
  const tarballDir = join(work, 'tarballs');
  mkdirSync(tarballDir);
  check(
    spawnSync(
      process.execPath,
      [pnpm, '-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballDir],
      { cwd: root, encoding: 'utf8' },
    ),
    'pnpm pack',
  );
  const tarballs = new Map();
  for (const file of readdirSync(tarballDir)) {
    const match = /^confidential-ai-(.+)-\d+\.\d+\.\d+(?:-[\w.]+)?\.tgz$/.exec(file);
    if (match) tarballs.set(`@confidential-ai/${match[1]}`, join(tarballDir, file));
  }
  const overrides = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  const rows = [];
  for (const [index, row] of ROWS.entries()) {
    const project = join(work, `project-${index}`);
    mkdirSync(project);
    const manifest = {
      name: 'install-size',
      private: true,
      type: 'module',
      dependencies: { [row.name]: `file:${tarballs.get(row.name)}`, ...row.extra },
      overrides,
    };
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    check(
      spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: project,
        encoding: 'utf8',
      }),
      `npm install ${row.name}`,
    );
    const du = check(spawnSync('du', ['-sb', join(project, 'node_modules')], { encoding: 'utf8' }), 'du');
    const bytes = Number(du.split('\t')[0]);
    rows.push({
      package: row.name,
      installed: row.note,
      megabytes: Math.round(bytes / 1e5) / 10,
      bytes,
      packages: countPackages(join(project, 'node_modules')),
    });
  }
  const environment = { date: new Date().toISOString().slice(0, 10), node: process.version, npm: npmVersion };
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...environment, rows }, null, 2)}\n`);
  } else {
    process.stdout.write(`${environment.date}, Node ${environment.node}, npm ${environment.npm}\n\n`);
    process.stdout.write('| package | installed | node_modules (du -sb) | packages |\n|---|---|---|---|\n');
    for (const row of rows) {
      process.stdout.write(
        `| \`${row.package}\` | ${row.installed} | ${row.megabytes} MB | ${row.packages} |\n`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
