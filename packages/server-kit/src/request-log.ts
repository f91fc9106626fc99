import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from './logger.js';
import type { ServerMetrics } from './metrics.js';

/** Set on a request once a face has counted and logged it, so an outer (composing) app does not do it again. */
const OBSERVED = 'serverKit.observed';

/**
 * The route pattern a request was answered under, relative to where its app is mounted (`/v1/chat/completions`
 * also when the app is served below `/tee-gateway`), or `unmatched` when no route of a fixed path matched (an
 * unknown path, a wrong method, or a catch-all). Patterns, never raw paths, so metric labels stay bounded.
 * @example
 * ```ts
 * app.use('*', async (c, next) => { await next(); console.log(routeLabel(c)); });
 * ```
 */
export function routeLabel(c: Context): string {
  let routes: ReturnType<typeof matchedRoutes>;
  try {
    routes = matchedRoutes(c);
  } catch {
    return 'unmatched';
  }
  for (let index = routes.length - 1; index >= 0; index--) {
    const route = routes[index]!;
    if (route.path.includes('*')) continue;
    const base = route.basePath === '/' ? '' : route.basePath.replace(/\/+$/, '');
    return base !== '' && route.path.startsWith(base) ? route.path.slice(base.length) || '/' : route.path;
  }
  return 'unmatched';
}

/** Options of {@link observeRequests}. */
export interface ObserveRequestsOptions {
  /** Where the one line per request goes (method, route, status, duration, request id; never bodies or headers). */
  logger: Logger;
  /** Counts requests and durations in `metrics.requests` / `metrics.requestDuration`. */
  metrics?: ServerMetrics;
  /** The route label; default {@link routeLabel}. */
  route?: (c: Context) => string;
  /** The log message. Default `request`. */
  message?: string;
  /** Extra log fields from the finished request (e.g. a face's error code header). */
  fields?: (c: Context) => Record<string, unknown>;
}

/** One finished request, as {@link recordRequest} counts and logs it. */
export interface RequestRecord {
  /** The request id (`x-request-id`). */
  requestId: unknown;
  /** HTTP method. */
  method: string;
  /** The route label (a pattern, never a raw path). */
  route: string;
  /** The answer's status code. */
  status: number;
  /** Seconds from the request's arrival to its answer. */
  seconds: number;
  /** Extra log fields, after the fixed ones. */
  fields?: Record<string, unknown>;
}

/**
 * Counts one finished request in `metrics.requests` / `metrics.requestDuration` and writes its one access line
 * (request id, method, route, status, ms; never bodies or headers). {@link observeRequests} calls it for the apps'
 * routes; a node:http fast path that answers without the app calls it too, so both write the same line.
 * @example
 * ```ts
 * recordRequest({ logger, metrics }, { requestId: 'r1', method: 'POST', route: '/v1/chat/completions', status: 200, seconds: 0.01 });
 * ```
 */
export function recordRequest(
  options: Pick<ObserveRequestsOptions, 'logger' | 'metrics' | 'message'>,
  record: RequestRecord,
): void {
  options.metrics?.requests.inc({
    route: record.route,
    method: record.method,
    status: String(record.status),
  });
  options.metrics?.requestDuration.observe({ route: record.route }, record.seconds);
  options.logger.info(
    {
      reqId: record.requestId,
      method: record.method,
      route: record.route,
      status: record.status,
      ms: Math.round(record.seconds * 10_000) / 10,
      ...record.fields,
    },
    options.message ?? 'request',
  );
}

/**
 * Counts and logs each request once: register it with `app.use('*', ...)` on every face. When a face is mounted
 * in a composed app that observes requests too, the face (the inner middleware) records its own requests, with its
 * own metrics prefix, and the outer app skips them.
 * @example
 * ```ts
 * app.use('*', observeRequests({ logger, metrics }));
 * ```
 */
export function observeRequests(options: ObserveRequestsOptions): MiddlewareHandler {
  const route = options.route ?? routeLabel;
  const message = options.message ?? 'request';
  return async (c, next) => {
    const started = performance.now();
    await next();
    if (c.get(OBSERVED as never)) return;
    c.set(OBSERVED as never, true as never);
    const fields = options.fields?.(c);
    recordRequest(
      { ...options, message },
      {
        requestId: c.get('requestId' as never),
        method: c.req.method,
        route: route(c),
        status: c.res.status,
        seconds: (performance.now() - started) / 1000,
        ...(fields ? { fields } : {}),
      },
    );
  };
}
