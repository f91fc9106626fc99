import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cancellation, createUpstreamFetch, isTimeoutError } from '../src/index.js';

describe('createUpstreamFetch (undici pool)', () => {
  let silent: Server;
  let port: number;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // accepts connections and never answers
    silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('a headers timeout is classified as a timeout, on fetch and on request', async () => {
    const upstream = createUpstreamFetch({ headersTimeoutMs: 200 });
    try {
      const viaFetch = await upstream.fetch(`http://127.0.0.1:${port}/x`).catch((error: unknown) => error);
      expect(isTimeoutError(viaFetch)).toBe(true);
      const viaRequest = await upstream
        .request(`http://127.0.0.1:${port}/x`, { method: 'GET', headers: {} })
        .catch((error: unknown) => error);
      expect(isTimeoutError(viaRequest)).toBe(true);
    } finally {
      await upstream.destroy();
    }
  });

  it('a refused connection is not a timeout', async () => {
    const upstream = createUpstreamFetch();
    try {
      const refused = await upstream.fetch('http://127.0.0.1:1/').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Error);
      expect(isTimeoutError(refused)).toBe(false);
    } finally {
      await upstream.destroy();
    }
  });

  it('never follows a redirect: the body is not re-sent to another origin', async () => {
    let targetHits = 0;
    const target = createHttpServer((_request, response) => {
      targetHits++;
      response.end('{}');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
    const redirector = createHttpServer((_request, response) => {
      response.writeHead(307, { location: `${targetUrl}/elsewhere` });
      response.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(redirector.address() as { port: number }).port}/v1/chat/completions`;
    const upstream = createUpstreamFetch();
    try {
      const viaFetch = await upstream.fetch(url, { method: 'POST', body: 'secret prompt' });
      expect(viaFetch.status).toBe(307);
      await viaFetch.body?.cancel();
      const viaRequest = await upstream.request(url, { method: 'POST', headers: {}, body: 'secret prompt' });
      expect(viaRequest.status).toBe(307);
      await viaRequest.arrayBuffer();
      expect(targetHits).toBe(0);
    } finally {
      await upstream.destroy();
      await new Promise((resolve) => target.close(resolve));
      await new Promise((resolve) => redirector.close(resolve));
    }
  });

  it('a request reply gives its body as byte chunks: every buffered HTTP chunk in one, the bytes unchanged', async () => {
    const pieces = Array.from({ length: 500 }, (_, index) => `data: {"n":${index}}\n\n`);
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      // each write its own HTTP chunk, all leaving in one burst
      response.cork();
      for (const piece of pieces) response.write(piece);
      response.uncork();
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const upstream = createUpstreamFetch();
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/stream`;
      const reply = await upstream.request(url, { method: 'GET', headers: {} });
      expect(reply.bodyChunks).toBeDefined();
      // wait until the whole burst is buffered, so that the reads show the coalescing
      await new Promise((resolve) => setTimeout(resolve, 200));
      const chunks: Uint8Array[] = [];
      for await (const chunk of reply.bodyChunks!) {
        expect(chunk).toBeInstanceOf(Uint8Array);
        chunks.push(chunk);
      }
      expect(Buffer.concat(chunks).toString('utf8')).toBe(pieces.join(''));
      expect(chunks.length).toBeLessThan(pieces.length / 10);
    } finally {
      await upstream.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('classifies timeouts through the cause chain', () => {
    const timeout = new TypeError('fetch failed', {
      cause: Object.assign(new Error('t'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
    });
    expect(isTimeoutError(timeout)).toBe(true);
    expect(isTimeoutError(new DOMException('aborted', 'TimeoutError'))).toBe(true);
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('r'), { code: 'ECONNREFUSED' }),
    });
    expect(isTimeoutError(refused)).toBe(false);
  });
});

describe('Cancellation: the lighter signal of one upstream call', () => {
  it('aborts once with its reason, and its AbortSignal follows it whether made before or after', () => {
    const cancellation = new Cancellation();
    const early = cancellation.signal;
    let events = 0;
    cancellation.on('abort', () => {
      events += 1;
    });
    expect(cancellation.aborted).toBe(false);
    const reason = new Error('client went away');
    cancellation.abort(reason);
    cancellation.abort(new Error('later'));
    expect(events).toBe(1);
    expect(cancellation.reason).toBe(reason);
    expect(early.aborted).toBe(true);
    expect(early.reason).toBe(reason);
    expect(cancellation.signal).toBe(early);

    const late = new Cancellation();
    late.abort();
    expect((late.reason as DOMException).name).toBe('AbortError');
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(late.reason);
  });

  it.each(['request', 'fetch'] as const)(
    'cancels a %s waiting for an upstream that has not answered, and the upstream sees its connection close',
    async (api) => {
      let closed!: () => void;
      const upstreamClosed = new Promise<void>((resolve) => {
        closed = resolve;
      });
      let received!: () => void;
      const upstreamReceived = new Promise<void>((resolve) => {
        received = resolve;
      });
      const server = createHttpServer((request) => {
        received();
        request.socket.on('close', () => closed());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const upstream = createUpstreamFetch();
      try {
        const cancellation = new Cancellation();
        const url = `http://127.0.0.1:${port}/v1/chat/completions`;
        const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' };
        const call =
          api === 'request'
            ? upstream.request(url, { ...init, signal: cancellation })
            : upstream.fetch(url, { ...init, signal: cancellation.signal });
        const outcome = call.then(
          () => 'answered',
          (error: unknown) => error,
        );
        await upstreamReceived;
        const reason = new Error('client went away');
        cancellation.abort(reason);
        const error = await outcome;
        expect(error).toBe(reason);
        await upstreamClosed;
      } finally {
        await upstream.destroy();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
