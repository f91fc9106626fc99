import { type LoopbackForwardProxy, startForwardProxy } from '@confidential-ai/test-kit';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fetchAttestation } from '../src/attestation.js';
import { createVeniceFetch } from '../src/fetch.js';
import { createEnvProxyFetch } from '../src/outbound-proxy.js';
import { createFakeVeniceServer, type FakeVeniceServer } from '../src/testing/index.js';

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

let proxy: LoopbackForwardProxy;
let fake: FakeVeniceServer;
beforeAll(async () => {
  proxy = await startForwardProxy();
  fake = await createFakeVeniceServer({ apiKey: 'test-key' });
});
afterAll(async () => {
  await fake.close();
  await proxy.close();
});
afterEach(() => {
  proxy.tunnels.length = 0;
  vi.unstubAllEnvs();
});

function setEnvironment(env: Record<string, string>): void {
  for (const name of PROXY_VARIABLES) vi.stubEnv(name, env[name]);
}

async function chat(): Promise<string | null | undefined> {
  const fetch = createVeniceFetch();
  try {
    const openai = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'test-key', fetch, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'through the proxy' }],
    });
    return completion.choices[0]?.message.content;
  } finally {
    fetch.close();
  }
}

describe('createVeniceFetch honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY (its default fetch)', () => {
  it('attestation and chat go through HTTP_PROXY when NO_PROXY does not match', async () => {
    setEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid' });
    expect(await chat()).toContain('through the proxy');
    expect(proxy.tunnels.length).toBeGreaterThan(0);
    expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(fake.baseUrl).host]));
  });

  it('lower-case https_proxy wins over HTTPS_PROXY (https: targets)', async () => {
    setEnvironment({ https_proxy: proxy.url, HTTPS_PROXY: 'http://upper.example.invalid:9', NO_PROXY: '' });
    await expect(
      fetchAttestation({ baseUrl: 'https://venice.example.invalid/api/v1', model: 'm', timeoutMs: 5000 }),
    ).rejects.toThrow();
    expect(proxy.tunnels).toEqual(['venice.example.invalid:443']);
  });

  it('goes direct when NO_PROXY matches, when NO_PROXY is unset (loopback), or with no proxy set', async () => {
    for (const env of [{ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, { http_proxy: proxy.url }, {}]) {
      setEnvironment(env);
      expect(await chat()).toContain('through the proxy');
    }
    expect(proxy.tunnels).toEqual([]);
  });

  it('a fetch given by the user wins; an environment without proxy variables is direct', async () => {
    setEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid' });
    const seen: string[] = [];
    const fetch = createVeniceFetch({
      fetch: (input, init) => {
        seen.push(String(input instanceof Request ? input.url : input));
        return globalThis.fetch(input, init);
      },
    });
    const openai = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'test-key', fetch, maxRetries: 0 });
    await openai.chat.completions.create({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'x' }],
    });
    fetch.close();
    expect(seen.length).toBeGreaterThan(0);
    const direct = createEnvProxyFetch({});
    expect((await direct(`${fake.baseUrl}/models`)).status).toBeLessThan(500);
    expect(proxy.tunnels).toEqual([]);
  });
});
