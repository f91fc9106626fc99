import {
  BEARER_FAILURE_MESSAGES,
  CLIENT_CLOSED_REQUEST,
  checkBearer,
  closeIfBodyUnread,
  errorForLog,
  escapeControlCharacters,
  type FetchFunction,
  isClientAbort,
  type Logger,
  type NodeRequestHandler,
  observeRequests,
  type RequestFunction,
  requestIdMiddleware,
} from '@confidential-ai/server-kit';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ProxyConfig } from './config.js';
import { ApiError, type ErrorEnvelope, errorEnvelope, ProxyServerError } from './errors.js';
import type { ModelKeys } from './keys.js';
import type { ProxyMetrics } from './metrics.js';

import type { ResponseSigner } from './signing.js';
import type { ReplayStore, SignatureStore } from './stores.js';

/** One upstream the routes call: resolved base URL (no trailing slash) and the fetch to reach it. */
export interface Upstream {
  /** Base URL without trailing slash and without `/v1`. */
  readonly baseUrl: string;
  /** The fetch used for this upstream (pooled undici, or createChutesFetch for Chutes E2EE). */
  readonly fetch: FetchFunction;
  /**
   * Optional cheaper call for the completion routes (same pool and timeouts as `fetch`); when absent they use
   * `fetch`.
   */
  readonly request?: RequestFunction;
}

/**
 * Everything the routes need, already built (no side effects in {@link createApp}): tests pass fakes, the
 * server entry passes the real adapters.
 */
export interface AppDependencies {
  /** The validated configuration. */
  readonly config: ProxyConfig;
  /** pino logger (redacting). */
  readonly logger: Logger;
  /** Prometheus instruments. */
  readonly metrics: ProxyMetrics;
  /** Instance keys (E2EE model keys and signing keys). */
  readonly keys: ModelKeys;
  /** Signs `request_hash:response_hash` texts with both algorithms. */
  readonly signer: ResponseSigner;
  /** Single-use E2EE v2 nonce claims. */
  readonly replayStore: ReplayStore;
  /** Signature records by chat id. */
  readonly signatureStore: SignatureStore;
  /** The vLLM backend. */
  readonly vllm: Upstream;
  /** The Chutes backend (used only when `chutes.enabled`). */
  readonly chutes: Upstream;
  /**
   * The TEST trust anchor of the built-in simulated Chutes server (`chutes.simulate`), set by `startServer`: the
   * chain route verifies that server's GPU evidence against it, for that server only (and says so in its receipt).
   * A function: the simulator makes its whole test PKI on first use (after the ready line), not at start-up.
   */
  readonly embeddedChutes?: { readonly nvidiaRoot: () => Promise<Uint8Array> };
  /** Clock in ms since the epoch (tests). Default `Date.now`. */
  readonly now?: () => number;
}

/** Hono environment of every route module: the dependencies are typed on `c.var.deps`. */
export interface AppEnv {
  Variables: { deps: AppDependencies; requestId: string };
}

/**
 * A route module: builds a sub-app that {@link createApp} mounts at `/`. A module mounted at the root may also
 * carry a direct node:http handler for its hottest routes (`fastPath`), which the composed server's listener tries
 * before the Hono app (the vllm-proxy face's completion routes); it must answer exactly as the module's Hono routes would,
 * and decline (leave to Hono) whatever it cannot.
 */
export interface RouteModule {
  (deps: AppDependencies): Hono<AppEnv>;
  /** Builds the module's node:http fast path (only used where the module is mounted at the root). */
  readonly fastPath?: (deps: AppDependencies) => NodeRequestHandler;
}

/**
 * Serves a route module below a path prefix (its routes keep their own paths under it): how the composed server
 * puts faces that also own `/v1/chat/completions` next to each other.
 * @example
 * ```ts
 * createApp(deps, { modules: [vllmProxyRoutes, mountAt('/tee-gateway', teeGatewayRouteModule(gateway))] });
 * ```
 */
export function mountAt(prefix: string, module: RouteModule): RouteModule {
  return (deps) => {
    const router = new Hono<AppEnv>();
    router.route(prefix, module(deps));
    return router;
  };
}

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /**
   * Route modules to mount, in order (e.g. `[vllmProxyRoutes, chutesSidecarRoutes]`). Later parts of the
   * toolkit (TEE gateway, Venice proxy) are further modules that can be mounted alone or together.
   */
  modules: readonly RouteModule[];
  /**
   * Other faces, each under its own prefix (e.g. `mountAt('/tee-gateway', teeGatewayRouteModule(gateway))`). They
   * are mounted before this app's middleware, so their own middleware, body limit, metrics and error shape serve
   * every path below their prefix (unknown ones included); only the request id is shared.
   */
  faces?: readonly RouteModule[];
}

/** The HTTP status an error answer is sent with: its own when it is 4xx/5xx, else 500. */
export function errorStatusOf(status: number): ContentfulStatusCode {
  return (status >= 400 && status <= 599 ? status : 500) as ContentfulStatusCode;
}

/**
 * The OpenAI error envelope of `error`, whose message and param never carry control or bidirectional-control
 * characters (they can quote client input): see {@link escapeControlCharacters}.
 */
export function errorEnvelopeOf(error: ApiError): ErrorEnvelope {
  const param = error.param === null ? null : escapeControlCharacters(error.param);
  return errorEnvelope(escapeControlCharacters(error.message), error.type, param);
}

