/** A fetch function (the type of `globalThis.fetch`). */
type Fetch = typeof globalThis.fetch;

/** An environment to read proxy variables from (`process.env` shape). */
export type ProxyEnvironment = Readonly<Record<string, string | undefined>>;

/** What `NO_PROXY` is taken to be when it is not set: loopback targets are never sent to a proxy by default. */
const LOOPBACK_NO_PROXY = 'localhost,127.0.0.1,[::1]';

/**
 * The module name of undici, kept in a variable so that browser bundlers leave the import alone (it is only
 * reached on Node, when a proxy variable is set).
 */
const UNDICI = 'undici';

function nodeEnvironment(): ProxyEnvironment | undefined {
  const process = (globalThis as { process?: { versions?: { node?: string }; env?: ProxyEnvironment } })
    .process;
  return process?.versions?.node ? process.env : undefined;
}

/**
 * The default outbound fetch of this package and of `@confidential-ai/verifier`. In a browser (or any runtime that
 * is not Node), `globalThis.fetch`. On Node, `globalThis.fetch` too, unless `HTTP_PROXY` / `HTTPS_PROXY` are set
 * (lower case first, as undici reads them): then undici's fetch over an `EnvHttpProxyAgent`, loaded on first use.
 * `NO_PROXY` is read as undici does (hosts, `.domain` suffixes, `host:port`, `*`); when it is not set, loopback
 * (`localhost`, `127.0.0.1`, `[::1]`) is reached directly. The environment is read once, at creation.
 * @param env Environment to read; default `process.env` on Node, none elsewhere.
 * @example
 * ```ts
 * import { createEnvProxyFetch } from '@confidential-ai/venice-e2ee';
 *
 * const fetch = createEnvProxyFetch();
 * ```
 */
export function createEnvProxyFetch(env: ProxyEnvironment | undefined = nodeEnvironment()): Fetch {
  const direct: Fetch = (input, init) => globalThis.fetch(input, init);
  if (!env) return direct;
  const pick = (name: string): string | undefined => env[name.toLowerCase()] ?? env[name];
  const httpProxy = pick('HTTP_PROXY') || undefined;
  const httpsProxy = pick('HTTPS_PROXY') || undefined;
  if (!httpProxy && !httpsProxy) return direct;
  const noProxy = pick('NO_PROXY') ?? LOOPBACK_NO_PROXY;
  let proxied: Promise<Fetch> | undefined;
  const load = async (): Promise<Fetch> => {
    const undici = (await import(/* @vite-ignore */ UNDICI)) as typeof import('undici');
    const dispatcher = new undici.EnvHttpProxyAgent({
      ...(httpProxy ? { httpProxy } : {}),
      ...(httpsProxy ? { httpsProxy } : {}),
      noProxy,
    });
    return (input, init) =>
      undici.fetch(input as Parameters<typeof undici.fetch>[0], {
        ...(init as Parameters<typeof undici.fetch>[1]),
        dispatcher,
      }) as unknown as Promise<Response>;
  };
  return async (input, init) => {
    proxied ??= load();
    return (await proxied)(input, init);
  };
}
