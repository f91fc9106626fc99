import type { Context } from 'hono';

/**
 * The TCP peer address of a request served by `@hono/node-server` (`c.env.incoming.socket.remoteAddress`).
 * Undefined when the request did not come through a socket (in-process `app.request`), which callers treat as
 * not loopback.
 */
export function peerAddressOf(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined;
  const address = env?.incoming?.socket?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}

/** Loopback test of a TCP peer address (D2); the one implementation lives in `../loopback.ts`. */
export { isLoopbackAddress } from '@confidential-ai/server-kit';
