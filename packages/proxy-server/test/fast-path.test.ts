import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createLogger, listen, type RunningListener } from '@confidential-ai/server-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSecrets, loadConfig } from '../src/config.js';
import { publicKeyHex } from '../src/e2ee.js';
import { type RunningFakeVllm, startFakeVllm } from '../src/fake-vllm.js';
import { vllmProxyRoutes } from '../src/routes/vllm-proxy.js';
import { type RunningServer, startServer } from '../src/server.js';
import { captureLogs, createE2eeClient, freePort, TOKEN } from './helpers.js';

// The node:http fast path of the completion routes against the Hono path: the same request set goes to two servers
// built from the same configuration (same signing seed, each with its own deterministic fake vLLM), one serving
// every request through Hono, the other through the fast path, and the answers are compared byte for byte:
// status, the headers that matter, bodies, what the upstream received, the signatures, metrics and access logs.

const SEED = '5c'.repeat(32);
const CREATED = 1_700_000_000;
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };
/** Headers that differ between any two responses (time) or only in framing. */
const IGNORED_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

interface Side {
  readonly server: RunningServer;
  readonly vllm: RunningFakeVllm;
  readonly logs: ReturnType<typeof captureLogs>;
  /** Where requests go: the server's own listener (Hono) or a listener with the fast path. */
  readonly url: string;
  readonly listener?: RunningListener;
  /** How many requests the fast path took. */
  taken: number;
}

async function startSide(fast: boolean, vllmUrl?: string): Promise<Side> {
  const vllm = await startFakeVllm({ port: 0, created: () => CREATED });
  const logs = captureLogs();
  const config = loadConfig({
    env: {
      TOKEN,
      LOG_LEVEL: 'info',
      PROXY_PORT: '0',
      SIGNING_KEY_SEED: SEED,
      VLLM_BASE_URL: vllmUrl ?? vllm.url,
      UPSTREAM_HEADERS_TIMEOUT_MS: '1500',
      VLLM_PROXY_MAX_REQUEST_SIZE: '4096',
    },
  });
  const logger = createLogger({
    level: 'info',
    destination: logs.destination,
    secrets: configSecrets(config),
  });
  const server = await startServer({ config, logger, processMetrics: false, fastPath: false });
  if (!fast) return { server, vllm, logs, url: server.url, taken: 0 };
  // The composed server's wiring (startServer with fastPath on), with a counter around the module's fast path.
  const handler = vllmProxyRoutes.fastPath!(server.deps);
  const side: Side = { server, vllm, logs, url: '', taken: 0 };
  const listener = await listen({
    fetch: server.app.fetch,
    port: 0,
    fastPath: (request: IncomingMessage, response: ServerResponse) => {
      const taken = handler(request, response);
      if (taken) side.taken += 1;
      return taken;
    },
  });
  return Object.assign(side, { url: listener.url, listener });
}

async function stopSide(side: Side | undefined): Promise<void> {
  await side?.listener?.close();
  await side?.server.close();
  await side?.vllm.close();
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

async function send(
  url: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | ReadableStream },
): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? 'POST',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!IGNORED_HEADERS.has(name)) headers[name] = value;
  });
  return { status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** The last request the side's fake vLLM received, without its Host header. */
function upstreamSeen(side: Side): unknown {
  const last = side.vllm.requests.at(-1);
  if (!last) return undefined;
  const { host: _host, ...headers } = last.headers;
  return { ...last, headers };
}

const chat = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content }], ...extra });

