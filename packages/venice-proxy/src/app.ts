import {
  BEARER_FAILURE_MESSAGES,
  CLIENT_CLOSED_REQUEST,
  checkBearer,
  closeIfBodyUnread,
  createMetrics,
  createSilentLogger,
  errorForLog,
  exceedsJsonDepth,
  handleErrors,
  isClientAbort,
  JSON_TOO_DEEP,
  MAX_JSON_DEPTH,
  metricsResponse,
  observeRequests,
  requestIdMiddleware,
} from '@confidential-ai/server-kit';
import {
  buildUpstreamBody,
  type ChatCompletionChunk,
  type ChatRequest,
  generateFieldKeyPair,
  getFieldPublicKey,
  proxyResponseHeaders,
  renderMessages,
  validateChatRequest,
} from '@confidential-ai/venice-e2ee';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { baseRoutePath } from 'hono/route';
import { parseAttestationQuery, relayAttestation } from './attestation-relay.js';
import { createVeniceProxyClient, type VeniceProxyDependencies, withReadTimeout } from './client.js';
import { veniceErrorResponse } from './error-response.js';
import { VeniceProxyHttpError } from './errors.js';

export {
  createVeniceProxyClient,
  type VeniceAttestationOverrides,
  type VeniceProxyDependencies,
  withReadTimeout,
} from './client.js';
export { veniceErrorResponse } from './error-response.js';

const VISIBLE_ASCII = /^[\t\x20-\x7e]*$/;

/**
 * The `X-Venice-Proxy-*` headers, with values that are not visible ASCII (e.g. a `metadata.session_id` with
 * non-ASCII characters or line breaks) percent-encoded so they can never break or inject headers. Besides the
 * reference's headers, `X-Venice-Proxy-Model-Public-Key` (the attested model key this answer was encrypted to,
 * 65-byte uncompressed secp256k1, hex) and `X-Venice-Proxy-Model-Address` (its Keccak address), so that a client
 * can attest the model itself through `GET /v1/tee/attestation` with its own nonce and compare the keys.
 */
function responseHeaders(info: Parameters<typeof proxyResponseHeaders>[0]): Record<string, string> {
  const headers: Record<string, string> = {
    ...proxyResponseHeaders(info),
    'x-venice-proxy-model-public-key': info.attestation.publicKeyHex,
    'x-venice-proxy-model-address': info.attestation.signingAddress,
  };
  for (const [name, value] of Object.entries(headers)) {
    if (!VISIBLE_ASCII.test(value)) headers[name] = encodeURIComponent(value);
  }
  return headers;
}
/** Largest accepted chat body (axum's default limit). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The name prefix of the Venice proxy's Prometheus instruments. */
export const VENICE_PROXY_METRICS_PREFIX = 'venice_proxy_';
const encoder = new TextEncoder();

/** Paths (below the mount prefix) every client may GET without the token. */
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/health', '/metrics']);

/** The request path below the prefix the app is mounted at (`/venice` in the composed server). */
function localPath(c: Context): string {
  const base = baseRoutePath(c).replace(/\/+$/, '');
  return base !== '' && c.req.path.startsWith(base) ? c.req.path.slice(base.length) || '/' : c.req.path;
}

/**
 * Creates the Venice E2EE proxy as a Hono app (the job of the `venice-e2ee-proxy` crate 0.1.1, with the
 * project decisions of the spec): `GET /v1/models` lists Venice text models with E2EE and TEE attestation,
 * `POST /v1/chat/completions` validates the request like the reference, resolves the session, attests the
 * model (cached per session), encrypts every message, decrypts the stream and emulates tools;
 * `GET /v1/tee/attestation?model=&nonce=` relays Venice's model attestation unchanged, for clients that check it
 * with their own nonce. Other methods on those paths answer 405 `method_not_allowed`, other paths 404
 * `not_found` (the crate's envelope, also when mounted below a prefix). Added by this project: `GET /health` and
 * `GET /metrics` (`venice_proxy_*`, unless a shared registry is given), both without the client token, and
 * `X-Request-Id` on every response.
 *
 * Mount it alone (`serve({ fetch: app.fetch })`) or under a prefix of a composed server
 * (`root.route('/venice', app)`).
 * @example
 * ```ts
 * const app = createVeniceProxyApp({ config: loadVeniceProxyConfig({ path: 'venice.toml' }) });
 * const response = await app.request('/v1/models');
 * ```
 */
