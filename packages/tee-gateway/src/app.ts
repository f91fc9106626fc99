import {
  CLIENT_CLOSED_REQUEST,
  createSilentLogger,
  createUpstreamFetch,
  errorForLog,
  type FetchFunction,
  isClientAbort,
  type Logger,
  type ServerMetrics,
} from '@confidential-ai/server-kit';
import {
  createOpenGradientSigner,
  type OpenGradientSigner,
  type RsaPrivateKeyInput,
} from '@confidential-ai/tee-signing';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  gatewayAccessGuard,
  gatewayPath,
  TEE_GATEWAY_PAID_ROUTES,
  TEE_GATEWAY_PUBLIC_ROUTES,
} from './access.js';
import { parseTeeGatewayConfig, type TeeGatewayConfig, type TeeGatewayConfigInput } from './config.js';
import { GatewayHttpError } from './errors.js';
import { createInferenceGate } from './inference-gate.js';
import { type NitridingRegistration, registerWithNitriding } from './nitriding.js';
import type { PaymentGate } from './payment-types.js';
import { peerAddressOf } from './peer.js';
import { createHttpPriceFeed, createStaticPriceFeed, type PriceFeed } from './pricing.js';
import { createAdapterSelector } from './providers/select.js';
import type { ProviderId } from './registry.js';
import { registerChatRoute } from './routes/chat.js';
import { registerCompletionsRoute } from './routes/completions.js';
import { registerInfoRoutes } from './routes/info.js';
import { registerKeysRoute } from './routes/keys.js';
import { type GatewayRuntime, type GatewayState, gatewayErrorResponse, json } from './runtime.js';
import { createFacilitatorClient } from './x402/facilitator.js';
import { createX402Gate } from './x402/gate.js';

export { PROVIDER_KEY_FIELDS } from './routes/keys.js';

const ROUTES = new Set([
  '/health',
  '/signing-key',
  '/enclave/attestation',
  '/heartbeat/status',
  '/v1/keys',
  '/v1/chat/completions',
  '/v1/completions',
]);

/** Options of {@link createTeeGateway}. */
export interface TeeGatewayOptions {
  /** The `[tee_gateway]` section (validated here). */
  config?: TeeGatewayConfigInput | TeeGatewayConfig;
  /** Logger (the proxy's redacting pino logger); default silent. */
  logger?: Logger;
  /** RSA private key to load (tests); default a fresh 2048-bit key. */
  privateKey?: RsaPrivateKeyInput;
  /** A ready signer (overrides `privateKey`). */
  signer?: OpenGradientSigner;
  /** fetch for providers, nitriding and the facilitator; default a pooled undici fetch. */
  fetch?: FetchFunction;
  /** Clock in ms (signing timestamps, sessions). Default `Date.now`. */
  now?: () => number;
  /** OPG price source; default from the config (static price, else the HTTP feed). */
  priceFeed?: PriceFeed;
  /**
   * Builds the x402 gate once the facilitator URL is known (at startup in simulation, or at `/v1/keys`).
   * Default: {@link createX402Gate} over the facilitator at that URL. Ignored when `x402_enabled` is false.
   */
  paymentGateFactory?: (facilitatorUrl: string) => PaymentGate;
  /** Settings of the default x402 gate (used when `x402_enabled` and no factory is given). */
  x402?: {
    /** `GET /settle/{jobId}` poll interval in ms (default 2000). */
    pollIntervalMs?: number;
    /** Run the session reaper on a timer (default true). */
    autoSweep?: boolean;
  };
  /** Prometheus instruments of the proxy ({@link createMetrics}); requests are counted when given. */
  metrics?: ServerMetrics;
  /** Peer address of a request (default: the node socket's remote address). */
  peerAddress?: (c: Context) => string | undefined;
  /**
   * Client token (`Authorization: Bearer`) of every route except {@link TEE_GATEWAY_PUBLIC_ROUTES} and, when
   * `x402_enabled`, {@link TEE_GATEWAY_PAID_ROUTES}. Checked before any body is read. `POST /v1/keys` then needs
   * the token as well as a loopback peer.
   */
  clientToken?: string;
  /**
   * Enforce the client token even when `clientToken` is undefined (every protected route answers 401): what the
   * composed server does, so an unset `auth.token` fails closed. Default: enforced when `clientToken` is set.
   */
  requireClientToken?: boolean;
  /** Gauge set to the number of live x402 sessions whenever it changes (the composed server's `x402_sessions`). */
  paymentSessionsGauge?: { set(value: number): void };
}

