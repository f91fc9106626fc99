import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Served } from '../src/testing/recorder.js';

/** A log sink that keeps every line pino writes. */
export function captureLogs(): {
  lines: string[];
  destination: { write(line: string): void };
  text(): string;
} {
  const lines: string[] = [];
  return {
    lines,
    destination: { write: (line: string) => void lines.push(line) },
    text: () => lines.join(''),
  };
}

/** Serves a Hono app with @hono/node-server (real sockets, so the peer address is real). */
export async function serveApp(app: Hono, hostname = '127.0.0.1'): Promise<Served> {
  const server = serve({ fetch: app.fetch, hostname, port: 0 }) as Server;
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export { type RecordedCall, type Served, startRecorder } from '../src/testing/recorder.js';
