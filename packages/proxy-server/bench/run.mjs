#!/usr/bin/env node
// Proxy overhead benchmark (not a test). Starts the fake vLLM and the proxy as separate processes, then measures
// in the same run, with the same client: direct calls to the fake vLLM (baseline) and the same calls through the
// proxy. Reports added p50/p99 latency and requests/s for non-stream chat at 1, 50 and 200 concurrent clients,
// and E2EE stream chunks per second through the proxy. `--json` prints the results as JSON.
// Usage: node bench/run.mjs [--json] [--requests N] [--chunks N]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from '@confidential-ai/bytes';
import {
  buildRequestAad,
  decryptField,
  encryptField,
  generateFieldKeyPair,
} from '@confidential-ai/venice-e2ee';
import { Pool } from 'undici';

const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const REQUESTS = option('--requests', 2000);
const CHUNKS = option('--chunks', 20000);
const TOKEN = 'bench-token';
const bin = fileURLToPath(new URL('../dist/bin/confidential-proxy.js', import.meta.url));
const testing = new URL('../dist/testing.js', import.meta.url);
if (!existsSync(bin)) {
  process.stderr.write('bench: build the package first (npx tsup)\n');
  process.exit(1);
}

function waitForUrl(child, pattern) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`process exited with ${code}`)));
  });
}

async function startUpstream() {
  const code = `const { startFakeVllm } = await import(${JSON.stringify(testing.href)});
const vllm = await startFakeVllm({ port: 0, keepRequests: 0 });
process.stdout.write('upstream ' + vllm.url + '\\n');
process.on('SIGTERM', () => vllm.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { child, url: await waitForUrl(child, /upstream (\S+)\n/) };
}

async function startProxy(upstreamUrl) {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH, TOKEN, VLLM_BASE_URL: upstreamUrl, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return { child, url: await waitForUrl(child, /listening on (\S+)\n/) };
}

// CPU seconds (user + system) used so far by a child process, from /proc (Linux); undefined elsewhere.
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

async function measured(pid, run) {
  const before = cpuSeconds(pid);
  const result = await run();
  const after = cpuSeconds(pid);
  return { ...result, cpuSeconds: before === undefined || after === undefined ? undefined : after - before };
}

const body = JSON.stringify({
  model: 'fake-model',
  messages: [{ role: 'user', content: 'benchmark prompt' }],
});

async function load(url, concurrency, total) {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const latencies = new Float64Array(total);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= total) return;
      const started = process.hrtime.bigint();
      const response = await pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body,
      });
      await response.body.arrayBuffer();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
      latencies[index] = Number(process.hrtime.bigint() - started) / 1e6;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.close();
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99), rps: total / seconds };
}

async function e2eeStream(proxyUrl) {
  const headers = { authorization: `Bearer ${TOKEN}` };
  const report = await (
    await fetch(`${proxyUrl}/v1/attestation/report?signing_algo=ecdsa`, { headers })
  ).json();
  const client = generateFieldKeyPair('secp256k1');
  const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
  const timestamp = Math.floor(Date.now() / 1000);
  const aad = buildRequestAad({
    algo: 'ecdsa',
    model: 'fake-model',
    messageIndex: 0,
    contentIndex: null,
    nonce,
    timestamp,
  });
  const content = encryptField('stream please', report.signing_public_key, { aad });
  const started = process.hrtime.bigint();
  const response = await fetch(`${proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/json',
      'x-signing-algo': 'ecdsa',
      'x-client-pub-key': bytesToHex(client.publicKey.subarray(1)),
      'x-model-pub-key': report.signing_public_key,
      'x-e2ee-version': '2',
      'x-e2ee-nonce': nonce,
      'x-e2ee-timestamp': String(timestamp),
    },
    body: JSON.stringify({
      model: 'fake-model',
      stream: true,
      max_tokens: CHUNKS,
      messages: [{ role: 'user', content }],
    }),
  });
  const text = await response.text();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const events = text.split('\n\n').filter((event) => event.startsWith('data: {'));
  // spot-check that the chunks really are encrypted and decrypt
  const sample = JSON.parse(events[5].slice(6));
  decryptField(sample.choices[0].delta.content, client.privateKey, {
    aad: `v2|resp|algo=ecdsa|model=${sample.model}|id=${sample.id}|choice=0|field=content|n=${nonce}|ts=${timestamp}`,
  });
  return { chunks: events.length, chunksPerSecond: events.length / seconds };
}

const upstream = await startUpstream();
const proxy = await startProxy(upstream.url);
const results = { requests: REQUESTS, levels: [], e2eeStream: undefined };
try {
  // warm-up both paths (JIT, pools)
  await load(upstream.url, 10, 300);
  await load(proxy.url, 10, 300);
  for (const concurrency of [1, 50, 200]) {
    const total = concurrency === 1 ? Math.min(REQUESTS, 1000) : REQUESTS;
    const direct = await load(upstream.url, concurrency, total);
    const proxied = await measured(proxy.child.pid, () => load(proxy.url, concurrency, total));
    results.levels.push({
      concurrency,
      direct,
      proxied,
      proxyCpuMsPerRequest:
        proxied.cpuSeconds === undefined ? undefined : (proxied.cpuSeconds * 1000) / total,
      addedP50Ms: proxied.p50 - direct.p50,
      addedP99Ms: proxied.p99 - direct.p99,
      rpsRatio: proxied.rps / direct.rps,
    });
  }
  await e2eeStream(proxy.url); // warm-up
  const stream = await measured(proxy.child.pid, () => e2eeStream(proxy.url));
  results.e2eeStream = {
    ...stream,
    chunksPerProxyCpuSecond: stream.cpuSeconds ? stream.chunks / stream.cpuSeconds : undefined,
  };
  results.loadAverage = (await import('node:os')).loadavg()[0];
} finally {
  upstream.child.kill('SIGTERM');
  proxy.child.kill('SIGTERM');
}

if (json) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  const f = (value) => value.toFixed(2);
  process.stdout.write(
    `proxy overhead vs direct fake vLLM, non-stream chat, ${REQUESTS} requests per level (node ${process.version})\n`,
  );
  process.stdout.write(
    'clients | direct p50/p99 ms | proxied p50/p99 ms | added p50/p99 ms | direct rps | proxied rps | ratio | proxy CPU ms/req\n',
  );
  for (const level of results.levels) {
    process.stdout.write(
      `${String(level.concurrency).padStart(7)} | ${f(level.direct.p50)} / ${f(level.direct.p99)} | ${f(level.proxied.p50)} / ${f(level.proxied.p99)} | ${f(level.addedP50Ms)} / ${f(level.addedP99Ms)} | ${level.direct.rps.toFixed(0)} | ${level.proxied.rps.toFixed(0)} | ${f(level.rpsRatio)} | ${level.proxyCpuMsPerRequest === undefined ? '-' : f(level.proxyCpuMsPerRequest)}\n`,
    );
  }
  process.stdout.write(
    `E2EE v2 stream through the proxy: ${results.e2eeStream.chunks} chunks, ${results.e2eeStream.chunksPerSecond.toFixed(0)} chunks/s wall, ${results.e2eeStream.chunksPerProxyCpuSecond?.toFixed(0) ?? '-'} chunks per proxy CPU-second\n`,
  );
  process.stdout.write(
    `1-minute load average during the run: ${results.loadAverage.toFixed(1)} (wall-clock numbers are unreliable on a shared machine; CPU-based ones less so)\n`,
  );
}
