import { createChutesFetch } from '@confidential-ai/chutes-transport';
import type { FakeChutesServer } from '@confidential-ai/chutes-transport/testing';
import {
  type CloseOptions,
  configIssuesOf,
  createLogger,
  createUpstreamFetch,
  isToolkitError,
  type Logger,
  listen,
  type NodeRequestHandler,
  type UpstreamFetch,
} from '@confidential-ai/server-kit';
import { createOpenGradientSigner } from '@confidential-ai/tee-signing';
import type { Hono } from 'hono';
import {
  type AppDependencies,
  type AppEnv,
  createApp,
  mountAt,
  type RouteModule,
  type Upstream,
} from './app.js';
import { configSecrets, describeConfig, missingVllmUpstream, type ProxyConfig } from './config.js';
import { ConfigError, ProxyServerError } from './errors.js';
import { teeGatewayRouteModule, veniceRouteModule } from './faces.js';
import { type RunningFakeVllm, startFakeVllm } from './fake-vllm.js';
import { createModelKeys } from './keys.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { chutesSidecarRoutes } from './routes/chutes.js';
import { chatUiRoutes, UI_MOUNT_PATH } from './routes/ui.js';
import { vllmProxyRoutes } from './routes/vllm-proxy.js';
import { createResponseSigner } from './signing.js';
import {
  createMemoryReplayStore,
  createMemorySignatureStore,
  createRedisClient,
  createRedisReplayStore,
  createRedisSignatureStore,
  type RedisConnection,
} from './stores.js';
import { warmUpCrypto } from './warm-up.js';

/** Default Chutes inference API when `chutes.base_url` is unset (and `chutes.simulate` is off). */
export const DEFAULT_CHUTES_BASE_URL = 'https://llm.chutes.ai';
/** Default Chutes platform API (instance discovery for `chutes.e2ee`). */
export const DEFAULT_CHUTES_API_BASE_URL = 'https://api.chutes.ai';

/** The route modules of the composed server, in mount order. */
export const DEFAULT_MODULES: readonly RouteModule[] = [vllmProxyRoutes, chutesSidecarRoutes];

/** Where the Venice E2EE proxy face is mounted in the composed server. */
export const VENICE_MOUNT_PATH = '/venice';
/** Where the TEE gateway face is mounted in the composed server. */
export const TEE_GATEWAY_MOUNT_PATH = '/tee-gateway';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The validated configuration ({@link loadConfig}). */
  config: ProxyConfig;
  /** Logger; default a redacting pino logger on stderr at `config.log.level`. */
  logger?: Logger;
  /** Route modules; default {@link DEFAULT_MODULES}. */
  modules?: readonly RouteModule[];
  /** Collect process metrics (CPU, memory, event loop). Default true. */
  processMetrics?: boolean;
  /**
   * Serve the completion routes of the modules that have one (the vllm-proxy face's `POST /v1/chat/completions`
   * and `POST /v1/completions`) through their direct node:http fast path. Default true; false serves every
   * request through the Hono app (same answers, more CPU per request).
   */
  fastPath?: boolean;
}

/** A running proxy server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  /** The Hono app (for in-process requests). */
  readonly app: Hono<AppEnv>;
  /** The dependencies the app was built with. */
  readonly deps: AppDependencies;
  /** Base URL of the embedded fake vLLM, when one was started. */
  readonly embeddedVllmUrl: string | undefined;
  /** Base URL of the embedded fake Chutes server, when one was started. */
  readonly embeddedChutesUrl: string | undefined;
  /**
   * Graceful shutdown: drain for `server.shutdown_drain_ms` (still serving, `GET /health` answering 503), stop
   * accepting, let in-flight requests finish for up to `server.shutdown_timeout_ms`, then close remaining
   * connections, upstream pools, Redis and embedded upstreams. Idempotent; `{ skipDrain: true }` skips the drain or
   * cuts one in progress short.
   */
  close(options?: CloseOptions): Promise<void>;
}

function chutesLogger(logger: Logger) {
  const child = logger.child({ component: 'chutes-transport' });
  const details = (values: unknown[]) => (values.length === 1 ? { details: values[0] } : { details: values });
  return {
    error: (message: string, ...values: unknown[]) => child.error(details(values), message),
    warn: (message: string, ...values: unknown[]) => child.warn(details(values), message),
    info: (message: string, ...values: unknown[]) => child.info(details(values), message),
    debug: (message: string, ...values: unknown[]) => child.debug(details(values), message),
  };
}

