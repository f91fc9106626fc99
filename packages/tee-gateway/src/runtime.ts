import { escapeControlCharacters, type FetchFunction, type Logger } from '@confidential-ai/server-kit';
import type { OpenGradientSigner } from '@confidential-ai/tee-signing';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { TeeGatewayConfig } from './config.js';
import type { GatewayHttpError } from './errors.js';
import type { Heartbeat } from './heartbeat.js';
import type { PaymentGate } from './payment-types.js';
import type { PriceFeed } from './pricing.js';
import type { ProviderAdapter } from './providers/types.js';
import type { ModelConfig, ProviderId } from './registry.js';

/** The version the gateway reports (`/health`, `/signing-key`), as the reference. */
export const GATEWAY_VERSION = '1.0.0';

/** What changes while the gateway runs (keys injected once, the payment gate, the heartbeat). */
export interface GatewayState {
  /** Inference routes are live (keys injected, or simulation). */
  initialized: boolean;
  /** `POST /v1/keys` has been used (its one call). */
  keysInjected: boolean;
  /** Provider keys from `POST /v1/keys`. */
  providerKeys: Map<ProviderId, string>;
  /** The facilitator in use (config, then `POST /v1/keys`). */
  facilitatorUrl: string;
  /** The on-chain heartbeat, once `POST /v1/keys` configured one. */
  heartbeat: Heartbeat | undefined;
  /** The x402 gate, when x402 is on and the facilitator is known. */
  gate: PaymentGate | undefined;
  /** The signing key hash was registered with nitriding. */
  nitridingRegistered: boolean;
}

/** Everything the route modules of a gateway share. */
export interface GatewayRuntime {
  /** The validated configuration. */
  readonly config: TeeGatewayConfig;
  /** The gateway's logger (never receives provider keys, prompts or payment secrets). */
  readonly logger: Logger;
  /** Clock in ms. */
  readonly now: () => number;
  /** When the gateway started (ms). */
  readonly startedAt: number;
  /** fetch for providers, nitriding and the facilitator. */
  readonly fetch: FetchFunction;
  /** The response signer. */
  readonly signer: OpenGradientSigner;
  /** Checksum address of the gateway's Ethereum account. */
  readonly walletAddress: string;
  /** The OPG price source. */
  readonly priceFeed: PriceFeed;
  /** The mutable state. */
  readonly state: GatewayState;
  /** The TCP peer of a request. */
  readonly peerAddress: (c: Context) => string | undefined;
  /** Builds the x402 gate for a facilitator; undefined when x402 is off. */
  readonly paymentGateFactory: ((facilitatorUrl: string) => PaymentGate) | undefined;
  /**
   * The provider adapter for a registry model (the simulated one only while simulating and no key is injected).
   * @throws {GatewayHttpError} 503 when the model's provider has no key.
   */
  adapterFor(model: ModelConfig): ProviderAdapter;
}

/** A JSON answer with any status. */
export function json(c: Context, body: unknown, status: number, headers?: Record<string, string>): Response {
  return c.json(body as object, status as ContentfulStatusCode, headers);
}

/** The reference's flat error body `{"error": message, ...extra}` for a {@link GatewayHttpError}. */
export function gatewayErrorResponse(c: Context, error: GatewayHttpError): Response {
  // Messages can quote client input (the model name): never echo control or bidi-control characters.
  return json(c, { error: escapeControlCharacters(error.message), ...error.extra }, error.status);
}