/** The request set: every branch of the completion routes the fast path takes, and some it declines. */
const CASES: ReadonlyArray<{
  name: string;
  path: string;
  headers?: Record<string, string>;
  body: string;
  fast: boolean;
}> = [
  {
    name: 'plain chat',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: chat('alpha'),
    fast: true,
  },
  {
    name: 'plain chat with a client request id and request hash',
    path: '/v1/chat/completions',
    headers: { ...JSON_HEADERS, 'x-request-id': 'client-id-1', 'x-request-hash': 'ab'.repeat(32) },
    body: chat('bravo'),
    fast: true,
  },
  {
    name: 'plain chat, stream',
    path: '/v1/chat/completions',
    headers: { ...JSON_HEADERS, 'x-request-id': 'client-id-2' },
    body: chat('charlie delta echo', { stream: true }),
    fast: true,
  },
  {
    name: 'completions',
    path: '/v1/completions',
    headers: { ...AUTH, 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ model: 'fake-model', prompt: 'foxtrot' }),
    fast: true,
  },
  {
    name: 'completions, stream, media type in capitals',
    path: '/v1/completions',
    headers: { ...AUTH, 'content-type': 'Application/JSON' },
    body: JSON.stringify({ model: 'fake-model', prompt: 'golf hotel', stream: true }),
    fast: true,
  },
  {
    name: 'empty tool_calls are stripped before the upstream',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      model: 'fake-model',
      messages: [
        { role: 'assistant', content: 'x', tool_calls: [] },
        { role: 'user', content: 'india' },
      ],
    }),
    fast: true,
  },
  {
    name: 'upstream without an id: answered, not signed',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: chat('juliet', { fake_fault: 'no-id' }),
    fast: true,
  },
  {
    name: 'upstream error status (message exposed in plain mode)',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: chat('kilo', { fake_fault: 'status:503' }),
    fast: true,
  },
  {
    name: 'upstream stream cut before [DONE]',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: chat('lima mike', { stream: true, fake_fault: 'truncate' }),
    fast: true,
  },
  {
    name: 'invalid JSON',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: '{"model":',
    fast: true,
  },
  { name: 'JSON array', path: '/v1/completions', headers: JSON_HEADERS, body: '[1,2]', fast: true },
  {
    name: 'JSON nested too deep',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: `${'['.repeat(200)}${']'.repeat(200)}`,
    fast: true,
  },
  {
    name: 'E2EE headers on /v1/completions',
    path: '/v1/completions',
    headers: { ...JSON_HEADERS, 'x-signing-algo': 'ecdsa' },
    body: JSON.stringify({ model: 'fake-model', prompt: 'november' }),
    fast: true,
  },
  {
    name: 'incomplete E2EE headers',
    path: '/v1/chat/completions',
    headers: { ...JSON_HEADERS, 'x-signing-algo': 'ed25519', 'x-client-pub-key': 'ab' },
    body: chat('oscar'),
    fast: true,
  },
  {
    name: 'an invalid client request id is replaced',
    path: '/v1/chat/completions',
    headers: { ...JSON_HEADERS, 'x-request-id': 'bad id!' },
    body: chat('papa', { fake_fault: 'status:400' }),
    fast: true,
  },
  // Declined: the Hono path answers these on both sides.
  { name: 'no client token', path: '/v1/chat/completions', body: chat('quebec'), fast: false },
  {
    name: 'wrong client token',
    path: '/v1/chat/completions',
    headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
    body: chat('romeo'),
    fast: false,
  },
  {
    name: 'declared body above the limit',
    path: '/v1/chat/completions',
    headers: JSON_HEADERS,
    body: chat('s'.repeat(5000)),
    fast: false,
  },
  {
    name: 'a text content type',
    path: '/v1/chat/completions',
    headers: { ...AUTH, 'content-type': 'text/plain' },
    body: chat('tango'),
    fast: false,
  },
  {
    name: 'a query string',
    path: '/v1/chat/completions?x=1',
    headers: JSON_HEADERS,
    body: chat('uniform'),
    fast: false,
  },
];

