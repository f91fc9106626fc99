import { request } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { occupyLoopbackPort, runBin, runCommand, startForwardProxy } from '../src/index.js';

/** Sends one CONNECT to the proxy and resolves with the status line it answers. */
function connectThrough(proxyUrl: string, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(proxyUrl);
    request({ host: hostname, port, method: 'CONNECT', path: target })
      .on('connect', (response, socket) => {
        socket.destroy();
        resolve(response.statusCode ?? 0);
      })
      .on('error', reject)
      .end();
  });
}

describe('runCommand / runBin', () => {
  it('collect the exit code, stdout and stderr, and pass only PATH plus the given env to a bin', async () => {
    const script =
      "process.stdout.write(process.env.ONLY ?? 'none'); process.stderr.write(String(process.env.HOME)); process.exit(3)";
    const result = await runCommand(process.execPath, ['-e', script], { env: { ONLY: 'yes' } });
    expect(result).toEqual({ code: 3, stdout: 'yes', stderr: 'undefined' });
    const bin = await runBin(new URL('../package.json', import.meta.url).pathname, []);
    expect(bin.code).not.toBe(0);
    await expect(runCommand('/nonexistent/command', [], { env: {} })).rejects.toThrow(/ENOENT/);
  });
});

describe('startForwardProxy', () => {
  it('tunnels CONNECT to a loopback target, records every target, and answers 502 for .invalid hosts', async () => {
    const proxy = await startForwardProxy();
    const occupied = await occupyLoopbackPort();
    try {
      expect(await connectThrough(proxy.url, `127.0.0.1:${occupied.port}`)).toBe(200);
      expect(await connectThrough(proxy.url, 'gateway.example.invalid:443')).toBe(502);
      expect(proxy.tunnels).toEqual([`127.0.0.1:${occupied.port}`, 'gateway.example.invalid:443']);
    } finally {
      await occupied.close();
      await proxy.close();
    }
  });

  it('occupyLoopbackPort holds its port: a second listener gets EADDRINUSE', async () => {
    const occupied = await occupyLoopbackPort();
    try {
      const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const server = createServer();
        server.once('error', resolve).listen(occupied.port, '127.0.0.1', () => server.close());
      });
      expect(error.code).toBe('EADDRINUSE');
    } finally {
      await occupied.close();
    }
  });
});
