import { randomUUID } from 'node:crypto';
import {
  CLIENT_CLOSED_REQUEST,
  closeIfBodyUnread,
  createSilentLogger,
  createUpstreamFetch,
  errorForLog,
  escapeControlCharacters,
  exceedsJsonDepth,
  type FetchFunction,
  isClientAbort,
  isHttpUrl,
  JSON_TOO_DEEP,
  type Logger,
  MAX_JSON_DEPTH,
  type ServerMetrics,
} from '@confidential-ai/server-kit';
import {
  buildChatCanonicalRequest,
  buildCompletionsCanonicalRequest,
  buildGatewayToolCalls,
  createOpenGradientSigner,
  type OpenGradientSigner,
  parsePythonJson,
  type RsaPrivateKeyInput,
  type TeeSignatureFields,
  TeeSigningError,
  teeSignatureHeaders,
  toolCallsOutputContent,
} from '@confidential-ai/tee-signing';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  gatewayAccessGuard,
  gatewayPath,
  TEE_GATEWAY_PAID_ROUTES,
  TEE_GATEWAY_PUBLIC_ROUTES,
} from './access.js';
import {
  DEFAULT_FACILITATOR_URL,
  parseTeeGatewayConfig,
  type TeeGatewayConfig,
  type TeeGatewayConfigInput,
} from './config.js';
import { GatewayHttpError } from './errors.js';
import { type Heartbeat, startHeartbeat } from './heartbeat.js';
import { type NitridingRegistration, registerWithNitriding } from './nitriding.js';
import type { PaymentGate, PaymentTicket } from './payment-types.js';
import { isLoopbackAddress, peerAddressOf } from './peer.js';
import { createHttpPriceFeed, createStaticPriceFeed, type PriceFeed } from './pricing.js';
import { createAnthropicAdapter } from './providers/anthropic.js';
import { createGeminiAdapter } from './providers/gemini.js';
import { createOpenAiCompatibleAdapter } from './providers/openai-compatible.js';
import { createSimulatedAdapter } from './providers/simulated.js';
import type {
  GatewayMessage,
  GatewayTool,
  ProviderAdapter,
  ProviderChatRequest,
  ProviderToolCall,
  Usage,
} from './providers/types.js';
import { getModelConfig, type ModelConfig, type ProviderId } from './registry.js';
import { createFacilitatorClient } from './x402/facilitator.js';
import { createX402Gate } from './x402/gate.js';

/** Provider key fields accepted by `POST /v1/keys`, mapped to registry providers. */
export const PROVIDER_KEY_FIELDS: Readonly<Record<string, ProviderId>> = Object.freeze({
  openai_api_key: 'openai',
  anthropic_api_key: 'anthropic',
  google_api_key: 'google',
  xai_api_key: 'x-ai',
  bytedance_api_key: 'bytedance',
  nous_api_key: 'nous',
  zai_api_key: 'zai',
  openrouter_api_key: 'openrouter',
});

const GATEWAY_VERSION = '1.0.0';

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

function json(c: Context, body: unknown, status: number, headers?: Record<string, string>): Response {
  return c.json(body as object, status as ContentfulStatusCode, headers);
}

function errorResponse(c: Context, error: GatewayHttpError): Response {
  // Messages can quote client input (the model name): never echo control or bidi-control characters.
  return json(c, { error: escapeControlCharacters(error.message), ...error.extra }, error.status);
}

function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(value.trim());
}

interface ParsedBody {
  exact: unknown;
  plain: Record<string, unknown>;
}

async function readBody(c: Context): Promise<ParsedBody> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  if (exceedsJsonDepth(text)) {
    throw new GatewayHttpError(400, `JSON body nests deeper than ${MAX_JSON_DEPTH} levels`, {
      extra: { code: JSON_TOO_DEEP },
    });
  }
  let exact: unknown;
  let plain: unknown;
  try {
    exact = parsePythonJson(bytes);
    plain = JSON.parse(text);
  } catch (cause) {
    throw new GatewayHttpError(400, 'Invalid JSON body', { cause });
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new GatewayHttpError(400, 'JSON body must be an object');
  }
  return { exact, plain: plain as Record<string, unknown> };
}

