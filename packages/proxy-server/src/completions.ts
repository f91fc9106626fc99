import { readStreamPrefix } from '@confidential-ai/bytes';
import {
  Cancellation,
  CLIENT_CLOSED_REQUEST,
  errorForLog,
  exceedsJsonDepth,
  isClientAbort,
  JSON_TOO_DEEP,
  MAX_JSON_DEPTH,
  parseJsonObject,
  type UpstreamReply,
} from '@confidential-ai/server-kit';
import type { Context } from 'hono';
import type { AppDependencies, AppEnv, Upstream } from './app.js';
import {
  decryptChatRequest,
  type E2eeContext,
  e2eeResponseHeaders,
  hasAnyE2eeHeader,
  parseE2eeHeaders,
} from './e2ee.js';
import { encryptChatResponse } from './e2ee-response.js';
import { ApiError } from './errors.js';
import { createSignedEventStream } from './signed-event-stream.js';
import { sha256Hex, signatureRecord } from './signing.js';
import { upstreamFailure } from './upstream-failure.js';

/** Which backend a completion request goes to and how. */
export interface CompletionBackend {
  /** Name for logs and metrics (`vllm`, `chutes`). */
  readonly name: string;
  /** Human name in error messages. */
  readonly label: string;
  /** The upstream (base URL + fetch). */
  readonly upstream: Upstream;
  /** Extra outbound headers (e.g. the Chutes bearer). Never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Map upstream 401/403 to 502 `upstream_auth_failed` (D10, Chutes). */
  readonly mapAuthFailures?: boolean;
  /** Maps an error thrown by the upstream fetch (e.g. a Chutes transport error) before the generic mapping. */
  readonly mapFetchError?: (error: unknown) => ApiError | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });
const MAX_ERROR_BODY = 64 * 1024;

function stripEmptyToolCalls(body: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(body.messages)) return body;
  let changed = false;
  const messages = (body.messages as unknown[]).map((message) => {
    if (typeof message !== 'object' || message === null) return message;
    const record = message as Record<string, unknown>;
    if (Array.isArray(record.tool_calls) && record.tool_calls.length === 0) {
      changed = true;
      const { tool_calls: _removed, ...rest } = record;
      return rest;
    }
    return record;
  });
  return changed ? { ...body, messages } : body;
}

/** Signature-cache key: `<namespace>:chat:<id>` (one flat string, as a stored key is kept for the record's life). */
export function signatureKey(namespace: string, id: string): string {
  return [namespace, 'chat', id].join(':');
}

/** The default signature namespace: `MODEL_NAME`, else the Chutes fallback name (version A). */
export function defaultSignatureNamespace(deps: AppDependencies): string {
  return deps.config.vllm.modelName ?? deps.config.chutes.fallbackModelName;
}

/**
 * The signature records this replica has yet to store, in batches: every response answered in one turn of the event
 * loop joins that turn's batch, stored on the next turn. Not one long-lived map with an entry per response: entries
 * that enter and leave a long-lived Map or Set at the rate of requests stay reachable for V8's young-generation
 * collector (through the map's hash tables in the old generation), which then copies and promotes them.
 */
interface SignatureBatch {
  /** The store operation of each response id in the batch. */
  readonly stores: Map<string, () => Promise<void>>;
  /** Settles when every record of the batch is stored (or its failure logged). */
  readonly stored: Promise<void>;
}

interface PendingSignatures {
  /** The batch of the current turn, until it starts storing. */
  open: SignatureBatch | undefined;
  /** Batches whose records are being stored. */
  readonly storing: Set<SignatureBatch>;
}

const pendingSignatures = new WeakMap<AppDependencies, PendingSignatures>();

function pendingFor(deps: AppDependencies): PendingSignatures {
  let pending = pendingSignatures.get(deps);
  if (!pending) {
    pending = { open: undefined, storing: new Set() };
    pendingSignatures.set(deps, pending);
  }
  return pending;
}

/**
 * Stores the signature record off the response path: the response bytes (already hashed) are written first,
 * then the record is stored on the next turn of the event loop (signed on first read in memory, at write time
 * for Redis: see {@link signatureRecord}). `GET /v1/signature/{id}` on this replica waits for a pending record
 * of that id ({@link awaitPendingSignature}).
 */
