import type * as NodeHttp from 'node:http';
import type * as NodeHttps from 'node:https';
import type { Socket } from 'node:net';
import type * as NodeTls from 'node:tls';
import { type Bytes, equalBytes } from '@confidential-ai/bytes';
import { openTunnel, proxyFor } from './connect-tunnel.js';
import { NitroAttestationError } from './errors.js';

// Node-only helpers for gateways whose TLS certificate is vouched for by the attestation document rather than
// by a certificate authority (nitriding's self-signed certificate): read the certificate a server presents,
// and fetch over HTTPS from a server only when it presents exactly that certificate. The TLS handshake proves
// the server holds the certificate's private key, so pinning the DER pins the key. `node:tls` and
// `node:https` (and `node:http`, for CONNECT tunnels when `HTTPS_PROXY` / `HTTP_PROXY` apply; see
// connect-tunnel.ts) are reached lazily through `process.getBuiltinModule`, so the package's root entry stays free
// of `node:` imports.

function builtin<T>(id: string): T {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const loaded = process?.getBuiltinModule?.(id) as T | undefined;
  if (!loaded) {
    throw new NitroAttestationError(
      'ERR_NITRO_FETCH_FAILED',
      `${id} is not available in this runtime; pass tlsCertificate and fetch`,
    );
  }
  return loaded;
}

function failed(message: string, cause?: unknown): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_FETCH_FAILED', message, { cause });
}

function describe(cause: unknown): string {
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : cause instanceof Error ? cause.name : 'error';
}

function hostOf(url: URL): { host: string; servername?: string } {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // SNI takes DNS names only, never IP addresses.
  return /^[\d.]+$/.test(host) || host.includes(':') ? { host } : { host, servername: host };
}

/**
 * Connects to an `https:` URL's host, completes a TLS handshake without checking the certificate against any
 * authority, and returns the DER of the certificate the server presented.
 * @throws NitroAttestationError `ERR_NITRO_FETCH_FAILED` on a network or TLS error or timeout.
 * @internal
 */
export function peerCertificate(url: URL, timeout: number, signal?: AbortSignal): Promise<Bytes> {
  const tls = builtin<typeof NodeTls>('node:tls');
  const proxy = proxyFor(url);
  return new Promise((resolve, reject) => {
    // Through a proxy, the handshake runs inside a CONNECT tunnel; `socket` is a placeholder until it is open.
    let socket: NodeTls.TLSSocket | undefined;
    const handshake = (tunnel?: Socket) => {
      socket = tls.connect({
        ...hostOf(url),
        port: Number(url.port || 443),
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
        ...(tunnel ? { socket: tunnel } : {}),
      });
      socket.once('secureConnect', () => {
        const raw = socket?.getPeerCertificate()?.raw;
        if (!raw || raw.length === 0) finish(failed(`${url.host} presented no TLS certificate`));
        else finish(undefined, new Uint8Array(raw));
      });
      socket.once('error', (cause) =>
        finish(failed(`TLS connection to ${url.host} failed (${describe(cause)})`, cause)),
      );
    };
    let done = false;
    const tunnelAbort = new AbortController();
    const finish = (error: unknown, der?: Bytes) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      tunnelAbort.abort();
      socket?.destroy();
      if (der) resolve(der);
      else reject(error);
    };
    const onAbort = () => finish(failed('TLS connection aborted', signal?.reason));
    const timer = setTimeout(() => finish(failed(`TLS handshake with ${url.host} timed out`)), timeout);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (!proxy) handshake();
    else {
      openTunnel(builtin<typeof NodeHttp>('node:http'), proxy, url, tunnelAbort.signal).then(
        (tunnel) => {
          if (done) tunnel.destroy();
          else handshake(tunnel);
        },
        (error: unknown) => finish(error),
      );
    }
  });
}

/**
 * A one-connection HTTPS agent whose TLS session runs inside a CONNECT tunnel through `proxy` (the handshake and the
 * certificate check are the same as without a proxy).
 */
function tunnelledAgent(https: typeof NodeHttps, proxy: URL, url: URL): NodeHttps.Agent {
  const tls = builtin<typeof NodeTls>('node:tls');
  const http = builtin<typeof NodeHttp>('node:http');
  const agent = new https.Agent({ keepAlive: false });
  const create = (
    options: NodeTls.ConnectionOptions,
    callback: (error: Error | null, socket?: unknown) => void,
  ) => {
    openTunnel(http, proxy, url).then(
      (tunnel) => callback(null, tls.connect({ ...options, socket: tunnel })),
      (error: Error) => callback(error),
    );
    return undefined;
  };
  (agent as unknown as { createConnection: typeof create }).createConnection = create;
  return agent;
}

/**
 * A `fetch` for `https:` URLs that completes the TLS handshake with any server but accepts a response only
 * when the server presented exactly `certificate` (DER); redirects are not followed and a body over
 * `maxBytes` is an error. Only the parts of `fetch` this package uses are supported: GET, `headers`,
 * `signal`. (A request may reach a server with another certificate before the check; it carries only the
 * URL, never a secret.)
 * @internal
 */
export function pinnedFetch(certificate: Bytes, maxBytes: number): typeof fetch {
  const https = builtin<typeof NodeHttps>('node:https');
  const matches = (socket: unknown) => {
    const raw = (socket as NodeTls.TLSSocket | null)?.getPeerCertificate?.()?.raw;
    return raw !== undefined && raw.length > 0 && equalBytes(new Uint8Array(raw), certificate);
  };
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const { servername } = hostOf(url);
      const proxy = proxyFor(url);
      const request = https.request(url, {
        method: 'GET',
        agent: proxy ? tunnelledAgent(https, proxy, url) : false,
        rejectUnauthorized: false,
        ...(servername !== undefined ? { servername } : {}),
        headers: Object.fromEntries(new Headers(init?.headers).entries()),
        ...(init?.signal ? { signal: init.signal } : {}),
      });
      const mismatch = () => failed(`${url.host} presented a different TLS certificate than before`);
      request.once('socket', (socket) => {
        socket.once('secureConnect', () => {
          if (!matches(socket)) request.destroy(mismatch());
        });
      });
      request.once('error', reject);
      request.once('response', (response) => {
        if (!matches(response.socket)) {
          request.destroy(mismatch());
          return;
        }
        const chunks: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > maxBytes) request.destroy(failed(`response from ${url.host} is too large`));
          else chunks.push(chunk);
        });
        response.once('error', reject);
        response.once('end', () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (typeof value === 'string') headers.set(name, value);
          }
          const status = response.statusCode ?? 0;
          try {
            resolve(
              new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), {
                status,
                headers,
              }),
            );
          } catch (cause) {
            reject(failed(`${url.host} answered with HTTP status ${status}`, cause));
          }
        });
      });
      request.end();
    });
}
