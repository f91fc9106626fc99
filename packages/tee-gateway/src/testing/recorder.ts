import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A test server on loopback. */
export interface Served {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Its port. */
  port: number;
  /** Stops it (open connections included). */
  close(): Promise<void>;
}

/** One request a recorder received. */
export interface RecordedCall {
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Request headers (lower-case names). */
  headers: IncomingMessage['headers'];
  /** The body as UTF-8 text. */
  body: string;
}

/**
 * A tiny recording HTTP server on loopback driven by a handler: every request is kept in `calls`.
 * @example
 * ```ts
 * const upstream = await startRecorder((_call, res) => res.writeHead(200).end('{}'));
 * ```
 */
export async function startRecorder(
  handler: (call: RecordedCall, res: ServerResponse) => void | Promise<void>,
): Promise<Served & { calls: RecordedCall[] }> {
  const calls: RecordedCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      calls.push(call);
      void handler(call, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
