import type * as NodeHttp from 'node:http';
import type { Socket } from 'node:net';
import { bytesToBase64, utf8ToBytes } from '@confidential-ai/bytes';
import { NitroAttestationError } from './errors.js';

// HTTP CONNECT tunnels for `verifyRemoteAttestation`'s own TLS connections (Node only). The proxy variables are read
// by the repository's one rule, the one undici's `EnvHttpProxyAgent` applies elsewhere: lower case first,
// `HTTPS_PROXY` (else `HTTP_PROXY`) for `https:` targets, `NO_PROXY` entries (comma or space separated) matching a
// host exactly, a `.domain` / `*.domain` suffix, `host:port`, or `*` for everything; loopback is reached directly
// while `NO_PROXY` is unset. The tunnel only carries bytes: the TLS session and the certificate pinning run inside
// it, end to end with the gateway, unchanged.

/** What `NO_PROXY` is taken to be when it is not set: loopback targets are never sent to a proxy by default. */
const LOOPBACK_NO_PROXY = 'localhost,127.0.0.1,[::1]';

type Environment = Readonly<Record<string, string | undefined>>;

function processEnvironment(): Environment {
  return (globalThis as { process?: { env?: Environment } }).process?.env ?? {};
}

function bypassed(url: URL, noProxy: string): boolean {
  const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[,\s]/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const withPort = /^(.+):(\d+)$/.exec(entry);
    const host = (withPort ? withPort[1]! : entry).replace(/^\[|\]$/g, '');
    if (withPort && withPort[2] !== port) continue;
    if (/^[.*]/.test(host) ? hostname.endsWith(host.replace(/^\*/, '')) : hostname === host) return true;
  }
  return false;
}

/**
 * The proxy an `https:` or `http:` URL is reached through, from `env` (default `process.env`), or `undefined` for a
 * direct connection.
 * @internal
 */
export function proxyFor(url: URL, env: Environment = processEnvironment()): URL | undefined {
  const pick = (name: string): string | undefined => env[name.toLowerCase()] ?? env[name];
  const httpProxy = pick('HTTP_PROXY') || undefined;
  const proxy = url.protocol === 'https:' ? pick('HTTPS_PROXY') || httpProxy : httpProxy;
  if (!proxy || bypassed(url, pick('NO_PROXY') ?? LOOPBACK_NO_PROXY)) return undefined;
  try {
    const parsed = new URL(proxy.includes('://') ? proxy : `http://${proxy}`);
    if (parsed.protocol !== 'http:') throw new TypeError('not http:');
    return parsed;
  } catch (cause) {
    throw new NitroAttestationError(
      'ERR_NITRO_FETCH_FAILED',
      'the proxy variable is not an http:// URL (only HTTP CONNECT proxies are supported)',
      { cause },
    );
  }
}

/**
 * Opens a TCP tunnel to `url`'s host and port through `proxy` with HTTP `CONNECT` (proxy credentials from the proxy
 * URL go in `Proxy-Authorization: Basic`). Resolves with the raw socket once the proxy answered 2xx.
 * @throws NitroAttestationError `ERR_NITRO_FETCH_FAILED` when the proxy cannot be reached or refuses the tunnel.
 * @internal
 */
export function openTunnel(
  http: typeof NodeHttp,
  proxy: URL,
  url: URL,
  signal?: AbortSignal,
): Promise<Socket> {
  const target = `${url.hostname}:${url.port || 443}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username || proxy.password) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${bytesToBase64(utf8ToBytes(credentials))}`;
  }
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port || 80),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
      ...(signal ? { signal } : {}),
    });
    request.once('connect', (response, socket, head) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        reject(
          new NitroAttestationError(
            'ERR_NITRO_FETCH_FAILED',
            `the proxy refused a tunnel to ${target} (HTTP status ${status})`,
          ),
        );
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.once('error', (cause) => {
      const code = (cause as { code?: unknown }).code;
      reject(
        new NitroAttestationError(
          'ERR_NITRO_FETCH_FAILED',
          `cannot reach the proxy for ${target} (${typeof code === 'string' ? code : cause.name})`,
          { cause },
        ),
      );
    });
    request.end();
  });
}
