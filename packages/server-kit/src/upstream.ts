import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Agent, EnvHttpProxyAgent } from 'undici';

type Undici = typeof import('undici');

// undici (CommonJS, one of the largest modules a server loads) is required on the first upstream request, not at
// start-up: a face that never calls its upstream, and every server's ready line, do not wait for it.
let undici: Undici | undefined;
const loadUndici = (): Undici => {
  undici ??= createRequire(import.meta.url)('undici') as Undici;
  return undici;
};

import { createOutboundDispatcher } from './outbound-proxy.js';

/** The standard fetch signature (what the OpenAI SDK, hono's proxy helper and createChutesFetch use). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createUpstreamFetch}. */
export interface UpstreamFetchOptions {
  /** TCP/TLS connect timeout in ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Time to wait for response headers in ms. Default 600000. */
  headersTimeoutMs?: number;
  /** Longest silence inside a response body in ms. Default 600000. */
  bodyTimeoutMs?: number;
  /** Pooled connections per origin. Default 1000. */
  maxConnections?: number;
  /** Idle keep-alive of pooled sockets in ms. Default 30000. */
  keepAliveTimeoutMs?: number;
  /**
   * Environment read for `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` (see `outboundProxySettings`). Default
   * `process.env`.
   */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The part of a fetch `Response` the completion routes read: status, the body as a web stream, or the whole
 * body at once. A WHATWG `Response` satisfies it.
 */
export interface UpstreamReply {
  /** HTTP status code. */
  readonly status: number;
  /** The body as a web stream (`null` when there is none). */
  readonly body: ReadableStream<Uint8Array> | null;
  /**
   * The body as an async iterable of byte chunks, when the reply can give it without the web-stream adapter (a
   * {@link RequestFunction} reply: undici's Node `Readable`, whose iterator yields every byte buffered at that
   * moment as one chunk). Read either this or {@link UpstreamReply.body}, never both.
   */
  readonly bodyChunks?: AsyncIterable<Uint8Array>;
  /** Reads the whole body. */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Options of one {@link RequestFunction} call. */
export interface UpstreamRequestOptions {
  /** HTTP method. */
  method: string;
  /** Request headers. */
  headers: Readonly<Record<string, string>>;
  /** Request body. */
  body?: string | Uint8Array;
  /** Aborts the call (e.g. when the client disconnects): an `AbortSignal`, or a lighter {@link Cancellation}. */
  signal?: AbortSignal | Cancellation;
}

/**
 * A one-shot cancellation of one call, lighter than an `AbortController`: an `EventEmitter` with `aborted` and
 * `reason` that emits `abort` once, which undici's `request` (a {@link RequestFunction}) takes as its signal.
 * {@link Cancellation.signal} makes an `AbortSignal` that follows it, on first use, for what needs one (`fetch`).
 * (The proxy's fast path makes one per request: on Node 20 an `AbortController` per request cost about 0.4 KiB of
 * young-generation promotion per request.)
 * @example
 * ```ts
 * const cancellation = new Cancellation();
 * const reply = upstream.request(url, { method: 'POST', headers, body, signal: cancellation });
 * cancellation.abort(new Error('client went away')); // reply rejects with that error
 * ```
 */
export class Cancellation extends EventEmitter<{ abort: [] }> {
  /** Whether {@link Cancellation.abort} was called. */
  aborted = false;
  /** The reason given to {@link Cancellation.abort} (an `AbortError` `DOMException` when none was). */
  reason: unknown = undefined;
  #controller: AbortController | undefined;

