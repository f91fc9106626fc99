import { listen, ServerKitError } from '@confidential-ai/server-kit';
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
 * Serves a TEE gateway on its own listener (so `/v1/keys` sees the real TCP peer). The gateway's routes overlap
 * the vllm-proxy routes (`/v1/chat/completions`), so a composed server mounts it below a prefix instead.
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
  let listener: Awaited<ReturnType<typeof listen>>;
  try {
    listener = await listen({
      fetch: options.gateway.app.fetch,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8000,
      ...(options.shutdownTimeoutMs !== undefined ? { shutdownTimeoutMs: options.shutdownTimeoutMs } : {}),
    });
  } catch (cause) {
    if (!ServerKitError.isInstance(cause)) throw cause;
    throw new TeeGatewayError('ERR_SERVER_START', cause.message, { cause });
  }
  let closing: Promise<void> | undefined;
  return {
    url: listener.url,
    gateway: options.gateway,
    close() {
      closing ??= (async () => {
        await listener.close();
        await options.gateway.close();
      })();
      return closing;
    },
  };
}