export function createVeniceProxyApp(deps: VeniceProxyDependencies): Hono {
  const { config } = deps;
  const logger = deps.logger ?? createSilentLogger();
  const metrics = createMetrics({
    prefix: VENICE_PROXY_METRICS_PREFIX,
    ...(deps.metricsRegistry ? { registry: deps.metricsRegistry } : {}),
  });
  const ownMetricsRoute = deps.metricsRegistry === undefined;
  const client = deps.client ?? createVeniceProxyClient(deps);
  const toolMode = config.tools.enabled ? config.tools.mode : 'none';
  const sessionHeader = config.session.headers.incomingSessionId;
  // A throwaway key used only to run the venice_parameters checks before attestation (spec 5.4.1 order).
  const probeKey = getFieldPublicKey(generateFieldKeyPair('secp256k1').privateKey);
  const app = new Hono();

  const fail = (c: Context, error: unknown): Response => {
    if (!(error instanceof VeniceProxyHttpError) && isClientAbort(c.req.raw)) {
      // The client went away (mid-upload, or while Venice was answering): not an upstream or server failure.
      logger.info({ method: c.req.method, path: c.req.path }, 'client closed the request');
      error = new VeniceProxyHttpError(
        CLIENT_CLOSED_REQUEST.status,
        'invalid_request_error',
        CLIENT_CLOSED_REQUEST.type,
        'client closed the request',
      );
    }
    const { status, code, body } = veniceErrorResponse(error);
    metrics.errors.inc({ type: code });
    if (status >= 500) {
      logger.warn(
        { method: c.req.method, path: c.req.path, status, code, err: errorForLog(error) },
        'venice proxy request failed',
      );
    }
    return new Response(JSON.stringify(body), {
      status,
      headers: {
        'content-type': 'application/json',
        'x-venice-proxy-error-code': code,
        'x-venice-proxy-attestation-mode': config.attestation.mode,
      },
    });
  };

  const methodNotAllowed = (c: Context) =>
    fail(
      c,
      new VeniceProxyHttpError(
        405,
        'invalid_request_error',
        'method_not_allowed',
        `method ${c.req.method} is not supported for ${c.req.path}`,
      ),
    );

  app.use('*', requestIdMiddleware());
  app.use(
    '*',
    observeRequests({
      logger,
      metrics,
      message: 'venice request',
      fields: (c) => ({ code: c.res.headers.get('x-venice-proxy-error-code') ?? undefined }),
    }),
  );

  if (deps.requireClientToken ?? deps.clientToken !== undefined) {
    // Access first, body later: an unauthenticated upload is answered before a byte of it is read.
    app.use('*', async (c, next) => {
      // Liveness and the scrape are public, as in the vllm-proxy reference (and hold nothing of a client).
      if ((c.req.method === 'GET' || c.req.method === 'HEAD') && PUBLIC_PATHS.has(localPath(c)))
        return next();
      const result = checkBearer(c.req.header('authorization'), deps.clientToken);
      if (result === 'ok') return next();
      const error = new VeniceProxyHttpError(
        401,
        'authentication_error',
        'unauthorized',
        BEARER_FAILURE_MESSAGES[result],
      );
      return closeIfBodyUnread(c, fail(c, error));
    });
  }

  app.get('/health', (c) => c.json({ status: 'ok' }));
  if (ownMetricsRoute) app.get('/metrics', () => metricsResponse(metrics.registry));

  app.all('/v1/models', async (c) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return methodNotAllowed(c);
    try {
      const data = await client.listModels({ signal: c.req.raw.signal });
      return new Response(c.req.method === 'HEAD' ? null : JSON.stringify({ object: 'list', data }), {
        status: 200,
        headers: {
          'content-type': 'application/json',
          'x-venice-proxy-attestation-mode': config.attestation.mode,
          'x-venice-proxy-tool-mode': toolMode,
        },
      });
    } catch (error) {
      return fail(c, error);
    }
  });

  const relayFetch = withReadTimeout(
    deps.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    config.venice.requestTimeoutMs,
  );
  app.all('/v1/tee/attestation', async (c) => {
    if (c.req.method !== 'GET') return methodNotAllowed(c);
    const query = parseAttestationQuery(new URL(c.req.url).searchParams);
    if (!query) {
      return fail(
        c,
        new VeniceProxyHttpError(
          400,
          'invalid_request_error',
          'invalid_attestation_query',
          'model (non-empty) and nonce (32 bytes as 64 hex characters) are required',
        ),
      );
    }
    try {
      return await relayAttestation({ config, fetch: relayFetch }, query, c.req.raw.signal);
    } catch (error) {
      return fail(c, error);
    }
  });

  // axum's default request body limit (2 MiB), answered like axum with a plain-text 413.
  app.use(
    '/v1/chat/completions',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.text('Failed to buffer the request body: length limit exceeded', 413),
    }),
  );

  app.all('/v1/chat/completions', async (c) => {
    if (c.req.method !== 'POST') return methodNotAllowed(c);
    const contentType = c.req.header('content-type') ?? '';
    if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim())) {
      return c.text('Expected request with `Content-Type: application/json`', 415);
    }
    let text: string;
    try {
      text = await c.req.text();
    } catch (error) {
      if (isClientAbort(c.req.raw)) return fail(c, error);
      throw error;
    }
    if (exceedsJsonDepth(text)) {
      return fail(
        c,
        new VeniceProxyHttpError(
          400,
          'invalid_request_error',
          JSON_TOO_DEEP,
          `request body nests deeper than ${MAX_JSON_DEPTH} levels`,
        ),
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return c.text('Failed to parse the request body as JSON', 400);
    }
    try {
      // 1. Validate everything that does not need the model key.
      const request: ChatRequest = validateChatRequest(body);
      renderMessages(request.messages);
      buildUpstreamBody(request, [], { modelPublicKey: probeKey, hkdfInfo: config.e2ee.hkdfInfo });
      // 2. The proxy instance key.
      if (!config.keys.generateProxyInstanceKeyOnStartup) {
        throw new VeniceProxyHttpError(
          500,
          'proxy_configuration_error',
          'proxy_instance_key_unavailable',
          'proxy instance key is not available (keys.generate_proxy_instance_key_on_startup = false)',
        );
      }
      // 3. The session id from the configured header (metadata and fallback are resolved by the client).
      const raw = c.req.header(sessionHeader);
      let sessionId: string | undefined;
      if (raw !== undefined) {
        if (!VISIBLE_ASCII.test(raw)) {
          throw new VeniceProxyHttpError(
            400,
            'invalid_request_error',
            'invalid_session_header',
            `header ${sessionHeader} is not valid visible ASCII`,
          );
        }
        sessionId = raw.trim() || undefined;
      }
      const call = { signal: c.req.raw.signal, ...(sessionId ? { sessionId } : {}) };
      if (request.stream !== true) {
        const { completion, info } = await client.createChatCompletion(request, call);
        return new Response(JSON.stringify(completion), {
          status: 200,
          headers: { 'content-type': 'application/json', ...responseHeaders(info) },
        });
      }
      const { stream, info } = await client.streamChatCompletion(request, call);
      const iterator = stream[Symbol.asyncIterator]();
      // Pull the first chunk before answering 200, so that early failures still get the JSON envelope.
      let first: IteratorResult<ChatCompletionChunk> | undefined = await iterator.next();
      const sse = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = first ?? (await iterator.next());
            first = undefined;
            if (next.done) {
              controller.enqueue(encoder.encode('data: [DONE]\n\n'));
              controller.close();
              return;
            }
            controller.enqueue(encoder.encode(`data: ${JSON.stringify(next.value)}\n\n`));
          } catch (error) {
            // Mid-stream failure: terminate the body without an error event and without [DONE] (spec 5.7).
            const { code } = veniceErrorResponse(error);
            logger.warn({ path: c.req.path, code, err: errorForLog(error) }, 'venice stream aborted');
            // Under @hono/node-server, cut the connection directly: erroring the body would make the adapter
            // append "Error: <message>" to the SSE body and print the error on stderr.
            const outgoing = (c.env as { outgoing?: { destroy?: () => void } } | undefined)?.outgoing;
            if (typeof outgoing?.destroy === 'function') {
              outgoing.destroy();
              controller.close();
            } else {
              controller.error(error);
            }
          }
        },
        async cancel() {
          await iterator.return?.(undefined);
        },
      });
      return new Response(sse, {
        status: 200,
        headers: {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          ...responseHeaders(info),
        },
      });
    } catch (error) {
      return fail(c, error);
    }
  });

  handleErrors(app, {
    logger,
    // Every failure gets the crate's envelope; an unexpected one is 502 upstream_stream_error as in the crate.
    known: (error, c) => {
      if (!(error instanceof VeniceProxyHttpError)) {
        logger.error({ err: errorForLog(error) }, 'venice proxy internal error');
      }
      return fail(c, error);
    },
    render: (c, failure) =>
      fail(
        c,
        new VeniceProxyHttpError(
          failure.status,
          'invalid_request_error',
          failure.code,
          failure.code === 'method_not_allowed'
            ? `method ${c.req.method} is not supported for ${c.req.path}`
            : `route ${c.req.path} was not found`,
        ),
      ),
  });
  return app;
}
