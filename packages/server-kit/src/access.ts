import { hash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Context } from 'hono';

// One-shot `hash`, not `createHash`: no native `Hash` object (and its weak handle) per request.
const digestOf = (text: string): Buffer => hash('sha256', text, 'buffer');

// The configured token's digest, computed once per token (it is the same on every request).
let knownToken: string | undefined;
let knownTokenDigest: Buffer | undefined;

function safeEqual(offered: string, token: string): boolean {
  if (knownToken !== token || knownTokenDigest === undefined) {
    knownTokenDigest = digestOf(token);
    knownToken = token;
  }
  return timingSafeEqual(digestOf(offered), knownTokenDigest);
}

/** What {@link checkBearer} found in an `Authorization` header. */
export type BearerCheck = 'ok' | 'missing' | 'invalid';

/**
 * The one client-token check of every face (vllm-proxy, Chutes, Venice, TEE gateway): `missing` for an absent or
 * non-Bearer header, `invalid` for a wrong token or when no token is configured (fail closed), `ok` otherwise. The
 * comparison is constant-time.
 * @example
 * ```ts
 * checkBearer('Bearer secret', 'secret'); // 'ok'
 * checkBearer(undefined, 'secret'); // 'missing'
 * ```
 */
export function checkBearer(header: string | undefined, token: string | undefined): BearerCheck {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!match) return 'missing';
  if (token === undefined || !safeEqual(match[1]!.trim(), token)) return 'invalid';
  return 'ok';
}

/** The client-facing messages of the two {@link checkBearer} failures (vllm-proxy §1.3). */
export const BEARER_FAILURE_MESSAGES: Readonly<Record<Exclude<BearerCheck, 'ok'>, string>> = Object.freeze({
  missing: 'Invalid or missing Authorization header',
  invalid: 'Invalid token',
});

/** How long a refused upload is still read and discarded after the answer, so the client can read it. */
const LINGER_MS = 500;

/**
 * For an answer to a request whose body was never read (an access check failed first): once the answer is sent,
 * half-close the connection (FIN) and drop it after a short linger ({@link LINGER_MS}, during which the rest of
 * the upload is discarded, never parsed, so the client can still read the answer instead of a reset). Requests
 * without a body, and requests not served from a Node socket (`app.request`), are left alone.
 * @example
 * ```ts
 * return closeIfBodyUnread(c, c.json({ error: 'Invalid token' }, 401));
 * ```
 */
export function closeIfBodyUnread(c: Context, response: Response): Response {
  const method = c.req.method;
  const headers = c.req.raw.headers;
  const declared = headers.get('content-length');
  const hasBody =
    method !== 'GET' &&
    method !== 'HEAD' &&
    (headers.has('transfer-encoding') || (declared !== null && declared.trim() !== '0'));
  const node = c.env as
    | {
        outgoing?: { once?: (event: 'finish', listener: () => void) => unknown };
        incoming?: { socket?: Socket };
      }
    | undefined;
  const socket = node?.incoming?.socket;
  if (hasBody && socket && typeof node?.outgoing?.once === 'function') {
    node.outgoing.once('finish', () => {
      socket.end();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    });
  }
  return response;
}
