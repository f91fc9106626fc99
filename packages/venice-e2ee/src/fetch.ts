import {
  type ChatInfo,
  createVeniceClient,
  proxyResponseHeaders,
  type VeniceClient,
  type VeniceClientOptions,
} from './client.js';
import { VeniceE2eeError } from './errors.js';
import { createEnvProxyFetch } from './outbound-proxy.js';
import { formatSseData } from './sse.js';
import type { ChatRequest } from './types.js';

/** A `fetch`-compatible function. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link createVeniceFetch}. */
export interface VeniceFetchOptions extends Omit<VeniceClientOptions, 'baseUrl' | 'apiKey' | 'fetch'> {
  /**
   * Inner fetch; default `globalThis.fetch`, or on Node, when `HTTPS_PROXY` / `HTTP_PROXY` are set, undici's fetch
   * through that proxy (see {@link createEnvProxyFetch}). A `fetch` given here is used as it is.
   */
  fetch?: FetchFunction;
  /** Request header that selects the session. Default `x-venice-proxy-session-id`. */
  sessionHeader?: string;
}

/** A Venice fetch with a way to stop its session sweepers. */
export interface VeniceFetch extends FetchFunction {
  /** Stops the session sweepers of every client created by this fetch. */
  close(): void;
}

const CHAT_PATH = '/chat/completions';

function errorResponse(error: VeniceE2eeError): Response {
  const body: Record<string, unknown> = { message: error.message, type: error.type, code: error.proxyCode };
  if (error.code === 'ERR_INVALID_TOOL_CALL' && error.details) body['details'] = error.details;
  return new Response(JSON.stringify({ error: body }), {
    status: error.status,
    headers: {
      'content-type': 'application/json',
      'x-should-retry': 'false',
      'x-venice-proxy-error-code': error.proxyCode,
    },
  });
}

async function readBody(
  input: string | URL | Request,
  init: RequestInit | undefined,
): Promise<string | undefined> {
  const body = init?.body ?? (input instanceof Request ? await input.clone().text() : undefined);
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array || body instanceof ArrayBuffer) return new TextDecoder().decode(body);
  return new Response(body as BodyInit).text();
}

/**
 * Creates a `fetch` for the OpenAI SDK that speaks Venice E2EE. `POST …/chat/completions` is attested,
 * encrypted and decrypted (tools emulated); every other request goes to the inner fetch unchanged. The base
 * URL comes from the request URL and the API key from its `Authorization` header, so the SDK's `baseURL` and
 * `apiKey` are used as they are. Failures become OpenAI-shaped error responses (`{error:{message,type,code}}`,
 * with `x-should-retry: false`) so the SDK raises an `APIError` whose `code` is the stable proxy code.
 *
 * Sessions default to one per fetch (`fallbackScope: 'agent'`), so the model key is attested once and reused
 * until the session expires; send `x-venice-proxy-session-id` or `metadata.session_id` to pick another.
 * @example
 * ```ts
 * // import OpenAI from 'openai'; import { createVeniceFetch } from this package
 * const openai = new OpenAI({
 *   baseURL: 'https://api.venice.ai/api/v1',
 *   apiKey: process.env.VENICE_API_KEY,
 *   fetch: createVeniceFetch(),
 * });
 * const answer = await openai.chat.completions.create({
 *   model: 'e2ee-qwen3-6-27b',
 *   messages: [{ role: 'user', content: 'Hello' }],
 * });
 * ```
 */
export function createVeniceFetch(options: VeniceFetchOptions = {}): VeniceFetch {
  const inner: FetchFunction = options.fetch ?? createEnvProxyFetch();
  const sessionHeader = (options.sessionHeader ?? 'x-venice-proxy-session-id').toLowerCase();
  const clients = new Map<string, VeniceClient>();

  const clientFor = (baseUrl: string, apiKey: string | undefined): VeniceClient => {
    const key = `${baseUrl}\n${apiKey ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = createVeniceClient({
        ...options,
        baseUrl,
        fetch: inner,
        ...(apiKey ? { apiKey } : {}),
        session: { fallbackScope: 'agent', ...options.session },
      });
      clients.set(key, client);
    }
    return client;
  };

  const veniceFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (method !== 'POST' || !url.pathname.endsWith(CHAT_PATH)) return inner(input, init);
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    for (const [name, value] of new Headers(init?.headers)) headers.set(name, value);
    const authorization = headers.get('authorization');
    const apiKey = authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
    const baseUrl = `${url.origin}${url.pathname.slice(0, -CHAT_PATH.length)}`;
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined);
    try {
      let request: ChatRequest;
      try {
        request = JSON.parse((await readBody(input, init)) ?? '') as ChatRequest;
      } catch (cause) {
        throw new VeniceE2eeError('ERR_INVALID_REQUEST', 'chat request body is not JSON', { cause });
      }
      if (typeof request !== 'object' || request === null || Array.isArray(request)) {
        throw new VeniceE2eeError('ERR_INVALID_REQUEST', 'chat request body must be a JSON object');
      }
      const client = clientFor(baseUrl, apiKey);
      const sessionId = headers.get(sessionHeader)?.trim();
      const call = { ...(sessionId ? { sessionId } : {}), ...(signal ? { signal } : {}) };
      if (request.stream === true) {
        const { stream, info } = await client.streamChatCompletion(request, call);
        return sseResponse(stream, info);
      }
      const { completion, info } = await client.createChatCompletion(request, call);
      return new Response(JSON.stringify(completion), {
        status: 200,
        headers: { 'content-type': 'application/json', ...proxyResponseHeaders(info) },
      });
    } catch (error) {
      if (VeniceE2eeError.isInstance(error)) return errorResponse(error);
      throw error;
    }
  };

  return Object.assign(veniceFetch, {
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  });
}

function sseResponse(stream: AsyncGenerator<unknown>, info: ChatInfo): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await stream.next();
        if (next.done) {
          controller.enqueue(encoder.encode(formatSseData('[DONE]')));
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(formatSseData(JSON.stringify(next.value))));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      await stream.return(undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      ...proxyResponseHeaders(info),
    },
  });
}