/** A built gateway. */
export interface TeeGateway {
  /** The Hono app serving every gateway route. */
  readonly app: Hono;
  /** The response signer (tee_id, public key). */
  readonly signer: OpenGradientSigner;
  /** The validated configuration. */
  readonly config: TeeGatewayConfig;
  /** Checksum address of the gateway's generated Ethereum account. */
  readonly walletAddress: string;
  /** Whether inference routes are live (keys injected, or simulation). */
  isInitialized(): boolean;
  /** Current x402 gate, if any. */
  paymentGate(): PaymentGate | undefined;
  /** Registers the key hash with nitriding's internal API (run at startup when configured). */
  registerWithNitriding(): Promise<NitridingRegistration>;
  /** Stops timers and closes pools. */
  close(): Promise<void>;
}

/**
 * Builds the OpenGradient-compatible TEE gateway (tee-gateway.md): `/health`, `/signing-key`,
 * `/enclave/attestation`, `/heartbeat/status`, `POST /v1/keys`, `POST /v1/chat/completions` and
 * `POST /v1/completions`, every inference answer signed with the enclave RSA key (`tee_*` fields), and the x402
 * gate (`x402_enabled`, the default) once keys are injected.
 *
 * @example
 * ```ts
 * const gateway = await createTeeGateway({ config: { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' } });
 * serve({ fetch: gateway.app.fetch, hostname: '127.0.0.1', port: 8000 });
 * ```
 * @throws z.ZodError for an invalid configuration; TeeSigningError `ERR_KEY_INVALID` for an unusable key.
 */
