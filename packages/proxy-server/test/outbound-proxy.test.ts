import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createForwardProxy, type ForwardProxy } from '@confidential-ai/server-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN } from './helpers.js';
import { killAllSpawned, spawnServer } from './processes.js';

let proxy: ForwardProxy;
let configFile: string;
beforeAll(async () => {
  proxy = await createForwardProxy();
  configFile = join(mkdtempSync(join(tmpdir(), 'proxy-outbound-')), 'proxy.toml');
  writeFileSync(configFile, `[auth]\ntoken = "${TOKEN}"\n[log]\nlevel = "warn"\n`);
});
afterAll(async () => {
  killAllSpawned();
  await proxy.close();
});

/** One chat completion through the composed server (its upstream is the embedded simulated vLLM on loopback). */
async function chat(env: Record<string, string>): Promise<number> {
  const server = await spawnServer(env, ['--config', configFile]);
  try {
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: models.data[0]!.id, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await response.text();
    return response.status;
  } finally {
    await server.stop();
  }
}

describe('confidential-proxy: the vLLM upstream honours HTTP_PROXY / NO_PROXY', () => {
  it('goes through HTTP_PROXY when NO_PROXY does not match, direct when it does or is unset', async () => {
    expect(await chat({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid' })).toBe(200);
    const proxied = proxy.seen.length;
    expect(proxied).toBeGreaterThan(0);
    expect(proxy.seen.every((entry) => /^(http:\/\/)?127\.0\.0\.1:\d+/.test(entry.target))).toBe(true);
    expect(await chat({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' })).toBe(200);
    expect(await chat({ HTTP_PROXY: proxy.url })).toBe(200);
    expect(proxy.seen).toHaveLength(proxied);
  }, 180_000);
});
