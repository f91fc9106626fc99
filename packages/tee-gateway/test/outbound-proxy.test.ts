// The gateway's provider calls go through server-kit's upstream fetch, which honours HTTP(S)_PROXY / NO_PROXY:
// a real forward proxy on loopback counts what it was asked to reach.
import { createForwardProxy, type ForwardProxy } from '@confidential-ai/server-kit/testing';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTeeGateway } from '../src/index.js';
import { type FakeProviders, startFakeProviders } from './fake-providers.js';
import { serveApp } from './helpers.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

let proxy: ForwardProxy;
let providers: FakeProviders;
beforeAll(async () => {
  proxy = await createForwardProxy();
  providers = await startFakeProviders();
});
afterAll(async () => {
  await providers.close();
  await proxy.close();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** Creates a gateway under the current environment and sends one chat completion; returns the providers' count. */
async function oneCompletion(): Promise<number> {
  const gateway = await createTeeGateway({
    privateKey: TEST_PRIVATE_KEY_PEM,
    config: {
      enabled: true,
      x402_enabled: false,
      opg_price_usd: '1',
      openai_base_url: `${providers.url}/openai/v1`,
    },
  });
  const served = await serveApp(gateway.app);
  try {
    const keys = await fetch(`${served.url}/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openai_api_key: 'sk-openai' }),
    });
    expect(keys.status).toBe(200);
    const client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const before = providers.requests.length;
    await client.chat.completions.create({
      model: 'gpt-4.1',
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    return providers.requests.length - before;
  } finally {
    await served.close();
    await gateway.close();
  }
}

describe('tee-gateway: provider calls honour HTTP_PROXY / NO_PROXY', () => {
  it('go through HTTP_PROXY when NO_PROXY does not match the provider', async () => {
    for (const name of ['http_proxy', 'https_proxy', 'no_proxy', 'HTTPS_PROXY']) vi.stubEnv(name, undefined);
    vi.stubEnv('HTTP_PROXY', proxy.url);
    vi.stubEnv('NO_PROXY', 'example.invalid');
    expect(await oneCompletion()).toBe(1);
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((entry) => entry.target.includes(new URL(providers.url).host))).toBe(true);
  }, 60_000);

  it('go direct when NO_PROXY matches, and when NO_PROXY is unset (loopback)', async () => {
    (proxy.seen as unknown[]).length = 0;
    for (const noProxy of ['127.0.0.1', undefined]) {
      for (const name of ['http_proxy', 'https_proxy', 'no_proxy', 'HTTPS_PROXY'])
        vi.stubEnv(name, undefined);
      vi.stubEnv('HTTP_PROXY', proxy.url);
      vi.stubEnv('NO_PROXY', noProxy);
      expect(await oneCompletion()).toBe(1);
    }
    expect(proxy.seen).toEqual([]);
  }, 60_000);
});