function scheduleSignature(deps: AppDependencies, id: string, store: () => Promise<void>): void {
  const pending = pendingFor(deps);
  let batch = pending.open;
  if (batch === undefined) {
    const stores = new Map<string, () => Promise<void>>();
    const stored = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      // Only an absent batch is ever replaced by a new one, so the open batch is still this one.
      pending.open = undefined;
      pending.storing.add(opened);
      await Promise.all(
        Array.from(stores.values(), (run) =>
          run().catch((error: unknown) => {
            deps.logger.error({ err: errorForLog(error) }, 'signing the response failed');
          }),
        ),
      );
      pending.storing.delete(opened);
    });
    const opened: SignatureBatch = { stores, stored };
    batch = pending.open = opened;
  }
  batch.stores.set(id, store);
}

/** Waits for a signature of `id` that this replica is still computing (no-op otherwise). */
export async function awaitPendingSignature(deps: AppDependencies, id: string): Promise<void> {
  const pending = pendingSignatures.get(deps);
  if (pending === undefined) return;
  if (pending.open?.stores.has(id)) return pending.open.stored;
  for (const batch of pending.storing) if (batch.stores.has(id)) return batch.stored;
}

async function storeSignature(
  deps: AppDependencies,
  requestModel: unknown,
  id: string,
  requestHash: string,
  responseHash: string,
): Promise<void> {
  // `join` makes one flat string; a template literal makes a tree of two concatenations over the two hashes, which
  // the record would keep (and the young-generation collector copy) as four objects instead of one.
  const record = signatureRecord(deps.signer, [requestHash, responseHash].join(':'));
  const namespaces = new Set<string>([defaultSignatureNamespace(deps)]);
  if (typeof requestModel === 'string' && requestModel.length > 0) namespaces.add(requestModel);
  const ttl = deps.config.signing.chatCacheExpirationSeconds;
  for (const namespace of namespaces) await deps.signatureStore.put(signatureKey(namespace, id), record, ttl);
}

async function claimNonce(deps: AppDependencies, context: E2eeContext): Promise<void> {
  const window = deps.config.e2ee.replayWindowSeconds;
  const nowSeconds = Math.floor((deps.now ?? Date.now)() / 1000);
  const timestamp = context.timestamp!;
  if (Math.abs(nowSeconds - timestamp) > window) {
    throw new ApiError(400, 'e2ee_invalid_timestamp', 'X-E2EE-Timestamp is outside allowed replay window');
  }
  // D8: the claim lives until timestamp + window has passed, so a future-stamped request cannot be replayed.
  const ttl = Math.max(1, timestamp + window - nowSeconds + 1);
  const key = `${deps.config.vllm.modelName ?? 'unknown'}:e2ee_replay:${context.algo}:${timestamp}:${context.nonce}`;
  const result = await deps.replayStore.claim({
    key,
    ttlSeconds: ttl,
    earliestAcceptSeconds: timestamp - window,
  });
  if (result.outcome === 'replay') {
    throw new ApiError(
      400,
      'e2ee_replay_detected',
      'Replay detected: duplicated X-E2EE-Nonce/X-E2EE-Timestamp',
    );
  }
  if (result.outcome === 'before_known_state') {
    // The store lost claims (restart, flush, eviction) after this request could first have been accepted: it
    // cannot rule out a replay. A new request stamped after knownSince + window is accepted.
    const retryAfter = Math.max(1, result.knownSinceSeconds + window - nowSeconds);
    throw new ApiError(
      503,
      'replay_state_incomplete',
      `Replay protection state is newer than this request's window; send a new request (new nonce and timestamp) in ${retryAfter} s`,
      { retryAfterSeconds: retryAfter },
    );
  }
}

async function readLimited(response: UpstreamReply, limit: number): Promise<string> {
  return decoder.decode(await readStreamPrefix(response.body, limit));
}

function upstreamMessage(text: string): string | undefined {
  const parsed = parseJsonObject(text);
  if (!parsed) return undefined;
  const error = parsed.error;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message;
  }
  if (typeof error === 'string') return error;
  if (typeof parsed.message === 'string') return parsed.message;
  if (typeof parsed.detail === 'string') return parsed.detail;
  return undefined;
}

/**
 * Turns a non-200 upstream response into the client's error (D10): upstream headers are never relayed; Chutes
 * 401/403 become 502 `upstream_auth_failed`; otherwise the upstream status with type `upstream_error` and, in
 * plain mode only, the upstream's error message (in E2EE mode the message could quote plaintext).
 */
