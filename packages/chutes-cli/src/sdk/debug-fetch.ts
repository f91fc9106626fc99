import { bytesToUtf8 } from '@confidential-ai/bytes';
import type { FetchFunction } from './client.js';

/** Header names whose values are credentials: never logged. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-chutes-signature',
  'x-api-key',
  'cookie',
  'set-cookie',
]);

/** JSON fields whose values are credentials or secrets: never logged. */
const SECRET_FIELDS = new Set([
  'secret_key',
  'api_key',
  'value',
  'fingerprint',
  'hotkey_seed',
  'secretSeed',
  'secretPhrase',
  'privateKey',
  'password',
  'token',
  'secret',
]);

const MAX_LOGGED_BODY = 2000;
const REDACTED = '<redacted>';

/** A copy of `headers` with credential values replaced by `<redacted>` (names lower-cased). */
export function redactHeaders(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of new Headers(headers ?? {}).entries()) {
    out[name] = SECRET_HEADERS.has(name) ? REDACTED : value;
  }
  return out;
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      out[key] = SECRET_FIELDS.has(key) ? REDACTED : redactValue(item);
    return out;
  }
  return value;
}

/**
 * A loggable rendering of a body: JSON with secret fields redacted (truncated), a size for anything else.
 * `cpk_` API keys are redacted wherever they appear.
 */
export function describeBody(
  body: string | Uint8Array | null | undefined,
  contentType: string | null,
): string {
  if (body === null || body === undefined || body.length === 0) return '(no body)';
  const size = typeof body === 'string' ? body.length : body.byteLength;
  if (!/json/i.test(contentType ?? '')) return `(${contentType ?? 'body'}, ${size} bytes)`;
  let text: string;
  try {
    text = JSON.stringify(redactValue(JSON.parse(typeof body === 'string' ? body : bytesToUtf8(body))));
  } catch {
    return `(unparsable JSON, ${size} bytes)`;
  }
  text = text.replace(/cpk_[A-Za-z0-9.]+/g, REDACTED);
  return text.length > MAX_LOGGED_BODY ? `${text.slice(0, MAX_LOGGED_BODY)}... (${size} bytes)` : text;
}

/** Options of {@link createDebugFetch}. */
export interface DebugFetchOptions {
  /** Log request and response bodies (default true); off where bodies carry prompts (`chat`). */
  bodies?: boolean;
}

/** A URL with secret query parameters (`token`, `api_key`, `key`, `signature`) and `cpk_` keys redacted. */
export function redactUrl(url: string): string {
  return url
    .replace(/([?&](?:token|api_key|key|signature)=)[^&#]*/gi, `$1${REDACTED}`)
    .replace(/cpk_[A-Za-z0-9.]+/g, REDACTED);
}

/**
 * Wraps a fetch so every request and response is logged (method, URL, headers, body) with hotkey signatures,
 * API keys, Authorization, secret query parameters and secret JSON fields redacted. Streaming responses (SSE,
 * plain text) are not read.
 */
export function createDebugFetch(
  fetch: FetchFunction,
  log: (line: string) => void,
  options: DebugFetchOptions = {},
): FetchFunction {
  const bodies = options.bodies !== false;
  return async (input, init = {}) => {
    const url = redactUrl(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = init.method ?? 'GET';
    const headers = redactHeaders(init.headers);
    const body = init.body;
    const bodyBytes =
      typeof body === 'string'
        ? body
        : body instanceof Uint8Array
          ? body
          : body === undefined
            ? null
            : undefined;
    const size = bodyBytes === null || bodyBytes === undefined ? 0 : bodyBytes.length;
    log(
      `-> ${method} ${url} headers=${JSON.stringify(headers)} body=${
        bodyBytes === undefined
          ? '(stream)'
          : bodies
            ? describeBody(bodyBytes, headers['content-type'] ?? null)
            : `(${size} bytes, not logged)`
      }`,
    );
    const response = await fetch(input, init);
    const contentType = response.headers.get('content-type');
    let described = '(stream, not logged)';
    if (bodies && /json/i.test(contentType ?? '')) {
      try {
        described = describeBody(await response.clone().text(), contentType);
      } catch {
        described = '(unreadable)';
      }
    }
    log(
      `<- ${response.status} ${method} ${url} headers=${JSON.stringify(redactHeaders(response.headers))} body=${described}`,
    );
    return response;
  };
}
