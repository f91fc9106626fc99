import type { Logger, MetricsRegistry } from '@confidential-ai/server-kit';
import {
  type AttestationPolicy,
  createVeniceClient,
  type Logger as LibraryLogger,
  type VeniceClient,
  VeniceE2eeError,
} from '@confidential-ai/venice-e2ee';
import type { VeniceProxyConfig } from './config.js';

/** Test and embedding hooks of the attestation verifier that are not part of the TOML schema (spec D2). */
export type VeniceAttestationOverrides = Pick<
  AttestationPolicy,
  'trustedRootCa' | 'tdxCollateral' | 'tdxBackend' | 'now' | 'nvidiaRoot' | 'nvidia'
>;

/** What {@link createVeniceProxyApp} needs. */
export interface VeniceProxyDependencies {
  /** The validated configuration ({@link loadVeniceProxyConfig}). */
  readonly config: VeniceProxyConfig;
  /** pino logger; default silent. Never receives the Venice key, prompts or ciphertext. */
  readonly logger?: Logger;
  /** The fetch used to reach Venice; default `globalThis.fetch`. */
  readonly fetch?: typeof globalThis.fetch;
  /** Session clock in ms (tests); default `Date.now`. */
  readonly now?: () => number;
  /** Verifier hooks (a test root CA, DCAP collateral, another TDX back end). */
  readonly attestation?: VeniceAttestationOverrides;
  /** A prebuilt client (else one is built with {@link createVeniceProxyClient}). */
  readonly client?: VeniceClient;
  /**
   * Client token every route requires (`Authorization: Bearer`), checked before any body is read: the
   * standalone proxy's `server.auth_token`, or the composed server's `auth.token`.
   */
  readonly clientToken?: string;
  /**
   * Enforce the client token even when `clientToken` is undefined (every request answers 401): what the composed
   * server does, so an unset `auth.token` fails closed. Default: enforced when `clientToken` is set.
   */
  readonly requireClientToken?: boolean;
  /**
   * Register the proxy's Prometheus instruments (`venice_proxy_*`) on this registry: a composed server's shared one,
   * which that server exposes; the proxy then serves no `GET /metrics` of its own. Default: a registry of its own,
   * served at `GET /metrics`.
   */
  readonly metricsRegistry?: MetricsRegistry;
}

function libraryLogger(logger: Logger | undefined): LibraryLogger | undefined {
  if (!logger) return undefined;
  const forward =
    (level: 'error' | 'warn' | 'info' | 'debug') =>
    (message: string, ...rest: unknown[]) => {
      const fields = rest[0];
      if (typeof fields === 'object' && fields !== null) logger[level]({ venice: fields }, message);
      else logger[level](message);
    };
  return { error: forward('error'), warn: forward('warn'), info: forward('info'), debug: forward('debug') };
}

/**
 * Wraps a fetch so that every response body fails with `ERR_UPSTREAM_TIMEOUT` when Venice sends nothing for
 * `timeoutMs` (the crate's per-read timeout; chat streams may run longer as long as data flows).
 */
export function withReadTimeout(inner: typeof globalThis.fetch, timeoutMs: number): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (!response.body) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new VeniceE2eeError('ERR_UPSTREAM_TIMEOUT', `Venice sent no data for ${timeoutMs / 1000}s`),
              ),
            timeoutMs,
          );
        });
        try {
          const { done, value } = await Promise.race([reader.read(), timeout]);
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          reader.cancel().catch(() => undefined);
          controller.error(error);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/**
 * Builds the Venice E2EE client the proxy uses, from the crate-compatible configuration: one proxy instance
 * key, attested model keys cached per session (swept when expired), every message encrypted, tools emulated.
 * @throws TypeError for a base URL that is not http(s) (already rejected by the config loader).
 * @example
 * ```ts
 * const client = createVeniceProxyClient({ config: loadVeniceProxyConfig({ path: 'venice.toml' }) });
 * ```
 */
export function createVeniceProxyClient(deps: Omit<VeniceProxyDependencies, 'client'>): VeniceClient {
  const { config } = deps;
  const logger = libraryLogger(deps.logger);
  return createVeniceClient({
    baseUrl: config.venice.baseUrl,
    ...(config.venice.apiKey ? { apiKey: config.venice.apiKey } : {}),
    fetch: withReadTimeout(
      deps.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      config.venice.requestTimeoutMs,
    ),
    hkdfInfo: config.e2ee.hkdfInfo,
    requireEncryptedResponseContent: config.e2ee.requireEncryptedResponseContent,
    requestTimeoutMs: config.venice.requestTimeoutMs,
    attestation: {
      allowDebug: config.attestation.allowDebug,
      requireTdx: config.attestation.requireTdx,
      requireNvidia: config.attestation.requireNvidia,
      ...(deps.attestation ?? {}),
    },
    session: {
      idleTtlMs: config.session.idleTtlMs,
      maxTtlMs: config.session.maxTtlMs,
      maxRequests: config.session.maxRequests,
      fallbackScope: config.session.fallbackScope,
      ...(deps.now ? { now: deps.now } : {}),
    },
    tools: {
      enabled: config.tools.enabled,
      mode: config.tools.mode,
      maxRetries: config.tools.maxRetries,
      toolCallMaxBytes: config.tools.toolCallMaxBytes,
      validateJsonSchema: config.tools.validateJsonSchema,
      markerTimeoutMs: config.tools.toolCallMarkerTimeoutMs,
    },
    ...(logger ? { logger } : {}),
  });
}
