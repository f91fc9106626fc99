import type { FetchFunction } from './client.js';

/** What `NO_PROXY` is taken to be when it is not set: loopback targets are never sent to a proxy by default. */
export const LOOPBACK_NO_PROXY = 'localhost,127.0.0.1,[::1]';

/**
 * The proxy settings read from the environment, by the one rule of the repository (as undici's `EnvHttpProxyAgent`
 * and the other packages read them): lower case first (`http_proxy` wins over `HTTP_PROXY`), and loopback direct
 * when `NO_PROXY` is not set.
 */
export interface ProxyEnvironment {
  /** `http_proxy`, else `HTTP_PROXY` (an empty value is no proxy). */
  httpProxy?: string;
  /** `https_proxy`, else `HTTPS_PROXY` (an empty value is no proxy; undici then uses `httpProxy` for https:). */
  httpsProxy?: string;
  /**
   * `no_proxy`, else `NO_PROXY`, as undici reads it (hosts, `.domain` suffixes, `host:port`, `*`); when neither is
   * set, {@link LOOPBACK_NO_PROXY}. A set but empty value bypasses nothing (loopback then goes through the proxy).
   */
  noProxy: string;
}

/** Reads `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (lower case first) from an environment. */
export function proxyEnvironment(env: Record<string, string | undefined>): ProxyEnvironment {
  const pick = (name: string): string | undefined => env[name.toLowerCase()] ?? env[name];
  const out: ProxyEnvironment = { noProxy: pick('NO_PROXY') ?? LOOPBACK_NO_PROXY };
  const http = pick('HTTP_PROXY');
  const https = pick('HTTPS_PROXY');
  if (http) out.httpProxy = http;
  if (https) out.httpsProxy = https;
  return out;
}

/**
 * A fetch that honours `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` from `env` (undici's `EnvHttpProxyAgent`: HTTP
 * and HTTPS targets through an HTTP proxy, `NO_PROXY` host/domain/port entries and `*` bypass; see
 * {@link proxyEnvironment} for how the variables are read), or `undefined`
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
    noProxy: settings.noProxy,
  });
  return ((input: string | URL | Request, init: RequestInit = {}) =>
    fetch(input as Parameters<typeof fetch>[0], {
      ...(init as Parameters<typeof fetch>[1]),
      dispatcher,
    }) as unknown as Promise<Response>) as FetchFunction;
}
