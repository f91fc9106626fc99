#!/usr/bin/env node
// Proxy overhead benchmark (not a test). Starts the fake vLLM and the proxy as separate processes, then measures
// in the same run, with the same client: direct calls to the fake vLLM (baseline) and the same calls through the
// proxy. Reports added p50/p99 latency and requests/s for non-stream chat at 1, 50 and 200 concurrent clients,
// the first read of a response signature (signatures are computed on first read), and E2EE stream chunks per
// second through the proxy. A second part measures E2EE v2 (ECDSA and Ed25519) against plain requests in
// alternating rounds at 16 clients: the proxy's CPU per request, and per stream chunk (each E2EE request has a
// fresh client key, nonce and timestamp, as separate clients would send). The plain-chat levels also read the
// bare hop's CPU from /proc, and a final "targets" table prints every issue-20 target as a ratio against its
// baseline measured in the same run. `--json` prints the results as JSON. `--only plain` runs the plain-chat
// levels (and the added-p99 rounds at 64 clients) alone, `--only e2ee` the E2EE comparison alone, `--only p99` the
// added-p99 rounds alone.
//
// Added p99 at 64 clients: the pooled p99 of a level (the "added p50/p99" columns, 2,000 requests over 4 rounds)
// is the 20th-slowest request and is decided by whatever else the machine did at that moment; the bare hop's
// added p99 came out negative in several runs. The target therefore uses its own P99_ROUNDS (default 12)
// alternating rounds of P99_REQUESTS (default 2,000) requests at 64 clients: in each round, each path's p99
// (over its 2,000 requests, the 20th slowest) minus the direct path's p99 in the same round, then the median of
// those per-round differences over the rounds, for the proxy and for the bare hop.
//
// The proxy and the bare hop run with the same V8 young generation, `--max-semi-space-size=32` by default (what the
// confidential-proxy image's entrypoint passes; at 64 clients Node's default costs the proxy 30-60 % more CPU per
// request on Node 24); `--semi-space 0` runs both on Node's default.
// Usage: node bench/run.mjs [--json] [--requests N] [--chunks N] [--rounds N] [--e2ee-requests N]
//        [--p99-rounds N] [--p99-requests N] [--semi-space MB] [--node-flags "..."] [--pin]
//        [--only plain|e2ee|p99]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from '@confidential-ai/bytes';
import {
  buildRequestAad,
  buildResponseAad,
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
const ROUNDS = option('--rounds', 4);
const E2EE_REQUESTS = option('--e2ee-requests', 1200);
const E2EE_CLIENTS = 16;
const P99_ROUNDS = option('--p99-rounds', 12);
const P99_REQUESTS = option('--p99-requests', 2000);
const P99_CLIENTS = 64;
const SEMI_SPACE_MB = option('--semi-space', 32);
const flagsIndex = args.indexOf('--node-flags');
/** Node flags of the proxy and of the bare hop: the same young generation for both, plus `--node-flags "..."`. */
const NODE_FLAGS = [
  ...(SEMI_SPACE_MB > 0 ? [`--max-semi-space-size=${SEMI_SPACE_MB}`] : []),
  ...(flagsIndex === -1 ? [] : args[flagsIndex + 1].split(' ').filter(Boolean)),
];
/**
 * `--pin`: this process (the client) and the fake vLLM on CPU 0, the proxy and the bare hop on CPU 1 (Linux,
 * `taskset`), so that the path under test has a core of its own, as a deployed proxy has, instead of being
 * scheduled against the load generator and the upstream on two shared cores.
 */
const PIN = args.includes('--pin');
const onlyIndex = args.indexOf('--only');
const ONLY = onlyIndex === -1 ? undefined : args[onlyIndex + 1];
const TOKEN = 'bench-token';
const bin = fileURLToPath(new URL('../dist/bin/confidential-proxy.js', import.meta.url));
const testing = new URL('../dist/testing.js', import.meta.url);
if (!existsSync(bin)) {
  process.stderr.write('bench: build the package first (npx tsup)\n');
  process.exit(1);
}

// The processes write their logs to a file, not to a pipe this process would have to read while it measures.
const logDir = mkdtempSync(join(tmpdir(), 'proxy-bench-'));

function logFile(name) {
  const path = join(logDir, `${name}.log`);
  return { path, fd: openSync(path, 'w') };
}

// Polls a process's log file until `pattern` matches (its "listening on" line).
async function waitForUrl(child, log, pattern) {
  let exited;
  child.once('exit', (code) => {
    exited = code;
  });
  for (let waited = 0; waited < 30_000; waited += 20) {
    const match = pattern.exec(readFileSync(log.path, 'utf8'));
    if (match) return match[1];
    if (exited !== undefined) throw new Error(`process exited with ${exited}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${pattern} in ${log.path} after 30 s`);
}

async function startUpstream() {
  const code = `const { startFakeVllm } = await import(${JSON.stringify(testing.href)});
const vllm = await startFakeVllm({ port: 0, keepRequests: 0 });
process.stdout.write('upstream ' + vllm.url + '\\n');
process.on('SIGTERM', () => vllm.close().then(() => process.exit(0)));`;
  const log = logFile('upstream');
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', log.fd, 'inherit'],
  });
  return { child, url: await waitForUrl(child, log, /upstream (\S+)\n/) };
}

