// Benchmark of @confidential-ai/chutes-transport (run `npm run bench` after a build; not a test).
//
// The fake Chutes server and a plain server serving the same simulated model run as separate processes, so the
// CPU time of this process is the client's alone (process.cpuUsage). Rows alternate rounds of the encrypted and
// the plain path and report the median client CPU per operation; ratio = encrypted / plain.
// 1. Full request: sequential non-stream chat requests through createChutesFetch (client ML-KEM key pair,
//    encapsulation, decapsulation, gzip, nonce handling; one discovery per 50 requests) versus plain requests.
// 2. Stream: one long encrypted stream over HTTP (SSE events decrypted) versus the same stream in plaintext.
// 3. Decoder only: EncryptedStreamDecoder over an in-memory encrypted SSE body versus a baseline that only
//    base64-decodes and opens each chunk with node:crypto ChaCha20-Poly1305 (the native floor).
// 4. Nonce queue: N concurrent streams (default 1,000) through one transport; every request's wait for its nonce
//    (p50 / p99), the discovery calls made, and how many completed.
//
// Usage: node bench/run.mjs [--json] [--requests N] [--rounds N] [--concurrent N]
import { spawn } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { base64ToBytes, bytesToBase64 } from '@confidential-ai/bytes';
import {
  beginStream,
  generateKeyPair,
  openStreamChunk,
  openStreamInit,
  sealStreamChunk,
} from '@confidential-ai/chutes-crypto';
import { Agent, fetch as undiciFetch } from 'undici';
import { createChutesFetch, EncryptedStreamDecoder } from '../dist/index.js';
import { simulateStreamLines } from '../dist/testing/index.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    requests: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '5' },
    concurrent: { type: 'string', default: '1000' },
  },
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const CONCURRENT = Number(values.concurrent);
const MODEL = 'bench/model';
const KEY = 'cpk_bench';
const testing = new URL('../dist/testing/index.js', import.meta.url).href;

async function child(args, pattern) {
  const process_ = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(process_.stdout, 'data');
  return { process: process_, url: pattern.exec(line.toString())[1] };
}

const fake = await child(
  [
    fileURLToPath(new URL('../dist/bin/chutes-fake.js', import.meta.url)),
    '--port',
    '0',
    '--api-key',
    KEY,
    '--model',
    MODEL,
    '--instances',
    '5',
  ],
  /listening on (\S+)/,
);
const plainCode = `import { createServer } from 'node:http';
const { simulateCompletion, simulateStreamLines } = await import(${JSON.stringify(testing)});
let counter = 0;
const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const context = { id: 'plain-' + ++counter, created: Math.floor(Date.now() / 1000) };
    if (payload.stream) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const line of simulateStreamLines('/v1/chat/completions', payload, context)) response.write(line);
      response.end();
      return;
    }
    const body = JSON.stringify(simulateCompletion('/v1/chat/completions', payload, context));
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('plain http://127.0.0.1:' + server.address().port + '\\n'));`;
const plain = await child(['--input-type=module', '-e', plainCode], /plain (\S+)/);

const agent = new Agent({ connections: 64 });
const innerFetch = (input, init) => undiciFetch(input, { ...init, dispatcher: agent });
const chutesFetch = createChutesFetch({
  apiKey: KEY,
  apiBase: fake.url,
  modelsBase: fake.url,
  fetch: innerFetch,
});
const fakeUrl = `${fake.url}/v1/chat/completions`;
const plainUrl = `${plain.url}/v1/chat/completions`;

const body = (content, stream = false) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream, max_tokens: 64 });

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// Client CPU (ms) and wall time (ms) per request over `count` sequential requests.
async function requestRound(fetchFunction, url, count, round) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const response = await fetchFunction(url, { method: 'POST', body: body(`request ${round}.${i}`) });
    const json = await response.json();
    if (!json.choices) throw new Error('bad response');
  }
  const used = process.cpuUsage(cpu);
  return { cpuMs: (used.user + used.system) / 1000 / count, wallMs: (performance.now() - started) / count };
}