/** Sends the OpenAI error envelope ({@link errorEnvelopeOf}) and counts it in `errors_total`. */
export function sendError(c: Context<AppEnv>, error: ApiError): Response {
  c.var.deps?.metrics.errors.inc({ type: error.type });
  return c.json(
    errorEnvelopeOf(error),
    errorStatusOf(error.status),
    error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) },
  );
}

/**
 * What the client is told when a request failed with `error` (the error handler of every request adapter): an
 * {@link ApiError} as it is, 499 `client_closed_request` when the client went away (`clientAborted`), 503
 * `replay_store_unavailable`, a Hono `HTTPException` by its status, anything else 500 `internal_error` without its
 * message (it could carry secrets). Logs what the operator needs (never the message of an unknown error's client
 * input).
 */
export function apiErrorOf(
  error: unknown,
  clientAborted: boolean,
  logger: Logger,
  requestId: string | undefined,
  method: string,
): ApiError {
  const apiError =
    error instanceof ApiError || (ProxyServerError.isInstance(error) && error.code === 'ERR_API');
  if ((apiError && (error as ApiError).type === CLIENT_CLOSED_REQUEST.type) || (!apiError && clientAborted)) {
    // The client went away (mid-upload, or while the upstream was answering): nobody reads this answer.
    logger.info({ reqId: requestId, method }, 'client closed the request');
    return new ApiError(
      CLIENT_CLOSED_REQUEST.status,
      CLIENT_CLOSED_REQUEST.type,
      'The client closed the request',
    );
  }
  if (apiError) return error as ApiError;
  if (ProxyServerError.isInstance(error) && error.code === 'ERR_REPLAY_STORE_UNAVAILABLE') {
    logger.error({ reqId: requestId }, 'replay store unavailable');
    return new ApiError(503, 'replay_store_unavailable', 'Replay protection store is unavailable');
  }
  if (error instanceof HTTPException) {
    const type = error.status === 401 ? 'authentication_error' : 'invalid_request_error';
    return new ApiError(error.status, type, error.message || 'Request failed');
  }
  logger.error({ reqId: requestId, err: errorForLog(error) }, 'unhandled error');
  return new ApiError(500, 'internal_error', 'Internal server error');
}

/**
 * Bearer authentication against `auth.token` (§1.3), answered in the OpenAI envelope (D10): missing or
 * non-Bearer header → 401 "Invalid or missing Authorization header"; mismatch or unset token → 401
 * "Invalid token". The comparison is constant-time.
 */
export function requireBearer(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const result = checkBearer(c.req.header('authorization'), c.var.deps.config.auth.token);
    if (result !== 'ok') throw new ApiError(401, 'authentication_error', BEARER_FAILURE_MESSAGES[result]);
    await next();
  };
}

/**
 * Builds the Hono app from route modules. Middleware order: request id, then the other faces (`faces`, with their
 * own middleware), then access log + metrics, body-size limit and the modules (each applies its own auth). One `onError` turns every failure into the OpenAI error
 * envelope; unknown errors become 500 `internal_error` without their message (it could carry secrets).
 *
 * @example
 * ```ts
 * const app = createApp(deps, { modules: [vllmProxyRoutes, chutesSidecarRoutes] });
 * const response = await app.request('/v1/models');
 * ```
 */
export function createApp(deps: AppDependencies, options: CreateAppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { logger, metrics } = deps;

  // Every response of every face carries X-Request-Id.
  app.use('*', requestIdMiddleware());
  // The other faces first: their own middleware, body limits, metrics and error shapes answer their routes, and the
  // middleware below (this face's) never runs for them.
  for (const face of options.faces ?? []) app.route('/', face(deps));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use('*', observeRequests({ logger, metrics }));
  const maxRequestBytes = deps.config.server.maxRequestBytes;
  const tooLarge = (): never => {
    throw new ApiError(413, 'request_too_large', `Request body exceeds ${maxRequestBytes} bytes`);
  };
  const limitBody = bodyLimit({ maxSize: maxRequestBytes, onError: tooLarge });
  app.use('*', (c, next) => {
    // Same decisions as hono's bodyLimit, without its `c.req.raw.body` probe (on @hono/node-server that builds a
    // full WHATWG Request and a web stream over the socket per request): bodiless methods pass, a declared
    // Content-Length (without Transfer-Encoding) is checked up front, anything else goes to bodyLimit, which
    // counts the bytes as they arrive.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD' || method === 'TRACE') return next();
    const headers = c.req.raw.headers;
    if (!headers.has('transfer-encoding')) {
      const length = headers.get('content-length');
      if (length !== null) return Number.parseInt(length || '0', 10) > maxRequestBytes ? tooLarge() : next();
    }
    return limitBody(c, next);
  });

  for (const module of options.modules) app.route('/', module(deps));

  app.notFound((c) =>
    sendError(c, new ApiError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError((error, c) => {
    const apiError = apiErrorOf(error, isClientAbort(c.req.raw), logger, c.var.requestId, c.req.method);
    const response = sendError(c, apiError);
    // 401 comes from the access check, which runs before any body is read: do not read the upload.
    return apiError === error && apiError.status === 401 ? closeIfBodyUnread(c, response) : response;
  });
  return app;
}