async function startProxy(upstreamUrl) {
  const log = logFile('proxy');
  const child = spawn(process.execPath, [...NODE_FLAGS, '--trace-gc-nvp', bin, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH, TOKEN, VLLM_BASE_URL: upstreamUrl, LOG_LEVEL: 'info' },
    stdio: ['ignore', log.fd, 'ignore'],
  });
  return { child, log: log.path, url: await waitForUrl(child, log, /listening on (\S+)\n/) };
}

// The floor: a bare pass-through proxy (node:http in, undici Pool out, bytes copied, nothing parsed), so the
// report can separate the cost of one more loopback HTTP hop from the cost of what our proxy does.
async function startBareProxy(upstreamUrl) {
  const code = `import { createServer } from 'node:http';
import { Pool } from 'undici';
const pool = new Pool(${JSON.stringify(upstreamUrl)}, { connections: 256 });
const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const upstream = await pool.request({ method: req.method, path: req.url, headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) });
  const body = Buffer.from(await upstream.body.arrayBuffer());
  res.writeHead(upstream.statusCode, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write('bare http://127.0.0.1:' + server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));`;
  const log = logFile('bare');
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, '--trace-gc-nvp', '--input-type=module', '-e', code],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', log.fd, 'inherit'],
    },
  );
  return { child, log: log.path, url: await waitForUrl(child, log, /bare (\S+)\n/) };
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
  return { latencies, seconds };
}

