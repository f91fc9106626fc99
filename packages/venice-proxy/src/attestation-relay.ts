import { readStreamLimited } from '@confidential-ai/bytes';
import { VeniceE2eeError } from '@confidential-ai/venice-e2ee';
import type { VeniceProxyConfig } from './config.js';

/** Largest attestation body relayed (reports with NVIDIA evidence run to a few hundred KB). */
export const MAX_ATTESTATION_BYTES = 8 * 1024 * 1024;

const NONCE = /^[0-9a-fA-F]{64}$/;
const MAX_MODEL_LENGTH = 256;

/** The query of an attestation request: the model and the client's 32-byte nonce (64 hex characters). */
export interface AttestationQuery {
  /** The model id. */
  readonly model: string;
  /** The client's nonce, 64 hex characters. */
  readonly nonce: string;
}

/** Reads `model` and `nonce` from a query string; undefined when either is missing or malformed. */
export function parseAttestationQuery(query: URLSearchParams): AttestationQuery | undefined {
  const model = query.get('model') ?? '';
  const nonce = query.get('nonce') ?? '';
  if (model === '' || model.length > MAX_MODEL_LENGTH || !NONCE.test(nonce)) return undefined;
  return { model, nonce };
}

/** What {@link relayAttestation} needs. */
export interface AttestationRelayOptions {
  /** The proxy configuration (upstream base URL, API key, timeout). */
  readonly config: VeniceProxyConfig;
  /** The fetch used to reach Venice. */
  readonly fetch: typeof globalThis.fetch;
}

async function readLimited(response: Response): Promise<Uint8Array> {
  const body = await readStreamLimited(response.body, { maxBytes: MAX_ATTESTATION_BYTES });
  if (body === undefined) {
    throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'Venice attestation response is too large');
  }
  return body;
}

/**
 * Relays an attestation request (`GET /v1/tee/attestation?model=&nonce=`) to Venice (`{venice.base_url}/tee/attestation`) with the proxy's
 * Venice key, so that a client can check the model attestation with its own nonce (venice-e2ee.md §4.8) through
 * the face it chats with. Only `model` and `nonce` ({@link parseAttestationQuery}) are forwarded;
 * a 200 answer comes back byte for byte with its content type; any other upstream answer, a network failure or a
 * timeout becomes the proxy's own error (502 `upstream_*`), so a client never mistakes Venice's 401 for its own.
 * @throws VeniceE2eeError for upstream failures (`ERR_UPSTREAM_*`, `ERR_ATTESTATION_FETCH_FAILED`).
 */
export async function relayAttestation(
  options: AttestationRelayOptions,
  { model, nonce }: AttestationQuery,
  signal: AbortSignal,
): Promise<Response> {
  const { venice } = options.config;
  const url = new URL(`${venice.baseUrl.replace(/\/+$/, '')}/tee/attestation`);
  url.searchParams.set('model', model);
  url.searchParams.set('nonce', nonce);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (venice.apiKey) headers.authorization = `Bearer ${venice.apiKey}`;
  const timeout = AbortSignal.timeout(venice.requestTimeoutMs);
  let response: Response;
  let body: Uint8Array;
  try {
    response = await options.fetch(url.toString(), {
      method: 'GET',
      headers,
      signal: AbortSignal.any([signal, timeout]),
    });
    body = await readLimited(response);
  } catch (cause) {
    if (VeniceE2eeError.isInstance(cause)) throw cause;
    if (timeout.aborted)
      throw new VeniceE2eeError('ERR_UPSTREAM_TIMEOUT', 'attestation request timed out', { cause });
    throw new VeniceE2eeError('ERR_ATTESTATION_FETCH_FAILED', 'attestation request failed', { cause });
  }
  if (response.status === 401 || response.status === 403) {
    throw new VeniceE2eeError(
      'ERR_UPSTREAM_AUTHENTICATION_FAILED',
      `Venice rejected the API key (status ${response.status})`,
    );
  }
  if (response.status !== 200) {
    throw new VeniceE2eeError('ERR_UPSTREAM_STATUS', `Venice upstream returned status ${response.status}`, {
      details: { status: response.status },
    });
  }
  return new Response(body as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: {
      'content-type': response.headers.get('content-type') ?? 'application/json',
      'cache-control': 'no-store',
    },
  });
}
