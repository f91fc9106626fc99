import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { TeeGateway } from './app.js';
import { TeeGatewayError } from './errors.js';

/** Options of {@link startTeeGatewayServer}. */
export interface StartTeeGatewayServerOptions {
  /** The built gateway ({@link createTeeGateway}). */
  gateway: TeeGateway;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 8000 (the reference's app port). */
  port?: number;
  /** Grace period for in-flight requests on close, in ms. Default 10000. */
  shutdownTimeoutMs?: number;
}

/** A running gateway server. */
export interface RunningTeeGatewayServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  /** The gateway. */
  readonly gateway: TeeGateway;
  /** Stops accepting, lets in-flight requests finish (bounded), closes the gateway. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a TEE gateway on its own listener with @hono/node-server (so `/v1/keys` sees the real TCP peer).
 * The gateway's routes overlap the vllm-proxy routes (`/v1/chat/completions`), so it runs as its own server
 * (its own port) rather than inside the vllm-proxy app.
 *
 * @example
 * ```ts
 * const gateway = await createTeeGateway({ config: { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' } });
 * const server = await startTeeGatewayServer({ gateway, port: 0 });
 * console.log(`listening on ${server.url}`);
 * ```
 * @throws {TeeGatewayError} `ERR_SERVER_START` when the port cannot be bound.
 */
export async function startTeeGatewayServer(
  options: StartTeeGatewayServerOptions,
): Promise<RunningTeeGatewayServer> {
  const host = options.host ?? '127.0.0.1';
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const instance = serve({
        fetch: options.gateway.app.fetch,
        hostname: host,
        port: options.port ?? 8000,
      }) as Server;
      instance.once('error', reject);
      if (instance.listening) resolve(instance);
      else instance.once('listening', () => resolve(instance));
    });
  } catch (cause) {
    throw new TeeGatewayError('ERR_SERVER_START', `cannot listen on ${host}:${options.port ?? 8000}`, {
      cause,
    });
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}`,
    gateway: options.gateway,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => server.closeAllConnections(), options.shutdownTimeoutMs ?? 10_000);
          timer.unref();
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        });
        await options.gateway.close();
      })();
      return closing;
    },
  };
}