function summary(runs) {
  const sorted = runs.flatMap((run) => Array.from(run.latencies)).sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  return { p50: at(0.5), p99: at(0.99), rps: sorted.length / seconds };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

// Added p99 at 64 clients, paired per round (see the top of this file): P99_ROUNDS alternating rounds of
// P99_REQUESTS requests on each path; per round, each path's p99 minus the direct path's p99 of that round; the
// medians of those differences over the rounds.
async function addedP99Rounds(upstreamUrl, bare, proxy) {
  const proxyAdded = [];
  const bareAdded = [];
  const proxyAddedP50 = [];
  const bareAddedP50 = [];
  let proxyCpu = 0;
  let bareCpu = 0;
  const gcFrom = { proxy: logLength(proxy.log), bare: logLength(bare.log) };
  for (let round = 0; round < P99_ROUNDS; round++) {
    const direct = summary([await load(upstreamUrl, P99_CLIENTS, P99_REQUESTS)]);
    const bareMeasured = await measured(bare.child.pid, () => load(bare.url, P99_CLIENTS, P99_REQUESTS));
    const proxyMeasured = await measured(proxy.child.pid, () => load(proxy.url, P99_CLIENTS, P99_REQUESTS));
    const bareRun = summary([bareMeasured]);
    const proxied = summary([proxyMeasured]);
    bareAdded.push(bareRun.p99 - direct.p99);
    proxyAdded.push(proxied.p99 - direct.p99);
    bareAddedP50.push(bareRun.p50 - direct.p50);
    proxyAddedP50.push(proxied.p50 - direct.p50);
    bareCpu += bareMeasured.cpuSeconds ?? Number.NaN;
    proxyCpu += proxyMeasured.cpuSeconds ?? Number.NaN;
  }
  const perRequestMs = (seconds) =>
    Number.isNaN(seconds) ? undefined : (seconds * 1000) / (P99_ROUNDS * P99_REQUESTS);
  return {
    // With every process on two shared cores, a closed loop of 64 clients waits for CPU: the latency a hop adds
    // follows the CPU it spends per request. These show that relation for the same rounds.
    proxyAddedP50Ms: median(proxyAddedP50),
    bareAddedP50Ms: median(bareAddedP50),
    proxyCpuMsPerRequest: perRequestMs(proxyCpu),
    bareCpuMsPerRequest: perRequestMs(bareCpu),
    clients: P99_CLIENTS,
    rounds: P99_ROUNDS,
    requestsPerRound: P99_REQUESTS,
    proxyAddedP99Ms: median(proxyAdded),
    bareAddedP99Ms: median(bareAdded),
    proxyAddedP99PerRoundMs: proxyAdded,
    bareAddedP99PerRoundMs: bareAdded,
    youngGc: {
      proxy: youngGc(proxy.log, gcFrom.proxy, P99_ROUNDS * P99_REQUESTS),
      bare: youngGc(bare.log, gcFrom.bare, P99_ROUNDS * P99_REQUESTS),
    },
  };
}

const logLength = (path) => readFileSync(path).length;

/**
 * The young-generation collections (scavenges) a process logged (`--trace-gc-nvp`) from byte `from` of its log on,
 * over `requests` requests: how many, their pauses, and the bytes they copied out of the young generation
 * (promoted to the old one) per request. A scavenge pauses every request in flight, for a time that grows with the
 * bytes it copies: at 64 clients this is what the added p99 is made of.
 */
function youngGc(path, from, requests) {
  const lines = readFileSync(path).subarray(from).toString('latin1').split('\n');
  const field = (line, name) => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
  let scavenges = 0;
  let pauseSum = 0;
  let pauseMax = 0;
  let promoted = 0;
  for (const line of lines) {
    if (!line.includes(' gc=s ')) continue;
    const pause = field(line, 'pause');
    scavenges += 1;
    pauseSum += pause;
    pauseMax = Math.max(pauseMax, pause);
    promoted += field(line, 'promoted');
  }
  return {
    scavenges,
    pauseMeanMs: scavenges === 0 ? 0 : pauseSum / scavenges,
    pauseMaxMs: pauseMax,
    promotedBytesPerRequest: promoted / requests,
  };
}

// One level: ROUNDS alternating rounds (direct, bare, proxied, direct, ...), so all paths see the same machine.
async function level(upstreamUrl, bare, proxy, concurrency, total) {
  const direct = [];
  const bareRuns = [];
  const proxied = [];
  let cpuSeconds = 0;
  let bareCpuSeconds = 0;
  const perRound = Math.max(concurrency, Math.floor(total / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    direct.push(await load(upstreamUrl, concurrency, perRound));
    const bareRun = await measured(bare.child.pid, () => load(bare.url, concurrency, perRound));
    bareRuns.push(bareRun);
    bareCpuSeconds =
      bareRun.cpuSeconds === undefined || bareCpuSeconds === undefined
        ? undefined
        : bareCpuSeconds + bareRun.cpuSeconds;
    const run = await measured(proxy.child.pid, () => load(proxy.url, concurrency, perRound));
    proxied.push(run);
    cpuSeconds =
      run.cpuSeconds === undefined || cpuSeconds === undefined ? undefined : cpuSeconds + run.cpuSeconds;
  }
  return {
    direct: summary(direct),
    bare: summary(bareRuns),
    proxied: summary(proxied),
    cpuSeconds,
    bareCpuSeconds,
    requests: perRound * ROUNDS,
  };
}

// Signatures are computed on first read (in-memory store): this measures what that first read costs.
async function signatureFetch(proxyUrl, total) {
  const pool = new Pool(proxyUrl, { connections: 1 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const latencies = [];
  for (let index = 0; index < total; index++) {
    const response = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers, body });
    const { id } = await response.body.json();
    const started = process.hrtime.bigint();
    const signature = await pool.request({
      method: 'GET',
      path: `/v1/signature/${id}?signing_algo=ecdsa`,
      headers,
    });
    await signature.body.arrayBuffer();
    if (signature.statusCode !== 200) throw new Error(`signature status ${signature.statusCode}`);
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { requests: total, p50: latencies[Math.floor(total / 2)] };
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

// ---- E2EE v2 against plain, alternating rounds ----------------------------------------------------------
const SUITE = { ecdsa: 'secp256k1', ed25519: 'ed25519' };

async function modelKey(proxyUrl, algo) {
  const response = await fetch(`${proxyUrl}/v1/attestation/report?signing_algo=${algo}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return (await response.json()).signing_public_key;
}

// One prepared E2EE v2 request: a fresh client key, nonce and timestamp, the message encrypted to the model key.
function prepareE2ee(algo, modelPublicKey, extra = {}) {
  const client = generateFieldKeyPair(SUITE[algo]);
  const nonce = bytesToHex(crypto.getRandomValues(new Uint8Array(16)));
  const timestamp = Math.floor(Date.now() / 1000);
  const aad = buildRequestAad({
    algo,
    model: 'fake-model',
    messageIndex: 0,
    contentIndex: null,
    nonce,
    timestamp,
  });
  const recipient = algo === 'ecdsa' ? modelPublicKey : Buffer.from(modelPublicKey, 'hex');
  const content = encryptField('benchmark prompt', recipient, { suite: SUITE[algo], aad });
  return {
    client,
    nonce,
    timestamp,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      'x-signing-algo': algo,
      'x-client-pub-key': bytesToHex(algo === 'ecdsa' ? client.publicKey.subarray(1) : client.publicKey),
      'x-model-pub-key': modelPublicKey,
      'x-e2ee-version': '2',
      'x-e2ee-nonce': nonce,
      'x-e2ee-timestamp': String(timestamp),
    },
    body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content }], ...extra }),
  };
}

const plainPrepared = {
  headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  body,
};

// `requests` is a list of prepared requests (each sent once) or one prepared request sent `count` times.
async function loadPrepared(url, concurrency, requests, count = requests.length) {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  let next = 0;
  let last;
  const worker = async () => {
    for (;;) {
      const index = next++;
      if (index >= count) return;
      const prepared = Array.isArray(requests) ? requests[index] : requests;
      const response = await pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: prepared.headers,
        body: prepared.body,
      });
      const text = await response.body.text();
      if (response.statusCode !== 200)
        throw new Error(`status ${response.statusCode}: ${text.slice(0, 200)}`);
      last = { prepared, text };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await pool.close();
  return last;
}

// Decrypts the content of a non-stream E2EE answer, so the bench fails if the proxy stops encrypting.
function checkE2eeAnswer(algo, { prepared, text }) {
  const payload = JSON.parse(text);
  const aad = buildResponseAad({
    algo,
    model: payload.model,
    id: payload.id,
    choice: 0,
    field: 'content',
    nonce: prepared.nonce,
    timestamp: prepared.timestamp,
  });
  decryptField(payload.choices[0].message.content, prepared.client.privateKey, { suite: SUITE[algo], aad });
}

async function streamChunks(proxyUrl, prepared) {
  const response = await fetch(`${proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: prepared.headers,
    body: prepared.body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`stream status ${response.status}`);
  return text.split('\n\n').filter((event) => event.startsWith('data: {')).length;
}

async function e2eeComparison(proxy) {
  const keys = { ecdsa: await modelKey(proxy.url, 'ecdsa'), ed25519: await modelKey(proxy.url, 'ed25519') };
  const perRound = Math.max(E2EE_CLIENTS, Math.floor(E2EE_REQUESTS / ROUNDS));
  const cpu = { plain: 0, ecdsa: 0, ed25519: 0 };
  const run = async (name) => {
    // Prepared just before the round (in this process, not measured), so that every timestamp stays inside
    // the proxy's replay window however slow the machine is.
    const requests =
      name === 'plain'
        ? plainPrepared
        : Array.from({ length: perRound }, () => prepareE2ee(name, keys[name]));
    const measuredRun = await measured(proxy.child.pid, () =>
      loadPrepared(proxy.url, E2EE_CLIENTS, requests, perRound).then((last) => ({ last })),
    );
    if (name !== 'plain') checkE2eeAnswer(name, measuredRun.last);
    return measuredRun.cpuSeconds;
  };
  for (const name of ['plain', 'ecdsa', 'ed25519']) await run(name); // warm-up round
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of ['plain', 'ecdsa', 'ed25519']) {
      const seconds = await run(name);
      cpu[name] = cpu[name] === undefined || seconds === undefined ? undefined : cpu[name] + seconds;
    }
  }
  const perRequest = (name) =>
    cpu[name] === undefined ? undefined : (cpu[name] * 1000) / (perRound * ROUNDS);
  const requestRows = ['plain', 'ecdsa', 'ed25519'].map((name) => ({
    name,
    proxyCpuMsPerRequest: perRequest(name),
    ratioToPlain: perRequest('plain') ? perRequest(name) / perRequest('plain') : undefined,
  }));

  // Streams: CHUNKS chunks each, alternating plain / ECDSA / Ed25519, proxy CPU per chunk.
  const streamRounds = Math.max(2, Math.min(ROUNDS, 4));
  const chunkCpu = { plain: 0, ecdsa: 0, ed25519: 0 };
  const chunkCount = { plain: 0, ecdsa: 0, ed25519: 0 };
  const streamBody = { stream: true, max_tokens: CHUNKS };
  const streamPrepared = (name) =>
    name === 'plain'
      ? {
          headers: plainPrepared.headers,
          body: JSON.stringify({
            model: 'fake-model',
            messages: [{ role: 'user', content: 'p' }],
            ...streamBody,
          }),
        }
      : prepareE2ee(name, keys[name], streamBody);
  for (const name of ['plain', 'ecdsa', 'ed25519']) await streamChunks(proxy.url, streamPrepared(name));
  for (let round = 0; round < streamRounds; round++) {
    for (const name of ['plain', 'ecdsa', 'ed25519']) {
      const request = streamPrepared(name);
      const result = await measured(proxy.child.pid, async () => ({
        chunks: await streamChunks(proxy.url, request),
      }));
      chunkCount[name] += result.chunks;
      chunkCpu[name] =
        chunkCpu[name] === undefined || result.cpuSeconds === undefined
          ? undefined
          : chunkCpu[name] + result.cpuSeconds;
    }
  }
  const perChunk = (name) =>
    chunkCpu[name] === undefined ? undefined : (chunkCpu[name] * 1e6) / chunkCount[name];
  const streamRows = ['plain', 'ecdsa', 'ed25519'].map((name) => ({
    name,
    chunks: chunkCount[name],
    proxyCpuMicrosecondsPerChunk: perChunk(name),
    ratioToPlain: perChunk('plain') ? perChunk(name) / perChunk('plain') : undefined,
  }));
  return {
    clients: E2EE_CLIENTS,
    requestsPerRow: perRound * ROUNDS,
    requests: requestRows,
    streams: streamRows,
  };
}

// Moves every thread of a process to one CPU (the threads it starts later inherit it).
function pinTo(pid, cpu) {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', String(cpu), String(pid)], {
    stdio: 'ignore',
  });
}

const upstream = await startUpstream();
const proxy = await startProxy(upstream.url);
const bare = await startBareProxy(upstream.url);
if (PIN) {
  pinTo(process.pid, 0);
  pinTo(upstream.child.pid, 0);
  pinTo(proxy.child.pid, 1);
  pinTo(bare.child.pid, 1);
}
const results = {
  requests: REQUESTS,
  nodeFlags: NODE_FLAGS,
  pinned: PIN,
  levels: [],
  addedP99: undefined,
  signatureFetch: undefined,
  e2eeStream: undefined,
  e2ee: undefined,
};
try {
  // warm-up both paths (JIT, pools)
  await load(upstream.url, 10, 1000);
  await load(proxy.url, 10, 1000);
  await load(bare.url, 10, 1000);
  for (const concurrency of ONLY === 'e2ee' || ONLY === 'p99' ? [] : [1, 16, 50, 64, 200]) {
    const total = REQUESTS;
    const {
      direct,
      bare: bareProxy,
      proxied,
      cpuSeconds,
      bareCpuSeconds,
      requests,
    } = await level(upstream.url, bare, proxy, concurrency, total);
    results.levels.push({
      concurrency,
      direct,
      bare: bareProxy,
      proxied,
      bareAddedP50Ms: bareProxy.p50 - direct.p50,
      proxyCpuMsPerRequest: cpuSeconds === undefined ? undefined : (cpuSeconds * 1000) / requests,
      bareCpuMsPerRequest: bareCpuSeconds === undefined ? undefined : (bareCpuSeconds * 1000) / requests,
      bareAddedP99Ms: bareProxy.p99 - direct.p99,
      rpsRatioToBare: proxied.rps / bareProxy.rps,
      addedP50Ms: proxied.p50 - direct.p50,
      addedP99Ms: proxied.p99 - direct.p99,
      rpsRatio: proxied.rps / direct.rps,
    });
  }
  if (ONLY !== 'e2ee') results.addedP99 = await addedP99Rounds(upstream.url, bare, proxy);
  if (ONLY === undefined) {
    results.signatureFetch = await signatureFetch(proxy.url, 300);
    await e2eeStream(proxy.url); // warm-up
    const stream = await measured(proxy.child.pid, () => e2eeStream(proxy.url));
    results.e2eeStream = {
      ...stream,
      chunksPerProxyCpuSecond: stream.cpuSeconds ? stream.chunks / stream.cpuSeconds : undefined,
    };
  }
  if (ONLY !== 'plain' && ONLY !== 'p99') results.e2ee = await e2eeComparison(proxy);
  results.loadAverage = (await import('node:os')).loadavg()[0];
} finally {
  upstream.child.kill('SIGTERM');
  proxy.child.kill('SIGTERM');
  bare.child.kill('SIGTERM');
  rmSync(logDir, { recursive: true, force: true });
}

if (json) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  const f = (value, digits = 2) => value.toFixed(digits);
  process.stdout.write(
    `proxy overhead vs direct fake vLLM, non-stream chat, ${REQUESTS} requests per level (node ${process.version}, proxy and bare hop ${NODE_FLAGS.join(' ') || 'on the default young generation'}${PIN ? '; client and fake vLLM pinned to CPU 0, proxy and bare hop to CPU 1' : ''})\n`,
  );
  process.stdout.write(
    'clients | direct p50/p99 ms | proxied p50/p99 ms | added p50/p99 ms | bare hop added p50 | direct rps | proxied rps | ratio | proxy CPU ms/req | bare hop added p99 | bare rps | bare CPU ms/req\n',
  );
  for (const level of results.levels) {
    process.stdout.write(
      `${String(level.concurrency).padStart(7)} | ${f(level.direct.p50)} / ${f(level.direct.p99)} | ${f(level.proxied.p50)} / ${f(level.proxied.p99)} | ${f(level.addedP50Ms)} / ${f(level.addedP99Ms)} | ${f(level.bareAddedP50Ms)} | ${level.direct.rps.toFixed(0)} | ${level.proxied.rps.toFixed(0)} | ${f(level.rpsRatio)} | ${level.proxyCpuMsPerRequest === undefined ? '-' : f(level.proxyCpuMsPerRequest)} | ${f(level.bareAddedP99Ms)} | ${level.bare.rps.toFixed(0)} | ${level.bareCpuMsPerRequest === undefined ? '-' : f(level.bareCpuMsPerRequest, 3)}\n`,
    );
  }
  if (results.signatureFetch) {
    process.stdout.write(
      `GET /v1/signature/{id} (ECDSA, signed on this first read), 1 client: p50 ${f(results.signatureFetch.p50)} ms\n`,
    );
    process.stdout.write(
      `E2EE v2 stream through the proxy: ${results.e2eeStream.chunks} chunks, ${results.e2eeStream.chunksPerSecond.toFixed(0)} chunks/s wall, ${results.e2eeStream.chunksPerProxyCpuSecond?.toFixed(0) ?? '-'} chunks per proxy CPU-second\n`,
    );
  }
  const e2ee = results.e2ee;
  const g = (value, digits = 2) => (value === undefined ? '-' : value.toFixed(digits));
  const addedP99 = results.addedP99;
  if (addedP99) {
    process.stdout.write(
      `added p99 at ${addedP99.clients} clients, paired per round: ${addedP99.rounds} alternating rounds of ${addedP99.requestsPerRound} requests per path; per round p99(path) - p99(direct), median over the rounds: proxy ${f(addedP99.proxyAddedP99Ms)} ms, bare hop ${f(addedP99.bareAddedP99Ms)} ms (per round, proxy: ${addedP99.proxyAddedP99PerRoundMs.map((value) => f(value)).join(' ')}; bare hop: ${addedP99.bareAddedP99PerRoundMs.map((value) => f(value)).join(' ')})\n`,
    );
    const gc = (name, stats) =>
      `${name} ${stats.scavenges} scavenges, pause mean ${f(stats.pauseMeanMs, 1)} ms, max ${f(stats.pauseMaxMs, 1)} ms, promoted ${f(stats.promotedBytesPerRequest / 1024)} KiB/request`;
    process.stdout.write(
      `young-generation GC in those rounds: ${gc('proxy', addedP99.youngGc.proxy)}; ${gc('bare hop', addedP99.youngGc.bare)}\n`,
    );
    const ratioText = (a, b) => (a === undefined || b === undefined || b <= 0 ? '-' : f(a / b));
    process.stdout.write(
      `in those rounds, added p50 (median over the rounds): proxy ${f(addedP99.proxyAddedP50Ms)} ms, bare hop ${f(addedP99.bareAddedP50Ms)} ms (ratio ${ratioText(addedP99.proxyAddedP50Ms, addedP99.bareAddedP50Ms)}); CPU per request: proxy ${g(addedP99.proxyCpuMsPerRequest, 3)} ms, bare hop ${g(addedP99.bareCpuMsPerRequest, 3)} ms (ratio ${ratioText(addedP99.proxyCpuMsPerRequest, addedP99.bareCpuMsPerRequest)})\n`,
    );
  }
  if (e2ee) {
    process.stdout.write(
      `E2EE v2 vs plain, ${e2ee.clients} clients, ${e2ee.requestsPerRow} requests per row in ${ROUNDS} alternating rounds (fresh client key per E2EE request):\n`,
    );
    process.stdout.write('request | proxy CPU ms/req | ratio to plain\n');
    for (const row of e2ee.requests) {
      process.stdout.write(
        `${row.name.padStart(7)} | ${g(row.proxyCpuMsPerRequest, 3)} | ${g(row.ratioToPlain)}\n`,
      );
    }
    process.stdout.write('stream  | chunks | proxy CPU µs/chunk | ratio to plain\n');
    for (const row of e2ee.streams) {
      process.stdout.write(
        `${row.name.padStart(7)} | ${row.chunks} | ${g(row.proxyCpuMicrosecondsPerChunk, 1)} | ${g(row.ratioToPlain)}\n`,
      );
    }
  }
  const levelAt = (clients) => results.levels.find((level) => level.concurrency === clients);
  const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
  const targets = [];
  for (const clients of [16, 64]) {
    const level = levelAt(clients);
    if (!level) continue;
    targets.push([
      `plain chat, ${clients} clients: proxy CPU / bare hop CPU`,
      `${g(level.proxyCpuMsPerRequest, 3)} / ${g(level.bareCpuMsPerRequest, 3)} ms/req`,
      ratio(level.proxyCpuMsPerRequest, level.bareCpuMsPerRequest),
      '≤ 2',
      (value) => value <= 2,
    ]);
    targets.push([
      `plain chat, ${clients} clients: proxy req/s / bare hop req/s`,
      `${level.proxied.rps.toFixed(0)} / ${level.bare.rps.toFixed(0)}`,
      level.rpsRatioToBare,
      '≥ 0.6',
      (value) => value >= 0.6,
    ]);
  }
  const at64 = levelAt(64);
  if (at64) {
    // The row of earlier runs: the level's pooled p99 (2,000 requests in 4 rounds), kept for comparison; the
    // target is decided by the paired rounds below.
    targets.push([
      'plain chat, 64 clients: added p99 / bare hop added p99 (pooled over the level, noisy; not the target)',
      `${g(at64.addedP99Ms)} / ${g(at64.bareAddedP99Ms)} ms`,
      at64.bareAddedP99Ms > 0 ? at64.addedP99Ms / at64.bareAddedP99Ms : undefined,
      '-',
      () => undefined,
    ]);
  }
  if (addedP99) {
    targets.push([
      `plain chat, ${addedP99.clients} clients: added p99 / bare hop added p99 (medians of ${addedP99.rounds} paired rounds)`,
      `${g(addedP99.proxyAddedP99Ms)} / ${g(addedP99.bareAddedP99Ms)} ms`,
      addedP99.bareAddedP99Ms > 0 ? addedP99.proxyAddedP99Ms / addedP99.bareAddedP99Ms : undefined,
      '≤ 2',
      (value) => value <= 2,
    ]);
  }
  const plainRequest = e2ee?.requests.find((row) => row.name === 'plain');
  for (const row of e2ee ? e2ee.requests.filter((row) => row.name !== 'plain') : []) {
    targets.push([
      `E2EE v2 ${row.name} request: proxy CPU / plain request`,
      `${g(row.proxyCpuMsPerRequest, 3)} / ${g(plainRequest.proxyCpuMsPerRequest, 3)} ms (≤ 1.0 ms)`,
      row.ratioToPlain,
      '≤ 5',
      (value) => value <= 5 && row.proxyCpuMsPerRequest <= 1,
    ]);
  }
  const plainChunk = e2ee?.streams.find((row) => row.name === 'plain');
  for (const row of e2ee ? e2ee.streams.filter((row) => row.name !== 'plain') : []) {
    targets.push([
      `E2EE ${row.name} stream: proxy CPU per chunk / plain chunk`,
      `${g(row.proxyCpuMicrosecondsPerChunk, 1)} / ${g(plainChunk.proxyCpuMicrosecondsPerChunk, 1)} µs (≤ 15 µs)`,
      row.ratioToPlain,
      '-',
      () => row.proxyCpuMicrosecondsPerChunk <= 15,
    ]);
  }
  process.stdout.write('targets (issue 20), each against its baseline in this run:\n');
  process.stdout.write('target | measured | ratio | goal | met\n');
  for (const [name, measuredText, value, goal, met] of targets) {
    process.stdout.write(
      `${name} | ${measuredText} | ${g(value)} | ${goal} | ${value === undefined || met(value) === undefined ? '-' : met(value) ? 'yes' : 'NO'}\n`,
    );
  }
  results.targets = targets.map(([name, measuredText, value, goal, met]) => ({
    name,
    measured: measuredText,
    ratio: value,
    goal,
    met: value === undefined ? undefined : met(value),
  }));
  process.stdout.write(
    `1-minute load average during the run: ${results.loadAverage.toFixed(1)} (wall-clock numbers are unreliable on a shared machine; CPU-based ones less so)\n`,
  );
}
