import { bytesToUtf8 } from '@confidential-ai/bytes';
import {
  type CryptoOptions,
  openResponse,
  openStreamChunk,
  openStreamInit,
  sealRequest,
} from '@confidential-ai/chutes-crypto';
import {
  type ChutesInstance,
  type DiscoveredInstance,
  isChuteId,
  parseDiscoveryResponse,
  parseModelList,
} from './discovery.js';
import { ChutesTransportError } from './errors.js';
import type { InstanceFilter, InstanceFilterContext } from './instance-filter.js';
import { InstancePool, type Lease, type PoolEntry } from './instance-pool.js';
import { createLevelLogger, type LevelLogger, type Logger, type LogLevel } from './logger.js';
import { createEnvProxyFetch } from './outbound-proxy.js';
import { ResponseSnapshot, relayErrorResponse } from './relay-error.js';
import { EncryptedStreamDecoder } from './sse.js';

/** The type of `globalThis.fetch`; what {@link createChutesFetch} takes and returns. */
export type FetchFunction = typeof globalThis.fetch;

/** Options of {@link createChutesFetch}. */
export interface ChutesFetchOptions {
  /**
   * Chutes API key (`cpk_...`). When omitted, the key is taken from each encrypted request's
   * `Authorization: Bearer` header (the one the OpenAI SDK sends from its own `apiKey`).
   */
  apiKey?: string;
  /** Base URL for `/e2e/instances`, `/e2e/invoke` and the evidence endpoints. Default `https://api.chutes.ai`. */
  apiBase?: string;
  /** Base URL for `GET /v1/models` (model name to chute id). Default `https://llm.chutes.ai`. */
  modelsBase?: string;
  /**
   * Inner fetch used for every HTTP call, called without a bound `this`. Default `globalThis.fetch`, or, when
   * `HTTPS_PROXY` / `HTTP_PROXY` are set in `process.env`, undici's fetch over its `EnvHttpProxyAgent` (with
   * `NO_PROXY`; loopback is direct when `NO_PROXY` is not set). A `fetch` given here is used as it is.
   * undici's `fetch` works; bind a dispatcher with `(url, init) => fetch(url, { ...init, dispatcher })`.
   */
  fetch?: FetchFunction;
  /** Attestation gate run on every discovery answer (decision D5); see {@link createTdxEvidenceFilter}. */
  instanceFilter?: InstanceFilter;
  /** Receives diagnostics. Secrets (API key, nonces, keys) and plaintext are never logged. */
  logger?: Logger;
  /** Lowest level passed to `logger`. Default `warn`. */
  logLevel?: LogLevel;
  /** Clock in milliseconds, for nonce and model-map expiry. Default `Date.now`. */
  now?: () => number;
  /**
   * Random source for key generation, AEAD nonces and evidence nonces, for reproducible tests. Default
   * WebCrypto (and the native ML-KEM path where available, which an injected source disables).
   */
  random?: (length: number) => Uint8Array;
  /** Lifetime of the model name to chute id map in milliseconds. Default 300 000 (5 minutes). */
  modelCacheTtlMs?: number;
  /** Which chutes-crypto implementation to use. Default `auto` (native where the runtime has it). */
  cryptoBackend?: 'auto' | 'native' | 'js';
  /** Timeout of the discovery call in milliseconds. Default 30 000. */
  discoveryTimeoutMs?: number;
  /** Timeout of the model list call in milliseconds. Default 15 000. */
  modelsTimeoutMs?: number;
  /**
   * How long a request may wait for a nonce, in milliseconds (the relay hands out 10 per instance and at most 5
   * instances per discovery call; requests beyond that wait for the next call, made one at a time). When it
   * passes, the request fails with `ERR_NONCE_TIMEOUT` (a 503 condition). Default 30 000.
   */
  nonceWaitTimeoutMs?: number;
  /**
   * How many requests may wait for a nonce per (API key, chute); one more fails at once with
   * `ERR_NONCE_QUEUE_FULL` (a 503 condition). Default 10 000.
   */
  maxWaitingRequests?: number;
  /** Called once per nonce handed to a request, with how long the request waited for it (metrics, benches). */
  onNonceLease?: (event: NonceLeaseEvent) => void;
}

