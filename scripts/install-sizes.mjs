#!/usr/bin/env node
// Install size of each server package as a user gets it: every workspace package is packed (`pnpm pack`, what npm
// would publish), then each package is installed ALONE from its tarball into an empty project with pnpm (other
// @confidential-ai packages resolve to their tarballs too), and `du -sk node_modules` is measured. Optional peer
// dependencies are not installed unless a row adds them (the TEE gateway's x402 payment stack).
// Usage: node scripts/install-sizes.mjs [--json] (build first: pnpm build)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pnpm = join(root, 'scripts/pnpm.mjs');
const json = process.argv.includes('--json');
const X402 = ['@x402/core@~2.27.0', '@x402/evm@~2.27.0', 'viem@^2.57.20'];

/** What is measured: a package, and what the user adds next to it. */
const ROWS = [
  { name: '@confidential-ai/server-kit', extra: [], note: 'shared server pieces' },
  { name: '@confidential-ai/venice-proxy', extra: [], note: 'venice-e2ee-proxy' },
  { name: '@confidential-ai/tee-gateway', extra: [], note: 'x402 off (no payment stack)' },
  { name: '@confidential-ai/tee-gateway', extra: X402, note: 'x402 on (+ @x402/core, @x402/evm, viem)' },
  { name: '@confidential-ai/proxy-server', extra: [], note: 'all four faces, x402 off' },
  { name: '@confidential-ai/proxy-server', extra: X402, note: 'all four faces + the payment stack' },
];

function run(args, cwd) {
  const result = spawnSync(process.execPath, [pnpm, ...args], { cwd, encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`pnpm ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const work = mkdtempSync(join(tmpdir(), 'install-sizes-'));
try {
  const tarballDir = join(work, 'tarballs');
  mkdirSync(tarballDir);
  run(['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballDir], root);
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
    writeFileSync(
      join(project, 'package.json'),
      `${JSON.stringify({ name: 'install-size', private: true, type: 'module', pnpm: { overrides } }, null, 2)}\n`,
    );
    run(['add', '--prefer-offline', '--silent', tarballs.get(row.name), ...row.extra], project);
    const du = spawnSync('du', ['-sk', join(project, 'node_modules')], { encoding: 'utf8' });
    const kib = Number(du.stdout.split('\t')[0]);
    const packages = readdirSync(join(project, 'node_modules/.pnpm')).filter(
      (name) => name !== 'node_modules' && !name.startsWith('lock'),
    ).length;
    rows.push({ package: row.name, with: row.note, mib: Math.round((kib / 1024) * 10) / 10, packages });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else {
    process.stdout.write('| package | installed as | node_modules | packages |\n|---|---|---|---|\n');
    for (const row of rows) {
      process.stdout.write(`| \`${row.package}\` | ${row.with} | ${row.mib} MB | ${row.packages} |\n`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
