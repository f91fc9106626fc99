import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import { createFakeChutesServer } from '@confidential-ai/chutes-transport/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chutes, type ProcessSetup, processSetup } from './process.js';

/** A forward proxy on loopback: CONNECT tunnels and absolute-form HTTP requests, each one recorded. */
async function startProxy(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    seen.push(`${incoming.method} ${incoming.url}`);
    const target = new URL(incoming.url ?? '');
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  server.on('connect', (incoming, socket, head) => {
    seen.push(`CONNECT ${incoming.url}`);
    const [host, port] = (incoming.url ?? '').split(':');
    const upstream = connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', () => resolvePromise()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections();
        server.close(() => resolvePromise());
      }),
  };
}

let env: ProcessSetup;
let proxy: Awaited<ReturnType<typeof startProxy>>;
beforeEach(async () => {
  env = await processSetup();
  proxy = await startProxy();
});
afterEach(async () => {
  await proxy.close();
  await env.close();
});

describe('outbound HTTP honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY', () => {
  it('sends management API requests through HTTP_PROXY (lower case too), unless NO_PROXY matches', async () => {
    const apiHost = new URL(env.api.url).host;
    for (const name of ['HTTP_PROXY', 'http_proxy']) {
      proxy.seen.length = 0;
      const result = await chutes(['chutes', 'list', '--json'], {
        env: { ...env.env, [name]: proxy.url, NO_PROXY: 'example.invalid' },
      });
      expect(result.stderr, name).toBe('');
      expect(result.code, name).toBe(0);
      expect(proxy.seen.length, name).toBeGreaterThan(0);
      expect(
        proxy.seen.every((line) => line.includes(apiHost)),
        proxy.seen.join(', '),
      ).toBe(true);
    }
    proxy.seen.length = 0;
    const bypass = await chutes(['chutes', 'list', '--json'], {
      env: { ...env.env, HTTP_PROXY: proxy.url, NO_PROXY: `localhost,${apiHost}` },
    });
    expect(bypass.code).toBe(0);
    expect(proxy.seen).toEqual([]);
    // HTTPS_PROXY alone does not apply to an http:// API.
    const httpsOnly = await chutes(['chutes', 'list', '--json'], {
      env: { ...env.env, HTTPS_PROXY: proxy.url, NO_PROXY: 'example.invalid' },
    });
    expect(httpsOnly.code).toBe(0);
    expect(proxy.seen).toEqual([]);
  });

  it('a dead proxy is a network error, not a silent direct connection', async () => {
    const result = await chutes(['chutes', 'list'], {
      env: { ...env.env, HTTP_PROXY: 'http://127.0.0.1:1', NO_PROXY: 'example.invalid' },
    });
    expect(result.code).toBe(9);
    expect(result.stderr).toMatch(
      /^chutes: ERR_NETWORK: cannot reach the Chutes API at http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(env.api.requests).toHaveLength(0);
  });

  it('chat (E2EE through chutes-transport) goes through the proxy too', async () => {
    const apiKey = `cpk_${'a'.repeat(32)}.${'b'.repeat(32)}.${'C'.repeat(32)}`;
    const server = await createFakeChutesServer({ apiKey, models: ['fake/model'] });
    try {
      const result = await chutes(
        [
          'chat',
          'fake/model',
          'hello',
          '--api-key',
          apiKey,
          '--api-base',
          server.url,
          '--models-base',
          server.url,
        ],
        {
          env: {
            ...env.env,
            HTTP_PROXY: proxy.url,
            NO_PROXY: 'example.invalid',
            CHUTES_CONFIG_PATH: '/nonexistent/config.ini',
          },
        },
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const host = new URL(server.url).host;
      expect(proxy.seen.filter((line) => line.includes(host)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await server.close();
    }
  });

  it('one rule with the other packages: loopback is direct while NO_PROXY is unset (either case)', async () => {
    for (const extra of [{}, { NO_PROXY: undefined, no_proxy: undefined }]) {
      proxy.seen.length = 0;
      const result = await chutes(['chutes', 'list', '--json'], {
        env: { ...env.env, ...extra, HTTP_PROXY: proxy.url },
      });
      expect(result.code).toBe(0);
      expect(proxy.seen).toEqual([]);
    }
  });

  it('one rule with the other packages: lower-case variables win over upper case', async () => {
    const apiHost = new URL(env.api.url).host;
    // The lower-case proxy is used, the upper-case (dead) one is not.
    const lowerProxy = await chutes(['chutes', 'list', '--json'], {
      env: {
        ...env.env,
        http_proxy: proxy.url,
        HTTP_PROXY: 'http://127.0.0.1:1',
        NO_PROXY: 'example.invalid',
      },
    });
    expect(lowerProxy.code).toBe(0);
    expect(proxy.seen.length).toBeGreaterThan(0);
    // The lower-case NO_PROXY (empty: bypass nothing) wins over an upper-case one that lists the API.
    proxy.seen.length = 0;
    const lowerNoProxy = await chutes(['chutes', 'list', '--json'], {
      env: { ...env.env, HTTP_PROXY: proxy.url, no_proxy: 'example.invalid', NO_PROXY: apiHost },
    });
    expect(lowerNoProxy.code).toBe(0);
    expect(proxy.seen.length).toBeGreaterThan(0);
  });
});
