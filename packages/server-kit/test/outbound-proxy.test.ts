import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamFetch, LOOPBACK_NO_PROXY, outboundProxySettings } from '../src/index.js';
import { createForwardProxy, type ForwardProxy } from '../src/testing/index.js';

let upstream: Server;
let port: number;
let proxy: ForwardProxy;
const hits: string[] = [];

beforeAll(async () => {
  upstream = createServer((request, response) => {
    hits.push(request.url ?? '');
    response.end(`hello ${request.url}`);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  port = (upstream.address() as { port: number }).port;
  // `upstream.test` resolves only inside the proxy: a request to it can succeed only through the proxy.
  proxy = await createForwardProxy({ resolve: (host) => (host === 'upstream.test' ? '127.0.0.1' : host) });
});
afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});
const clients: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  (proxy.seen as unknown[]).length = 0;
  hits.length = 0;
});

/** The hosts the proxy was asked to reach (undici tunnels `http:` targets with CONNECT too, one per connection). */
function proxiedHosts(): string[] {
  return [
    ...new Set(
      proxy.seen.map((entry) => (entry.method === 'CONNECT' ? entry.target : new URL(entry.target).host)),
    ),
  ];
}

function client(env: Record<string, string>) {
  const created = createUpstreamFetch({ env });
  clients.push(created);
  return created;
}

describe('outbound proxy (HTTP_PROXY / HTTPS_PROXY / NO_PROXY) of the upstream fetch', () => {
  it('reads the variables as undici does (lower case first); loopback is direct unless NO_PROXY is set', () => {
    expect(outboundProxySettings({})).toBeUndefined();
    expect(outboundProxySettings({ NO_PROXY: 'x' })).toBeUndefined();
    expect(outboundProxySettings({ HTTPS_PROXY: 'http://p:1' })).toEqual({
      httpsProxy: 'http://p:1',
      noProxy: LOOPBACK_NO_PROXY,
    });
    expect(
      outboundProxySettings({ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1', NO_PROXY: '' }),
    ).toEqual({ httpProxy: 'http://lower:1', noProxy: '' });
  });

  it('fetch and request go through HTTP_PROXY (a host only the proxy can resolve)', async () => {
    const upstreamClient = client({ HTTP_PROXY: proxy.url });
    const response = await upstreamClient.fetch(`http://upstream.test:${port}/v1/models`);
    expect(await response.text()).toBe('hello /v1/models');
    const reply = await upstreamClient.request(`http://upstream.test:${port}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(new TextDecoder().decode(await reply.arrayBuffer())).toBe('hello /v1/chat');
    expect(proxiedHosts()).toEqual([`upstream.test:${port}`]);
  });

  it('lower-case http_proxy works too; an explicit NO_PROXY that does not list loopback proxies loopback', async () => {
    const response = await client({ http_proxy: proxy.url, NO_PROXY: 'example.invalid' }).fetch(
      `http://127.0.0.1:${port}/a`,
    );
    expect(await response.text()).toBe('hello /a');
    expect(proxiedHosts()).toEqual([`127.0.0.1:${port}`]);
  });

  it('NO_PROXY unset: loopback is reached directly; NO_PROXY matching the host: direct', async () => {
    await (await client({ HTTP_PROXY: proxy.url }).fetch(`http://127.0.0.1:${port}/b`)).text();
    await (
      await client({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }).fetch(`http://127.0.0.1:${port}/c`)
    ).text();
    await (
      await client({ HTTP_PROXY: proxy.url, NO_PROXY: `.test` }).fetch(`http://127.0.0.1:${port}/d`)
    ).text();
    expect(proxiedHosts()).toEqual([`127.0.0.1:${port}`]);
    const before = proxy.seen.length;
    // `.test` matches upstream.test: it is looked up directly, which fails (only the proxy knows it).
    await expect(
      client({ HTTP_PROXY: proxy.url, NO_PROXY: '.test' }).fetch(`http://upstream.test:${port}/e`),
    ).rejects.toThrow();
    expect(proxy.seen).toHaveLength(before);
    expect(hits).toEqual(['/b', '/c', '/d']);
  });

  it('https targets are tunnelled with CONNECT through HTTPS_PROXY', async () => {
    // The upstream speaks plain HTTP, so TLS fails in the tunnel: what counts is that the tunnel was asked for.
    await expect(
      client({ HTTPS_PROXY: proxy.url }).fetch(`https://upstream.test:${port}/secure`),
    ).rejects.toThrow();
    expect(proxy.seen).toEqual([{ method: 'CONNECT', target: `upstream.test:${port}` }]);
  });

  it('no proxy variable: nothing goes through the proxy', async () => {
    await expect(client({}).fetch(`http://upstream.test:${port}/f`)).rejects.toThrow();
    expect(proxy.seen).toEqual([]);
  });
});
