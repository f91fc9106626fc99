import { createRequire } from 'node:module';
import type { Agent, EnvHttpProxyAgent } from 'undici';

/** The outbound proxy settings of an environment (see {@link outboundProxySettings}). */
export interface OutboundProxySettings {
  /** Proxy for `http:` targets (`http_proxy`, then `HTTP_PROXY`). */
  httpProxy?: string;
  /** Proxy for `https:` targets (`https_proxy`, then `HTTPS_PROXY`; undici falls back to the HTTP proxy). */
  httpsProxy?: string;
  /** Targets reached directly: `no_proxy`, then `NO_PROXY`, else {@link LOOPBACK_NO_PROXY}. */
  noProxy: string;
}

/** What `NO_PROXY` is taken to be when it is not set: loopback targets are never sent to a proxy by default. */
export const LOOPBACK_NO_PROXY = 'localhost,127.0.0.1,[::1]';

/**
 * Reads `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` (lower case first, as undici's `EnvHttpProxyAgent` does) from an
 * environment. Undefined when neither proxy variable is set (then nothing changes: a plain pooled Agent is used).
 * When `NO_PROXY` is not set, loopback (`localhost`, `127.0.0.1`, `[::1]`) is reached directly; when it is set, it
 * is used exactly as undici reads it (comma or space separated hosts, `.domain` / `*.domain` suffixes,
 * `host:port`, or `*` for everything), so a `NO_PROXY` that does not list loopback sends loopback through the proxy.
 * @example
 * ```ts
 * outboundProxySettings({ HTTPS_PROXY: 'http://proxy:3128' });
 * // { httpsProxy: 'http://proxy:3128', noProxy: 'localhost,127.0.0.1,[::1]' }
 * ```
 */
export function outboundProxySettings(
  env: Readonly<Record<string, string | undefined>>,
): OutboundProxySettings | undefined {
  const pick = (name: string): string | undefined => env[name.toLowerCase()] ?? env[name];
  const httpProxy = pick('HTTP_PROXY') || undefined;
  const httpsProxy = pick('HTTPS_PROXY') || undefined;
  if (!httpProxy && !httpsProxy) return undefined;
  return {
    ...(httpProxy ? { httpProxy } : {}),
    ...(httpsProxy ? { httpsProxy } : {}),
    noProxy: pick('NO_PROXY') ?? LOOPBACK_NO_PROXY,
  };
}

/**
 * The one outbound dispatcher of the servers: undici's `EnvHttpProxyAgent` with the given Agent options when `env`
 * sets a proxy (see {@link outboundProxySettings}), else a plain `Agent` with them.
 * @example
 * ```ts
 * const dispatcher = createOutboundDispatcher({ connections: 10 }, process.env);
 * ```
 */
export function createOutboundDispatcher(
  agentOptions: Agent.Options,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Agent | EnvHttpProxyAgent {
  // undici is required here, not imported at the top: servers load it on their first upstream request.
  const undici = createRequire(import.meta.url)('undici') as typeof import('undici');
  const proxy = outboundProxySettings(env);
  return proxy ? new undici.EnvHttpProxyAgent({ ...agentOptions, ...proxy }) : new undici.Agent(agentOptions);
}