async function streamRound(fetchFunction, url, words) {
  const prompt = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
  const cpu = process.cpuUsage();
  const response = await fetchFunction(url, {
    method: 'POST',
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: prompt }], stream: true }),
  });
  const text = await response.text();
  const used = process.cpuUsage(cpu);
  const events = text.split('\n\n').filter((event) => event.startsWith('data: ')).length;
  return { events, cpuMicrosecondsPerEvent: (used.user + used.system) / events };
}

function decoderBench() {
  const keys = generateKeyPair();
  const { init, streamKey } = beginStream(keys.publicKey);
  const payload = {
    model: MODEL,
    messages: [{ role: 'user', content: Array.from({ length: 4000 }, (_, i) => `t${i}`).join(' ') }],
    stream: true,
  };
  const lines = simulateStreamLines('/v1/chat/completions', payload, { id: 'x', created: 0 });
  const sealed = lines.map((line) => bytesToBase64(sealStreamChunk(line, streamKey)));
  const sse = new TextEncoder().encode(
    `data: {"e2e_init":"${bytesToBase64(init)}"}\n\n${sealed.map((value) => `data: {"e2e":"${value}"}\n\n`).join('')}`,
  );
  const key = openStreamInit(bytesToBase64(init), keys.secretKey);
  const baseline = () => {
    for (const value of sealed) {
      const bytes = base64ToBytes(value);
      const decipher = createDecipheriv('chacha20-poly1305', key, bytes.subarray(0, 12), {
        authTagLength: 16,
      });
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      decipher.update(bytes.subarray(12, bytes.length - 16));
      decipher.final();
    }
  };
  const ours = () => {
    const decoder = new EncryptedStreamDecoder({
      openInit: () => key,
      openChunk: (value, k) => openStreamChunk(value, k),
    });
    decoder.push(sse);
    decoder.finish();
  };
  const time = (fn) => {
    const cpu = process.cpuUsage();
    fn();
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / sealed.length;
  };
  const a = [];
  const b = [];
  for (let round = 0; round < ROUNDS; round++) {
    a.push(time(ours));
    b.push(time(baseline));
  }
  return { chunks: sealed.length, decoderMicroseconds: median(a), nativeMicroseconds: median(b) };
}

async function nonceQueue(count) {
  const waits = [];
  const fetchFunction = createChutesFetch({
    apiKey: KEY,
    apiBase: fake.url,
    modelsBase: fake.url,
    fetch: innerFetch,
    onNonceLease: (event) => waits.push(event.waitMs),
    nonceWaitTimeoutMs: 120_000,
  });
  const before = await (await fetch(`${fake.url}/_fake/state`)).json();
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: count }, async (_, index) => {
      const response = await fetchFunction(fakeUrl, {
        method: 'POST',
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: `q${index}` }],
          stream: true,
          max_tokens: 4,
        }),
      });
      const text = await response.text();
      if (response.status !== 200 || !text.includes('data: [DONE]'))
        throw new Error(`status ${response.status}`);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await (await fetch(`${fake.url}/_fake/state`)).json();
  const sorted = waits.sort((x, y) => x - y);
  return {
    streams: count,
    completed: results.filter((result) => result.status === 'fulfilled').length,
    seconds,
    discoveries: after.discoveries - before.discoveries,
    waitP50Ms: percentile(sorted, 0.5),
    waitP99Ms: percentile(sorted, 0.99),
    waitMaxMs: sorted[sorted.length - 1],
  };
}

