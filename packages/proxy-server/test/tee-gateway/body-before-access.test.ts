// Access is checked before a body is read: 20 concurrent 24 MiB uploads from clients without the token are answered
// 401 long before they finish, the server closes those connections instead of reading on, and the composed server
// stays responsive meanwhile (liveness of GET /tee-gateway/health is measured and printed; the assertions are on
// behaviour).
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@confidential-ai/server-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { captureLogs, TOKEN } from '../helpers.js';

const UPLOADS = 20;
// Well above what loopback socket buffers take before the server reads a byte (about 4 MiB was seen at load 14 with
// 9 MiB bodies, whose half was then too close): "answered before half the body was sent" must mean "not read".
const BODY_BYTES = 24 * 1024 * 1024;
const BODY_MIB = BODY_BYTES / 1024 / 1024;

interface UploadResult {
  status: number;
  /** Body bytes the client had written when the answer arrived. */
  sentWhenAnswered: number;
  /** The server closed the connection (FIN or reset) instead of waiting for the rest of the body. */
  closedByServer: boolean;
  /** Milliseconds from the answer to the server's close. */
  closedAfterAnswerMs: number;
}

const CLIENT = fileURLToPath(new URL('./upload-client.mjs', import.meta.url));

/** Runs the uploads from a child process, so that they do not share the server's event loop. */
function uploads(url: string): Promise<UploadResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLIENT, url, String(UPLOADS), String(BODY_BYTES)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(output) as UploadResult[]);
      else reject(new Error(`upload client exited with ${code}`));
    });
  });
}

async function liveness(url: string, stop: () => boolean): Promise<number[]> {
  const samples: number[] = [];
  while (!stop()) {
    const started = performance.now();
    const response = await fetch(`${url}/tee-gateway/health`);
    await response.arrayBuffer();
    samples.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return samples;
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

describe('TEE gateway face: access before body', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const config = loadConfig({
      toml: `
[server]
port = 0
[auth]
token = "${TOKEN}"
[tee_gateway]
enabled = true
simulate = true
x402_enabled = false
opg_price_usd = "1"
`,
      env: {},
    });
    server = await startServer({
      config,
      logger: createLogger({ level: 'warn', destination: captureLogs().destination }),
      processMetrics: false,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it(`${UPLOADS} concurrent ${BODY_MIB} MiB uploads without a token: 401 before the upload completes, connection dropped`, async () => {
    // The noise floor of this machine: the same probes for 1.5 s without uploads.
    let idle = true;
    const idleLoop = monitorEventLoopDelay({ resolution: 5 });
    idleLoop.enable();
    const idleProbe = liveness(server.url, () => !idle);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    idle = false;
    idleLoop.disable();
    const idleSamples = await idleProbe;
    let running = true;
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const probe = liveness(server.url, () => !running);
    const started = performance.now();
    const results = await uploads(`${server.url}/tee-gateway/v1/chat/completions`);
    const elapsed = performance.now() - started;
    running = false;
    loop.disable();
    const samples = await probe;
    const sent = results.map((result) => result.sentWhenAnswered);
    console.log(
      `access-before-body, idle: /tee-gateway/health p50 ${percentile(idleSamples, 0.5).toFixed(1)} ms, p95 ${percentile(idleSamples, 0.95).toFixed(1)} ms; ` +
        `event-loop delay p50 ${(idleLoop.percentile(50) / 1e6).toFixed(1)} ms, max ${(idleLoop.max / 1e6).toFixed(1)} ms`,
    );
    console.log(
      `access-before-body: ${UPLOADS} × ${BODY_MIB} MiB unauthenticated uploads answered in ${elapsed.toFixed(0)} ms; ` +
        `bytes sent when answered: max ${(Math.max(...sent) / 1024 / 1024).toFixed(2)} MiB; ` +
        `closed by the server ≤ ${Math.max(...results.map((result) => result.closedAfterAnswerMs))} ms after the answer; ` +
        `/tee-gateway/health liveness p50 ${percentile(samples, 0.5).toFixed(1)} ms, p95 ${percentile(samples, 0.95).toFixed(1)} ms (${samples.length} samples); ` +
        `server event-loop delay p50 ${(loop.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
    );
    for (const result of results) {
      expect(result.status).toBe(401);
      // Answered while most of the body was still unsent; then the server closed the connection instead of
      // reading the upload (a short linger lets the client read the answer first).
      expect(result.sentWhenAnswered).toBeLessThan(BODY_BYTES / 2);
      expect(result.closedByServer).toBe(true);
      expect(result.closedAfterAnswerMs).toBeLessThan(2000);
    }
    expect(samples.length).toBeGreaterThan(0);
  });
});
