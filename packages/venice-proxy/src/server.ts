import {
  createLogger,
  createUpstreamFetch,
  isLoopbackHost,
  type Logger,
  listen,
  ServerKitError,
} from '@confidential-ai/server-kit';
import { VENICE_BASE_URL } from '@confidential-ai/venice-e2ee';
import type { FakeVeniceServer } from '@confidential-ai/venice-e2ee/testing';
import type { Hono } from 'hono';
import { createVeniceProxyApp, createVeniceProxyClient, type VeniceProxyDependencies } from './app.js';
import { pinoLevelFromFilter, type VeniceProxyConfig } from './config.js';
import { VeniceProxyConfigError, VeniceProxyError } from './errors.js';

/** Options of {@link startVeniceProxy}. */
export interface StartVeniceProxyOptions extends Omit<VeniceProxyDependencies, 'client' | 'logger'> {
  /** Logger; default a redacting pino logger on stderr at `logging.level` that scrubs the Venice key. */
  logger?: Logger;
  /** Overrides `server.host` (e.g. the CLI's `--host`). */
  host?: string;
  /** Overrides `server.port` (e.g. the CLI's `--port`; 0 picks a free port). */
  port?: number;
  /**
   * Accept listening on a non-loopback address without a client token (the CLI's `--insecure-no-auth`); the
   * same as `server.allow_unauthenticated_public_listen = true`. Logged at warn.
   */
  allowUnauthenticatedPublicListen?: boolean;
}

