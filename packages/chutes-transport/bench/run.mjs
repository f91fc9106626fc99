// Benchmark of @confidential-ai/chutes-transport (run `npm run bench` after a build; not a test).
//
// 1. Full request latency: N sequential non-stream chat requests through createChutesFetch against the fake
//    Chutes server (client and instance crypto, nonce handling, one discovery per 50 requests) versus the
//    same requests as plaintext against a plain local server serving the same simulated model. Same process,
//    same run; the ratio is encrypted / plain.
// 2. Stream: one long encrypted stream over HTTP (SSE chunks decrypted per second) versus the same stream in
//    plaintext from the plain server.
// 3. Decoder only: EncryptedStreamDecoder over an in-memory encrypted SSE body versus a baseline that only
//    base64-decodes and opens each chunk with node:crypto ChaCha20-Poly1305 (the native floor).
//
// Usage: node bench/run.mjs [--json] [--requests N]
import { createDecipheriv } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { base64ToBytes, bytesToBase64 } from '@confidential-ai/bytes';
import {
  beginStream,
  generateKeyPair,
  openStreamChunk,
  openStreamInit,
  sealStreamChunk,
} from '@confidential-ai/chutes-crypto';
import { createChutesFetch, EncryptedStreamDecoder } from '../dist/index.js';
import { createFakeChutesServer, simulateCompletion, simulateStreamLines } from '../dist/testing/index.js';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, requests: { type: 'string', default: '300' } },
});
const REQUESTS = Number(values.requests);
const MODEL = 'bench/model';
const KEY = 'cpk_bench';

function startPlainServer() {
  let counter = 0;
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const context = { id: `plain-${++counter}`, created: Math.floor(Date.now() / 1000) };
      if (payload.stream) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const line of simulateStreamLines('/v1/chat/completions', payload, context))
          response.write(line);
        response.end();
        return;
      }
      const body = JSON.stringify(simulateCompletion('/v1/chat/completions', payload, context));
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const body = (content, stream = false) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream, max_tokens: 64 });

async function timeRequests(fetchFunction, url, count) {
  // Warm up (JIT, connection pool, discovery, model map).
  for (let i = 0; i < 10; i++)
    await (await fetchFunction(url, { method: 'POST', body: body(`warm ${i}`) })).json();
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const response = await fetchFunction(url, {
      method: 'POST',
      body: body(`benchmark request number ${i}`),
    });
    const json = await response.json();
    if (!json.choices) throw new Error('bad response');
  }
  return (performance.now() - start) / count;
}

async function timeStream(fetchFunction, url, words) {
  const prompt = Array.from({ length: words }, (_, i) => `w${i}`).join(' ');
  const payload = JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: prompt }],
    stream: true,
  });
  const start = performance.now();
  const response = await fetchFunction(url, { method: 'POST', body: payload });
  const text = await response.text();
  const elapsed = performance.now() - start;
  const events = text.split('\n\n').filter((event) => event.startsWith('data: ')).length;
  return { elapsed, events };
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
  const values = lines.map((line) => bytesToBase64(sealStreamChunk(line, streamKey)));
  const sse = new TextEncoder().encode(
    `data: {"e2e_init":"${bytesToBase64(init)}"}\n\n${values.map((value) => `data: {"e2e":"${value}"}\n\n`).join('')}`,
  );
  const key = openStreamInit(bytesToBase64(init), keys.secretKey);
  const rounds = 5;
  // Baseline: base64 decode + native ChaCha20-Poly1305 open of each chunk, nothing else.
  let start = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (const value of values) {
      const bytes = base64ToBytes(value);
      const decipher = createDecipheriv('chacha20-poly1305', key, bytes.subarray(0, 12), {
        authTagLength: 16,
      });
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      decipher.update(bytes.subarray(12, bytes.length - 16));
      decipher.final();
    }
  }
  const baseline = (values.length * rounds) / ((performance.now() - start) / 1000);
  start = performance.now();
  for (let round = 0; round < rounds; round++) {
    const decoder = new EncryptedStreamDecoder({
      openInit: () => key,
      openChunk: (value, k) => openStreamChunk(value, k),
    });
    decoder.push(sse);
    decoder.finish();
  }
  const decoder = (values.length * rounds) / ((performance.now() - start) / 1000);
  return { chunks: values.length, baseline, decoder };
}

const plain = await startPlainServer();
const plainUrl = `http://127.0.0.1:${plain.address().port}/v1/chat/completions`;
const fake = await createFakeChutesServer({ apiKey: KEY, models: [MODEL], instancesPerChute: 5 });
const chutesFetch = createChutesFetch({ apiKey: KEY, apiBase: fake.url, modelsBase: fake.url });
const fakeUrl = `${fake.url}/v1/chat/completions`;
const plainFetch = (input, init) => fetch(input, init);

try {
  const plainLatency = await timeRequests(plainFetch, plainUrl, REQUESTS);
  const e2eLatency = await timeRequests(chutesFetch, fakeUrl, REQUESTS);
  const plainStream = await timeStream(plainFetch, plainUrl, 5000);
  const e2eStream = await timeStream(chutesFetch, fakeUrl, 5000);
  const decode = decoderBench();
  const result = {
    node: process.version,
    requests: REQUESTS,
    request: {
      plainMs: plainLatency,
      e2eMs: e2eLatency,
      ratio: e2eLatency / plainLatency,
    },
    stream: {
      events: e2eStream.events,
      plainEventsPerSecond: plainStream.events / (plainStream.elapsed / 1000),
      e2eEventsPerSecond: e2eStream.events / (e2eStream.elapsed / 1000),
      ratio: e2eStream.elapsed / plainStream.elapsed,
    },
    decoder: {
      chunks: decode.chunks,
      nativeOpenPerSecond: decode.baseline,
      decoderChunksPerSecond: decode.decoder,
      ratio: decode.baseline / decode.decoder,
    },
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const f = (n) => n.toFixed(n < 10 ? 2 : 0);
    console.log(`chutes-transport bench on Node ${process.version}`);
    console.log(
      `full request (non-stream, ${REQUESTS} sequential): plain ${f(plainLatency)} ms, e2e ${f(e2eLatency)} ms, ratio ${f(result.request.ratio)}x`,
    );
    console.log(
      `stream over HTTP (${e2eStream.events} events): plain ${f(result.stream.plainEventsPerSecond)} ev/s, e2e ${f(result.stream.e2eEventsPerSecond)} ev/s (decrypted), ratio ${f(result.stream.ratio)}x`,
    );
    console.log(
      `SSE decoder (${decode.chunks} chunks): ${f(decode.decoder)} chunks/s vs native open ${f(decode.baseline)} chunks/s, ratio ${f(result.decoder.ratio)}x`,
    );
  }
} finally {
  await fake.close();
  await new Promise((resolve) => plain.close(resolve));
}
