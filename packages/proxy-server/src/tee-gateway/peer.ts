import { isIPv4 } from 'node:net';
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

/**
 * True for loopback peers only: `127.0.0.0/8`, `::1`, and IPv4-mapped `::ffff:127.x.y.z` (D2).
 * @example
 * ```ts
 * isLoopbackAddress('::ffff:127.0.0.1'); // true
 * isLoopbackAddress('10.0.0.1'); // false
 * ```
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (typeof address !== 'string') return false;
  let value = address.trim().toLowerCase();
  if (value === '::1' || value === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(value);
  if (mapped) value = mapped[1]!;
  return isIPv4(value) && value.startsWith('127.');
}