/** A running Venice E2EE proxy. */
export interface RunningVeniceProxy {
  /** Base URL, e.g. `http://127.0.0.1:8080` (the OpenAI base URL is `${url}/v1`). */
  readonly url: string;
  /** The Hono app. */
  readonly app: Hono;
  /** Base URL (`…/api/v1`) of the embedded fake Venice server, when one was started. */
  readonly embeddedVeniceUrl: string | undefined;
  /** The embedded fake Venice server itself (faults, request log, TDX root), when one was started. */
  readonly embeddedVenice: FakeVeniceServer | undefined;
  /** Stops the listener, the session sweeper and the embedded fake. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link prepareVeniceMount}. */
export interface PrepareVeniceMountOptions extends Omit<VeniceProxyDependencies, 'client' | 'logger'> {
  /** Logger; default a redacting pino logger on stderr at `logging.level` that scrubs the Venice key. */
  logger?: Logger;
}

/** A Venice proxy app ready to be served or mounted, with what it started. */
export interface VeniceMount {
  /** The Hono app (mount it with `root.route('/venice', mount.app)` or serve it). */
  readonly app: Hono;
  /** The configuration actually used (base URL replaced by the embedded fake's, when one was started). */
  readonly config: VeniceProxyConfig;
  /** The logger in use. */
  readonly logger: Logger;
  /** Base URL (`…/api/v1`) of the embedded fake Venice server, when one was started. */
  readonly embeddedVeniceUrl: string | undefined;
  /** The embedded fake Venice server itself (faults, request log, TDX root), when one was started. */
  readonly embeddedVenice: FakeVeniceServer | undefined;
  /** Stops the session sweeper and the embedded fake. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the Venice proxy app for serving or mounting in a composed server. With an empty `venice.api_key` and
 * the default `venice.base_url`, the embedded fake Venice server of `@confidential-ai/venice-e2ee/testing` is
 * started on loopback and used as upstream (an offline demo, loudly logged); an empty key with any other base
 * URL stops startup with "Venice API key is not configured" (spec D5).
 *
 * The embedded fake signs its TDX quotes with a synthetic platform whose TEST root CA is not Intel's, and its GPU
 * evidence under a synthetic NVIDIA-like TEST root. For the embedded fake only, those roots and the TDX platform's
 * collateral become the verifier's `trustedRootCa`, `nvidiaRoot` and `tdxCollateral` (unless `attestation`
 * overrides them), so `attestation.require_tdx = true` and `require_nvidia = "required"` work end to end offline.
 * A real Venice upstream always keeps the pinned Intel SGX Root CA and NVIDIA Device Identity CA.
 * @throws VeniceProxyError `ERR_SERVER_START` when the key is missing for a real upstream.
 * @example
 * ```ts
 * const venice = await prepareVeniceMount({ config: loadVeniceProxyConfig({ env: process.env }) });
 * root.route('/venice', venice.app);
 * ```
 */
export async function prepareVeniceMount(options: PrepareVeniceMountOptions): Promise<VeniceMount> {
  let config: VeniceProxyConfig = options.config;
  const logger =
    options.logger ??
    createLogger({
      level: pinoLevelFromFilter(config.logging.level),
      secrets: [config.venice.apiKey, config.server.authToken].filter((secret) => secret !== ''),
      name: 'venice-e2ee-proxy',
    });
  let fake: FakeVeniceServer | undefined;
  let attestation = options.attestation;
  if (config.venice.apiKey === '') {
    if (config.venice.baseUrl !== VENICE_BASE_URL) {
      throw new VeniceProxyError('ERR_SERVER_START', 'Venice API key is not configured');
    }
    if (!config.venice.simulate) {
      throw new VeniceProxyError(
        'ERR_SERVER_START',
        'venice.api_key (env VENICE_E2EE_PROXY__VENICE__API_KEY) is not configured and venice.simulate (env VENICE_E2EE_PROXY__VENICE__SIMULATE) is false: refusing to answer from the built-in simulated Venice',
      );
    }
    const { createFakeVeniceServer } = await import('@confidential-ai/venice-e2ee/testing');
    fake = await createFakeVeniceServer({ host: '127.0.0.1', port: 0 });
    try {
      // Only the embedded fake's own test root is trusted here (never for a configured Venice base URL).
      const [trustedRootCa, tdxCollateral, nvidiaRoot] = await Promise.all([
        fake.tdxRoot(),
        fake.tdxCollateral(),
        fake.nvidiaRoot(),
      ]);
      attestation = { trustedRootCa, tdxCollateral, nvidiaRoot, ...options.attestation };
    } catch (cause) {
      await fake.close();
      throw new VeniceProxyError('ERR_SERVER_START', 'cannot create the embedded Venice test platforms', {
        cause,
      });
    }
    config = { ...config, venice: { ...config.venice, baseUrl: fake.baseUrl } };
    logger.warn(
      { embeddedVenice: fake.baseUrl, requireTdx: config.attestation.requireTdx },
      'no venice.api_key configured: using the BUILT-IN SIMULATED Venice server (fake models, TDX quotes and GPU evidence signed by TEST roots that are trusted for it only, not private)',
    );
  }
  // The one outbound client of the servers (server-kit): pooled, and honouring HTTP(S)_PROXY / NO_PROXY.
  const outbound = options.fetch ? undefined : createUpstreamFetch();
  const dependencies = {
    ...options,
    config,
    logger,
    ...(attestation ? { attestation } : {}),
    ...(outbound ? { fetch: outbound.fetch as typeof globalThis.fetch } : {}),
  };
  const client = createVeniceProxyClient(dependencies);
  const app = createVeniceProxyApp({ ...dependencies, client });
  let closing: Promise<void> | undefined;
  return {
    app,
    config,
    logger,
    embeddedVeniceUrl: fake?.baseUrl,
    embeddedVenice: fake,
    close() {
      closing ??= (async () => {
        client.close();
        await outbound?.close();
        await fake?.close();
      })();
      return closing;
    },
  };
}

/**
 * Starts the Venice E2EE proxy on its own listener (the crate's single-binary mode), with the embedded fake
 * Venice server when no key is configured (see {@link prepareVeniceMount}).
 * @throws VeniceProxyError `ERR_SERVER_START` when the key is missing for a real upstream or the port cannot be
 *   bound.
 * @example
 * ```ts
 * const proxy = await startVeniceProxy({ config: loadVeniceProxyConfig({ path: 'venice.toml' }), port: 0 });
 * console.log(`${proxy.url}/v1`);
 * await proxy.close();
 * ```
 */
export async function startVeniceProxy(options: StartVeniceProxyOptions): Promise<RunningVeniceProxy> {
  const host = options.host ?? options.config.server.host;
  const port = options.port ?? options.config.server.port;
  const clientToken = options.clientToken ?? (options.config.server.authToken || undefined);
  const openOnPurpose =
    options.allowUnauthenticatedPublicListen === true ||
    options.config.server.allowUnauthenticatedPublicListen;
  // A public listener without a client token would let anyone spend the Venice key: refuse unless told loudly.
  if (!isLoopbackHost(host) && clientToken === undefined && !openOnPurpose) {
    throw new VeniceProxyConfigError([
      {
        tomlKey: 'server.auth_token',
        envVar: 'VENICE_E2EE_PROXY__SERVER__AUTH_TOKEN',
        message:
          `refusing to listen on ${host} (not loopback) without a client token; set server.auth_token, bind ` +
          '127.0.0.1, or accept an open proxy with server.allow_unauthenticated_public_listen = true (--insecure-no-auth)',
      },
    ]);
  }
  const mount = await prepareVeniceMount({
    ...options,
    ...(clientToken !== undefined ? { clientToken } : {}),
  });
  const { app, config, logger } = mount;
  if (!isLoopbackHost(host) && clientToken === undefined) {
    logger.warn(
      { host },
      'INSECURE: the Venice proxy listens on a non-loopback address WITHOUT A CLIENT TOKEN (allow_unauthenticated_public_listen): anyone who reaches it can spend the Venice key',
    );
  }
  let listener: Awaited<ReturnType<typeof listen>>;
  try {
    listener = await listen({ fetch: app.fetch, host, port, shutdownTimeoutMs: 2000 });
  } catch (cause) {
    await mount.close();
    if (!ServerKitError.isInstance(cause)) throw cause;
    throw new VeniceProxyError('ERR_SERVER_START', cause.message, { cause });
  }
  const url = listener.url;
  logger.info(
    { url, attestation: config.attestation.mode, tools: config.tools.mode },
    'venice proxy listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    app,
    embeddedVeniceUrl: mount.embeddedVeniceUrl,
    embeddedVenice: mount.embeddedVenice,
    close() {
      closing ??= (async () => {
        await listener.close();
        await mount.close();
      })();
      return closing;
    },
  };
}
