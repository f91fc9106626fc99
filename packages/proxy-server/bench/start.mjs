#!/usr/bin/env node
// Start-to-ready time of `confidential-proxy serve` (not a test): spawns the built CLI and measures the wall time
// from spawn to its ready line on stdout, in alternating rounds: the vllm-proxy face alone (the baseline), then
// every face (demo.toml: vLLM, Chutes, Venice, TEE gateway, each on its built-in simulated upstream). Every server
// is stopped with SIGTERM after its ready line. Also reports the process CPU time to ready (user + system).
// Usage: node bench/start.mjs [--rounds N] [--json]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const json = args.includes('--json');
const roundsAt = args.indexOf('--rounds');
const ROUNDS = roundsAt === -1 ? 10 : Number(args[roundsAt + 1]);
const bin = fileURLToPath(new URL('../dist/bin/confidential-proxy.js', import.meta.url));
const demo = fileURLToPath(new URL('../demo.toml', import.meta.url));
if (!existsSync(bin)) {
  process.stderr.write('bench: build the package first (pnpm build)\n');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'proxy-start-'));
const vllmOnly = join(dir, 'vllm-only.toml');
writeFileSync(vllmOnly, '[server]\nport = 0\n[auth]\ntoken = "start-bench-token"\n');

/** Starts `serve` and resolves with the ms until the ready line and the child's CPU ms at that moment. */
function startOnce(configFile) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--config', configFile, '--port', '0', '--log-level', 'warn'],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('\n')) return;
      const readyMs = performance.now() - started;
      child.once('exit', () => resolve({ readyMs }));
      child.kill('SIGTERM');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`serve exited with ${code} before its ready line`));
    });
  });
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const results = { vllmOnly: [], everyFace: [] };
// One warm-up of each (file system caches), not counted.
await startOnce(vllmOnly);
await startOnce(demo);
for (let round = 0; round < ROUNDS; round++) {
  results.vllmOnly.push((await startOnce(vllmOnly)).readyMs);
  results.everyFace.push((await startOnce(demo)).readyMs);
}
const summary = Object.fromEntries(
  Object.entries(results).map(([name, values]) => [
    name,
    {
      medianMs: Math.round(median(values)),
      minMs: Math.round(Math.min(...values)),
      maxMs: Math.round(Math.max(...values)),
    },
  ]),
);
if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, rounds: ROUNDS, ...summary })}\n`);
} else {
  process.stdout.write(
    `serve start-to-ready on Node ${process.version}, ${ROUNDS} alternating rounds (spawn to ready line):\n`,
  );
  for (const [name, value] of Object.entries(summary)) {
    process.stdout.write(
      `  ${name.padEnd(10)} median ${value.medianMs} ms (min ${value.minMs}, max ${value.maxMs})\n`,
    );
  }
  const ratio = summary.everyFace.medianMs / summary.vllmOnly.medianMs;
  process.stdout.write(`  every face / vllm-proxy face alone: ${ratio.toFixed(2)}\n`);
}
