import { concatBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { createEnvProxyFetch } from '@confidential-ai/venice-e2ee';
import { type AnswerVerifierOptions, createAnswerVerifier, type ObservedAnswer } from './answer-verifiers.js';
import { VerifierError } from './errors.js';
import { type FetchFunction, readBodyLimited } from './http.js';
import type { Verdict } from './verdict.js';
import { requestModelOf } from './vllm-proxy.js';

/** Default largest answer the verified fetch buffers and verifies: 16 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Options of {@link createVerifiedFetch}. */
export interface VerifiedFetchOptions extends AnswerVerifierOptions {
  /**
   * The inner fetch that sends the requests (and the evidence requests); default `globalThis.fetch`, or on Node,
   * when `HTTPS_PROXY` / `HTTP_PROXY` are set, undici's fetch through that proxy (venice-e2ee's
   * `createEnvProxyFetch`). A `fetch` given here is used as it is.
   */
  fetch?: FetchFunction | undefined;
  /** Largest answer buffered for verification, in bytes; larger ones fail with `ERR_VERIFY_RESPONSE_TOO_LARGE`. */
  maxResponseBytes?: number | undefined;
  /** Called with the verdict of every verified answer (passed or failed), e.g. to show it in a page. */
  onVerdict?: ((verdict: Verdict, info: { url: string; stream: boolean }) => void) | undefined;
}

/** A `fetch` that verifies chat answers, plus its state. */
export interface VerifiedFetch extends FetchFunction {
  /** The verdict of the last verified answer. */
  readonly lastVerdict: Verdict | undefined;
  /** Drops every cached attestation (the next answer attests again). */
  clearCache(): void;
}

const verdicts = new WeakMap<Response, Promise<Verdict>>();

/**
 * The verdict of a response returned by a verified fetch: resolved once the answer is verified (for a stream, when
 * it ends). Works with the OpenAI SDK's `.withResponse()` / `.asResponse()`.
 *
 * @example
 * ```ts
 * const { data, response } = await client.chat.completions.create({ model, messages }).withResponse();
 * console.log((await verdictOf(response))?.status);
 * ```
 */
export function verdictOf(response: Response): Promise<Verdict> | undefined {
  return verdicts.get(response);
}

const CHAT_PATH = /\/(?:chat\/)?completions$/;

/** The exact bytes of a request body, or undefined for bodies whose bytes cannot be known up front (streams, forms). */
async function requestBytes(
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<Uint8Array | undefined> {
  const body = init?.body;
  if (body === undefined || body === null) {
    if (input instanceof Request && input.body !== null)
      return new Uint8Array(await input.clone().arrayBuffer());
    return new Uint8Array(0);
  }
  if (typeof body === 'string') return utf8ToBytes(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof Blob !== 'undefined' && body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  return undefined;
}

function headerOf(
  input: string | URL | Request,
  init: RequestInit | undefined,
  name: string,
): string | undefined {
  const headers = new Headers(input instanceof Request ? input.headers : undefined);
  if (init?.headers) for (const [key, value] of new Headers(init.headers)) headers.set(key, value);
  return headers.get(name) ?? undefined;
}

/**
 * The response returned for an answer that failed verification: its status and headers are the original ones
 * (plus `x-verifier-status: failed`), and every way of reading its body (`json()`, `text()`, `arrayBuffer()`,
 * `blob()`, `bytes()`, `formData()`, the `body` stream) fails with the {@link VerifierError}. Browsers turn an
 * errored body stream into a generic `TypeError` inside `json()`, so the readers are overridden to keep the typed
 * error: the OpenAI SDK, which parses with `json()`, rejects the call with exactly this error.
 */
class FailedVerificationResponse extends Response {
  readonly #error: VerifierError;

  constructor(original: Response, error: VerifierError) {
    const headers = new Headers(original.headers);
    headers.delete('content-length');
    headers.set('x-verifier-status', 'failed');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.error(error);
      },
    });
    super(body, { status: original.status, statusText: original.statusText, headers });
    this.#error = error;
  }

  override json(): Promise<never> {
    return Promise.reject(this.#error);
  }
  override text(): Promise<never> {
    return Promise.reject(this.#error);
  }
  override arrayBuffer(): Promise<never> {
    return Promise.reject(this.#error);
  }
  override blob(): Promise<never> {
    return Promise.reject(this.#error);
  }
  override formData(): Promise<never> {
    return Promise.reject(this.#error);
  }
  override bytes(): Promise<never> {
    return Promise.reject(this.#error);
  }
}

function failingResponse(original: Response, error: VerifierError): Response {
  return new FailedVerificationResponse(original, error);
}

function errorFor(verdict: Verdict): VerifierError {
  const failed = verdict.failedStep!;
  return new VerifierError(
    failed.code ?? 'ERR_VERIFY_EVIDENCE_MALFORMED',
    `${verdict.service} answer failed verification at step "${failed.name}": ${failed.message}`,
    { step: failed.name, verdict },
  );
}

function unexpected(error: unknown): VerifierError {
  return VerifierError.isInstance(error)
    ? error
    : new VerifierError('ERR_VERIFY_EVIDENCE_MALFORMED', 'Verification stopped on an unexpected error.', {
        cause: error,
      });
}

/**
 * Creates a `fetch` for the OpenAI SDK (or any fetch caller) that verifies every chat and completions answer of
 * one service before the caller may rely on it. Requests pass through unchanged; error statuses pass through
 * (they are not answers and carry no signature).
 *
 * - **Non-streamed answers** are read whole and verified before anything is returned: on success the caller gets
 *   the same bytes and headers; on failure the returned response's body fails with a {@link VerifierError} when
 *   read, so the SDK call rejects with that typed error (`code`, `step`, `verdict`) and is not retried.
 * - **Streamed answers** are delivered to the caller as they arrive, so chunks are provisional; when the upstream
 *   stream ends the fetch verifies the exact bytes and only then closes the stream. On failure the stream errors
 *   with the {@link VerifierError} before it ends: the SDK's `for await` loop throws it instead of finishing. A
 *   caller that stops reading early never gets a verdict (none is possible without the whole answer).
 *
 * Attestations are fetched once per signing key with a fresh nonce and reused for `policy.attestationMaxAgeMs`;
 * an answer signed by a key not attested yet is attested first. Put this fetch *below* any E2EE fetch (as its inner
 * fetch), so that it sees the bytes on the wire, which are the bytes the service signs.
 *
 * @example
 * ```ts
 * const client = new OpenAI({
 *   baseURL: 'http://127.0.0.1:8000/v1', apiKey: 'demo-token',
 *   fetch: createVerifiedFetch({ service: 'vllm-proxy', policy: { tdxMeasurements: { mrTd, rtmr3 } } }),
 * });
 * await client.chat.completions.create({ model, messages }); // throws VerifierError if any step fails
 * ```
 * @throws TypeError for invalid options.
 */
export function createVerifiedFetch(options: VerifiedFetchOptions): VerifiedFetch {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (!['vllm-proxy', 'chutes', 'tee-gateway', 'venice'].includes(options.service)) {
    throw new TypeError("service must be 'vllm-proxy', 'chutes', 'tee-gateway' or 'venice'");
  }
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new RangeError('maxResponseBytes must be a positive integer');
  const inner: FetchFunction = options.fetch ?? createEnvProxyFetch();
  const verifier = createAnswerVerifier({ ...options, fetch: options.fetch });
  let lastVerdict: Verdict | undefined;

  const settle = (verdict: Verdict, url: string, stream: boolean): Verdict => {
    lastVerdict = verdict;
    try {
      options.onVerdict?.(verdict, { url, stream });
    } catch {
      // A failing observer must not change the outcome.
    }
    return verdict;
  };

  const verifiedFetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (method !== 'POST' || !CHAT_PATH.test(url.pathname)) return inner(input, init);
    const sent = await requestBytes(input, init);
    if (sent === undefined) {
      throw new VerifierError(
        'ERR_VERIFY_REQUEST_UNSUPPORTED',
        'The request body is a stream or form; its exact bytes cannot be bound to the signature. Send a string or bytes.',
      );
    }
    const response = await inner(input, init);
    if (response.status !== 200 || !response.body) return response;
    const base: Omit<ObservedAnswer, 'responseBody'> = {
      url,
      requestBody: sent,
      requestHashHeader: headerOf(input, init, 'x-request-hash'),
      responseHeaders: response.headers,
      model: requestModelOf(sent),
      signal: init?.signal ?? undefined,
      authorization: headerOf(input, init, 'authorization'),
    };
    const isStream = (response.headers.get('content-type') ?? '').toLowerCase().includes('text/event-stream');
    if (!isStream) {
      let bytes: Uint8Array;
      try {
        bytes = await readBodyLimited(response, maxBytes);
      } catch (error) {
        const failure =
          error instanceof RangeError
            ? new VerifierError(
                'ERR_VERIFY_RESPONSE_TOO_LARGE',
                `The answer is larger than ${maxBytes} bytes.`,
              )
            : new VerifierError('ERR_VERIFY_RESPONSE_MALFORMED', 'The answer could not be read.', {
                cause: error,
              });
        return failingResponse(response, failure);
      }
      let verdict: Verdict;
      try {
        verdict = settle(await verifier.verify({ ...base, responseBody: bytes }), url.toString(), false);
      } catch (error) {
        return failingResponse(response, unexpected(error));
      }
      if (!verdict.ok) {
        const failed = failingResponse(response, errorFor(verdict));
        verdicts.set(failed, Promise.resolve(verdict));
        return failed;
      }
      const headers = new Headers(response.headers);
      headers.set('x-verifier-status', verdict.status);
      const verified = new Response(bytes as Uint8Array<ArrayBuffer>, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
      verdicts.set(verified, Promise.resolve(verdict));
      return verified;
    }

    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    let resolveVerdict!: (verdict: Verdict) => void;
    let rejectVerdict!: (error: VerifierError) => void;
    const verdictPromise = new Promise<Verdict>((resolve, reject) => {
      resolveVerdict = resolve;
      rejectVerdict = reject;
    });
    verdictPromise.catch(() => {});
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          const failure = new VerifierError(
            'ERR_VERIFY_RESPONSE_MALFORMED',
            'The answer stream broke before it ended.',
            { cause: error },
          );
          rejectVerdict(failure);
          controller.error(failure);
          return;
        }
        if (!result.done) {
          total += result.value.length;
          if (total > maxBytes) {
            const failure = new VerifierError(
              'ERR_VERIFY_RESPONSE_TOO_LARGE',
              `The answer is larger than ${maxBytes} bytes.`,
            );
            reader.cancel().catch(() => {});
            rejectVerdict(failure);
            controller.error(failure);
            return;
          }
          chunks.push(result.value);
          controller.enqueue(result.value);
          return;
        }
        let verdict: Verdict;
        try {
          verdict = settle(
            await verifier.verify({ ...base, responseBody: concatBytes(...chunks) }),
            url.toString(),
            true,
          );
        } catch (error) {
          const failure = unexpected(error);
          rejectVerdict(failure);
          controller.error(failure);
          return;
        }
        resolveVerdict(verdict);
        if (verdict.ok) controller.close();
        else controller.error(errorFor(verdict));
      },
      cancel(reason) {
        reader.cancel(reason).catch(() => {});
        rejectVerdict(
          new VerifierError(
            'ERR_VERIFY_RESPONSE_MALFORMED',
            'The caller stopped reading the answer before it ended.',
          ),
        );
      },
    });
    const streamed = new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    verdicts.set(streamed, verdictPromise);
    return streamed;
  }) as VerifiedFetch;

  Object.defineProperty(verifiedFetch, 'lastVerdict', { get: () => lastVerdict, enumerable: true });
  Object.defineProperty(verifiedFetch, 'clearCache', { value: () => verifier.clear(), enumerable: true });
  return verifiedFetch;
}