export async function upstreamHttpError(
  backend: CompletionBackend,
  response: UpstreamReply,
  exposeMessage: boolean,
): Promise<ApiError> {
  const text = await readLimited(response, MAX_ERROR_BODY);
  if (backend.mapAuthFailures && (response.status === 401 || response.status === 403)) {
    return new ApiError(502, 'upstream_auth_failed', `${backend.label} rejected the configured credentials`);
  }
  const status = response.status >= 400 && response.status <= 599 ? response.status : 502;
  const message =
    (exposeMessage ? upstreamMessage(text)?.slice(0, 2000) : undefined) ??
    `${backend.label} returned HTTP ${response.status}`;
  return new ApiError(status, 'upstream_error', message);
}

function clientClosed(cause: unknown): ApiError {
  return new ApiError(
    CLIENT_CLOSED_REQUEST.status,
    CLIENT_CLOSED_REQUEST.type,
    'The client closed the request',
    {
      cause,
    },
  );
}

/** Reads the whole request body; a client that disconnects meanwhile is a client abort, not a server error. */
async function readRequestBody(c: Context<AppEnv>): Promise<Uint8Array> {
  try {
    return new Uint8Array(await c.req.arrayBuffer());
  } catch (error) {
    if (isClientAbort(c.req.raw)) throw clientClosed(error);
    throw error;
  }
}

/**
 * One completion request as both request adapters hand it over (the Hono route and the node:http fast path of
 * {@link createCompletionFastPath}): the exact body bytes, the headers the exchange reads, and the client's signal.
 */
export interface CompletionRequest {
  /** The request body, byte for byte as received (hashed for the signature unless `requestHash` is given). */
  readonly raw: Uint8Array;
  /** The request id (logs). */
  readonly requestId: string;
  /** The client's `X-Request-Hash` header, when it sent one. */
  readonly requestHash: string | undefined;
  /**
   * The request headers as `Headers` (read for the E2EE headers; may hold only those), or `undefined` when the
   * request carries none of the E2EE headers (plain mode, nothing to parse).
   */
  readonly headers: Headers | undefined;
  /**
   * Aborted when the client disconnects before the response is finished: the Hono request's `AbortSignal`, or the
   * fast path's lighter {@link Cancellation}.
   */
  readonly signal: AbortSignal | Cancellation;
}

/** What a completion answers with on success (status 200); errors are thrown as {@link ApiError}. */
export interface CompletionAnswer {
  /** Response headers (content type, E2EE headers; not the request id). */
  readonly headers: Record<string, string>;
  /** The whole JSON body (non-stream requests). */
  readonly json?: Uint8Array<ArrayBuffer>;
  /** The signed event stream (stream requests). */
  readonly stream?: ReadableStream<Uint8Array>;
}

/** The response headers of a successful event stream (before the E2EE headers). */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
});

/**
 * The shared implementation of `POST /v1/chat/completions`, `POST /v1/completions` and
 * `POST /v1/chutes/chat/completions` as a Hono handler: reads the body, then {@link runCompletion}.
 */
export async function handleCompletion(
  c: Context<AppEnv>,
  backend: CompletionBackend,
  kind: 'chat' | 'completions',
): Promise<Response> {
  const raw = await readRequestBody(c);
  const answer = await runCompletion(c.var.deps, backend, kind, {
    raw,
    requestId: c.var.requestId,
    requestHash: c.req.header('x-request-hash'),
    headers: c.req.raw.headers,
    signal: c.req.raw.signal,
  });
  return new Response(answer.json ?? answer.stream ?? null, { status: 200, headers: answer.headers });
}

/**
 * The exchange behind every completion route, whichever adapter received it: E2EE header parse → JSON → decrypt →
 * claim nonce → strip empty tool calls → forward → encrypt per field / per chunk → hash the exact bytes sent →
 * sign → store (D5).
 * @throws {ApiError} for every failure the client is told about (status, OpenAI error type, message).
 */
