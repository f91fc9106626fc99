import {
  createMetrics,
  createSilentLogger,
  createUpstreamFetch,
  type FetchFunction,
  handleErrors,
  type Logger,
  type MetricsRegistry,
  metricsResponse,
  observeRequests,
  requestIdMiddleware,
  type ServerMetrics,
} from '@confidential-ai/server-kit';
import {
  createOpenGradientSigner,
  type OpenGradientSigner,
  type RsaPrivateKeyInput,
} from '@confidential-ai/tee-signing';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { gatewayAccessGuard, TEE_GATEWAY_PAID_ROUTES, TEE_GATEWAY_PUBLIC_ROUTES } from './access.js';
import { parseTeeGatewayConfig, type TeeGatewayConfig, type TeeGatewayConfigInput } from './config.js';
import { GatewayHttpError, type TeeGatewayError } from './errors.js';
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
import { generateWalletAddress } from './wallet.js';
import { OPG_ASSET } from './x402/constants.js';
import { createFacilitatorClient } from './x402/facilitator.js';
import { loadX402Gate } from './x402/load.js';

export { PROVIDER_KEY_FIELDS } from './routes/keys.js';

/** The name prefix of the gateway's Prometheus instruments. */
export const TEE_GATEWAY_METRICS_PREFIX = 'tee_gateway_';

/** Metric `type` label of a gateway error: its stable `code` field when it has one, else its status. */
function errorType(status: number, extra: Record<string, unknown> | undefined): string {
  return typeof extra?.['code'] === 'string' ? extra['code'] : `status_${status}`;
}

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
   * Default: the x402 gate of `@confidential-ai/tee-gateway/x402` over the facilitator at that URL, loaded (with
   * its optional payment packages) at startup. Ignored when `x402_enabled` is false.
   */
  paymentGateFactory?: (facilitatorUrl: string) => PaymentGate;
  /** Settings of the default x402 gate (used when `x402_enabled` and no factory is given). */
  x402?: {
    /** `GET /settle/{jobId}` poll interval in ms (default 2000). */
    pollIntervalMs?: number;
    /** Run the session reaper on a timer (default true). */
    autoSweep?: boolean;
  };
  /**
   * Register the gateway's Prometheus instruments (`tee_gateway_*`) on this registry: a composed server's shared
   * one, which that server exposes; the gateway then serves no `GET /metrics` of its own. Default: a registry of its
   * own, served at `GET /metrics`.
   */
  metricsRegistry?: MetricsRegistry;
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
  /** Its Prometheus instruments (`tee_gateway_*`, including the `x402_sessions` gauge). */
  readonly metrics: ServerMetrics;
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
 * `/enclave/attestation`, `/heartbeat/status`, `GET /v1/models`, `POST /v1/keys`, `POST /v1/chat/completions` and
 * `POST /v1/completions` (plus `GET /metrics` unless a shared registry is given), every inference answer signed
 * with the enclave RSA key (`tee_*` fields), and the x402 gate (`x402_enabled`, the default) once keys are
 * injected. Unknown routes answer 404 and known routes with another method 405, both as the reference's flat
 * `{"error": ...}` JSON; every response carries `X-Request-Id`.
 *
 * @example
 * ```ts
 * const gateway = await createTeeGateway({ config: { enabled: true, simulate: true, x402_enabled: false, opg_price_usd: '1' } });
 * const server = await startTeeGatewayServer({ gateway, port: 8000 });
 * ```
 * @throws z.ZodError for an invalid configuration; TeeSigningError `ERR_KEY_INVALID` for an unusable key;
 * {@link TeeGatewayError} `ERR_X402_UNAVAILABLE` when x402 is on and its payment packages are not installed.
 */
export async function createTeeGateway(options: TeeGatewayOptions = {}): Promise<TeeGateway> {
  const config = parseTeeGatewayConfig(options.config as TeeGatewayConfigInput);
  const logger = (options.logger ?? createSilentLogger()).child({ component: 'tee-gateway' });
  const now = options.now ?? Date.now;
  // The payment stack is loaded only when x402 is on, and at startup: a missing package stops the gateway here.
  const x402 = config.x402_enabled && !options.paymentGateFactory ? await loadX402Gate() : undefined;
  const metrics = createMetrics({
    prefix: TEE_GATEWAY_METRICS_PREFIX,
    ...(options.metricsRegistry ? { registry: options.metricsRegistry } : {}),
  });
  const paymentSessions = metrics.gauge('x402_sessions', 'Live x402 upto payment sessions');
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
  const walletAddress = generateWalletAddress();
  const priceFeed =
    options.priceFeed ??
    (config.opg_price_usd !== undefined
      ? createStaticPriceFeed(config.opg_price_usd)
      : createHttpPriceFeed({
          url: config.price_feed_url,
          tokenAddress: OPG_ASSET,
          refreshSeconds: config.price_feed_refresh_seconds,
          fetch,
          now,
        }));
  const peerAddress = options.peerAddress ?? peerAddressOf;
  const startedAt = now();
  const paymentGateFactory =
    options.paymentGateFactory ??
    (x402
      ? (facilitatorUrl: string): PaymentGate =>
          x402.createX402Gate({
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
            onSessionCountChange: (count: number) => paymentSessions.set(count),
          })
      : undefined);

  const state: GatewayState = {
    initialized: config.simulate,
    keysInjected: false,
    providerKeys: new Map<ProviderId, string>(),
    facilitatorUrl: config.facilitator_url,
    heartbeat: undefined,
    gate: undefined,
    nitridingRegistered: false,
  };
  const activePaymentGateFactory = config.x402_enabled ? paymentGateFactory : undefined;
  if (activePaymentGateFactory && config.simulate)
    state.gate = activePaymentGateFactory(state.facilitatorUrl);
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
    paymentGateFactory: activePaymentGateFactory,
    adapterFor: createAdapterSelector({ config, providerKeys: state.providerKeys, fetch }),
  };

  const app = new Hono();
  app.use('*', requestIdMiddleware());
  app.use('*', observeRequests({ logger, metrics }));
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

  registerInfoRoutes(app, runtime);
  if (!options.metricsRegistry) app.get('/metrics', () => metricsResponse(metrics.registry));
  registerKeysRoute(app, runtime);
  const inference = createInferenceGate(runtime);
  registerChatRoute(app, runtime, inference);
  registerCompletionsRoute(app, runtime, inference);
  // Unknown routes (404), known routes with another method (405), client aborts (499) and unexpected errors (500)
  // in the reference's flat shape; an unexpected error's message is never shown (it could quote input).
  handleErrors(app, {
    logger,
    known: (error, c) => {
      if (!(error instanceof GatewayHttpError)) return undefined;
      metrics.errors.inc({ type: errorType(error.status, error.extra) });
      return gatewayErrorResponse(c, error);
    },
    render: (c, failure) => {
      metrics.errors.inc({ type: failure.code });
      const body =
        failure.status === 500
          ? { error: 'Request processing failed' }
          : failure.code === 'client_closed_request'
            ? { error: 'Client closed the request', code: failure.code }
            : { error: failure.message, code: failure.code };
      return json(c, body, failure.status);
    },
  });

  const gateway: TeeGateway = {
    app,
    signer,
    config,
    walletAddress,
    metrics,
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
