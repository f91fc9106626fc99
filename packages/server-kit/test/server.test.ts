// listen, request ids, request observation and error shapes, over real loopback HTTP.
import { Agent, get as httpGet, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  createMetrics,
  handleErrors,
  listen,
  metricsResponse,
  type NodeRequestHandler,
  observeRequests,
  REQUEST_ID_HEADER,
  requestIdMiddleware,
  ServerKitError,
} from '../src/index.js';

function captureLogs() {
  const lines: string[] = [];
  return {
    destination: { write: (line: string) => void lines.push(line) },
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** A face in the flat `{"error": message}` shape with its own metrics. */
function flatFace(prefix: string, logs = captureLogs()) {
  const metrics = createMetrics({ prefix });
  const logger = createLogger({ level: 'debug', destination: logs.destination });
  const app = new Hono();
  app.use('*', requestIdMiddleware());
  app.use('*', observeRequests({ logger, metrics }));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.post('/v1/chat/completions', () => new Response('raw', { status: 200 }));
  app.get('/relay', async () => fetch('data:text/plain,relayed'));
  app.get('/boom', () => {
    throw new Error('secret in message');
  });
  app.get('/metrics', () => metricsResponse(metrics.registry));
  handleErrors(app, {
    render: (c, failure) => c.json({ error: failure.message, code: failure.code }, failure.status as 404),
    logger,
  });
  return { app, metrics, logs };
}

describe('listen', () => {
  it('serves on a free loopback port, closes idempotently, and names a taken address', async () => {
    const { app } = flatFace('a_');
    const listener = await listen({ fetch: app.fetch, port: 0 });
    expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${listener.url}/health`)).json()).toEqual({ status: 'ok' });
    const port = Number(new URL(listener.url).port);
    const error = await listen({ fetch: app.fetch, port }).catch((caught: unknown) => caught);
    expect(ServerKitError.isInstance(error)).toBe(true);
    expect((error as ServerKitError).code).toBe('ERR_SERVER_START');
    expect((error as Error).message).toBe(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
    await listener.close();
    await listener.close();
    await expect(fetch(`${listener.url}/health`)).rejects.toThrow();
  });

  it('lets an in-flight request finish on close, then stops', async () => {
    const app = new Hono();
    app.get('/slow', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return c.text('done');
    });
    const listener = await listen({ fetch: app.fetch, port: 0, shutdownTimeoutMs: 5000 });
    const pending = fetch(`${listener.url}/slow`).then((response) => response.text());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = performance.now();
    await listener.close();
    expect(await pending).toBe('done');
    // The client's keep-alive connection is closed as soon as it is idle, not after Node's keep-alive timeout.
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('listen: closing under keep-alive (a load balancer reuses its connections to a replica)', () => {
  it('answers what is in flight with Connection: close, so no request is sent on a connection being closed', async () => {
    const app = new Hono();
    app.get('/slow', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return c.text('done');
    });
    app.get('/fast', (c) => c.text('fast'));
    const listener = await listen({ fetch: app.fetch, port: 0, shutdownTimeoutMs: 5000 });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const request = (path: string) =>
      new Promise<{ body: string; connection: string | undefined }>((resolve, reject) => {
        httpGet(`${listener.url}${path}`, { agent }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            body += chunk;
          });
          response.on('end', () => resolve({ body, connection: response.headers.connection }));
        }).on('error', reject);
      });
    try {
      // Before closing: keep-alive, as any client and haproxy expect.
      expect(await request('/fast')).toEqual({ body: 'fast', connection: 'keep-alive' });
      const pending = request('/slow');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const closed = listener.close();
      // The old code said keep-alive here, then closed the connection as soon as it was idle: a client sending its
      // next request on it in that moment got ECONNRESET (haproxy: a failed request it must not retry).
      expect(await pending).toEqual({ body: 'done', connection: 'close' });
      await closed;
    } finally {
      agent.destroy();
    }
  });
});

describe('listen: draining before it stops accepting (a load balancer must notice first)', () => {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/work', (c) => c.text('done'));

  /** A raw HTTP/1.1 exchange on a new connection; the bytes the server sent, or the socket error's code. */
  function rawRequest(url: string, text: string, onConnected?: () => void): Promise<string> {
    const { port } = new URL(url);
    return new Promise((resolve) => {
      let received = '';
      const socket = connect(Number(port), '127.0.0.1', onConnected);
      socket.write(text);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
      socket.on('close', () => resolve(received));
    });
  }

  it('serves a connection opened the moment close() is called (without a drain the kernel resets it)', async () => {
    const listener = await listen({ fetch: app.fetch, port: 0, drainMs: 300 });
    // The connect syscall is made on the next tick; loopback completes the handshake in it, so the connection sits in
    // the accept queue, not yet accepted by Node, when close() runs. Closing the listening socket then would reset it
    // after the request was sent: a request a balancer may not send again.
    const answer = rawRequest(listener.url, 'GET /work HTTP/1.1\r\nhost: x\r\n\r\n');
    await new Promise((resolve) => process.nextTick(resolve));
    const closed = listener.close();
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.toLowerCase()).toContain('connection: close');
    expect(text.endsWith('done')).toBe(true);
    await closed;
  });

  it('answers its health check 503 while still serving the rest, then refuses connections', async () => {
    // A direct handler that never calls writeHead: Node writes its headers implicitly, on end().
    const fastPath: NodeRequestHandler = (request, response) => {
      if (request.url !== '/implicit') return false;
      response.end('implicit');
      return true;
    };
    const listener = await listen({ fetch: app.fetch, port: 0, drainMs: 400, fastPath });
    expect((await fetch(`${listener.url}/implicit`)).headers.get('connection')).toBe('keep-alive');
    expect((await fetch(`${listener.url}/health`)).status).toBe(200);
    const started = performance.now();
    const closed = listener.close();
    const health = await fetch(`${listener.url}/health?probe=1`, { headers: { 'x-request-id': 'probe-7' } });
    expect(health.status).toBe(503);
    expect(health.headers.get('x-request-id')).toBe('probe-7');
    expect(health.headers.get('connection')).toBe('close');
    expect(await health.json()).toEqual({ status: 'draining' });
    expect((await fetch(`${listener.url}/health`, { method: 'HEAD' })).status).toBe(503);
    const work = await fetch(`${listener.url}/work`);
    expect(work.status).toBe(200);
    expect(work.headers.get('connection')).toBe('close');
    expect(await work.text()).toBe('done');
    const implicit = await fetch(`${listener.url}/implicit`);
    expect(implicit.headers.get('connection')).toBe('close');
    expect(await implicit.text()).toBe('implicit');
    await closed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(390);
    expect(await rawRequest(listener.url, 'GET /work HTTP/1.1\r\nhost: x\r\n\r\n')).toBe(
      'error ECONNREFUSED',
    );
  });

  it('close({ skipDrain: true }) cuts a drain short; without a drain the health check never says draining', async () => {
    const listener = await listen({ fetch: app.fetch, port: 0, drainMs: 60_000 });
    const started = performance.now();
    const closed = listener.close();
    expect((await fetch(`${listener.url}/health`)).status).toBe(503);
    expect(listener.close({ skipDrain: true })).toBe(closed);
    await closed;
    expect(performance.now() - started).toBeLessThan(5000);

    const plain = await listen({ fetch: app.fetch, port: 0, drainMs: 60_000 });
    const skipped = plain.close({ skipDrain: true });
    await skipped;
    expect(await rawRequest(plain.url, 'GET /health HTTP/1.1\r\nhost: x\r\n\r\n')).toBe('error ECONNREFUSED');
  });
});

describe('listen: a node:http fast path before the fetch handler', () => {
  it('answers what it takes, passes the rest on unread, and says Connection: close while closing', async () => {
    const app = new Hono();
    app.post('/echo', async (c) => c.text(`hono:${await c.req.text()}`));
    let taken = 0;
    const listener = await listen({
      fetch: app.fetch,
      port: 0,
      shutdownTimeoutMs: 5000,
      fastPath: (request, response) => {
        if (request.url !== '/direct' && request.url !== '/direct-slow') return false;
        taken += 1;
        const delay = request.url === '/direct-slow' ? 200 : 0;
        let body = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => {
          body += chunk;
        });
        request.on('end', () => {
          setTimeout(() => {
            response.writeHead(200, { 'content-type': 'text/plain' });
            response.end(`direct:${body}`);
          }, delay);
        });
        return true;
      },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (path: string, body: string) =>
      new Promise<{ body: string; connection: string | undefined }>((resolve, reject) => {
        const request = httpRequest(`${listener.url}${path}`, { agent, method: 'POST' }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () => resolve({ body: text, connection: response.headers.connection }));
        });
        request.on('error', reject);
        request.end(body);
      });
    try {
      expect(await post('/echo', 'one')).toEqual({ body: 'hono:one', connection: 'keep-alive' });
      expect(await post('/direct', 'two')).toEqual({ body: 'direct:two', connection: 'keep-alive' });
      expect(taken).toBe(1);
      const pending = post('/direct-slow', 'three');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const closed = listener.close();
      expect(await pending).toEqual({ body: 'direct:three', connection: 'close' });
      await closed;
      expect(taken).toBe(2);
    } finally {
      agent.destroy();
    }
  });
});

describe('X-Request-Id on every response', () => {
  it('on c.json, on a Response built by the handler, on a relayed (immutable) fetch response and on errors', async () => {
    const { app } = flatFace('b_');
    const listener = await listen({ fetch: app.fetch, port: 0 });
    try {
      const requests: Array<[string, RequestInit]> = [
        ['/health', {}],
        ['/v1/chat/completions', { method: 'POST' }],
        ['/relay', {}],
        ['/boom', {}],
        ['/nowhere', {}],
        ['/v1/chat/completions', { method: 'GET' }],
      ];
      const ids = new Set<string>();
      for (const [path, init] of requests) {
        const response = await fetch(`${listener.url}${path}`, init);
        await response.arrayBuffer();
        const id = response.headers.get(REQUEST_ID_HEADER);
        expect(id, path).toMatch(/^[0-9a-f-]{36}$/);
        ids.add(id!);
      }
      expect(ids.size).toBe(requests.length);
      const relayed = await fetch(`${listener.url}/relay`);
      expect(await relayed.text()).toBe('relayed');
    } finally {
      await listener.close();
    }
  });

  it('keeps a well-formed client id and replaces anything else', async () => {
    const { app } = flatFace('c_');
    const ok = await app.request('/health', { headers: { 'x-request-id': 'client-id_1=' } });
    expect(ok.headers.get(REQUEST_ID_HEADER)).toBe('client-id_1=');
    for (const offered of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const replaced = await app.request('/health', { headers: { 'x-request-id': offered } });
      expect(replaced.headers.get(REQUEST_ID_HEADER)).not.toBe(offered);
    }
  });
});

describe('handleErrors: JSON in the face shape for unknown routes, wrong methods and failures', () => {
  it('404 for an unknown path, 405 for a known path with another method, 500 without the message', async () => {
    const { app, logs } = flatFace('d_');
    const missing = await app.request('/nowhere');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'No route for GET /nowhere', code: 'not_found' });
    const wrong = await app.request('/v1/chat/completions');
    expect(wrong.status).toBe(405);
    expect(await wrong.json()).toEqual({
      error: 'Method not allowed: GET /v1/chat/completions',
      code: 'method_not_allowed',
    });
    const boom = await app.request('/boom');
    expect(boom.status).toBe(500);
    const body = await boom.text();
    expect(body).not.toContain('secret in message');
    expect(JSON.stringify(logs.entries())).not.toContain('secret in message');
  });

  it('escapes control and bidi-control characters of the (decoded) path', async () => {
    const { app } = flatFace('e_');
    for (const [path, escaped] of [
      ['/a%00b', '\\u0000'],
      ['/x%E2%80%AEy', '\\u202e'],
    ] as const) {
      const { error } = (await (await app.request(`http://localhost${path}`)).json()) as { error: string };
      expect(error).toContain(escaped);
      expect(error).not.toMatch(/[\u0000\u202e]/);
    }
  });

  it('keeps its own shape when mounted below a prefix of an app with another error shape', async () => {
    const { app: face } = flatFace('f_');
    const root = new Hono();
    root.route('/face', face);
    root.notFound((c) => c.json({ error: { message: 'root shape' } }, 404));
    expect(await (await root.request('/face/nowhere')).json()).toEqual({
      error: 'No route for GET /face/nowhere',
      code: 'not_found',
    });
    expect((await root.request('/face/v1/chat/completions')).status).toBe(405);
    expect(await (await root.request('/elsewhere')).json()).toEqual({ error: { message: 'root shape' } });
  });

  it('a request whose client went away is 499 client_closed_request, logged at info', async () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'debug', destination: logs.destination });
    const app = new Hono();
    const controller = new AbortController();
    app.get('/gone', () => {
      controller.abort();
      throw new Error('read failed');
    });
    handleErrors(app, {
      render: (c, failure) => c.json({ error: failure.code }, failure.status as 400),
      logger,
    });
    const response = await app.request('/gone', { signal: controller.signal });
    expect(response.status).toBe(499);
    expect(await response.json()).toEqual({ error: 'client_closed_request' });
    expect(logs.entries().some((entry) => entry['msg'] === 'client closed the request')).toBe(true);
    expect(logs.entries().some((entry) => entry['level'] === 50)).toBe(false);
  });
});

