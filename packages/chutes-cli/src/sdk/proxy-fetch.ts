import type { FetchFunction } from './client.js';

/** The proxy settings read from the environment (upper case first, then lower case, like curl). */
export interface ProxyEnvironment {
  /** `HTTP_PROXY` / `http_proxy`. */
  httpProxy?: string;
  /** `HTTPS_PROXY` / `https_proxy`. */
  httpsProxy?: string;
  /** `NO_PROXY` / `no_proxy`. */
  noProxy?: string;
}

/** Reads `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (either case) from an environment. */
export function proxyEnvironment(env: Record<string, string | undefined>): ProxyEnvironment {
  const pick = (name: string): string | undefined => env[name] || env[name.toLowerCase()] || undefined;
  const out: ProxyEnvironment = {};
  const http = pick('HTTP_PROXY');
  const https = pick('HTTPS_PROXY');
  const none = pick('NO_PROXY');
  if (http) out.httpProxy = http;
  if (https) out.httpsProxy = https;
  if (none) out.noProxy = none;
  return out;
}

/**
 * A fetch that honours `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from `env` (undici's `EnvHttpProxyAgent`: HTTP
 * and HTTPS targets through an HTTP proxy, `NO_PROXY` host/domain/port entries and `*` bypass), or `undefined`
 * when no proxy is configured (then the global fetch is used unchanged). undici is loaded only when needed.
 */
export async function createProxyFetch(
  env: Record<string, string | undefined>,
): Promise<FetchFunction | undefined> {
  const settings = proxyEnvironment(env);
  if (!settings.httpProxy && !settings.httpsProxy) return undefined;
  const { EnvHttpProxyAgent, fetch } = await import('undici');
  const dispatcher = new EnvHttpProxyAgent({
    ...(settings.httpProxy ? { httpProxy: settings.httpProxy } : {}),
    ...(settings.httpsProxy ? { httpsProxy: settings.httpsProxy } : {}),
    ...(settings.noProxy ? { noProxy: settings.noProxy } : {}),
  });
  return ((input: string | URL | Request, init: RequestInit = {}) =>
    fetch(input as Parameters<typeof fetch>[0], {
      ...(init as Parameters<typeof fetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>) as FetchFunction;
}
