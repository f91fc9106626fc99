import type { MiddlewareHandler } from 'hono';

/** The response (and accepted request) header carrying the request id. */
export const REQUEST_ID_HEADER = 'x-request-id';

const ACCEPTED_ID = /^[\w\-=]{1,128}$/;

/**
 * The id of a request that offered `offered` as its `X-Request-Id`: the offer when it is 1-128 characters of
 * `[A-Za-z0-9_=-]`, else `generate()` (the one rule of {@link requestIdMiddleware} and of direct node:http handlers).
 * @example
 * ```ts
 * requestIdOf('abc-1', () => crypto.randomUUID()); // 'abc-1'
 * ```
 */
export function requestIdOf(offered: string | undefined, generate: () => string): string {
  return offered !== undefined && ACCEPTED_ID.test(offered) ? offered : generate();
}

/** Options of {@link requestIdMiddleware}. */
export interface RequestIdOptions {
  /** Makes a new id; default `crypto.randomUUID()`. */
  generate?: () => string;
}

/**
 * Gives every request an id (`c.var.requestId`): the client's `X-Request-Id` when it is 1-128 characters of
 * `[A-Za-z0-9_=-]`, else a new UUID; one already set by an outer app (a composed server) is kept. The id is put on
 * EVERY response as `X-Request-Id`, success included, also when a handler returns a `Response` it built itself or
 * one whose headers are immutable (a relayed `fetch` response, which is then copied).
 * @example
 * ```ts
 * app.use('*', requestIdMiddleware());
 * app.get('/health', (c) => c.json({ status: 'ok', request: c.var.requestId }));
 * ```
 */
export function requestIdMiddleware(
  options: RequestIdOptions = {},
): MiddlewareHandler<{ Variables: { requestId: string } }> {
  const generate = options.generate ?? (() => crypto.randomUUID());
  return async (c, next) => {
    let id = c.get('requestId') as string | undefined;
    if (id === undefined) {
      id = requestIdOf(c.req.header(REQUEST_ID_HEADER), generate);
      c.set('requestId', id);
    }
    await next();
    if (c.res.headers.get(REQUEST_ID_HEADER) === id) return;
    try {
      c.res.headers.set(REQUEST_ID_HEADER, id);
    } catch {
      // Immutable headers (a Response from fetch): answer with a copy that can carry the id.
      const copy = new Response(c.res.body, c.res);
      copy.headers.set(REQUEST_ID_HEADER, id);
      c.res = copy;
    }
  };
}
