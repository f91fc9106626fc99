import { createServer, type Server, type Socket } from 'node:net';
import { createUpstreamFetch, isTimeoutError } from '@confidential-ai/server-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamFailure } from '../src/upstream-failure.js';
import { AUTH, createTestApp } from './helpers.js';

describe('upstream HTTP (undici)', () => {
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

  it('a headers timeout becomes 504 upstream_timeout in the envelope', async () => {
    const upstream = createUpstreamFetch({ headersTimeoutMs: 300 });
    const { app } = createTestApp({
      overrides: { vllm: { baseUrl: `http://127.0.0.1:${port}`, fetch: upstream.fetch } },
    });
    try {
      const response = await app.request('/v1/chat/completions', {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(response.status).toBe(504);
      expect(await response.json()).toEqual({
        error: {
          message: 'vLLM upstream did not answer in time',
          type: 'upstream_timeout',
          param: null,
          code: null,
        },
      });
    } finally {
      await upstream.destroy();
    }
  });

  it('the request-API path (used by the server) maps a headers timeout to 504 and refusal to 502', async () => {
    const upstream = createUpstreamFetch({ headersTimeoutMs: 300 });
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    try {
      for (const [baseUrl, status, type] of [
        [`http://127.0.0.1:${port}`, 504, 'upstream_timeout'],
        ['http://127.0.0.1:1', 502, 'upstream_unreachable'],
      ] as const) {
        let fetchCalls = 0;
        const { app } = createTestApp({
          overrides: {
            vllm: {
              baseUrl,
              fetch: async () => {
                fetchCalls++;
                throw new Error('fetch must not be used when request is set');
              },
              request: upstream.request,
            },
          },
        });
        const response = await app.request('/v1/chat/completions', { method: 'POST', headers: AUTH, body });
        expect(response.status).toBe(status);
        expect(((await response.json()) as { error: { type: string } }).error.type).toBe(type);
        expect(fetchCalls).toBe(0);
      }
    } finally {
      await upstream.destroy();
    }
  });

  it('never follows an upstream redirect: the prompt is not re-sent elsewhere, the client gets 502', async () => {
    const { createServer: createHttpServer } = await import('node:http');
    let targetHits = 0;
    const target = createHttpServer((_request, response) => {
      targetHits++;
      response.end('{}');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const targetUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
    const redirector = createHttpServer((_request, response) => {
      response.writeHead(307, { location: `${targetUrl}/v1/chat/completions` });
      response.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(redirector.address() as { port: number }).port}`;
    const upstream = createUpstreamFetch();
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'secret prompt' }] });
    try {
      for (const overrides of [
        { vllm: { baseUrl, fetch: upstream.fetch, request: upstream.request } },
        { vllm: { baseUrl, fetch: upstream.fetch } },
      ]) {
        const { app } = createTestApp({ overrides });
        const response = await app.request('/v1/chat/completions', { method: 'POST', headers: AUTH, body });
        expect(response.status).toBe(502);
        expect(((await response.json()) as { error: { type: string } }).error.type).toBe('upstream_error');
      }
      expect(targetHits).toBe(0);
    } finally {
      await upstream.destroy();
      await new Promise((resolve) => target.close(resolve));
      await new Promise((resolve) => redirector.close(resolve));
    }
  });

  it('classifies failures', () => {
    const timeout = new TypeError('fetch failed', {
      cause: Object.assign(new Error('t'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
    });
    expect(isTimeoutError(timeout)).toBe(true);
    expect(upstreamFailure('x', timeout).status).toBe(504);
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('r'), { code: 'ECONNREFUSED' }),
    });
    expect(isTimeoutError(refused)).toBe(false);
    expect(upstreamFailure('x', refused)).toMatchObject({ status: 502, type: 'upstream_unreachable' });
  });
});
