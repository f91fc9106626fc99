import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Cancellation,
  CLIENT_CLOSED_REQUEST,
  checkBearer,
  type NodeRequestHandler,
  REQUEST_ID_HEADER,
  recordRequest,
  requestIdOf,
} from '@confidential-ai/server-kit';
import { type AppDependencies, apiErrorOf, errorEnvelopeOf, errorStatusOf } from './app.js';
import { type CompletionAnswer, type CompletionBackend, runCompletion } from './completions.js';
import { E2EE_HEADERS } from './e2ee.js';
import { ApiError } from './errors.js';

/** The paths the fast path serves, with the kind of completion each is. */
const KINDS: ReadonlyMap<string, 'chat' | 'completions'> = new Map([
  ['/v1/chat/completions', 'chat'],
  ['/v1/completions', 'completions'],
]);

/** A JSON media type (`application/json`, with or without parameters): anything else goes to the Hono path. */
const JSON_MEDIA_TYPE = /^application\/json\s*(?:;|$)/i;
const DECIMAL = /^\d{1,15}$/;
const generateId = (): string => crypto.randomUUID();

/** The exchange a request belongs to, on its IncomingMessage and ServerResponse (hoisted listeners find it there). */
const EXCHANGE = Symbol('completionExchange');
type Carrier = { [EXCHANGE]?: CompletionExchange };

/**
 * A direct node:http handler for `POST /v1/chat/completions` and `POST /v1/completions` of the vllm-proxy face:
 * the same exchange as the Hono routes ({@link runCompletion}: access control, E2EE, signatures, upstream failure
 * mapping, error envelopes, request id, metrics and access log line), without building WHATWG Request/Response
 * objects or running the router and middleware chain. It declines (returns `false`, leaving the request unread for
 * the Hono app, which answers it as before) every request it would not answer identically: another method or path
 * (a query string included), a body without `Content-Length` or with `Transfer-Encoding`, a declared length above
 * `server.max_request_bytes`, a `Content-Type` other than JSON, and a failed access check (401 and its early close
 * are the Hono path's).
 *
 * @example
 * ```ts
 * const listener = await listen({ fetch: app.fetch, port: 0, fastPath: createCompletionFastPath(deps, backend) });
 * ```
 */
export function createCompletionFastPath(
  deps: AppDependencies,
  backend: CompletionBackend,
): NodeRequestHandler {
  const maxRequestBytes = deps.config.server.maxRequestBytes;
  return (request, response) => {
    if (request.method !== 'POST') return false;
    const kind = KINDS.get(request.url ?? '');
    if (kind === undefined) return false;
    const headers = request.headers;
    const length = headers['content-length'];
    if (headers['transfer-encoding'] !== undefined || length === undefined || !DECIMAL.test(length))
      return false;
    if (Number(length) > maxRequestBytes) return false;
    const type = headers['content-type'];
    if (type !== undefined && !JSON_MEDIA_TYPE.test(type)) return false;
    if (checkBearer(headers.authorization, deps.config.auth.token) !== 'ok') return false;
    const exchange = new CompletionExchange(deps, backend, kind, request, response);
    (request as Carrier)[EXCHANGE] = exchange;
    (response as Carrier)[EXCHANGE] = exchange;
    request.on('data', onRequestData);
    request.on('end', onRequestEnd);
    request.on('error', onRequestError);
    response.on('close', onResponseClose);
    return true;
  };
}

function onRequestData(this: IncomingMessage, chunk: Buffer): void {
  (this as Carrier)[EXCHANGE]!.received(chunk);
}

function onRequestEnd(this: IncomingMessage): void {
  void (this as Carrier)[EXCHANGE]!.run();
}

function onRequestError(this: IncomingMessage, error: Error): void {
  (this as Carrier)[EXCHANGE]!.uploadFailed(error);
}

function onResponseClose(this: ServerResponse): void {
  (this as Carrier)[EXCHANGE]!.closed();
}

function onResponseDrain(this: ServerResponse): void {
  void (this as Carrier)[EXCHANGE]!.pump();
}

/** The E2EE headers of a request as `Headers` (what the E2EE header parser reads), or `undefined` for none. */
function e2eeHeadersOf(request: IncomingMessage): Headers | undefined {
  let headers: Headers | undefined;
  for (const name of E2EE_HEADERS) {
    const value = request.headers[name];
    if (typeof value !== 'string') continue;
    headers ??= new Headers();
    headers.set(name, value);
  }
  return headers;
}

