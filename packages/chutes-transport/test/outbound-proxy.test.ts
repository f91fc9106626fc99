import { type LoopbackForwardProxy, startForwardProxy } from '@confidential-ai/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Harness, MODEL, startHarness } from './helpers.js';

// A forward proxy on loopback (node:http): undici reaches both http: and https: targets through it with CONNECT.
let proxy: LoopbackForwardProxy;
let proxyUrl: string;
let tunnels: string[];
beforeAll(async () => {
  proxy = await startForwardProxy();
  proxyUrl = proxy.url;
  tunnels = proxy.tunnels;
});
afterAll(() => proxy.close());

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
  tunnels.length = 0;
  vi.unstubAllEnvs();
});

const ask = { model: MODEL, messages: [{ role: 'user' as const, content: 'through the proxy' }] };

describe('createChutesFetch honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY (its default fetch)', () => {
  it('every call to the Chutes API goes through HTTP_PROXY when NO_PROXY does not match', async () => {
    vi.stubEnv('HTTP_PROXY', proxyUrl);
    vi.stubEnv('NO_PROXY', 'example.invalid');
    harness = await startHarness();
    const completion = await harness.client.chat.completions.create(ask);
    expect(completion.choices[0]?.message.content).toBe('You said: through the proxy');
    expect(tunnels.length).toBeGreaterThan(0);
    expect(new Set(tunnels)).toEqual(new Set([new URL(harness.server.url).host]));
  });

  it('lower-case https_proxy is read too (https: targets); the call goes nowhere else', async () => {
    vi.stubEnv('https_proxy', proxyUrl);
    vi.stubEnv('NO_PROXY', '');
    harness = await startHarness(
      {},
      { apiBase: 'https://chutes.example.invalid', modelsBase: 'https://chutes.example.invalid' },
    );
    await expect(harness.client.chat.completions.create(ask)).rejects.toThrow();
    expect(tunnels[0]).toBe('chutes.example.invalid:443');
  });

  it('goes direct when NO_PROXY matches, when NO_PROXY is unset (loopback), or with no proxy set', async () => {
    for (const env of [{ HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }, { HTTP_PROXY: proxyUrl }, {}]) {
      vi.unstubAllEnvs();
      for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'])
        vi.stubEnv(name, (env as Record<string, string>)[name] ?? undefined);
      harness = await startHarness();
      const completion = await harness.client.chat.completions.create(ask);
      expect(completion.choices[0]?.message.content).toBe('You said: through the proxy');
      await harness.server.close();
      harness = undefined;
    }
    expect(tunnels).toEqual([]);
  });
});
