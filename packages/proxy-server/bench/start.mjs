#!/usr/bin/env node
// Start-to-ready time of `confidential-proxy serve` (not a test): spawns the CLI as installed (bin/ launcher) and measures the wall time
// from spawn to its ready line on stdout, in alternating rounds: the vllm-proxy face alone (the baseline), then
// every face (demo.toml: vLLM, Chutes, Venice, TEE gateway, each on its built-in simulated upstream). Every server
// is stopped with SIGTERM after its ready line. Also reports the process CPU time to ready (user + system).
// Usage: node bench/start.mjs [--rounds N] [--json]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const json = args.includes('--json');
const roundsAt = args.indexOf('--rounds');
const ROUNDS = roundsAt === -1 ? 10 : Number(args[roundsAt + 1]);
const bin = fileURLToPath(new URL('../bin/confidential-proxy.js', import.meta.url));
const demo = fileURLToPath(new URL('../demo.toml', import.meta.url));
if (!existsSync(fileURLToPath(new URL('../dist/bin/confidential-proxy.js', import.meta.url)))) {
  process.stderr.write('bench: build the package first (pnpm build)\n');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'proxy-start-'));
const vllmOnly = join(dir, 'vllm-only.toml');
writeFileSync(vllmOnly, '[server]\nport = 0\n[auth]\ntoken = "start-bench-token"\n');

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU ms (user + system) a process has used so far, from /proc (undefined where there is no /proc). */
function cpuMsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

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
      const cpuMs = cpuMsOf(child.pid);
      child.once('exit', () => resolve({ readyMs, cpuMs }));
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
const cpu = { vllmOnly: [], everyFace: [] };
const loadBefore = loadavg()[0];
// One warm-up of each (file system caches), not counted.
await startOnce(vllmOnly);
await startOnce(demo);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, file] of [
    ['vllmOnly', vllmOnly],
    ['everyFace', demo],
  ]) {
    const run = await startOnce(file);
    results[name].push(run.readyMs);
    if (run.cpuMs !== undefined) cpu[name].push(run.cpuMs);
  }
}
const loadAfter = loadavg()[0];
const summary = Object.fromEntries(
  Object.entries(results).map(([name, values]) => [
    name,
    {
      medianMs: Math.round(median(values)),
      minMs: Math.round(Math.min(...values)),
      maxMs: Math.round(Math.max(...values)),
      ...(cpu[name].length > 0
        ? { cpuMedianMs: Math.round(median(cpu[name])), cpuMaxMs: Math.round(Math.max(...cpu[name])) }
        : {}),
    },
  ]),
);
const load = { loadBefore: Math.round(loadBefore * 10) / 10, loadAfter: Math.round(loadAfter * 10) / 10 };
if (json) {
  process.stdout.write(`${JSON.stringify({ node: process.version, rounds: ROUNDS, ...load, ...summary })}\n`);
} else {
  process.stdout.write(
    `serve start-to-ready on Node ${process.version}, ${ROUNDS} alternating rounds (spawn to ready line; ` +
      `1-min load average ${load.loadBefore} before, ${load.loadAfter} after):\n`,
  );
  for (const [name, value] of Object.entries(summary)) {
    process.stdout.write(
      `  ${name.padEnd(10)} wall median ${value.medianMs} ms (min ${value.minMs}, max ${value.maxMs})` +
        (value.cpuMedianMs === undefined
          ? ''
          : `; CPU median ${value.cpuMedianMs} ms (max ${value.cpuMaxMs})`) +
        '\n',
    );
  }
  const ratio = summary.everyFace.medianMs / summary.vllmOnly.medianMs;
  process.stdout.write(`  every face / vllm-proxy face alone: ${ratio.toFixed(2)}\n`);
}
