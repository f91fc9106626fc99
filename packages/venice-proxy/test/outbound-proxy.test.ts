import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createForwardProxy, type ForwardProxy } from '@confidential-ai/server-kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/venice-e2ee-proxy.js', import.meta.url));

let proxy: ForwardProxy;
const children = new Set<ChildProcess>();
beforeAll(async () => {
  proxy = await createForwardProxy();
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await proxy.close();
});

/** Starts the real bin (its embedded fake Venice listens on loopback) and returns its URL. */
async function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--json'], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve((JSON.parse(stdout) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

describe('venice-e2ee-proxy: the Venice upstream honours HTTP_PROXY / NO_PROXY', () => {
  it('goes through the proxy when HTTP_PROXY is set and NO_PROXY does not match', async () => {
    const server = await start({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid' });
    try {
      const models = await fetch(`${server.url}/v1/models`);
      expect(models.status).toBe(200);
      // The embedded fake Venice listens on 127.0.0.1: the proxy was asked for it.
      expect(proxy.seen.some((entry) => /^(http:\/\/)?127\.0\.0\.1:\d+/.test(entry.target))).toBe(true);
    } finally {
      server.stop();
    }
  }, 60_000);

  it('goes direct when NO_PROXY matches (and when NO_PROXY is unset: loopback)', async () => {
    (proxy.seen as unknown[]).length = 0;
    for (const env of [{ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, { HTTP_PROXY: proxy.url }]) {
      const server = await start(env);
      try {
        expect((await fetch(`${server.url}/v1/models`)).status).toBe(200);
      } finally {
        server.stop();
      }
    }
    expect(proxy.seen).toEqual([]);
  }, 60_000);
});
