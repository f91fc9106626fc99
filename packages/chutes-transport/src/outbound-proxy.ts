import type { FetchFunction } from './fetch.js';

/** What `NO_PROXY` is taken to be when it is not set: loopback targets are never sent to a proxy by default. */
const LOOPBACK_NO_PROXY = 'localhost,127.0.0.1,[::1]';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The default fetch of {@link createChutesFetch} on Node: `globalThis.fetch`, or, when `HTTP_PROXY` / `HTTPS_PROXY`
 * (either case, lower case first as undici reads them) are set, undici's fetch over an `EnvHttpProxyAgent` (loaded
 * on first use). `NO_PROXY` is read as undici does (hosts, `.domain` suffixes, `host:port`, `*`); when it is not
 * set, loopback targets are reached directly. The environment is read once, at creation.
 * @internal
 */
export function createEnvProxyFetch(env: Environment | undefined = globalThis.process?.env): FetchFunction {
  const pick = (name: string): string | undefined => env?.[name.toLowerCase()] ?? env?.[name];
  const httpProxy = pick('HTTP_PROXY') || undefined;
  const httpsProxy = pick('HTTPS_PROXY') || undefined;
  if (!httpProxy && !httpsProxy) return (input, init) => globalThis.fetch(input, init);
  const noProxy = pick('NO_PROXY') ?? LOOPBACK_NO_PROXY;
  let proxied: Promise<FetchFunction> | undefined;
  const load = async (): Promise<FetchFunction> => {
    const { EnvHttpProxyAgent, fetch } = await import('undici');
    const dispatcher = new EnvHttpProxyAgent({
      ...(httpProxy ? { httpProxy } : {}),
      ...(httpsProxy ? { httpsProxy } : {}),
      noProxy,
    });
    return (input, init) =>
      fetch(input as Parameters<typeof fetch>[0], {
        ...(init as Parameters<typeof fetch>[1]),
        dispatcher,
      }) as unknown as Promise<Response>;
  };
  return async (input, init) => {
    proxied ??= load();
    return (await proxied)(input, init);
  };
}