async function waitForRedis(client: RedisConnection, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('ready', onReady);
  });
}

function combineFastPaths(handlers: readonly NodeRequestHandler[]): NodeRequestHandler {
  if (handlers.length === 1) return handlers[0]!;
  return (request, response) => handlers.some((handler) => handler(request, response));
}

/**
 * Builds every adapter from the configuration and serves the composed app with @hono/node-server. Simulators
 * never stand in for a configured upstream: the fake vLLM starts only without `vllm.base_url`, the fake Chutes
 * server only with `chutes.simulate`, the fake Venice server only without a Venice key, and the gateway's
 * simulated provider only with `tee_gateway.simulate` and before any provider key is injected; each says so
 * loudly in the log. Every face requires the client token `auth.token` (the TEE gateway's paid routes take
 * x402 payment instead when it is on).
 *
 * @example
 * ```ts
 * const server = await startServer({ config: loadConfig({ env: { TOKEN: 'secret' } }) });
 * console.log(server.url);
 * await server.close();
 * ```
 * @throws {ProxyServerError} `ERR_SERVER_START` when the port cannot be bound or an embedded upstream fails.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.log.level, secrets: configSecrets(config) });
  const metrics: ProxyMetrics = createProxyMetrics({ processMetrics: options.processMetrics ?? true });
  const cleanups: Array<() => Promise<unknown>> = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch(() => {});
    }
  };

  // The TEE gateway's RSA key (fresh per process) is generated on the thread pool while the rest starts; awaited
  // before the gateway is built, so a failure still stops start-up.
  const gatewaySigner = config.teeGateway.enabled ? createOpenGradientSigner() : undefined;
  gatewaySigner?.catch(() => {});

  try {
    logger.info({ config: describeConfig(config) }, 'configuration loaded');
    if (config.auth.token === undefined) {
      logger.warn('TOKEN (auth.token) is not set: every authenticated route will answer 401');
    }
    const keys = createModelKeys({ seed: config.signing.keySeed });
    const signer = createResponseSigner(keys);
    logger.info(
      {
        ecdsaAddress: signer.ecdsaAddress,
        ed25519PublicKey: signer.ed25519Address,
        stable: !!config.signing.keySeed,
      },
      config.signing.keySeed
        ? 'signing keys derived from the configured seed'
        : 'signing keys generated for this process',
    );

    let replayStore: AppDependencies['replayStore'];
    let signatureStore: AppDependencies['signatureStore'];
    const localSignatures = createMemorySignatureStore({ maxEntries: config.signing.chatCacheSize });
    if (config.redis.host) {
      const client = createRedisClient({
        host: config.redis.host,
        port: config.redis.port,
        password: config.redis.password,
        db: config.redis.db,
        timeoutMs: config.redis.timeoutMs,
        logger,
      });
      cleanups.push(async () => {
        client.disconnect();
      });
      if (!(await waitForRedis(client, Math.max(2000, config.redis.timeoutMs * 4)))) {
        logger.error(
          { redis: `${config.redis.host}:${config.redis.port}` },
          'redis is unreachable: E2EE v2 requests answer 503 replay_store_unavailable until it connects',
        );
      }
      replayStore = createRedisReplayStore(client);
      signatureStore = createRedisSignatureStore(client, localSignatures, logger);
    } else {
      replayStore = createMemoryReplayStore({
        maxEntries: config.e2ee.replayCacheSize,
        onEvict: () => metrics.replayEvictions.inc(),
        // Keys made for this process cannot open a request sealed for an earlier one: nothing from before this
        // start can be replayed. With a fixed seed the earlier process's claims are lost: refuse what it could
        // have accepted (one window).
        ...(config.signing.keySeed ? {} : { knownSinceSeconds: 0 }),
      });
      signatureStore = localSignatures;
    }

    const upstream: UpstreamFetch = createUpstreamFetch(config.upstream);
    cleanups.push(() => upstream.close());

    let fakeVllm: RunningFakeVllm | undefined;
    let vllmBaseUrl = config.vllm.baseUrl;
    // loadConfig applies the same rule; a configuration built in code must not get a simulator either.
    const vllmIssue = missingVllmUpstream(config.vllm);
    if (vllmIssue) throw new ConfigError([vllmIssue]);
    if (vllmBaseUrl === undefined) {
      fakeVllm = await startFakeVllm({ port: 0 });
      cleanups.push(() => fakeVllm!.close());
      vllmBaseUrl = fakeVllm.url;
      logger.warn(
        { embeddedVllm: fakeVllm.url, models: ['fake-model', 'fake-reasoning-model'] },
        'no vllm.base_url / VLLM_BASE_URL configured: using the BUILT-IN SIMULATED vLLM (deterministic fake replies, not a model)',
      );
    }
    const vllm: Upstream = { baseUrl: vllmBaseUrl, fetch: upstream.fetch, request: upstream.request };

    let fakeChutes: FakeChutesServer | undefined;
    let embeddedChutes: AppDependencies['embeddedChutes'];
    let chutes: Upstream = {
      baseUrl: config.chutes.baseUrl ?? DEFAULT_CHUTES_BASE_URL,
      fetch: upstream.fetch,
      request: upstream.request,
    };
    if (config.chutes.enabled) {
      let apiBase = config.chutes.apiBaseUrl ?? DEFAULT_CHUTES_API_BASE_URL;
      let useE2ee = config.chutes.e2ee;
      // Only on the explicit switch: a configured Chutes key without a base URL goes to the real Chutes API.
      if (config.chutes.simulate) {
        // Test tooling: loaded only when the embedded default needs it.
        const { createFakeChutesServer } = await import('@confidential-ai/chutes-transport/testing');
        fakeChutes = await createFakeChutesServer({
          port: 0,
          ...(config.chutes.apiKey ? { apiKey: config.chutes.apiKey } : {}),
          adminRoutes: false,
        });
        cleanups.push(() => fakeChutes!.close());
        // Its GPU evidence is signed under a TEST root, trusted by the chain route for this server only. The
        // simulator makes its test PKI on first use: after the ready line (warmed up below), not before it.
        const simulator = fakeChutes;
        embeddedChutes = { nvidiaRoot: () => simulator.nvidiaRoot() };
        apiBase = fakeChutes.url;
        useE2ee = true;
        chutes = { baseUrl: fakeChutes.url, fetch: upstream.fetch, request: upstream.request };
        logger.warn(
          { embeddedChutes: fakeChutes.url, models: fakeChutes.chutes.map((chute) => chute.name) },
          'chutes.simulate / CHUTES_SIMULATE is on: the Chutes routes answer from the BUILT-IN SIMULATED Chutes server (ML-KEM E2EE leg, fake model), not from Chutes',
        );
      }
      if (useE2ee && config.chutes.apiKey) {
        // The transport's own pool, limited to `chutes.max_connections` per origin (the vLLM pool's limit is
        // for a different upstream), with the same timeouts.
        const chutesPool = createUpstreamFetch({
          ...config.upstream,
          maxConnections: config.chutes.maxConnections,
        });
        cleanups.push(() => chutesPool.close());
        const chutesFetch = createChutesFetch({
          apiKey: config.chutes.apiKey,
          apiBase,
          modelsBase: chutes.baseUrl,
          fetch: chutesPool.fetch as typeof globalThis.fetch,
          logger: chutesLogger(logger),
        });
        chutes = { baseUrl: chutes.baseUrl, fetch: chutesFetch };
        logger.info({ apiBase, modelsBase: chutes.baseUrl }, 'chutes upstream leg uses Chutes ML-KEM E2EE');
      }
    }

    // The other faces of the composed server, each under its own prefix (they also serve /v1/chat/completions).
    // A face's package is imported only when that face is enabled: a disabled face costs nothing at start-up.
    const faces: RouteModule[] = [];
    if (config.venice.proxy) {
      const { prepareVeniceMount } = await import('@confidential-ai/venice-proxy');
      // The composed server's client token protects this face too (its own server.auth_token is ignored).
      const venice = await prepareVeniceMount({
        config: config.venice.proxy,
        logger,
        requireClientToken: true,
        ...(config.auth.token !== undefined ? { clientToken: config.auth.token } : {}),
        metricsRegistry: metrics.registry,
      });
      cleanups.push(() => venice.close());
      faces.push(veniceRouteModule(venice, VENICE_MOUNT_PATH));
      logger.info({ mount: VENICE_MOUNT_PATH }, 'Venice E2EE proxy mounted');
    }
    if (config.teeGateway.enabled) {
      const { createTeeGateway } = await import('@confidential-ai/tee-gateway');
      // Token on every non-public route; with x402 on, payment instead on the paid inference routes.
      const gateway = await createTeeGateway({
        config: config.teeGateway,
        signer: await gatewaySigner!,
        logger,
        requireClientToken: true,
        ...(config.auth.token !== undefined ? { clientToken: config.auth.token } : {}),
        metricsRegistry: metrics.registry,
      });
      cleanups.push(() => gateway.close());
      faces.push(mountAt(TEE_GATEWAY_MOUNT_PATH, teeGatewayRouteModule(gateway)));
      if (config.teeGateway.simulate) {
        logger.warn(
          { mount: TEE_GATEWAY_MOUNT_PATH },
          'TEE gateway mounted with the BUILT-IN SIMULATED provider: answers are not from an LLM',
        );
      } else {
        logger.info({ mount: TEE_GATEWAY_MOUNT_PATH }, 'TEE gateway mounted');
      }
    }

    const deps: AppDependencies = {
      config,
      logger,
      metrics,
      keys,
      signer,
      replayStore,
      signatureStore,
      vllm,
      chutes,
      ...(embeddedChutes === undefined ? {} : { embeddedChutes }),
    };
    // The chat page (public static files of @confidential-ai/chat-ui) at /ui/.
    const modules = options.modules ?? DEFAULT_MODULES;
    const app = createApp(deps, { modules: [...modules, chatUiRoutes()], faces });
    // Only a face that is mounted (at the root) brings its fast path; faces under a prefix never own these paths.
    const fastPaths =
      options.fastPath === false
        ? []
        : modules.flatMap((module) => (module.fastPath ? [module.fastPath(deps)] : []));

    const listener = await listen({
      fetch: app.fetch,
      ...(fastPaths.length === 0 ? {} : { fastPath: combineFastPaths(fastPaths) }),
      host: config.server.host,
      port: config.server.port,
      shutdownTimeoutMs: config.server.shutdownTimeoutMs,
      drainMs: config.server.shutdownDrainMs,
    });
    const url = listener.url;
    logger.info({ url }, 'listening');
    logger.info({ url: `${url}${UI_MOUNT_PATH}/` }, 'chat page');
    // After the ready line (the caller prints it when this resolves): the crypto of the E2EE paths, once.
    const chutesE2ee = deps.chutes.fetch !== upstream.fetch;
    setImmediate(() => {
      void warmUpCrypto({ keys, signer, chutes: chutesE2ee, logger });
      // The simulated Chutes server's test PKI (its GPU evidence's root), which the first chain request needs.
      embeddedChutes?.nvidiaRoot().catch(() => {});
    }).unref();

    let closing: Promise<void> | undefined;
    const close = (closeOptions?: CloseOptions) => {
      if (closing && closeOptions?.skipDrain) void listener.close(closeOptions);
      closing ??= (async () => {
        const drainMs = closeOptions?.skipDrain ? 0 : config.server.shutdownDrainMs;
        logger.info(drainMs > 0 ? { drainMs } : {}, 'shutting down');
        await listener.close(closeOptions);
        await runCleanups();
        logger.info('stopped');
        logger.flush?.();
      })();
      return closing;
    };
    return {
      url,
      app,
      deps,
      embeddedVllmUrl: fakeVllm?.url,
      embeddedChutesUrl: fakeChutes?.url,
      close,
    };
  } catch (error) {
    await runCleanups();
    // Our own errors and configuration errors of a face say what is wrong: passed on as they are, or with their
    // message. Anything else is named by its code only (its message could quote configuration).
    if (ProxyServerError.isInstance(error) || configIssuesOf(error)) throw error;
    const reason = isToolkitError(error)
      ? error.message.split('\n')[0]
      : ((error as NodeJS.ErrnoException)?.code ?? (error as Error)?.name ?? 'unknown error');
    throw new ProxyServerError('ERR_SERVER_START', `server could not start: ${reason}`, { cause: error });
  }
}