/** What {@link ChutesFetchOptions.onNonceLease} receives. */
export interface NonceLeaseEvent {
  /** Chute the nonce is for. */
  readonly chuteId: string;
  /** Milliseconds the request waited for its nonce (0 when one was cached). */
  readonly waitMs: number;
}

/** The fetch returned by {@link createChutesFetch}, with cache control. */
export interface ChutesFetch extends FetchFunction {
  /** Forgets every cached nonce, instance and model mapping. */
  clearCache(): void;
}

const DEFAULT_API_BASE = 'https://api.chutes.ai';
const DEFAULT_MODELS_BASE = 'https://llm.chutes.ai';
const NONCE_REJECTION_TEXTS = [
  'invalid, expired, or already-used nonce',
  'already-used nonce',
  'expired nonce',
  'invalid nonce',
];
const DROPPED_RESPONSE_HEADERS = ['content-length', 'content-encoding', 'transfer-encoding', 'content-type'];

/** Thrown inside discovery to hand a relay error answer to every waiting request. */
class RelayAnswer extends Error {
  constructor(readonly snapshot: ResponseSnapshot) {
    super(`relay answered ${snapshot.status}`);
  }
}

function normalizeBase(value: string | undefined, fallback: string, name: string): string {
  const text = value ?? fallback;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`${name} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`${name} must be an absolute http(s) URL`);
  }
  return text.replace(/\/+$/, '');
}

/** Python truthiness of the `stream` member, as the instance decides it. */
function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function isRequest(value: unknown): value is Request {
  return typeof Request !== 'undefined' && value instanceof Request;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

interface ReadBody {
  /** Body bytes when they could be read; `undefined` when the body type is never JSON (FormData, ...). */
  bytes: Uint8Array | undefined;
  /** Replacement `init.body` for a pass-through call when the original was a consumed stream. */
  replacement?: BodyInit;
}

async function readBody(input: RequestInfo | URL, init: RequestInit | undefined): Promise<ReadBody> {
  const body = init?.body;
  if (body === undefined || body === null) {
    if (isRequest(input) && input.body !== null && init?.body === undefined) {
      return { bytes: new Uint8Array(await input.clone().arrayBuffer()) };
    }
    return { bytes: new Uint8Array(0) };
  }
  if (typeof body === 'string') return { bytes: new TextEncoder().encode(body) };
  if (body instanceof ArrayBuffer) return { bytes: new Uint8Array(body) };
  if (ArrayBuffer.isView(body))
    return { bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  if (typeof Blob !== 'undefined' && body instanceof Blob)
    return { bytes: new Uint8Array(await body.arrayBuffer()) };
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) {
    const bytes = await readAll(body as ReadableStream<Uint8Array>);
    return { bytes, replacement: bytes as BodyInit };
  }
  return { bytes: undefined };
}

function parseJsonObject(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytesToUtf8(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

function requestPath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    const cut = url.split('?')[0] ?? '';
    return cut.startsWith('/') ? cut : `/${cut}`;
  }
}

function bearerToken(headers: Headers): string | undefined {
  const value = headers.get('authorization');
  if (!value) return undefined;
  const parts = value.trim().split(/\s+/);
  const token = parts[parts.length - 1];
  return token && token.toLowerCase() !== 'bearer' ? token : undefined;
}

function extraInit(init: RequestInit | undefined): RequestInit {
  if (!init) return {};
  const {
    body: _body,
    headers: _headers,
    method: _method,
    signal: _signal,
    duplex: _duplex,
    ...rest
  } = init as RequestInit & { duplex?: unknown };
  return rest;
}

/**
 * After the stream completed, reads (and discards) what little the relay still sends so the connection can be
 * reused; gives up and cancels after 64 KiB.
 */
function drain(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  let budget = 64 * 1024;
  const next = (): Promise<void> =>
    reader.read().then(({ done, value }) => {
      if (done) return;
      budget -= value.length;
      if (budget < 0) return reader.cancel();
      return next();
    });
  next().catch(() => reader.cancel().catch(() => {}));
}

function copyHeaders(from: Headers, contentType: string): Headers {
  const headers = new Headers(from);
  for (const name of DROPPED_RESPONSE_HEADERS) headers.delete(name);
  headers.set('content-type', contentType);
  return headers;
}

/**
 * Creates a `fetch` that end-to-end encrypts OpenAI-style requests to a Chutes GPU instance (ML-KEM-768,
 * HKDF-SHA256, ChaCha20-Poly1305) and decrypts the answers, following the Chutes E2EE protocol.
 *
 * - A request whose body is a JSON object with a `model` member is rewritten to `POST {apiBase}/e2e/invoke`
 *   (whatever its method and host), encrypted to an instance key with a single-use nonce. Every other request
 *   (for example `GET /v1/models`) goes to the inner fetch unchanged.
 * - A non-stream answer comes back as status 200 with `content-type: application/json` and the decrypted JSON;
 *   a stream as `text/event-stream` with standard `data: <payload>\n\n` events ending in `data: [DONE]`.
 * - Relay errors keep their status and headers, after one nonce retry (403) and one instance failover
 *   (410/429/502); their body becomes an OpenAI error `{"error": {"message": <the relay's detail>, "type":
 *   "chutes_relay_error", ...}}`, so the SDK's error message names the cause.
 * - Requests beyond the nonces at hand wait in a bounded queue (one discovery call at a time); waiting longer
 *   than `nonceWaitTimeoutMs`, or beyond `maxWaitingRequests`, fails with `ERR_NONCE_TIMEOUT` /
 *   `ERR_NONCE_QUEUE_FULL`.
 * - A stream that fails to decrypt or ends without a decrypted `[DONE]` errors its body with a
 *   {@link ChutesTransportError}, so the OpenAI SDK's iteration throws rather than ending quietly.
 *
 * @example
 * ```ts
 * import OpenAI from 'openai';
 * import { createChutesFetch } from '@confidential-ai/chutes-transport';
 *
 * const client = new OpenAI({
 *   baseURL: 'https://llm.chutes.ai/v1',
 *   apiKey: process.env.CHUTES_API_KEY,
 *   fetch: createChutesFetch({ apiKey: process.env.CHUTES_API_KEY }),
 * });
 * const completion = await client.chat.completions.create({
 *   model: 'deepseek-ai/DeepSeek-V3',
 *   messages: [{ role: 'user', content: 'Hello' }],
 * });
 * ```
 * @throws TypeError when `apiBase` or `modelsBase` is not an absolute http(s) URL.
 */
export function createChutesFetch(options: ChutesFetchOptions = {}): ChutesFetch {
  const apiBase = normalizeBase(options.apiBase, DEFAULT_API_BASE, 'apiBase');
  const modelsBase = normalizeBase(options.modelsBase, DEFAULT_MODELS_BASE, 'modelsBase');
  if (
    options.apiKey !== undefined &&
    (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(options.apiKey))
  ) {
    throw new TypeError('apiKey must be a non-empty string of printable ASCII without spaces');
  }
  const innerFetch: FetchFunction = options.fetch ?? createEnvProxyFetch();
  if (typeof innerFetch !== 'function') throw new TypeError('fetch must be a function');
  const inner = (input: RequestInfo | URL, init?: RequestInit) => innerFetch.call(undefined, input, init);
  const now = options.now ?? Date.now;
  const random =
    options.random ?? ((length: number) => globalThis.crypto.getRandomValues(new Uint8Array(length)));
  const log: LevelLogger = createLevelLogger(options.logger, options.logLevel ?? 'warn');
  const modelTtl = options.modelCacheTtlMs ?? 300_000;
  const discoveryTimeout = options.discoveryTimeoutMs ?? 30_000;
  const modelsTimeout = options.modelsTimeoutMs ?? 15_000;
  const nonceWaitTimeout = options.nonceWaitTimeoutMs ?? 30_000;
  const maxWaiting = options.maxWaitingRequests ?? 10_000;
  if (!Number.isFinite(nonceWaitTimeout) || nonceWaitTimeout <= 0)
    throw new TypeError('nonceWaitTimeoutMs must be a positive number');
  if (!Number.isSafeInteger(maxWaiting) || maxWaiting < 1)
    throw new TypeError('maxWaitingRequests must be a positive integer');
  // Only an injected random source goes to chutes-crypto (it switches ML-KEM to the reproducible pure path).
  const cryptoOptions: CryptoOptions = {};
  if (options.random !== undefined) cryptoOptions.random = options.random;
  if (options.cryptoBackend !== undefined) cryptoOptions.backend = options.cryptoBackend;

  // ---- model name -> chute id ----
  let modelMap: { map: Map<string, string>; fetchedAt: number } | undefined;
  let modelPending: Promise<Map<string, string>> | undefined;

  const fetchModels = (apiKey: string): Promise<Map<string, string>> => {
    if (modelPending) return modelPending;
    const promise = (async () => {
      const response = await inner(`${modelsBase}/v1/models`, {
        method: 'GET',
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(modelsTimeout),
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new ChutesTransportError('ERR_UPSTREAM', `model list answered ${response.status}`, {
          status: response.status,
        });
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch (cause) {
        throw new ChutesTransportError('ERR_UPSTREAM', 'model list is not JSON', { cause, status: 200 });
      }
      const map = parseModelList(body);
      modelMap = { map, fetchedAt: now() };
      log.debug('model list refreshed', { models: map.size });
      return map;
    })().finally(() => {
      modelPending = undefined;
    });
    promise.catch(() => {});
    modelPending = promise;
    return promise;
  };

  const resolveChuteId = async (
    model: string,
    apiKey: string,
    signal: AbortSignal | undefined,
  ): Promise<string> => {
    if (isChuteId(model)) return model;
    const cached = modelMap && now() - modelMap.fetchedAt < modelTtl ? modelMap.map : undefined;
    let map = cached ?? (await abortable(fetchModels(apiKey), signal));
    let hit = map.get(model);
    if (hit) return hit;
    if (cached) {
      // A miss in the cached map forces one refresh.
      map = await abortable(fetchModels(apiKey), signal);
      hit = map.get(model);
      if (hit) return hit;
    }
    throw new ChutesTransportError(
      'ERR_MODEL_NOT_FOUND',
      `could not resolve model ${JSON.stringify(model.slice(0, 200))} to a chute id`,
    );
  };

  // ---- discovery and nonces ----
  const filterContext = (apiKey: string): InstanceFilterContext => ({
    apiBase,
    apiKey,
    fetch: innerFetch,
    random,
    logger: log,
  });

  const discover = async (key: string) => {
    const separator = key.indexOf('\u0000');
    const chuteId = key.slice(0, separator);
    const apiKey = key.slice(separator + 1);
    const call = () =>
      inner(`${apiBase}/e2e/instances/${encodeURIComponent(chuteId)}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
        signal: AbortSignal.timeout(discoveryTimeout),
      });
    let response: Response;
    try {
      response = await call();
    } catch (error) {
      // One discovery call serves every waiting request, so a connection lost before any answer (a kept-alive
      // socket the relay had just closed) is retried once: the call is a GET, and a repeat only issues more
      // nonces. A timeout is not retried.
      if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError'))
        throw error;
      log.info('discovery call failed before an answer; retrying once', { chuteId });
      response = await call();
    }
    if (response.status !== 200) {
      const snapshot = await ResponseSnapshot.read(response);
      log.warn('discovery failed', { chuteId, status: snapshot.status });
      throw new RelayAnswer(snapshot);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (cause) {
      throw new ChutesTransportError('ERR_DISCOVERY_INVALID', 'discovery answer is not JSON', {
        cause,
        chuteId,
      });
    }
    const result = parseDiscoveryResponse(body);
    for (const rejected of result.rejected) {
      log.warn('instance rejected', { chuteId, instanceId: rejected.instanceId, reason: rejected.reason });
    }
    if (result.instances.length === 0) {
      throw new ChutesTransportError('ERR_NO_INSTANCES', 'discovery returned no usable E2E instance', {
        chuteId,
        status: 200,
      });
    }
    let instances: readonly DiscoveredInstance[] = result.instances;
    if (options.instanceFilter) {
      const views: ChutesInstance[] = instances.map(({ instanceId, e2ePubkey, publicKey }) => ({
        instanceId,
        e2ePubkey,
        publicKey,
      }));
      const kept = await options.instanceFilter(chuteId, views, filterContext(apiKey));
      const keptIds = new Set(Array.isArray(kept) ? kept.map((instance) => instance?.instanceId) : []);
      instances = instances.filter((instance) => keptIds.has(instance.instanceId));
      if (instances.length === 0) {
        throw new ChutesTransportError(
          'ERR_INSTANCE_FILTER_EMPTY',
          'the instance filter rejected every instance',
          {
            chuteId,
          },
        );
      }
    }
    log.debug('discovered instances', { chuteId, instances: instances.length, ttl: result.expiresInSeconds });
    return { instances, expiresInSeconds: result.expiresInSeconds };
  };

  const pool = new InstancePool(discover, now, { maxWaiting, timeoutMs: nonceWaitTimeout });
  const leaseNonce = async (
    key: string,
    chuteId: string,
    exclude: ReadonlySet<string>,
    signal?: AbortSignal,
  ) => {
    const started = performance.now();
    const leased = await pool.lease(key, exclude, signal);
    if (leased && options.onNonceLease) {
      try {
        options.onNonceLease({ chuteId, waitMs: performance.now() - started });
      } catch (error) {
        log.warn('onNonceLease threw', {
          chuteId,
          error: error instanceof Error ? error.name : typeof error,
        });
      }
    }
    return leased;
  };

  // ---- responses ----
  const decryptJson = async (
    response: Response,
    secretKey: Uint8Array,
    chuteId: string,
  ): Promise<Response> => {
    const blob = new Uint8Array(await response.arrayBuffer());
    let document: unknown;
    try {
      document = openResponse(blob, secretKey, cryptoOptions);
    } catch (cause) {
      log.error('response failed to decrypt', { chuteId });
      throw new ChutesTransportError('ERR_RESPONSE_DECRYPT', 'encrypted response failed to open', {
        cause,
        chuteId,
        status: 200,
      });
    }
    return new Response(JSON.stringify(document), {
      status: 200,
      statusText: 'OK',
      headers: copyHeaders(response.headers, 'application/json'),
    });
  };

  const decryptStream = (
    response: Response,
    secretKey: Uint8Array,
    chuteId: string,
    signal: AbortSignal | undefined,
  ): Response => {
    if (!response.body) {
      throw new ChutesTransportError('ERR_UPSTREAM', 'stream answer has no body', { chuteId, status: 200 });
    }
    const reader = response.body.getReader();
    const decoder = new EncryptedStreamDecoder({
      openInit: (value) => openStreamInit(value, secretKey, cryptoOptions),
      openChunk: (value, streamKey) => openStreamChunk(value, streamKey, cryptoOptions),
    });
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) {
                const tail = decoder.finish();
                if (tail) controller.enqueue(encoder.encode(tail));
                controller.close();
                return;
              }
              const out = decoder.push(value);
              if (decoder.state !== 'open') {
                if (out) controller.enqueue(encoder.encode(out));
                controller.close();
                drain(reader);
                return;
              }
              if (out) {
                controller.enqueue(encoder.encode(out));
                return;
              }
            }
          } catch (error) {
            reader.cancel().catch(() => {});
            let reason: unknown;
            // Only the caller's own abort may end the stream as an abort (the OpenAI SDK swallows AbortError
            // quietly); any other failure, even one named AbortError, is a truncation.
            if (signal?.aborted) reason = abortReason(signal);
            else if (ChutesTransportError.isInstance(error)) reason = error;
            else {
              reason = new ChutesTransportError(
                'ERR_STREAM_TRUNCATED',
                'stream connection failed before [DONE]',
                {
                  cause: error,
                  chuteId,
                },
              );
            }
            if (ChutesTransportError.isInstance(reason)) {
              log.error('encrypted stream failed', { chuteId, code: reason.code, chunks: decoder.chunks });
            }
            controller.error(reason);
          }
        },
        cancel(reason) {
          return reader.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
    const headers = copyHeaders(response.headers, 'text/event-stream');
    headers.set('cache-control', 'no-cache');
    return new Response(body, { status: 200, statusText: 'OK', headers });
  };

  // ---- the fetch ----
  const encryptedFetch = async (
    input: RequestInfo | URL,
    init: RequestInit | undefined,
    payload: Record<string, unknown>,
  ): Promise<Response> => {
    const requestHeaders = new Headers(init?.headers ?? (isRequest(input) ? input.headers : undefined));
    const signal = init?.signal ?? (isRequest(input) ? input.signal : undefined) ?? undefined;
    const model = payload.model;
    if (typeof model !== 'string' || model === '') {
      throw new ChutesTransportError('ERR_REQUEST_INVALID', 'the "model" member must be a non-empty string');
    }
    const apiKey = options.apiKey ?? bearerToken(requestHeaders);
    if (!apiKey) {
      throw new ChutesTransportError(
        'ERR_REQUEST_INVALID',
        'no API key: pass apiKey or an Authorization header',
      );
    }
    const url = isRequest(input) ? input.url : String(input);
    const path = requestPath(url);
    const stream = isTruthy(payload.stream);
    const extras = extraInit(init);

    const chuteId = await resolveChuteId(model, apiKey, signal);
    const key = `${chuteId}\u0000${apiKey}`;
    const exclude = new Set<string>();
    let nonceRetried = false;
    let failoverRetried = false;
    let last: ResponseSnapshot | undefined;
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      let leased: Lease | undefined;
      try {
        leased = await leaseNonce(key, chuteId, exclude, signal);
      } catch (error) {
        if (ChutesTransportError.isInstance(error) && error.chuteId === undefined) {
          throw new ChutesTransportError(error.code, error.message, { cause: error.cause, chuteId });
        }
        throw error;
      }
      if (!leased) {
        if (last) return relayErrorResponse(last);
        throw new ChutesTransportError('ERR_NO_INSTANCES', 'no E2E instance available', { chuteId });
      }
      const lease = leased;
      let sealed: ReturnType<typeof sealRequest>;
      try {
        sealed = sealRequest(lease.instance.publicKey, payload, cryptoOptions);
      } catch (cause) {
        throw new ChutesTransportError('ERR_REQUEST_ENCRYPT', 'request could not be encrypted', {
          cause,
          chuteId,
        });
      }
      log.debug('invoking', { chuteId, instanceId: lease.instance.instanceId, stream, path });
      const headers = new Headers({
        authorization: `Bearer ${apiKey}`,
        'x-chute-id': chuteId,
        'x-instance-id': lease.instance.instanceId,
        'x-e2e-nonce': lease.nonce,
        'x-e2e-stream': stream ? 'true' : 'false',
        'x-e2e-path': path,
        'content-type': 'application/octet-stream',
      });
      const requestInit: RequestInit = { ...extras, method: 'POST', headers, body: sealed.blob as BodyInit };
      if (signal) requestInit.signal = signal;
      const response = await inner(`${apiBase}/e2e/invoke`, requestInit);
      const secretKey = sealed.responseKeyPair.secretKey;
      if (response.status === 200) {
        return stream
          ? decryptStream(response, secretKey, chuteId, signal)
          : decryptJson(response, secretKey, chuteId);
      }
      const status = response.status;
      if (status === 403 && !nonceRetried) {
        const snapshot = await ResponseSnapshot.read(response);
        const text = snapshot.text().toLowerCase();
        if (!NONCE_REJECTION_TEXTS.some((needle) => text.includes(needle)))
          return relayErrorResponse(snapshot);
        nonceRetried = true;
        last = snapshot;
        pool.invalidate(key, lease.entry);
        log.info('nonce rejected; rediscovering and retrying once', { chuteId });
        continue;
      }
      if (!failoverRetried && (status === 410 || status === 429 || status === 502)) {
        const snapshot = await ResponseSnapshot.read(response);
        if (status === 429 && !snapshot.text().toLowerCase().includes('maximum capacity')) {
          return relayErrorResponse(snapshot);
        }
        failoverRetried = true;
        last = snapshot;
        pool.drop(lease.entry as PoolEntry, lease.instance.instanceId);
        exclude.add(lease.instance.instanceId);
        log.info('instance failed; retrying once with another instance', {
          chuteId,
          instanceId: lease.instance.instanceId,
          status,
        });
        continue;
      }
      return relayErrorResponse(await ResponseSnapshot.read(response));
    }
  };

  const chutesFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const { bytes, replacement } = await readBody(input, init);
    const payload = parseJsonObject(bytes);
    if (payload === undefined || !('model' in payload)) {
      const passInit = replacement !== undefined ? { ...init, body: replacement } : init;
      return inner(input, passInit);
    }
    try {
      return await encryptedFetch(input, init, payload);
    } catch (error) {
      if (error instanceof RelayAnswer) return relayErrorResponse(error.snapshot);
      throw error;
    }
  };

  return Object.assign(chutesFetch, {
    clearCache() {
      pool.clear();
      modelMap = undefined;
    },
  }) as ChutesFetch;
}