describe('observeRequests and metrics with a per-face prefix', () => {
  it('a mounted face counts its own requests (route without the prefix); the outer app does not count them again', async () => {
    const inner = flatFace('inner_face_');
    const outerMetrics = createMetrics({ prefix: 'outer_' });
    const outerLogs = captureLogs();
    const root = new Hono();
    root.use('*', requestIdMiddleware());
    root.use(
      '*',
      observeRequests({
        logger: createLogger({ destination: outerLogs.destination }),
        metrics: outerMetrics,
      }),
    );
    root.route('/face', inner.app);
    root.get('/own', (c) => c.text('own'));
    await root.request('/face/health');
    await root.request('/face/nowhere');
    await root.request('/own');
    const innerText = await inner.metrics.registry.metrics();
    expect(innerText).toContain('inner_face_requests_total{route="/health",method="GET",status="200"} 1');
    expect(innerText).toContain('inner_face_requests_total{route="unmatched",method="GET",status="404"} 1');
    const outerText = await outerMetrics.registry.metrics();
    expect(outerText).toContain('outer_requests_total{route="/own",method="GET",status="200"} 1');
    expect(outerText).not.toContain('/health');
    expect(outerLogs.entries()).toHaveLength(1);
    const [line] = inner.logs.entries();
    expect(line).toMatchObject({ msg: 'request', route: '/health', status: 200, method: 'GET' });
    expect(typeof line!['reqId']).toBe('string');
  });

  it('serves the face registry on /metrics; faces of a composed server share one registry without clashes', async () => {
    const { app } = flatFace('g_');
    await app.request('/health');
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('# TYPE g_requests_total counter');
    const shared = createMetrics({ prefix: 'vllm_proxy_' });
    createMetrics({ prefix: 'tee_gateway_', registry: shared.registry });
    createMetrics({ prefix: 'venice_proxy_', registry: shared.registry });
    const all = await shared.registry.metrics();
    for (const prefix of ['vllm_proxy_', 'tee_gateway_', 'venice_proxy_'])
      expect(all).toContain(`# TYPE ${prefix}requests_total counter`);
    expect(() => createMetrics({ prefix: 'tee_gateway_', registry: shared.registry })).toThrow(RangeError);
    expect(() => createMetrics({ prefix: '9bad' })).toThrow(RangeError);
    expect(() => createMetrics({ prefix: 'has-dash_' })).toThrow(RangeError);
    const gauge = shared.gauge('x402_sessions', 'sessions');
    gauge.set(3);
    expect(await shared.registry.metrics()).toMatch(/^vllm_proxy_x402_sessions 3$/m);
  });
});
