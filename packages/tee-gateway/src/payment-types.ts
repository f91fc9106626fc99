import type { TeeSignatureFields } from '@confidential-ai/tee-signing';
import type { Usage } from './providers/types.js';
import type { ModelConfig } from './registry.js';

/** How the client asked the facilitator to record the response (`X-SETTLEMENT-TYPE`). */
export type SettlementType = 'private' | 'batch' | 'individual';

/** What a paid request produced, reported to its ticket when the response is complete. */
export interface PaymentOutcome {
  /** HTTP status of the response (non-2xx is never charged). */
  status: number;
  /** The registry model of the request. */
  model: ModelConfig | undefined;
  /** Provider usage totals. */
  usage: Usage | undefined;
  /** The proof fields of the response. */
  tee: TeeSignatureFields | undefined;
  /** The request JSON. */
  requestJson: unknown;
  /** The response JSON (or the final SSE frame). */
  responseJson: unknown;
}

/** The permission to serve one request, bound to an x402 session. */
export interface PaymentTicket {
  /** Session id (SHA-256 hex of the payment header). */
  readonly sessionId: string;
  /** Requested settlement type. */
  readonly settlementType: SettlementType;
  /** Headers every response of this request carries (`X-Upto-Session`). */
  headers(): Record<string, string>;
  /**
   * Charges the session for the outcome and sends the settlement data in the background. Returns headers
   * to add when the response is still buffered (e.g. `PAYMENT-RESPONSE` when the session was settled now).
   */
  complete(outcome: PaymentOutcome): Promise<Record<string, string>>;
}

/** The result of checking a request's payment. */
export type PaymentDecision = { kind: 'deny'; response: Response } | { kind: 'allow'; ticket: PaymentTicket };

/** The x402 gate the inference routes go through. */
export interface PaymentGate {
  /** Checks the payment headers of a request. */
  authorize(request: {
    method: string;
    path: string;
    url: string;
    headers: Headers;
  }): Promise<PaymentDecision>;
}