describe('completion fast path: the same answers as the Hono path, byte for byte', () => {
  let hono: Side;
  let fast: Side;
  beforeAll(async () => {
    [hono, fast] = await Promise.all([startSide(false), startSide(true)]);
  });
  afterAll(async () => {
    await Promise.all([stopSide(hono), stopSide(fast)]);
  });

  it('answers the request set identically and takes exactly the requests it should', async () => {
    let expectedFast = 0;
    for (const testCase of CASES) {
      const init = { headers: testCase.headers ?? {}, body: testCase.body };
      const viaHono = await send(hono.url, testCase.path, init);
      const before = fast.taken;
      const viaFast = await send(fast.url, testCase.path, init);
      expect({ case: testCase.name, taken: fast.taken - before }).toEqual({
        case: testCase.name,
        taken: testCase.fast ? 1 : 0,
      });
      if (testCase.fast) expectedFast += 1;
      const requestId = viaHono.headers['x-request-id'];
      expect(requestId).toBeDefined();
      if (
        testCase.headers?.['x-request-id'] !== 'client-id-1' &&
        testCase.headers?.['x-request-id'] !== 'client-id-2'
      ) {
        // A fresh UUID on each side.
        expect(viaFast.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
        viaFast.headers['x-request-id'] = requestId!;
      }
      expect({ case: testCase.name, status: viaFast.status, headers: viaFast.headers }).toEqual({
        case: testCase.name,
        status: viaHono.status,
        headers: viaHono.headers,
      });
      expect({ case: testCase.name, body: viaFast.body.toString('utf8') }).toEqual({
        case: testCase.name,
        body: viaHono.body.toString('utf8'),
      });
      expect(viaFast.body.equals(viaHono.body)).toBe(true);
      // The upstream received the same body and headers (its own address aside).
      expect(upstreamSeen(fast)).toEqual(upstreamSeen(hono));
      // The same signature (same seed, same request and response bytes), read back through each side.
      const id = /"id":"([^"]+)"/.exec(viaHono.body.toString('utf8'))?.[1];
      if (viaHono.status === 200 && id !== undefined) {
        for (const algo of ['ecdsa', 'ed25519']) {
          const path = `/v1/signature/${id}?model=fake-model&signing_algo=${algo}`;
          const honoSignature = await send(hono.url, path, { method: 'GET', headers: AUTH });
          const fastSignature = await send(fast.url, path, { method: 'GET', headers: AUTH });
          expect({ case: testCase.name, algo, status: honoSignature.status }).toEqual({
            case: testCase.name,
            algo,
            status: testCase.name.includes('cut') || testCase.name.includes('without an id') ? 404 : 200,
          });
          expect(fastSignature.status).toBe(honoSignature.status);
          expect(fastSignature.body.equals(honoSignature.body)).toBe(true);
        }
      }
    }
    expect(fast.taken).toBe(expectedFast);

    // Metrics and access log lines: the same counts (durations aside).
    const counts = async (side: Side) =>
      (await side.server.deps.metrics.registry.metrics())
        .split('\n')
        .filter((line) => /^vllm_proxy_(requests|errors|upstream_requests)_total\{/.test(line))
        .sort();
    expect(await counts(fast)).toEqual(await counts(hono));
    const accessLines = (side: Side) =>
      side.logs.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.msg === 'request' || line.level !== 30)
        .map(({ time: _t, pid: _p, hostname: _h, ms: _ms, reqId: _r, ...rest }) => rest);
    expect(accessLines(fast)).toEqual(accessLines(hono));
  });

  it('E2EE v1 (both algorithms): same status, headers and decrypted answer', async () => {
    for (const algo of ['ecdsa', 'ed25519'] as const) {
      const client = createE2eeClient(algo, 1);
      const modelKey = publicKeyHex(hono.server.deps.keys, algo);
      expect(publicKeyHex(fast.server.deps.keys, algo)).toBe(modelKey);
      const body = JSON.stringify(
        client.encryptMessages(
          { model: 'fake-model', messages: [{ role: 'user', content: 'victor' }] },
          modelKey,
        ),
      );
      const headers = { ...JSON_HEADERS, ...client.headers(modelKey), 'x-request-id': `e2ee-${algo}` };
      const viaHono = await send(hono.url, '/v1/chat/completions', { headers, body });
      const before = fast.taken;
      const viaFast = await send(fast.url, '/v1/chat/completions', { headers, body });
      expect(fast.taken - before).toBe(1);
      expect(viaFast.status).toBe(200);
      expect(viaFast.headers).toEqual(viaHono.headers);
      const open = (answer: Answer) => {
        const payload = JSON.parse(answer.body.toString('utf8'));
        const message = payload.choices[0].message;
        return {
          ...payload,
          choices: [
            {
              ...payload.choices[0],
              message: {
                ...message,
                content: client.decrypt(message.content, {
                  model: payload.model,
                  id: payload.id,
                  choice: 0,
                  field: 'content',
                }),
              },
            },
          ],
        };
      };
      expect(open(viaFast)).toEqual(open(viaHono));
      expect(upstreamSeen(fast)).toEqual(upstreamSeen(hono));
    }
  });

  it('E2EE v2 right after a seeded start: both refuse with 503 replay_state_incomplete', async () => {
    for (const algo of ['ecdsa', 'ed25519'] as const) {
      const client = createE2eeClient(algo, 2);
      const modelKey = publicKeyHex(hono.server.deps.keys, algo);
      const body = JSON.stringify(
        client.encryptMessages(
          { model: 'fake-model', messages: [{ role: 'user', content: 'yankee' }] },
          modelKey,
        ),
      );
      const headers = { ...JSON_HEADERS, ...client.headers(modelKey), 'x-request-id': `e2ee-v2-${algo}` };
      const viaHono = await send(hono.url, '/v1/chat/completions', { headers, body });
      const viaFast = await send(fast.url, '/v1/chat/completions', { headers, body });
      expect(viaHono.status).toBe(503);
      expect(viaFast.status).toBe(503);
      // The retry delay is computed from the clock (it may differ by a second between the two requests).
      expect(Object.keys(viaFast.headers).sort()).toEqual(Object.keys(viaHono.headers).sort());
      const typeOf = (answer: Answer) => JSON.parse(answer.body.toString('utf8')).error.type;
      expect(typeOf(viaFast)).toBe('replay_state_incomplete');
      expect(typeOf(viaHono)).toBe('replay_state_incomplete');
    }
  });

  it('a client that goes away mid-upload is logged and counted as 499 on both paths', async () => {
    const body = chat('zulu');
    const abandon = (url: string, requestId: string) =>
      new Promise<void>((resolve, reject) => {
        const { port } = new URL(url);
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n` +
              `content-type: application/json\r\nx-request-id: ${requestId}\r\ncontent-length: ${body.length}\r\n\r\n` +
              body.slice(0, 10),
            () => setTimeout(() => socket.destroy(), 100),
          );
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
    const before = fast.taken;
    await abandon(hono.url, 'gone-1');
    await abandon(fast.url, 'gone-1');
    expect(fast.taken).toBe(before + 1);
    const lines = async (side: Side) => {
      // The server notices the closed socket on its next turn.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return side.logs.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => line.reqId === 'gone-1')
        .map(({ time: _t, pid: _p, hostname: _h, ms: _ms, ...rest }) => rest);
    };
    const honoLines = await lines(hono);
    expect(honoLines).toEqual([
      expect.objectContaining({ msg: 'client closed the request' }),
      expect.objectContaining({ msg: 'request', status: 499, route: '/v1/chat/completions' }),
    ]);
    expect(await lines(fast)).toEqual(honoLines);
  });

  it('declines a chunked upload (the Hono path counts its bytes against the limit)', async () => {
    const body = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(chat('whiskey')));
          controller.close();
        },
      });
    const before = fast.taken;
    const viaFast = await send(fast.url, '/v1/chat/completions', { headers: JSON_HEADERS, body: body() });
    const viaHono = await send(hono.url, '/v1/chat/completions', { headers: JSON_HEADERS, body: body() });
    expect(fast.taken).toBe(before);
    expect(viaFast.status).toBe(200);
    expect(viaFast.body.equals(viaHono.body)).toBe(true);
  });
});

describe('completion fast path: upstream failures map as on the Hono path', () => {
  let hono: Side;
  let fast: Side;
  beforeAll(async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    [hono, fast] = await Promise.all([startSide(false, closed), startSide(true, closed)]);
  });
  afterAll(async () => {
    await Promise.all([stopSide(hono), stopSide(fast)]);
  });

  it('an unreachable upstream is 502 upstream_unreachable on both', async () => {
    for (const path of ['/v1/chat/completions', '/v1/completions']) {
      const init = { headers: { ...JSON_HEADERS, 'x-request-id': 'unreachable' }, body: chat('xray') };
      const viaHono = await send(hono.url, path, init);
      const viaFast = await send(fast.url, path, init);
      expect(viaHono.status).toBe(502);
      expect(viaFast.status).toBe(502);
      expect(viaFast.headers).toEqual(viaHono.headers);
      expect(viaFast.body.equals(viaHono.body)).toBe(true);
    }
    expect(fast.taken).toBe(2);
  });
});

describe('completion fast path: a client that goes away while the upstream is still working', () => {
  // An upstream that takes the request and never answers (a long generation), and says when its connection closes.
  let upstream: Server;
  let upstreamUrl: string;
  const arrivals: Array<{ requestId: string; closed: Promise<void> }> = [];
  let hono: Side;
  let fast: Side;
  beforeAll(async () => {
    upstream = createServer((request) => {
      const closed = new Promise<void>((resolve) => request.socket.once('close', () => resolve()));
      arrivals.push({ requestId: String(request.headers['x-test-id'] ?? ''), closed });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    [hono, fast] = await Promise.all([startSide(false, upstreamUrl), startSide(true, upstreamUrl)]);
  });
  afterAll(async () => {
    await Promise.all([stopSide(hono), stopSide(fast)]);
    upstream.closeAllConnections();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it('cancels the upstream call at once on both paths (no generation runs on for nobody), logged as 499', async () => {
    for (const side of [hono, fast]) {
      const count = arrivals.length;
      const client = new AbortController();
      const answer = fetch(`${side.url}/v1/chat/completions`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: chat('yankee'),
        signal: client.signal,
      }).catch((error: unknown) => error);
      for (let waited = 0; arrivals.length === count && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(arrivals.length).toBe(count + 1);
      client.abort();
      expect(((await answer) as Error).name).toBe('AbortError');
      // Well before the upstream headers timeout of these servers (1.5 s) would have ended it.
      const started = performance.now();
      await arrivals.at(-1)!.closed;
      expect(performance.now() - started).toBeLessThan(1000);
    }
    expect(fast.taken).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const side of [hono, fast]) {
      const statuses = side.logs.lines
        .map((line) => JSON.parse(line) as { msg?: string; status?: number })
        .filter((line) => line.msg === 'request')
        .map((line) => line.status);
      expect(statuses).toEqual([499]);
    }
  });
});
