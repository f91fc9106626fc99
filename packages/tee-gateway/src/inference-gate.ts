import { closeIfBodyUnread } from '@confidential-ai/server-kit';
import { type TeeSignatureFields, teeSignatureHeaders } from '@confidential-ai/tee-signing';
import type { Context } from 'hono';
import { GatewayHttpError } from './errors.js';
import type { PaymentTicket } from './payment-types.js';
import type { Usage } from './providers/types.js';
import { getModelConfig, type ModelConfig } from './registry.js';
import { isJsonContentType } from './request-body.js';
import { type GatewayRuntime, json } from './runtime.js';

/** The checks and accounting every inference route shares. */
export interface InferenceGate {
  /**
   * Runs the inference gate before the body is read: initialised, JSON content type, payment (header checks and
   * the facilitator's `/verify`). An early answer closes the connection instead of reading the upload.
   */
  gateInference(
    c: Context,
    unsupportedBody: Record<string, unknown>,
  ): Promise<
    { early: Response; ticket?: undefined } | { early?: undefined; ticket: PaymentTicket | undefined }
  >;
  /**
   * The registry model of a request.
   * @throws {GatewayHttpError} 400 for an unknown model.
   */
  modelOf(name: unknown): ModelConfig;
  /**
   * Refuses inference while there is no OPG price.
   * @throws {GatewayHttpError} 503.
   */
  priceReady(): void;
  /** Answers a buffered (non-stream) response, charging its session and adding the payment headers. */
  finishBuffered(
    c: Context,
    ticket: PaymentTicket | undefined,
    body: Record<string, unknown>,
    tee: TeeSignatureFields,
    model: ModelConfig,
    usage: Usage | undefined,
    requestJson: unknown,
  ): Promise<Response>;
}

/** The inference gate of a gateway. */
export function createInferenceGate(runtime: GatewayRuntime): InferenceGate {
  /**
   * Runs the inference gate before the body is read: initialised, JSON content type, payment (header checks and
   * the facilitator's `/verify`). An early answer closes the connection instead of reading the upload.
   */
  const gateInference = async (c: Context, unsupportedBody: Record<string, unknown>) => {
    if (!runtime.state.initialized)
      return { early: closeIfBodyUnread(c, json(c, { error: 'Gateway not initialized' }, 503)) };
    if (!isJsonContentType(c.req.header('content-type'))) {
      return { early: closeIfBodyUnread(c, json(c, unsupportedBody, 415)) };
    }
    let ticket: PaymentTicket | undefined;
    if (runtime.config.x402_enabled) {
      const gate = runtime.state.gate;
      if (!gate) {
        const error = { error: 'Payment is required but no payment gate is configured' };
        return { early: closeIfBodyUnread(c, json(c, error, 503)) };
      }
      const decision = await gate.authorize({
        method: c.req.method,
        path: c.req.path,
        url: c.req.url,
        headers: c.req.raw.headers,
      });
      if (decision.kind === 'deny') return { early: closeIfBodyUnread(c, decision.response) };
      ticket = decision.ticket;
    }
    return { ticket };
  };

  const modelOf = (name: unknown): ModelConfig => {
    const model = typeof name === 'string' ? getModelConfig(name) : undefined;
    if (!model)
      throw new GatewayHttpError(
        400,
        `Model '${typeof name === 'string' ? name.slice(0, 100) : ''}' is not supported`,
      );
    return model;
  };

  const priceReady = () => {
    try {
      runtime.priceFeed.getPrice();
    } catch (error) {
      throw new GatewayHttpError(
        503,
        `Pricing unavailable: ${error instanceof Error ? error.message : 'no price'}`,
      );
    }
  };

  const finishBuffered = async (
    c: Context,
    ticket: PaymentTicket | undefined,
    body: Record<string, unknown>,
    tee: TeeSignatureFields,
    model: ModelConfig,
    usage: Usage | undefined,
    requestJson: unknown,
  ) => {
    const headers: Record<string, string> = { ...(ticket?.headers() ?? {}) };
    if (ticket) {
      Object.assign(
        headers,
        await ticket.complete({ status: 200, model, usage, tee, requestJson, responseJson: body }),
      );
      if (ticket.settlementType === 'individual') Object.assign(headers, teeSignatureHeaders(tee));
    }
    return json(c, body, 200, headers);
  };

  return { gateInference, modelOf, priceReady, finishBuffered };
}