  /** Cancels (once; later calls do nothing): sets `aborted` and `reason`, aborts {@link signal}, emits `abort`. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.#controller?.abort(this.reason);
    this.emit('abort');
  }

  /** An `AbortSignal` aborted with this cancellation (already aborted when it is). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }
}

/**
 * A lighter upstream call than `fetch` (undici's dispatcher `request` API: no WHATWG Request/Response objects
 * per call) with the same pool and timeouts; used on the completion hot path. Neither follows redirects.
 */
export type RequestFunction = (url: string, options: UpstreamRequestOptions) => Promise<UpstreamReply>;

/** A pooled upstream fetch and the means to close its pool. */
export interface UpstreamFetch {
  /** undici's fetch bound to a dedicated, pooled `Agent` with the configured timeouts. */
  readonly fetch: FetchFunction;
  /** The same pool through undici's `request` API (cheaper per call than `fetch`). */
  readonly request: RequestFunction;
  /** Closes every pooled connection (waits for in-flight requests). */
  close(): Promise<void>;
  /** Destroys every pooled connection immediately. */
  destroy(): Promise<void>;
}

/**
 * Creates the upstream HTTP client: undici `fetch` over a dedicated `Agent` (keep-alive pooling per origin,
 * connect/headers/body timeouts, redirects not followed). TLS uses Node's default certificate verification.
 * `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` of `options.env` are honoured (undici's `EnvHttpProxyAgent`; loopback
 * is direct unless `NO_PROXY` is set: see `outboundProxySettings`).
 *
 * @example
 * ```ts
 * const upstream = createUpstreamFetch({ headersTimeoutMs: 60_000 });
 * const response = await upstream.fetch('http://127.0.0.1:8001/v1/models');
 * await upstream.close();
 * ```
 */
export function createUpstreamFetch(options: UpstreamFetchOptions = {}): UpstreamFetch {
  let agent: Agent | EnvHttpProxyAgent | undefined;
  // The pool is created on first use (with undici itself, see loadUndici); with HTTP(S)_PROXY set, it is undici's
  // EnvHttpProxyAgent (createOutboundDispatcher).
  const pool = (): Agent | EnvHttpProxyAgent => {
    agent ??= createOutboundDispatcher(
      {
        connect: { timeout: options.connectTimeoutMs ?? 10_000 },
        headersTimeout: options.headersTimeoutMs ?? 600_000,
        bodyTimeout: options.bodyTimeoutMs ?? 600_000,
        connections: options.maxConnections ?? 1000,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
        pipelining: 1,
      },
      options.env ?? process.env,
    );
    return agent;
  };
  // Redirects are never followed (as the reference's httpx client): a request body here can be a decrypted
  // prompt, and a redirect must not send it to another origin. A 3xx reaches the caller as a non-200 reply.
  const fetch: FetchFunction = (input, init) => {
    const dispatcher = pool();
    return loadUndici().fetch(input as Parameters<Undici['fetch']>[0], {
      ...(init as Parameters<Undici['fetch']>[1]),
      redirect: 'manual',
      dispatcher,
    }) as unknown as Promise<Response>;
  };
  // Origin and path of each URL called, parsed once (the routes call a handful of fixed URLs).
  const targets = new Map<string, { origin: string; path: string }>();
  const targetOf = (url: string) => {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size >= 64) targets.clear();
      targets.set(url, target);
    }
    return target;
  };
  const request: RequestFunction = async (url, init) => {
    const dispatcher = pool();
    const { origin, path } = targetOf(url);
    const reply = await dispatcher.request({
      origin,
      path,
      method: init.method as 'POST',
      headers: init.headers as Record<string, string>,
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    return new DispatcherReply(reply.statusCode, reply.body);
  };
  return {
    fetch,
    request,
    close: () => (agent ? agent.close() : Promise.resolve()),
    destroy: () => (agent ? agent.destroy() : Promise.resolve()),
  };
}

type ReplyBody = Awaited<ReturnType<Undici['request']>>['body'];

class DispatcherReply implements UpstreamReply {
  private stream: ReadableStream<Uint8Array> | null | undefined;
  constructor(
    readonly status: number,
    private readonly raw: ReplyBody,
  ) {}
  get body(): ReadableStream<Uint8Array> | null {
    if (this.stream === undefined) {
      this.stream = Readable.toWeb(this.raw as unknown as Readable) as unknown as ReadableStream<Uint8Array>;
    }
    return this.stream;
  }
  /** The Node stream itself: its iterator reads every buffered byte at once (one chunk per socket read). */
  get bodyChunks(): AsyncIterable<Uint8Array> {
    return this.raw as unknown as AsyncIterable<Uint8Array>;
  }
  arrayBuffer(): Promise<ArrayBuffer> {
    return this.raw.arrayBuffer();
  }
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    const name = (current as { name?: unknown }).name;
    if (typeof code === 'string') codes.push(code);
    if (typeof name === 'string') codes.push(name);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** True when a fetch failure was a timeout (connect, headers or body). */
export function isTimeoutError(error: unknown): boolean {
  return causeCodes(error).some((code) => TIMEOUT_CODES.has(code) || code === 'TimeoutError');
}
