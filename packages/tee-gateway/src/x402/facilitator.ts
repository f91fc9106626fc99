import { bytesToBase64, utf8ToBytes } from '@confidential-ai/bytes';
import type { FetchFunction } from '@confidential-ai/server-kit';

/** x402 v2 `PaymentRequirements`. */
export interface PaymentRequirements {
  scheme: string;
  network: string;
  amount: string;
  asset: string;
  payTo: string;
  maxTimeoutSeconds: number;
  extra?: Record<string, unknown>;
}

/** x402 v2 `PaymentPayload`. */
export interface PaymentPayload {
  x402Version: number;
  resource?: unknown;
  accepted: PaymentRequirements;
  payload: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/** `/verify` answer. */
export interface VerifyResponse {
  isValid: boolean;
  invalidReason?: string;
  payer?: string;
}

/** `/settle` answer (after job polling). */
export interface SettleResponse {
  success: boolean;
  errorReason?: string;
  payer?: string;
  transaction: string;
  network: string;
  amount?: string;
}

/** One `kinds` entry of `/supported`. */
export interface SupportedKind {
  x402Version: number;
  scheme: string;
  network: string;
  extra?: Record<string, unknown>;
}

/** Options of {@link createFacilitatorClient}. */
export interface FacilitatorClientOptions {
  /** Facilitator base URL. */
  url: string;
  /** fetch. */
  fetch: FetchFunction;
  /** Poll interval of `GET /settle/{jobId}` in ms (default 2000). */
  pollIntervalMs?: number;
  /** Give up polling a job after this many ms (default 30000). */
  pollBudgetMs?: number;
  /** Per-call timeout in ms (default 30000). */
  timeoutMs?: number;
}

/** The facilitator HTTP client (`/supported`, `/verify`, `/settle` with 202 job polling, `/settle_data`). */
export interface FacilitatorClient {
  readonly url: string;
  supported(): Promise<{ kinds: SupportedKind[] }>;
  verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse>;
  settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse>;
  settleData(type: 'batch' | 'individual', data: Record<string, unknown>): Promise<unknown>;
}

/** A facilitator call failed (unreachable, bad status, malformed answer). */
export class FacilitatorError extends Error {
  readonly status: number | undefined;
  constructor(message: string, options?: { status?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = 'FacilitatorError';
    this.status = options?.status;
  }
}

/** JSON.stringify that writes bigints (and ints above 2^53) as strings, as og-x402's client does. */
export function toJsonSafe(value: unknown): string {
  return JSON.stringify(value, (_key, entry) => {
    if (typeof entry === 'bigint') return entry.toString();
    if (typeof entry === 'number' && Number.isInteger(entry) && !Number.isSafeInteger(entry))
      return BigInt(entry).toString();
    return entry;
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates the facilitator client.
 * @example
 * ```ts
 * const facilitator = createFacilitatorClient({ url: 'https://facilitator.memchat.io', fetch });
 * const { kinds } = await facilitator.supported();
 * ```
 */
export function createFacilitatorClient(options: FacilitatorClientOptions): FacilitatorClient {
  const base = options.url.replace(/\/+$/, '');
  const timeout = options.timeoutMs ?? 30_000;
  const call = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> => {
    let response: Response;
    try {
      response = await options.fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(timeout) });
    } catch (cause) {
      throw new FacilitatorError(`facilitator ${path} is unreachable`, { cause });
    }
    const text = await response.text();
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw new FacilitatorError(`facilitator ${path} returned a non-JSON body`, {
          status: response.status,
          cause,
        });
      }
    }
    return { status: response.status, body };
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: toJsonSafe(body),
    });
  return {
    url: base,
    async supported() {
      const { status, body } = await call('/supported');
      if (
        status !== 200 ||
        typeof body !== 'object' ||
        body === null ||
        !Array.isArray((body as { kinds?: unknown }).kinds)
      ) {
        throw new FacilitatorError('facilitator /supported answered unexpectedly', { status });
      }
      return body as { kinds: SupportedKind[] };
    },
    async verify(payload, requirements) {
      const { status, body } = await post('/verify', {
        x402Version: 2,
        paymentPayload: payload,
        paymentRequirements: requirements,
      });
      if (
        typeof body !== 'object' ||
        body === null ||
        typeof (body as { isValid?: unknown }).isValid !== 'boolean'
      ) {
        throw new FacilitatorError('facilitator /verify answered unexpectedly', { status });
      }
      return body as VerifyResponse;
    },
    async settle(payload, requirements) {
      const { status, body } = await post('/settle', {
        x402Version: 2,
        paymentPayload: payload,
        paymentRequirements: requirements,
      });
      if (status === 202) {
        const job = (body as { paymentJob?: Record<string, unknown> } | null)?.paymentJob;
        const id = job?.['id'] ?? job?.['jobId'];
        if (typeof id !== 'string' && typeof id !== 'number')
          throw new FacilitatorError('facilitator /settle returned no job id', { status });
        const deadline = Date.now() + (options.pollBudgetMs ?? 30_000);
        for (;;) {
          const polled = await call(`/settle/${encodeURIComponent(String(id))}`);
          const record = (polled.body ?? {}) as Record<string, unknown>;
          const inner = (record['paymentJob'] ?? record) as Record<string, unknown>;
          const state = inner['status'];
          if (state === 'succeeded') {
            const result = (inner['result'] ?? {}) as Record<string, unknown>;
            return {
              success: true,
              transaction: String(result['transaction'] ?? inner['transaction'] ?? ''),
              network: String(result['network'] ?? requirements.network),
              amount: requirements.amount,
              ...(typeof result['payer'] === 'string' ? { payer: result['payer'] } : {}),
            };
          }
          if (state === 'failed') {
            return {
              success: false,
              errorReason: String(inner['error'] ?? 'settlement_failed'),
              transaction: '',
              network: requirements.network,
            };
          }
          if (Date.now() > deadline) throw new FacilitatorError('settlement job did not finish in time');
          await sleep(options.pollIntervalMs ?? 2000);
        }
      }
      if (status !== 200 || typeof body !== 'object' || body === null) {
        throw new FacilitatorError('facilitator /settle answered unexpectedly', { status });
      }
      return body as SettleResponse;
    },
    async settleData(type, data) {
      const encoded = bytesToBase64(utf8ToBytes(toJsonSafe(data)));
      const { status, body } = await post(
        '/settle_data',
        {},
        { 'x-settlement-type': type, 'x-settlement-data': encoded },
      );
      if (status >= 400) throw new FacilitatorError('facilitator /settle_data refused the data', { status });
      return body;
    },
  };
}
