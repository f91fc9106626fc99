import type { Context, Env, Hono, Schema } from 'hono';
import { baseRoutePath } from 'hono/route';
import { CLIENT_CLOSED_REQUEST, escapeControlCharacters, isClientAbort } from './ingress.js';
import { errorForLog, type Logger } from './logger.js';

/** A failure to answer, in the terms each face builds its own error shape from. */
export interface HttpFailure {
  /** HTTP status. */
  readonly status: number;
  /** Stable machine-readable code: `not_found`, `method_not_allowed`, `client_closed_request`, `internal_error`. */
  readonly code: string;
  /** Client-safe message; control and bidi-control characters already escaped. */
  readonly message: string;
}

/**
 * Renders a failure in a face's own error shape: the OpenAI envelope (vllm-proxy, Chutes), the flat
 * `{"error": message}` (TEE gateway), the crate's `{"error":{message,type,code}}` (Venice).
 */
export type ErrorRenderer = (c: Context, failure: HttpFailure) => Response | Promise<Response>;

/** Options of {@link handleErrors}. */
export interface HandleErrorsOptions {
  /** The face's error shape. */
  render: ErrorRenderer;
  /**
   * The face's own typed errors: returns the response for an error the face knows (its HTTP error class), else
   * undefined (then a client abort is 499 `client_closed_request`, anything else 500 `internal_error` without its
   * message, which could quote input or secrets).
   */
  known?: (error: Error, c: Context) => Response | Promise<Response> | undefined;
  /** Logs client aborts at info and unexpected errors at error (name, code and stack frames only). */
  logger?: Logger;
}

const PARAMETER = /^:[^/{]+(?:\{[^}]*\})?$/;

/** True when the fixed or parameterised route `pattern` (`/v1/signature/:id`) matches `path`. */
function patternMatches(pattern: string, path: string): boolean {
  const want = pattern.split('/');
  const have = path.split('/');
  if (want.length !== have.length) return false;
  return want.every(
    (segment, index) => segment === have[index] || (PARAMETER.test(segment) && have[index] !== ''),
  );
}

/**
 * Installs a face's error handling on its Hono app, in its own shape: `onError` (the face's known errors, client
 * aborts, unexpected errors) and a catch-all route, registered LAST, that answers unknown paths 404 `not_found` and
 * known paths with another method 405 `method_not_allowed`. The catch-all also serves when the app is mounted
 * below a prefix of a composed server (whose own not-found handler would answer in another face's shape). Call it
 * after every route of the app is registered.
 * @example
 * ```ts
 * handleErrors(app, { render: (c, failure) => c.json({ error: failure.message }, failure.status as 404), logger });
 * ```
 */
export function handleErrors<E extends Env, S extends Schema, BasePath extends string>(
  app: Hono<E, S, BasePath>,
  options: HandleErrorsOptions,
): void {
  const { render, logger } = options;
  const unmatched = (c: Context<E>) => {
    const base = baseRoutePath(c).replace(/\/+$/, '');
    const path =
      base !== '' && c.req.path.startsWith(base) ? c.req.path.slice(base.length) || '/' : c.req.path;
    const known = app.routes.some(
      (route) => route.method !== 'ALL' && !route.path.includes('*') && patternMatches(route.path, path),
    );
    const shown = escapeControlCharacters(`${c.req.method} ${c.req.path}`);
    return render(
      c,
      known
        ? { status: 405, code: 'method_not_allowed', message: `Method not allowed: ${shown}` }
        : { status: 404, code: 'not_found', message: `No route for ${shown}` },
    );
  };
  app.all('*', unmatched);
  app.notFound(unmatched);
  app.onError(async (error, c) => {
    const own = await options.known?.(error, c);
    if (own) return own;
    if (isClientAbort(c.req.raw)) {
      // The client went away (mid-upload, or while the upstream was answering): nobody reads this answer.
      logger?.info({ reqId: c.get('requestId' as never), method: c.req.method }, 'client closed the request');
      return render(c, {
        status: CLIENT_CLOSED_REQUEST.status,
        code: CLIENT_CLOSED_REQUEST.type,
        message: 'The client closed the request',
      });
    }
    logger?.error({ reqId: c.get('requestId' as never), err: errorForLog(error) }, 'unhandled error');
    return render(c, { status: 500, code: 'internal_error', message: 'Internal server error' });
  });
}
