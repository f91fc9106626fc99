import { bytesToHex, readStreamLimited } from '@confidential-ai/bytes';
import { createEnvProxyFetch } from '@confidential-ai/venice-e2ee';

/** A `fetch`-compatible function (the OpenAI SDK's `fetch` option has this type). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Largest evidence body read by default (attestation reports with event logs are some 100 KB). */
export const DEFAULT_MAX_EVIDENCE_BYTES = 8 * 1024 * 1024;

/** Default timeout of one evidence request, in milliseconds. */
export const DEFAULT_EVIDENCE_TIMEOUT_MS = 30_000;

/** How evidence requests are made. */
export interface EvidenceTransport {
  /**
   * The fetch to use; default `globalThis.fetch`, or on Node, when `HTTPS_PROXY` / `HTTP_PROXY` are set, undici's
   * fetch through that proxy (venice-e2ee's `createEnvProxyFetch`; `NO_PROXY` honoured, loopback direct when it is
   * unset). A `fetch` given here is used as it is.
   */
  fetch?: FetchFunction | undefined;
  /** Extra headers (e.g. `authorization`) sent with every evidence request. */
  headers?: Readonly<Record<string, string>> | undefined;
  /** Timeout of one request in ms. Default 30 000. */
  timeoutMs?: number | undefined;
  /** Aborts the requests. */
  signal?: AbortSignal | undefined;
}

/** The outcome of one evidence request: the body text, or why there is none. */
export type EvidenceReply =
  | { readonly ok: true; readonly status: number; readonly text: string; readonly headers: Headers }
  | {
      readonly ok: false;
      readonly status: number | undefined;
      readonly reason: string;
      readonly text: string;
    };

/**
 * Reads a response body up to `maxBytes` and decodes it as UTF-8.
 * @throws RangeError when the body is larger; TypeError when it is not UTF-8.
 */
export async function readBodyLimited(
  response: Response,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const body = await readStreamLimited(response.body, {
    maxBytes,
    declaredLength: Number(response.headers.get('content-length') ?? '0'),
  });
  if (body === undefined) throw new RangeError(`body is larger than ${maxBytes} bytes`);
  return body;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * GETs one evidence URL and returns its text, never throwing: network failures, timeouts, error statuses and
 * oversized or non-UTF-8 bodies become `{ ok: false, reason }`.
 */
export async function getEvidence(url: string, transport: EvidenceTransport = {}): Promise<EvidenceReply> {
  const fetchFunction: FetchFunction = transport.fetch ?? createEnvProxyFetch();
  const timeout = AbortSignal.timeout(transport.timeoutMs ?? DEFAULT_EVIDENCE_TIMEOUT_MS);
  const signal = transport.signal ? AbortSignal.any([transport.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetchFunction(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...transport.headers },
      signal,
    });
  } catch (error) {
    const name = (error as { name?: unknown })?.name;
    return {
      ok: false,
      status: undefined,
      reason: name === 'TimeoutError' ? 'the request timed out' : 'the server could not be reached',
      text: '',
    };
  }
  let text: string;
  try {
    text = decoder.decode(await readBodyLimited(response, DEFAULT_MAX_EVIDENCE_BYTES));
  } catch {
    return { ok: false, status: response.status, reason: 'the body is too large or not UTF-8', text: '' };
  }
  if (response.status !== 200) {
    return {
      ok: false,
      status: response.status,
      reason: `HTTP ${response.status}`,
      text: text.slice(0, 2000),
    };
  }
  return { ok: true, status: response.status, text, headers: response.headers };
}

/** Parses JSON text into a plain object, or undefined. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** True for a non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `count` random bytes from WebCrypto as lowercase hex (a fresh nonce). */
export function randomNonceHex(count: number): string {
  return bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(count)));
}

/** Joins a base URL and a path with exactly one `/`. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** The `error.message` of an OpenAI-style or gateway error body, cut to 200 characters, when there is one. */
export function errorMessageOf(text: string): string | undefined {
  const body = parseJsonObject(text);
  if (!body) return undefined;
  const error = body.error;
  const message = isPlainObject(error) ? error.message : typeof error === 'string' ? error : undefined;
  return typeof message === 'string' ? message.slice(0, 200) : undefined;
}