export async function createTeeGateway(options: TeeGatewayOptions = {}): Promise<TeeGateway> {
  const config = parseTeeGatewayConfig(options.config as TeeGatewayConfigInput);
  const logger = (options.logger ?? createSilentLogger()).child({ component: 'tee-gateway' });
  const now = options.now ?? Date.now;
  const pool = options.fetch
    ? undefined
    : createUpstreamFetch({
        connectTimeoutMs: 15_000,
        headersTimeoutMs: 120_000,
        bodyTimeoutMs: 180_000,
        maxConnections: 50,
        keepAliveTimeoutMs: 20 * 60_000,
      });
  const fetch: FetchFunction = options.fetch ?? pool!.fetch;
  const signer =
    options.signer ??
    (await createOpenGradientSigner({
      now,
      ...(options.privateKey !== undefined ? { privateKey: options.privateKey } : {}),
    }));
  const walletAddress = privateKeyToAccount(generatePrivateKey()).address;
  const priceFeed =
    options.priceFeed ??
    (config.opg_price_usd !== undefined
      ? createStaticPriceFeed(config.opg_price_usd)
      : createHttpPriceFeed({
          url: config.price_feed_url,
          tokenAddress: '0xFbC2051AE2265686a469421b2C5A2D5462FbF5eB',
          refreshSeconds: config.price_feed_refresh_seconds,
          fetch,
          now,
        }));
  const peerAddress = options.peerAddress ?? peerAddressOf;
  const startedAt = now();
  const paymentGateFactory =
    options.paymentGateFactory ??
    ((facilitatorUrl: string): PaymentGate =>
      createX402Gate({
        facilitator: createFacilitatorClient({
          url: facilitatorUrl,
          fetch,
          ...(options.x402?.pollIntervalMs !== undefined
            ? { pollIntervalMs: options.x402.pollIntervalMs }
            : {}),
        }),
        payTo: config.pay_to,
        maxTimeoutSeconds: config.max_timeout_seconds,
        idleTimeoutSeconds: config.session_idle_timeout_seconds,
        stopMarginSeconds: config.session_stop_margin_seconds,
        settleMarginSeconds: config.session_settle_margin_seconds,
        giveUpMarginSeconds: config.session_give_up_margin_seconds,
        priceFeed,
        now,
        logger,
        ...(options.x402?.autoSweep !== undefined ? { autoSweep: options.x402.autoSweep } : {}),
        ...(options.paymentSessionsGauge
          ? { onSessionCountChange: (count: number) => options.paymentSessionsGauge?.set(count) }
          : {}),
      }));

  const state: GatewayState = {
    initialized: config.simulate,
    keysInjected: false,
    providerKeys: new Map<ProviderId, string>(),
    facilitatorUrl: config.facilitator_url,
    heartbeat: undefined,
    gate: undefined,
    nitridingRegistered: false,
  };
  if (config.x402_enabled && config.simulate) state.gate = paymentGateFactory(state.facilitatorUrl);
  const runtime: GatewayRuntime = {
    config,
    logger,
    now,
    startedAt,
    fetch,
    signer,
    walletAddress,
    priceFeed,
    state,
    peerAddress,
    paymentGateFactory: config.x402_enabled ? paymentGateFactory : undefined,
    adapterFor: createAdapterSelector({ config, providerKeys: state.providerKeys, fetch }),
  };

  const app = new Hono();
  app.use('*', async (c, next) => {
    const started = performance.now();
    const path = gatewayPath(c);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = ROUTES.has(path) ? path : 'unmatched';
    options.metrics?.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    options.metrics?.requestDuration.observe({ route }, seconds);
    logger.info(
      { method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 10_000) / 10 },
      'request',
    );
  });
  // Access first, body later: an unauthenticated upload is answered before a byte of it is read.
  if (options.requireClientToken ?? options.clientToken !== undefined) {
    app.use('*', gatewayAccessGuard({ clientToken: options.clientToken, x402Enabled: config.x402_enabled }));
  }
  app.use(
    '*',
    bodyLimit({
      maxSize: config.max_request_bytes,
      onError: (c) => json(c, { error: `Request body exceeds ${config.max_request_bytes} bytes` }, 413),
    }),
  );
  app.onError((error, c) => {
    if (error instanceof GatewayHttpError) return gatewayErrorResponse(c, error);
    if (isClientAbort(c.req.raw)) {
      // The client went away (e.g. mid-upload): nobody reads this answer, and it is not a server failure.
      logger.info({ method: c.req.method, path: c.req.path }, 'client closed the request');
      return json(
        c,
        { error: 'Client closed the request', code: CLIENT_CLOSED_REQUEST.type },
        CLIENT_CLOSED_REQUEST.status,
      );
    }
    logger.error({ err: errorForLog(error) }, 'request processing failed');
    return json(c, { error: 'Request processing failed' }, 500);
  });

  registerInfoRoutes(app, runtime);
  registerKeysRoute(app, runtime);
  const inference = createInferenceGate(runtime);
  registerChatRoute(app, runtime, inference);
  registerCompletionsRoute(app, runtime, inference);

  const gateway: TeeGateway = {
    app,
    signer,
    config,
    walletAddress,
    isInitialized: () => state.initialized,
    paymentGate: () => state.gate,
    async registerWithNitriding() {
      const result = await registerWithNitriding({
        internalUrl: config.nitriding_internal_url,
        spki: signer.publicKeySpki,
        fetch,
      });
      state.nitridingRegistered = result.hashRegistered;
      if (result.error) logger.warn({ reason: result.error }, 'nitriding registration incomplete');
      else logger.info('registered the signing key hash with nitriding');
      return result;
    },
    async close() {
      state.heartbeat?.stop();
      priceFeed.close();
      const gate = state.gate as (PaymentGate & { close?: () => Promise<void> | void }) | undefined;
      await gate?.close?.();
      await pool?.close();
    },
  };
  if (config.register_with_nitriding) await gateway.registerWithNitriding();
  return gateway;
}