export async function runCompletion(
  deps: AppDependencies,
  backend: CompletionBackend,
  kind: 'chat' | 'completions',
  request: CompletionRequest,
): Promise<CompletionAnswer> {
  const { raw, headers } = request;
  let context: E2eeContext | undefined;
  if (headers === undefined) {
    // No E2EE header at all: plain mode on every route.
  } else if (kind === 'completions') {
    if (hasAnyE2eeHeader(headers)) {
      throw new ApiError(400, 'invalid_e2ee_request', 'E2EE is only supported on /v1/chat/completions');
    }
  } else {
    context = parseE2eeHeaders(headers, deps.keys);
  }
  const text = decoder.decode(raw);
  if (exceedsJsonDepth(text)) {
    throw new ApiError(400, JSON_TOO_DEEP, `Request body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let body = parseJsonObject(text);
  if (!body) throw new ApiError(400, 'invalid_request_error', 'Request body must be a JSON object');
  if (context) {
    body = decryptChatRequest(body, deps.keys, context);
    if (context.version === 2) await claimNonce(deps, context);
    deps.metrics.e2eeRequests.inc({ version: String(context.version), algo: context.algo });
  }
  body = stripEmptyToolCalls(body);
  const requestHash = request.requestHash ?? sha256Hex(raw);
  const stream = body.stream === true;
  const path = kind === 'chat' ? '/v1/chat/completions' : '/v1/completions';

  let response: UpstreamReply;
  try {
    const url = `${backend.upstream.baseUrl}${path}`;
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...backend.headers },
      body: JSON.stringify(body),
    };
    const { signal } = request;
    const call = backend.upstream.request;
    response = call
      ? await call(url, { ...init, signal })
      : await backend.upstream.fetch(url, {
          ...init,
          signal: signal instanceof Cancellation ? signal.signal : signal,
        });
  } catch (error) {
    if (request.signal.aborted) throw clientClosed(error);
    deps.metrics.upstreamRequests.inc({ upstream: backend.name, outcome: 'network_error' });
    deps.logger.warn(
      { reqId: request.requestId, upstream: backend.name, err: errorForLog(error) },
      'upstream call failed',
    );
    throw backend.mapFetchError?.(error) ?? upstreamFailure(backend.label, error);
  }
  if (response.status !== 200) {
    deps.metrics.upstreamRequests.inc({ upstream: backend.name, outcome: 'http_error' });
    deps.logger.warn(
      { reqId: request.requestId, upstream: backend.name, status: response.status },
      'upstream error status',
    );
    throw await upstreamHttpError(backend, response, context === undefined);
  }
  deps.metrics.upstreamRequests.inc({ upstream: backend.name, outcome: 'ok' });
  const responseHeaders = kind === 'chat' ? e2eeResponseHeaders(context) : {};

  if (!stream) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (error) {
      throw upstreamFailure(backend.label, error);
    }
    const payload = parseJsonObject(decoder.decode(bytes));
    if (!payload)
      throw new ApiError(502, 'upstream_invalid_response', `${backend.label} returned a non-JSON body`);
    let out: Uint8Array<ArrayBuffer> = bytes;
    if (context) {
      try {
        encryptChatResponse(payload, context, 'message', {
          refuseToolCalls: deps.config.e2ee.refuseToolCalls,
        });
        out = encoder.encode(JSON.stringify(payload));
      } catch (error) {
        if (error instanceof ApiError) {
          deps.logger.warn(
            { reqId: request.requestId, upstream: backend.name, type: error.type },
            'E2EE response refused; not signed',
          );
          throw error;
        }
        deps.logger.error(
          { reqId: request.requestId, err: errorForLog(error) },
          'response encryption failed',
        );
        throw new ApiError(500, 'e2ee_encryption_failed', 'Failed to encrypt the response');
      }
    }
    if (typeof payload.id === 'string' && payload.id.length > 0) {
      const id = payload.id;
      const responseHash = sha256Hex(out);
      const model = body.model;
      scheduleSignature(deps, id, () => storeSignature(deps, model, id, requestHash, responseHash));
    } else {
      deps.logger.warn(
        { reqId: request.requestId, upstream: backend.name },
        'upstream response has no id; not signed',
      );
    }
    return { json: out, headers: { 'content-type': 'application/json', ...responseHeaders } };
  }

  // A Node body (undici's request API) is read directly: one chunk per socket read instead of one web-stream read
  // per upstream HTTP chunk (an upstream commonly sends each event as its own chunk).
  const upstreamBody = response.bodyChunks ?? response.body;
  if (!upstreamBody)
    throw new ApiError(502, 'upstream_invalid_response', `${backend.label} returned an empty stream`);
  const transformed = createSignedEventStream({
    deps,
    requestId: request.requestId,
    upstreamName: backend.name,
    upstreamLabel: backend.label,
    upstream: upstreamBody,
    context,
    refuseToolCalls: deps.config.e2ee.refuseToolCalls,
    ...(backend.mapFetchError ? { mapReadError: backend.mapFetchError } : {}),
    onComplete: async (id, hash) => {
      await storeSignature(deps, body.model, id, requestHash, hash);
    },
  });
  return { stream: transformed, headers: { ...EVENT_STREAM_HEADERS, ...responseHeaders } };
}
