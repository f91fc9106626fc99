#!/usr/bin/env node
// Runs the workspace's pinned pnpm with the given arguments, on a machine that has only Node and npm.
// corepack is not used (its signature check fails on some machines); pnpm comes from the npm registry.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const pinned = String(manifest.packageManager ?? 'pnpm@10').replace(/\+.*$/, '');
const args = process.argv.slice(2);
const env = { ...process.env, COREPACK_ENABLE_STRICT: '0', TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const result = spawnSync(npx, ['--yes', pinned, ...args], { stdio: 'inherit', env });
if (result.error) {
  process.stderr.write(`pnpm: could not start ${pinned} through npx: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? 1);
