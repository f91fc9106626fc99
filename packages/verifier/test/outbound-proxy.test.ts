import { createServer, type Server } from 'node:http';
import { type LoopbackForwardProxy, startForwardProxy } from '@confidential-ai/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getEvidence } from '../src/http.js';

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

let proxy: LoopbackForwardProxy;
let evidence: Server;
let evidenceUrl: string;
beforeAll(async () => {
  proxy = await startForwardProxy();
  evidence = createServer((_request, response) =>
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"evidence":"here"}'),
  );
  await new Promise<void>((resolve) => evidence.listen(0, '127.0.0.1', resolve));
  evidenceUrl = `http://127.0.0.1:${(evidence.address() as { port: number }).port}/attestation`;
});
afterAll(async () => {
  evidence.closeAllConnections();
  await new Promise<void>((resolve) => evidence.close(() => resolve()));
  await proxy.close();
});
afterEach(() => {
  proxy.tunnels.length = 0;
  vi.unstubAllEnvs();
});

function setEnvironment(env: Record<string, string>): void {
  for (const name of PROXY_VARIABLES) vi.stubEnv(name, env[name]);
}

describe('evidence fetches honour HTTP_PROXY / HTTPS_PROXY / NO_PROXY (the default fetch)', () => {
  it('go through HTTP_PROXY when NO_PROXY does not match', async () => {
    setEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid' });
    const reply = await getEvidence(evidenceUrl);
    expect(reply.ok && reply.text).toBe('{"evidence":"here"}');
    expect(proxy.tunnels).toEqual([new URL(evidenceUrl).host]);
  });

  it('https: targets go through lower-case https_proxy, which wins over HTTPS_PROXY', async () => {
    setEnvironment({ https_proxy: proxy.url, HTTPS_PROXY: 'http://upper.example.invalid:9', NO_PROXY: '' });
    const reply = await getEvidence('https://evidence.example.invalid/attestation', { timeoutMs: 5000 });
    expect(reply.ok).toBe(false);
    expect(proxy.tunnels).toEqual(['evidence.example.invalid:443']);
  });

  it('go direct when NO_PROXY matches, when NO_PROXY is unset (loopback), or with no proxy set', async () => {
    for (const env of [{ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }, { http_proxy: proxy.url }, {}]) {
      setEnvironment(env);
      const reply = await getEvidence(evidenceUrl);
      expect(reply.ok).toBe(true);
    }
    expect(proxy.tunnels).toEqual([]);
  });

  it('a fetch given by the caller is used as it is', async () => {
    setEnvironment({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid' });
    const seen: string[] = [];
    const reply = await getEvidence(evidenceUrl, {
      fetch: (input, init) => {
        seen.push(String(input));
        return globalThis.fetch(input, init);
      },
    });
    expect(reply.ok).toBe(true);
    expect(seen).toEqual([evidenceUrl]);
    expect(proxy.tunnels).toEqual([]);
  });
});
