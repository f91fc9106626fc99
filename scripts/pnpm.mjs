#!/usr/bin/env node
// Runs the workspace's pinned pnpm with the given arguments, on a machine that has only Node and npm (see
// scripts/pinned-pnpm.mjs for where it comes from).
import { spawnSync } from 'node:child_process';
import { pinnedPnpm, pnpmCommand } from './pinned-pnpm.mjs';

const { command, args, env } = pnpmCommand(process.argv.slice(2));
const result = spawnSync(command, args, {
  stdio: 'inherit',
  env,
});
if (result.error) {
  process.stderr.write(`pnpm: could not start ${pinnedPnpm}: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? 1);
