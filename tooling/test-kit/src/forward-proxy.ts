import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A loopback forward proxy (HTTP CONNECT tunnels, as undici's proxy agent uses) that records every target. */
export interface LoopbackForwardProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `host:port` of every CONNECT request, in order. */
  readonly tunnels: string[];
  /** Stops listening and destroys every open tunnel. */
  close(): Promise<void>;
}

/**
 * Starts a CONNECT forward proxy on 127.0.0.1 (port 0), for tests of the `HTTPS_PROXY` / `HTTP_PROXY` support; targets
 * under `.invalid` get 502.
 * @example
 * ```ts
 * const proxy = await startForwardProxy();
 * process.env.HTTPS_PROXY = proxy.url;
 * ```
 */
export async function startForwardProxy(): Promise<LoopbackForwardProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_request, response) => response.writeHead(405).end());
  server.on('connect', (request, client: Socket, head: Buffer) => {
    const target = request.url ?? '';
    tunnels.push(target);
    const cut = target.lastIndexOf(':');
    const host = target.slice(0, cut).replace(/^\[|\]$/g, '');
    if (host.endsWith('.invalid')) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = connect(Number(target.slice(cut + 1)), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    tunnels,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
