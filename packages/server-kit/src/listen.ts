import { createServer, type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ServerKitError } from './errors.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';

/** Options of {@link listen}. */
export interface ListenOptions {
  /** The app's fetch handler, e.g. `app.fetch` of a Hono app (it receives the Node request and socket as env). */
  fetch: (request: Request, env: never) => Response | Promise<Response>;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Grace period for in-flight requests on close, in ms; then remaining connections are closed. Default 10000. */
  shutdownTimeoutMs?: number;
  /**
   * Drain period at the start of a close, in ms (default 0: none). For this long the server still accepts and serves
   * every request (each answered with `Connection: close`), except that `GET`/`HEAD` of {@link healthPath} answer
   * 503 `{"status":"draining"}`: a load balancer's health check takes the instance out of rotation before it stops
   * accepting. Without it, a connection the balancer opens in the moment the listening socket closes is reset by the
   * kernel after the request was sent, and the balancer can only fail that request (it must not send it twice).
   */
  drainMs?: number;
  /** Path of the health check that answers 503 while draining ({@link drainMs}). Default `/health`. */
  healthPath?: string;
  /**
   * A direct node:http handler tried before the fetch handler for every request: it returns `true` when it has
   * taken the request (and answers it itself), `false` to leave it to `fetch` untouched (it must not have read the
   * body or written anything then). Closing announces `Connection: close` on its responses too.
   */
  fastPath?: NodeRequestHandler;
}

/**
 * A node:http request handler that may decline a request ({@link ListenOptions.fastPath}): `true` when it answers
 * the request itself, `false` to pass it on unread.
 */
export type NodeRequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/** A listening server. */
export interface RunningListener {
  /** Base URL, e.g. `http://127.0.0.1:8000` (IPv6 addresses in brackets). */
  readonly url: string;
  /** The Node HTTP server. */
  readonly server: Server;
  /**
   * Graceful shutdown: drain for `drainMs` (still serving, the health check failing), then stop accepting, close idle
   * keep-alive connections, let in-flight requests finish for up to `shutdownTimeoutMs`, and close what remains.
   * Every response not yet begun says `Connection: close`, so that no client (or load balancer) sends another
   * request on a connection that is about to close. Idempotent: a later call returns the same promise, and one with
   * `skipDrain` cuts a drain in progress short.
   */
  close(options?: CloseOptions): Promise<void>;
}

/** Options of {@link RunningListener.close}. */
export interface CloseOptions {
  /** Stop accepting at once, without the drain period (or end one in progress). Default false. */
  skipDrain?: boolean;
}

/**
 * Serves a fetch handler on Node with @hono/node-server (after `fastPath`, when given): the one listener of every face
 * and of the composed server.
 * @example
 * ```ts
 * const listener = await listen({ fetch: app.fetch, port: 0 });
 * console.log(`listening on ${listener.url}`);
 * await listener.close();
 * ```
 * @throws {ServerKitError} `ERR_SERVER_START` when the address cannot be bound (the message names the address and
 * the system error code, e.g. `EADDRINUSE`).
 */
export async function listen(options: ListenOptions): Promise<RunningListener> {
  const host = options.host ?? '127.0.0.1';
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const drainMs = options.drainMs ?? 0;
  const healthPath = options.healthPath ?? '/health';
  const fastPath = options.fastPath;
  let closing: Promise<void> | undefined;
  // Set while draining: ends the drain (early, on `close({ skipDrain: true })`).
  let endDrain: (() => void) | undefined;
  const ClosingAwareResponse = closingAwareResponse(() => closing !== undefined);
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const instance = serve({
        fetch: options.fetch as (request: Request) => Response | Promise<Response>,
        hostname: host,
        port: options.port,
        createServer: ((serverOptions: object, listener: (...args: never[]) => unknown) =>
          createServer({ ...serverOptions, ServerResponse: ClosingAwareResponse }, (request, response) => {
            if (endDrain !== undefined && isHealthCheck(request, healthPath))
              answerDraining(request, response);
            else if (!fastPath?.(request, response)) listener(request as never, response as never);
          })) as never,
      }) as Server;
      instance.once('error', reject);
      if (instance.listening) resolve(instance);
      else instance.once('listening', () => resolve(instance));
    });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    throw new ServerKitError(
      'ERR_SERVER_START',
      `cannot listen on ${host}:${options.port}${typeof code === 'string' ? ` (${code})` : ''}`,
      { cause },
    );
  }
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const drain = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => endDrain?.(), drainMs);
      endDrain = () => {
        clearTimeout(timer);
        endDrain = undefined;
        resolve();
      };
    });
  const stopAccepting = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), shutdownTimeoutMs);
      timer.unref();
      // Keep-alive connections whose last request finishes while closing are dropped as soon as they are idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      sweep.unref();
      server.close(() => {
        clearTimeout(timer);
        clearInterval(sweep);
        resolve();
      });
      server.closeIdleConnections();
    });
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close(closeOptions) {
      if (closeOptions?.skipDrain) endDrain?.();
      closing ??= (async () => {
        if (drainMs > 0 && !closeOptions?.skipDrain) await drain();
        await stopAccepting();
      })();
      return closing;
    },
  };
}

/**
 * The server's response class: once the server is closing, a response whose headers are written from then on says
 * `Connection: close` (a keep-alive connection closed without it races with the client's next request on it), also
 * when its request was already in flight when closing began. Deciding this when the headers are written needs no
 * per-request bookkeeping. (A set of the responses in flight did the same, and cost every request: a long-lived
 * set kept finished requests reachable for the young-generation collector, through its hash tables in the old
 * generation, which copied and promoted about 3 KiB per request, and paused for it.)
 */
function closingAwareResponse(isClosing: () => boolean): typeof ServerResponse {
  class ClosingAwareResponse<Request extends IncomingMessage> extends ServerResponse<Request> {}
  // Every way of answering (writeHead, and write/end without it) writes the headers through writeHead.
  const writeHead = ServerResponse.prototype.writeHead as (
    this: ServerResponse,
    ...args: unknown[]
  ) => unknown;
  ClosingAwareResponse.prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (isClosing() && !this.headersSent) this.setHeader('connection', 'close');
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  return ClosingAwareResponse;
}

/** `GET` or `HEAD` of the health path (any query). */
function isHealthCheck(request: IncomingMessage, healthPath: string): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return (query === -1 ? url : url.slice(0, query)) === healthPath;
}

function answerDraining(request: IncomingMessage, response: ServerResponse): void {
  const offered = request.headers[REQUEST_ID_HEADER];
  response.writeHead(503, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    [REQUEST_ID_HEADER]: requestIdOf(typeof offered === 'string' ? offered : undefined, () =>
      crypto.randomUUID(),
    ),
  });
  response.end('{"status":"draining"}');
}