/** One request on the fast path, from its first body byte to its last response byte. */
class CompletionExchange {
  private readonly started = performance.now();
  private readonly requestId: string;
  private readonly abort = new Cancellation();
  private chunks: Buffer[] = [];
  private bytes = 0;
  private uploaded = false;
  private answered = false;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(
    private readonly deps: AppDependencies,
    private readonly backend: CompletionBackend,
    private readonly kind: 'chat' | 'completions',
    private readonly request: IncomingMessage,
    private readonly response: ServerResponse,
  ) {
    this.requestId = requestIdOf(request.headers[REQUEST_ID_HEADER] as string | undefined, generateId);
  }

  received(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  uploadFailed(error: Error): void {
    if (this.uploaded || this.answered) return;
    this.fail(this.clientClosed(error));
  }

  closed(): void {
    if (this.response.writableFinished) return;
    // The client went away before the whole answer was written: stop the upstream call and the stream.
    this.abort.abort(new Error('Client connection prematurely closed.'));
    this.reader?.cancel().catch(() => {});
    this.reader = undefined;
    if (!this.uploaded && !this.answered) this.fail(this.clientClosed(undefined));
  }

  async run(): Promise<void> {
    if (this.answered) return;
    this.uploaded = true;
    const { chunks } = this;
    this.chunks = [];
    // node:http ends the body only after exactly `Content-Length` bytes.
    const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.bytes);
    let answer: CompletionAnswer;
    try {
      answer = await runCompletion(this.deps, this.backend, this.kind, {
        raw,
        requestId: this.requestId,
        requestHash: this.request.headers['x-request-hash'] as string | undefined,
        headers: e2eeHeadersOf(this.request),
        signal: this.abort,
      });
    } catch (error) {
      this.fail(error);
      return;
    }
    this.answer(answer);
  }

  /** Writes the rest of the event stream, as fast as the client takes it. */
  async pump(): Promise<void> {
    const { response } = this;
    try {
      for (;;) {
        const reader = this.reader;
        if (reader === undefined) return;
        const { done, value } = await reader.read();
        if (done) {
          this.reader = undefined;
          response.end();
          return;
        }
        if (!response.write(value)) {
          response.once('drain', onResponseDrain);
          return;
        }
      }
    } catch (error) {
      this.reader = undefined;
      response.destroy(error as Error);
    }
  }

  private answer(answer: CompletionAnswer): void {
    this.answered = true;
    this.observe(200);
    const { response } = this;
    const headers: Record<string, string | number> = {};
    for (const name in answer.headers) headers[name] = answer.headers[name]!;
    headers[REQUEST_ID_HEADER] = this.requestId;
    if (answer.json) {
      headers['content-length'] = answer.json.byteLength;
      response.writeHead(200, headers);
      response.end(answer.json);
      return;
    }
    const stream = answer.stream!;
    response.writeHead(200, headers);
    response.flushHeaders();
    if (response.destroyed) {
      stream.cancel().catch(() => {});
      return;
    }
    this.reader = stream.getReader();
    void this.pump();
  }

  private fail(error: unknown): void {
    if (this.answered) return;
    this.answered = true;
    const { deps, response } = this;
    const apiError = apiErrorOf(error, this.abort.aborted, deps.logger, this.requestId, 'POST');
    deps.metrics.errors.inc({ type: apiError.type });
    const status = errorStatusOf(apiError.status);
    this.observe(status);
    const body = JSON.stringify(errorEnvelopeOf(apiError));
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [REQUEST_ID_HEADER]: this.requestId,
    };
    if (apiError.retryAfterSeconds !== undefined) headers['retry-after'] = String(apiError.retryAfterSeconds);
    if (response.destroyed) return;
    response.writeHead(status, headers);
    response.end(body);
  }

  private clientClosed(cause: unknown): ApiError {
    return new ApiError(
      CLIENT_CLOSED_REQUEST.status,
      CLIENT_CLOSED_REQUEST.type,
      'The client closed the request',
      { cause },
    );
  }

  /** The access log line and request metrics, recorded as `observeRequests` records them on the Hono path. */
  private observe(status: number): void {
    recordRequest(this.deps, {
      requestId: this.requestId,
      method: 'POST',
      route: this.kind === 'chat' ? '/v1/chat/completions' : '/v1/completions',
      status,
      seconds: (performance.now() - this.started) / 1000,
    });
  }
}