let result;
try {
  // Warm up both paths (JIT, connection pool, discovery, model map).
  await requestRound(innerFetch, plainUrl, 20, 'w');
  await requestRound(chutesFetch, fakeUrl, 20, 'w');
  const perRound = Math.max(1, Math.floor(REQUESTS / ROUNDS));
  const plainRequest = [];
  const e2eRequest = [];
  for (let round = 0; round < ROUNDS; round++) {
    plainRequest.push(await requestRound(innerFetch, plainUrl, perRound, round));
    e2eRequest.push(await requestRound(chutesFetch, fakeUrl, perRound, round));
  }
  const plainStream = [];
  const e2eStream = [];
  for (let round = 0; round < Math.min(ROUNDS, 3); round++) {
    plainStream.push(await streamRound(innerFetch, plainUrl, 5000));
    e2eStream.push(await streamRound(chutesFetch, fakeUrl, 5000));
  }
  const decode = decoderBench();
  const queue = await nonceQueue(CONCURRENT);
  const cpu = (list, name) => median(list.map((entry) => entry[name]));
  result = {
    node: process.version,
    requests: perRound * ROUNDS,
    rounds: ROUNDS,
    request: {
      plainCpuMs: cpu(plainRequest, 'cpuMs'),
      e2eCpuMs: cpu(e2eRequest, 'cpuMs'),
      cpuRatio: cpu(e2eRequest, 'cpuMs') / cpu(plainRequest, 'cpuMs'),
      plainWallMs: cpu(plainRequest, 'wallMs'),
      e2eWallMs: cpu(e2eRequest, 'wallMs'),
    },
    stream: {
      events: e2eStream[0].events,
      plainCpuMicrosecondsPerEvent: cpu(plainStream, 'cpuMicrosecondsPerEvent'),
      e2eCpuMicrosecondsPerEvent: cpu(e2eStream, 'cpuMicrosecondsPerEvent'),
      ratio: cpu(e2eStream, 'cpuMicrosecondsPerEvent') / cpu(plainStream, 'cpuMicrosecondsPerEvent'),
    },
    decoder: { ...decode, ratio: decode.decoderMicroseconds / decode.nativeMicroseconds },
    nonceQueue: queue,
  };
} finally {
  fake.process.kill('SIGTERM');
  plain.process.kill('SIGTERM');
  await agent.close();
}

if (values.json) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const f = (n) => n.toFixed(n < 10 ? 2 : 0);
  const r = result;
  console.log(
    `chutes-transport bench on Node ${process.version}; client CPU only (fake and plain servers in their own processes), medians of ${r.rounds} alternating rounds`,
  );
  console.log(
    `full request (non-stream, ${r.requests} sequential): plain ${f(r.request.plainCpuMs)} ms CPU (${f(r.request.plainWallMs)} ms wall), e2e ${f(r.request.e2eCpuMs)} ms CPU (${f(r.request.e2eWallMs)} ms wall), transport overhead ${f(r.request.e2eCpuMs - r.request.plainCpuMs)} ms CPU per request, ratio ${f(r.request.cpuRatio)}x`,
  );
  console.log(
    `stream over HTTP (${r.stream.events} events): plain ${f(r.stream.plainCpuMicrosecondsPerEvent)} µs CPU/event, e2e ${f(r.stream.e2eCpuMicrosecondsPerEvent)} µs CPU/event (decrypted), ratio ${f(r.stream.ratio)}x`,
  );
  console.log(
    `SSE decoder (${r.decoder.chunks} chunks): ${f(r.decoder.decoderMicroseconds)} µs CPU/chunk vs native open ${f(r.decoder.nativeMicroseconds)} µs CPU/chunk, ratio ${f(r.decoder.ratio)}x`,
  );
  const q = r.nonceQueue;
  console.log(
    `nonce queue: ${q.completed}/${q.streams} concurrent streams completed in ${f(q.seconds)} s with ${q.discoveries} discovery calls; nonce wait p50 ${f(q.waitP50Ms)} ms, p99 ${f(q.waitP99Ms)} ms, max ${f(q.waitMaxMs)} ms`,
  );
}