const KNOWN_ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function toMessages(raw: unknown): GatewayMessage[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new GatewayHttpError(400, "'messages' must be a non-empty list");
  return raw.map((entry) => {
    if (typeof entry !== 'object' || entry === null)
      throw new GatewayHttpError(400, 'each message must be an object');
    const message = entry as Record<string, unknown>;
    const role = message['role'];
    if (typeof role !== 'string' || !KNOWN_ROLES.has(role)) {
      throw new GatewayHttpError(
        400,
        `Unsupported message role: ${typeof role === 'string' ? role.slice(0, 40) : typeof role}`,
      );
    }
    const out: GatewayMessage = {
      role: role === 'developer' ? 'system' : (role as GatewayMessage['role']),
      content: (message['content'] ?? null) as GatewayMessage['content'],
    };
    if (role === 'assistant' && Array.isArray(message['tool_calls']) && message['tool_calls'].length > 0) {
      out.tool_calls = (message['tool_calls'] as Record<string, unknown>[]).map((call) => {
        const fn = (call['function'] ?? {}) as Record<string, unknown>;
        const args = fn['arguments'];
        return {
          id: String(call['id'] ?? ''),
          type: 'function' as const,
          function: {
            name: String(fn['name'] ?? ''),
            arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
          },
        };
      });
    }
    if (typeof message['tool_call_id'] === 'string') out.tool_call_id = message['tool_call_id'];
    if (typeof message['name'] === 'string') out.name = message['name'];
    return out;
  });
}

function toTools(raw: unknown): GatewayTool[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  return raw.map((tool) => {
    const record = (tool ?? {}) as Record<string, unknown>;
    const fn = record['function'];
    if (typeof fn !== 'object' || fn === null || typeof (fn as { name?: unknown }).name !== 'string') {
      throw new GatewayHttpError(400, 'each tool needs a function with a name');
    }
    return {
      type: typeof record['type'] === 'string' ? record['type'] : 'function',
      function: fn as GatewayTool['function'],
    };
  });
}

function toStop(raw: unknown): string[] | undefined {
  if (typeof raw === 'string' && raw !== '') return [raw];
  if (Array.isArray(raw) && raw.length > 0 && raw.every((item) => typeof item === 'string'))
    return raw as string[];
  return undefined;
}

function effectiveTemperature(model: ModelConfig, requested: unknown, fallback: number): number | undefined {
  if (model.supportsTemperature === false) return undefined;
  if (model.forceTemperature !== undefined) return model.forceTemperature;
  if (requested === undefined || requested === null) return fallback;
  const value = Number(requested);
  if (!Number.isFinite(value)) throw new GatewayHttpError(400, "'temperature' must be a number");
  return value;
}

function maxTokensOf(raw: unknown, fallback: number): number {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1) {
    throw new GatewayHttpError(400, "'max_tokens' must be a positive integer");
  }
  return raw;
}

function canonicalOrFail<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (TeeSigningError.isInstance(error))
      throw new GatewayHttpError(400, 'Request cannot be canonicalised', { cause: error });
    throw error;
  }
}

