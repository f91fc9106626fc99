import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A running {@link createForwardProxy}. */
export interface ForwardProxy {
  /** The proxy's URL, e.g. `http://127.0.0.1:41234` (what `HTTP_PROXY` / `HTTPS_PROXY` are set to). */
  readonly url: string;
  /** Every request it saw: absolute-form `GET http://host/path` forwards, and `CONNECT host:port` tunnels (undici
   * tunnels `http:` targets too, one CONNECT per pooled connection). */
  readonly seen: ReadonlyArray<{ method: string; target: string }>;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Options of {@link createForwardProxy}. */
export interface ForwardProxyOptions {
  /**
   * Where the proxy really connects for a target host (tests name targets that only the proxy can resolve, e.g.
   * `upstream.test` → `127.0.0.1`). Default: the host itself.
   */
  resolve?: (host: string) => string;
}

/**
 * A small HTTP forward proxy on loopback for tests (node:http only): forwards absolute-form requests (`http:`
 * targets) and tunnels `CONNECT` (`https:` targets), recording each in `seen`.
 * @example
 * ```ts
 * const proxy = await createForwardProxy();
 * const upstream = createUpstreamFetch({ env: { HTTP_PROXY: proxy.url, NO_PROXY: '' } });
 * await upstream.fetch('http://127.0.0.1:8001/v1/models');
 * proxy.seen; // [{ method: 'GET', target: 'http://127.0.0.1:8001/v1/models' }]
 * ```
 */
export async function createForwardProxy(options: ForwardProxyOptions = {}): Promise<ForwardProxy> {
  const resolveHost = options.resolve ?? ((host: string) => host);
  const seen: Array<{ method: string; target: string }> = [];
  const sockets = new Set<Socket>();
  const server = createServer((request: IncomingMessage, response) => {
    const target = request.url ?? '';
    seen.push({ method: request.method ?? '', target });
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      response.writeHead(400).end('absolute-form request expected');
      return;
    }
    const upstream = httpRequest(
      {
        host: resolveHost(url.hostname.replace(/^\[|\]$/g, '')),
        port: url.port || 80,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: { ...request.headers, host: url.host },
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    upstream.on('error', () => response.writeHead(502).end('upstream unreachable'));
    request.pipe(upstream);
  });
  server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
    const target = request.url ?? '';
    seen.push({ method: 'CONNECT', target });
    const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
    if (!match) {
      client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const tunnel = connect(Number(match[2]), resolveHost(match[1]!), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) tunnel.write(head);
      tunnel.pipe(client);
      client.pipe(tunnel);
    });
    sockets.add(tunnel);
    tunnel.on('close', () => sockets.delete(tunnel));
    tunnel.on('error', () => client.destroy());
    client.on('error', () => tunnel.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
