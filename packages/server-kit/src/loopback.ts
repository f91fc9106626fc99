import { isIPv4 } from 'node:net';

/**
 * True for loopback addresses only: `127.0.0.0/8`, `::1`, and IPv4-mapped `::ffff:127.x.y.z`. Used for TCP
 * peers (the TEE gateway's `/v1/keys`, D2) and for the interfaces the standalone commands bind.
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

/**
 * True when binding `host` can only accept connections from this machine: a loopback address (with or without
 * IPv6 brackets) or the name `localhost`. Every other name, and the wildcards `0.0.0.0` and `::`, count as public.
 * @example
 * ```ts
 * isLoopbackHost('localhost'); // true
 * isLoopbackHost('0.0.0.0'); // false
 * ```
 */
export function isLoopbackHost(host: string): boolean {
  const value = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return value === 'localhost' || isLoopbackAddress(value);
}