function mentionsJson(messages: GatewayMessage[]): boolean {
  return messages.some((message) => {
    const text =
      typeof message.content === 'string' ? message.content : JSON.stringify(message.content ?? '');
    return text.toLowerCase().includes('json');
  });
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

  const state = {
    initialized: config.simulate,
    keysInjected: false,
    providerKeys: new Map<ProviderId, string>(),
    facilitatorUrl: config.facilitator_url,
    heartbeat: undefined as Heartbeat | undefined,
    gate: undefined as PaymentGate | undefined,
    nitridingRegistered: false,
  };
  if (config.x402_enabled && config.simulate) state.gate = paymentGateFactory(state.facilitatorUrl);
  const simulated = createSimulatedAdapter();

  const baseUrlOf = (provider: ProviderId): string =>
    ({
      openai: config.openai_base_url,
      'x-ai': config.xai_base_url,
      bytedance: config.bytedance_base_url,
      nous: config.nous_base_url,
      zai: config.zai_base_url,
      openrouter: config.openrouter_base_url,
      anthropic: config.anthropic_base_url,
      google: config.google_base_url,
    })[provider];

  const adapterFor = (model: ModelConfig): ProviderAdapter => {
    const apiKey = state.providerKeys.get(model.provider);
    if (apiKey === undefined) {
      // The simulator never stands in next to real providers: once any provider key is injected, an
      // unconfigured provider is an error, not a simulated answer.
      if (config.simulate && state.providerKeys.size === 0) return simulated;
      throw new GatewayHttpError(503, `Provider '${model.provider}' is not configured`);
    }
    const endpoint = { baseUrl: baseUrlOf(model.provider), apiKey, fetch };
    if (model.provider === 'anthropic') return createAnthropicAdapter(endpoint);
    if (model.provider === 'google') return createGeminiAdapter(endpoint);
    return createOpenAiCompatibleAdapter(endpoint, model.provider);
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
    if (error instanceof GatewayHttpError) return errorResponse(c, error);
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

  app.get('/health', (c) =>
    json(
      c,
      {
        status: 'OK',
        version: GATEWAY_VERSION,
        tee_enabled: state.nitridingRegistered || config.nitriding_url !== undefined,
        price_feed: priceFeed.status(),
        uptime_seconds: Math.max(0, Math.floor((now() - startedAt) / 1000)),
        providers: [...state.providerKeys.keys()],
        facilitator_url: state.facilitatorUrl,
      },
      200,
    ),
  );

  app.get('/signing-key', (c) =>
    json(
      c,
      {
        public_key: signer.publicKeyPem,
        tee_id: signer.teeId,
        wallet_address: walletAddress,
        timestamp: new Date(now()).toISOString(),
        enclave_info: { platform: 'aws-nitro', instance_type: 'tee-enabled', version: GATEWAY_VERSION },
        measurements: null,
      },
      200,
    ),
  );

  app.get('/enclave/attestation', async (c) => {
    if (config.nitriding_url === undefined) {
      return json(
        c,
        {
          error:
            'Attestation unavailable: not running inside an AWS Nitro Enclave and no nitriding URL is configured',
        },
        503,
      );
    }
    const query = new URL(c.req.url).search;
    let upstream: Response;
    try {
      upstream = await fetch(`${config.nitriding_url}/enclave/attestation${query}`, {
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      return json(
        c,
        {
          error: `Attestation unavailable: nitriding at ${config.nitriding_url} is unreachable${typeof code === 'string' ? ` (${code})` : ''}`,
        },
        503,
      );
    }
    const body = await upstream.arrayBuffer();
    const headers = new Headers();
    const type = upstream.headers.get('content-type');
    if (type) headers.set('content-type', type);
    return new Response(body, { status: upstream.status, headers });
  });

  app.get('/heartbeat/status', (c) =>
    json(c, state.heartbeat ? state.heartbeat.status() : { enabled: false }, 200),
  );

  app.post('/v1/keys', async (c) => {
    const peer = peerAddress(c);
    const forwarded = ['forwarded', 'x-forwarded-for', 'x-real-ip'].some(
      (name) => c.req.header(name) !== undefined,
    );
    if (!isLoopbackAddress(peer) || forwarded) {
      logger.warn({ peer: peer ?? 'unknown', forwarded }, 'refused /v1/keys from a non-loopback peer');
      return json(c, { error: 'Provider keys can only be set from a loopback address' }, 403);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return json(c, { error: 'JSON body required' }, 400);
    }
    const facilitatorField = (body as Record<string, unknown>)['facilitator_url'];
    if (
      facilitatorField !== undefined &&
      facilitatorField !== null &&
      facilitatorField !== '' &&
      (typeof facilitatorField !== 'string' || !isHttpUrl(facilitatorField))
    ) {
      return json(c, { error: 'facilitator_url must be an http(s) URL without credentials' }, 400);
    }
    // Single atomic guard: JS runs this block without interleaving.
    if (state.keysInjected) return json(c, { error: 'Provider keys have already been initialized' }, 409);
    state.keysInjected = true;
    const record = body as Record<string, unknown>;
    const providers: ProviderId[] = [];
    for (const [field, provider] of Object.entries(PROVIDER_KEY_FIELDS)) {
      const value = record[field];
      if (typeof value === 'string' && value.trim() !== '') {
        state.providerKeys.set(provider, value.trim());
        providers.push(provider);
      }
    }
    const facilitator = record['facilitator_url'];
    if (typeof facilitator === 'string' && facilitator !== '') {
      state.facilitatorUrl = facilitator.replace(/\/+$/, '');
    } else if (state.facilitatorUrl === undefined) {
      state.facilitatorUrl = DEFAULT_FACILITATOR_URL;
    }
    const intOr = (value: unknown, fallback: number) => {
      const parsed =
        typeof value === 'number'
          ? value
          : typeof value === 'string'
            ? Number.parseInt(value, 10)
            : Number.NaN;
      return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : fallback;
    };
    const contract = record['heartbeat_contract_address'];
    if (typeof contract === 'string' && /^0x[0-9a-fA-F]{40}$/.test(contract)) {
      state.heartbeat?.stop();
      state.heartbeat = startHeartbeat(
        {
          facilitatorUrl: state.facilitatorUrl,
          contractAddress: contract,
          intervalSeconds: intOr(record['tee_heartbeat_interval'], 900),
          bufferSeconds: intOr(record['tee_heartbeat_buffer'], 300),
          signer,
          fetch,
          now,
          logger,
        },
        walletAddress,
      );
    }
    if (config.x402_enabled) {
      (state.gate as { close?: () => void } | undefined)?.close?.();
      state.gate = paymentGateFactory(state.facilitatorUrl);
    }
    state.initialized = true;
    logger.info({ providers }, 'provider keys initialized');
    return json(
      c,
      { status: 'ok', providers_initialized: providers, heartbeat_enabled: state.heartbeat !== undefined },
      200,
    );
  });

  /**
   * Runs the inference gate before the body is read: initialised, JSON content type, payment (header checks and
   * the facilitator's `/verify`). An early answer closes the connection instead of reading the upload.
   */
  const gateInference = async (c: Context, unsupportedBody: Record<string, unknown>) => {
    if (!state.initialized)
      return { early: closeIfBodyUnread(c, json(c, { error: 'Gateway not initialized' }, 503)) };
    if (!isJsonContentType(c.req.header('content-type'))) {
      return { early: closeIfBodyUnread(c, json(c, unsupportedBody, 415)) };
    }
    let ticket: PaymentTicket | undefined;
    if (config.x402_enabled) {
      const gate = state.gate;
      if (!gate) {
        const error = { error: 'Payment is required but no payment gate is configured' };
        return { early: closeIfBodyUnread(c, json(c, error, 503)) };
      }
      const decision = await gate.authorize({
        method: c.req.method,
        path: c.req.path,
        url: c.req.url,
        headers: c.req.raw.headers,
      });
      if (decision.kind === 'deny') return { early: closeIfBodyUnread(c, decision.response) };
      ticket = decision.ticket;
    }
    return { ticket };
  };

  const modelOf = (name: unknown): ModelConfig => {
    const model = typeof name === 'string' ? getModelConfig(name) : undefined;
    if (!model)
      throw new GatewayHttpError(
        400,
        `Model '${typeof name === 'string' ? name.slice(0, 100) : ''}' is not supported`,
      );
    return model;
  };

  const priceReady = () => {
    try {
      priceFeed.getPrice();
    } catch (error) {
      throw new GatewayHttpError(
        503,
        `Pricing unavailable: ${error instanceof Error ? error.message : 'no price'}`,
      );
    }
  };

  const finishBuffered = async (
    c: Context,
    ticket: PaymentTicket | undefined,
    body: Record<string, unknown>,
    tee: TeeSignatureFields,
    model: ModelConfig,
    usage: Usage | undefined,
    requestJson: unknown,
  ) => {
    const headers: Record<string, string> = { ...(ticket?.headers() ?? {}) };
    if (ticket) {
      Object.assign(
        headers,
        await ticket.complete({ status: 200, model, usage, tee, requestJson, responseJson: body }),
      );
      if (ticket.settlementType === 'individual') Object.assign(headers, teeSignatureHeaders(tee));
    }
    return json(c, body, 200, headers);
  };

  app.post('/v1/chat/completions', async (c) => {
    const gated = await gateInference(c, {
      error: 'Unsupported Media Type',
      message: 'Request must be application/json',
    });
    if (gated.early) return gated.early;
    const ticket = gated.ticket;
    priceReady();
    const { exact, plain } = await readBody(c);
    const model = modelOf(plain['model']);
    const messages = toMessages(plain['messages']);
    const canonical = canonicalOrFail(() => buildChatCanonicalRequest(exact, { includeWebSearch: false }));
    const tools = toTools(plain['tools']);
    let responseFormat: Record<string, unknown> | undefined;
    const rawFormat = plain['response_format'];
    if (
      typeof rawFormat === 'object' &&
      rawFormat !== null &&
      (rawFormat as { type?: unknown }).type !== 'text'
    ) {
      responseFormat = rawFormat as Record<string, unknown>;
      if (responseFormat['type'] === 'json_object') {
        if (model.provider === 'anthropic') {
          throw new GatewayHttpError(
            400,
            "response_format 'json_object' is not supported for Anthropic models; use 'json_schema'",
          );
        }
        if (!mentionsJson(messages)) messages.unshift({ role: 'system', content: 'Respond in JSON format.' });
      }
    }
    const request: ProviderChatRequest = {
      model,
      messages,
      temperature: effectiveTemperature(model, plain['temperature'], 0),
      maxTokens: maxTokensOf(plain['max_tokens'], 4096),
      tools,
      responseFormat,
      stop: toStop(plain['stop']),
      signal: c.req.raw.signal,
    };
    const adapter = adapterFor(model);
    const modelEcho = plain['model'] as string;

    if (plain['stream'] === true) {
      const encoder = new TextEncoder();
      const headers: Record<string, string> = {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        ...(ticket?.headers() ?? {}),
      };
      const frame = (value: unknown) => encoder.encode(`data: ${JSON.stringify(value)}\n\n`);
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          let text = '';
          const calls: ProviderToolCall[] = [];
          let usage: Usage | undefined;
          try {
            for await (const event of adapter.stream(request)) {
              if (event.type === 'text') {
                text += event.text;
                controller.enqueue(
                  frame({
                    choices: [
                      { delta: { content: event.text, role: 'assistant' }, index: 0, finish_reason: null },
                    ],
                    model: modelEcho,
                  }),
                );
              } else if (event.type === 'tool_call') {
                const [call] = buildGatewayToolCalls([event.call]);
                calls.push(event.call);
                controller.enqueue(
                  frame({
                    choices: [
                      {
                        delta: { tool_calls: [{ index: calls.length - 1, ...call }], role: 'assistant' },
                        index: 0,
                        finish_reason: null,
                      },
                    ],
                    model: modelEcho,
                  }),
                );
              } else {
                usage = event.usage;
              }
            }
            const finishReason = calls.length > 0 ? 'tool_calls' : 'stop';
            const output = calls.length > 0 ? toolCallsOutputContent(buildGatewayToolCalls(calls)) : text;
            const tee = await signer.signResponse({ canonicalRequest: canonical, responseContent: output });
            const final: Record<string, unknown> = {
              choices: [{ delta: {}, index: 0, finish_reason: finishReason }],
              model: modelEcho,
              ...tee,
            };
            if (usage) final['usage'] = usage;
            controller.enqueue(frame(final));
            controller.enqueue(encoder.encode('data: [DONE]\n\n'));
            controller.close();
            if (ticket) {
              await ticket
                .complete({ status: 200, model, usage, tee, requestJson: plain, responseJson: final })
                .catch((error: unknown) =>
                  logger.error({ err: errorForLog(error) }, 'payment accounting failed'),
                );
            }
          } catch (error) {
            logger.error({ err: errorForLog(error) }, 'stream processing failed');
            try {
              controller.enqueue(frame({ error: 'Stream processing failed' }));
              controller.close();
            } catch {
              // client already gone
            }
          }
        },
      });
      return new Response(stream, { status: 200, headers });
    }

    const result = await adapter.chat(request);
    const toolCalls = buildGatewayToolCalls(result.toolCalls);
    const output = toolCalls.length > 0 ? toolCallsOutputContent(toolCalls) : result.content;
    const tee = await signer.signResponse({ canonicalRequest: canonical, responseContent: output });
    const message: Record<string, unknown> = { role: 'assistant', content: result.content };
    if (toolCalls.length > 0) message['tool_calls'] = toolCalls;
    const body: Record<string, unknown> = {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      created: tee.tee_timestamp,
      model: modelEcho,
      choices: [{ index: 0, message, finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop' }],
    };
    if (result.usage) body['usage'] = result.usage;
    Object.assign(body, tee);
    return finishBuffered(c, ticket, body, tee, model, result.usage, plain);
  });

  app.post('/v1/completions', async (c) => {
    const gated = await gateInference(c, { error: 'Request must be application/json' });
    if (gated.early) return gated.early;
    const ticket = gated.ticket;
    priceReady();
    const { exact, plain } = await readBody(c);
    const model = modelOf(plain['model']);
    const prompt = plain['prompt'];
    if (typeof prompt !== 'string') throw new GatewayHttpError(400, "'prompt' must be a string");
    const canonical = canonicalOrFail(() => buildCompletionsCanonicalRequest(exact));
    const temperatureRaw = 'temperature' in plain ? plain['temperature'] : 1;
    const request: ProviderChatRequest = {
      model,
      messages: [{ role: 'user', content: prompt }],
      temperature: effectiveTemperature(model, temperatureRaw, 0),
      maxTokens: maxTokensOf(plain['max_tokens'], 16),
      tools: undefined,
      responseFormat: undefined,
      stop: toStop(plain['stop']),
      signal: c.req.raw.signal,
    };
    const result = await adapterFor(model).chat(request);
    const tee = await signer.signResponse({ canonicalRequest: canonical, responseContent: result.content });
    const body: Record<string, unknown> = {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      created: tee.tee_timestamp,
      model: plain['model'],
      choices: [{ text: result.content, index: 0, finish_reason: 'stop' }],
      usage: result.usage ?? null,
      ...tee,
    };
    return finishBuffered(c, ticket, body, tee, model, result.usage, plain);
  });

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
