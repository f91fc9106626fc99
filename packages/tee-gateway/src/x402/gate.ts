import { hash } from 'node:crypto';
import { base64ToBytes, bytesToUtf8, hexToBytes } from '@confidential-ai/bytes';
import { createSilentLogger, type Logger } from '@confidential-ai/server-kit';
import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from '@x402/core/http';
import { PERMIT2_ADDRESS, uptoPermit2WitnessTypes, x402UptoPermit2ProxyAddress } from '@x402/evm';
import { recoverTypedDataAddress } from 'viem';
import type {
  PaymentDecision,
  PaymentGate,
  PaymentOutcome,
  PaymentTicket,
  SettlementType,
} from '../payment-types.js';
import { ASSET_DECIMALS_BY_ADDRESS, calculateCost, type PriceFeed } from '../pricing.js';
import { BASE_NETWORK, ERC20_APPROVAL_GAS_SPONSORING, OPG_ASSET, UPTO_MAX_AMOUNT } from './constants.js';
import type {
  FacilitatorClient,
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  VerifyResponse,
} from './facilitator.js';

/** Route descriptions of the offer. */
const DESCRIPTIONS: Record<string, string> = {
  '/v1/chat/completions': 'Chat completion',
  '/v1/completions': 'Completion',
};

/** Options of {@link createX402Gate}. */
export interface X402GateOptions {
  /** The facilitator client. */
  facilitator: FacilitatorClient;
  /** `payTo` address. */
  payTo: string;
  /** Offer `maxTimeoutSeconds` (default 300). */
  maxTimeoutSeconds?: number;
  /** Idle seconds before settlement (default 100). */
  idleTimeoutSeconds?: number;
  /** Stop serving a session this many seconds before its permit deadline (default 60). */
  stopMarginSeconds?: number;
  /** Settle this many seconds before the permit deadline (default 30). */
  settleMarginSeconds?: number;
  /** Give up this many seconds before the permit deadline (default 10). */
  giveUpMarginSeconds?: number;
  /** OPG price source. */
  priceFeed: PriceFeed;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Logger. */
  logger?: Logger;
  /** Run the reaper on a timer (default true; tests call {@link X402Gate.sweep}). */
  autoSweep?: boolean;
  /** Called with the number of live sessions whenever it changes (a Prometheus gauge). */
  onSessionCountChange?: (count: number) => void;
}

/** State of one upto session. */
export interface UptoSession {
  readonly id: string;
  readonly payer: string;
  readonly method: string;
  readonly path: string;
  readonly maxAmount: bigint;
  readonly deadline: number;
  cost: bigint;
  lastActivity: number;
  requests: number;
  status: 'active' | 'exhausted' | 'settling' | 'settled' | 'failed';
  settlement: SettleResponse | undefined;
  readonly payload: PaymentPayload;
  readonly requirements: PaymentRequirements;
}

/** The x402 gate with its session store. */
export interface X402Gate extends PaymentGate {
  /** Settles idle, exhausted and near-deadline sessions (the reaper's work); returns settled session ids. */
  sweep(): Promise<string[]>;
  /** A live session by id (settled, failed and expired sessions are evicted). */
  session(id: string): UptoSession | undefined;
  /** Number of live sessions in the store. */
  sessionCount(): number;
  /**
   * Number of retired session ids (settled or failed, kept only until their permit deadline so that a re-sent
   * payment header is refused locally instead of being verified afresh).
   */
  retiredSessionCount(): number;
  /** The offered requirements for a path (fetches `facilitatorAddress` once). */
  requirements(): Promise<PaymentRequirements>;
  /** Stops the reaper. */
  close(): void;
}

class Refusal extends Error {}

const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : undefined);

function decodeHeader(raw: string): PaymentPayload {
  let value: unknown;
  try {
    value = JSON.parse(bytesToUtf8(base64ToBytes(raw.trim())));
  } catch {
    throw new Refusal('invalid_payment_header');
  }
  if (typeof value !== 'object' || value === null) throw new Refusal('invalid_payment_header');
  return value as PaymentPayload;
}

function toBigInt(value: unknown, reason: string): bigint {
  if (typeof value === 'string' && /^\d{1,78}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new Refusal(reason);
}

function normalizeSettlementType(raw: string | null): SettlementType {
  const value = (raw ?? '').trim().toLowerCase();
  if (value === 'private' || value === 'pivate') return 'private';
  if (value === 'individual' || value === 'inidvidual') return 'individual';
  return 'batch';
}

/**
 * The x402 v2 gate of the inference routes (D4): offers one `upto` requirement over Permit2, checks a
 * `PAYMENT-SIGNATURE` / `X-PAYMENT` payload locally (header, `accepted`, permit fields, validity window, and
 * EIP-712 signer recovery) before the facilitator's `/verify`, runs og-x402 session mode (`X-Upto-Session`,
 * session id = SHA-256 hex of the payment header), charges usage × price capped at the remaining budget, posts
 * settlement data in the background, and settles idle or exhausted sessions through `/settle`.
 *
 * @example
 * ```ts
 * const gate = createX402Gate({ facilitator: createFacilitatorClient({ url, fetch }), payTo, priceFeed });
 * const gateway = await createTeeGateway({ config, paymentGateFactory: () => gate });
 * ```
 */
export function createX402Gate(options: X402GateOptions): X402Gate {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? createSilentLogger();
  const maxTimeout = options.maxTimeoutSeconds ?? 300;
  const idle = options.idleTimeoutSeconds ?? 100;
  const stopMargin = options.stopMarginSeconds ?? 60;
  const settleMargin = options.settleMarginSeconds ?? 30;
  const giveUpMargin = options.giveUpMarginSeconds ?? 10;
  const sessions = new Map<string, UptoSession>();
  let facilitatorAddress: string | undefined;
  // Settled and failed sessions: id → permit deadline (seconds). Until the deadline their payment header is refused
  // here; after it the permit is expired anyway. Only a hash and a number per entry, dropped by the sweep.
  const retired = new Map<string, number>();
  const countChanged = () => options.onSessionCountChange?.(sessions.size);
  // Settled, failed and expired sessions leave the store (as og-x402 drops the payment → session mapping on
  // settlement): the store holds live sessions only.
  const evict = (session: UptoSession) => {
    if (sessions.get(session.id) === session) {
      sessions.delete(session.id);
      if (Math.floor(now() / 1000) < session.deadline) retired.set(session.id, session.deadline);
      countChanged();
    }
  };

  const requirements = async (): Promise<PaymentRequirements> => {
    if (facilitatorAddress === undefined) {
      const { kinds } = await options.facilitator.supported();
      const kind = kinds.find((entry) => entry.scheme === 'upto' && entry.network === BASE_NETWORK);
      const address = kind?.extra?.['facilitatorAddress'];
      if (typeof address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(address)) {
        throw new Error('the facilitator does not support upto on eip155:8453');
      }
      facilitatorAddress = address;
    }
    return {
      scheme: 'upto',
      network: BASE_NETWORK,
      amount: UPTO_MAX_AMOUNT,
      asset: OPG_ASSET,
      payTo: options.payTo,
      maxTimeoutSeconds: maxTimeout,
      extra: { name: 'OpenGradient', version: '1', assetTransferMethod: 'permit2', facilitatorAddress },
    };
  };

  const paymentRequired = (
    offer: PaymentRequirements,
    url: string,
    path: string,
    error?: string,
  ): Response => {
    const body = {
      x402Version: 2,
      ...(error ? { error } : {}),
      resource: { url, description: DESCRIPTIONS[path] ?? 'Inference', mimeType: 'application/json' },
      accepts: [offer],
      extensions: { erc20ApprovalGasSponsoring: ERC20_APPROVAL_GAS_SPONSORING },
    };
    const header = encodePaymentRequiredHeader(body as Parameters<typeof encodePaymentRequiredHeader>[0]);
    return new Response(JSON.stringify(error ? { error } : {}), {
      status: 402,
      headers: { 'content-type': 'application/json', 'PAYMENT-REQUIRED': header },
    });
  };

  const checkLocally = async (payment: PaymentPayload, offer: PaymentRequirements): Promise<string> => {
    if (payment.x402Version !== 2) throw new Refusal('unsupported_x402_version');
    const accepted = payment.accepted as PaymentRequirements | undefined;
    if (
      typeof accepted !== 'object' ||
      accepted === null ||
      accepted.scheme !== offer.scheme ||
      accepted.network !== offer.network ||
      lower(accepted.asset) !== lower(offer.asset) ||
      accepted.amount !== offer.amount ||
      lower(accepted.payTo) !== lower(offer.payTo) ||
      lower(accepted.extra?.['facilitatorAddress']) !== lower(offer.extra?.['facilitatorAddress'])
    ) {
      throw new Refusal('accepted_requirements_mismatch');
    }
    const payload = payment.payload as Record<string, unknown> | undefined;
    const auth = payload?.['permit2Authorization'] as Record<string, unknown> | undefined;
    const signature = payload?.['signature'];
    if (!auth || typeof signature !== 'string' || !/^0x[0-9a-fA-F]*$/.test(signature))
      throw new Refusal('invalid_payload');
    const permitted = (auth['permitted'] ?? {}) as Record<string, unknown>;
    const witness = (auth['witness'] ?? {}) as Record<string, unknown>;
    const from = auth['from'];
    if (typeof from !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(from)) throw new Refusal('invalid_payload');
    if (lower(auth['spender']) !== x402UptoPermit2ProxyAddress.toLowerCase())
      throw new Refusal('invalid_permit2_spender');
    if (lower(witness['to']) !== lower(offer.payTo)) throw new Refusal('invalid_permit2_recipient');
    if (lower(witness['facilitator']) !== lower(offer.extra?.['facilitatorAddress']))
      throw new Refusal('invalid_permit2_facilitator');
    if (lower(permitted['token']) !== lower(offer.asset)) throw new Refusal('invalid_permit2_token');
    const amount = toBigInt(permitted['amount'], 'invalid_permit2_amount');
    if (amount !== BigInt(offer.amount)) throw new Refusal('invalid_permit2_amount');
    const validAfter = toBigInt(witness['validAfter'], 'invalid_payload');
    const deadline = toBigInt(auth['deadline'], 'invalid_payload');
    const nonce = toBigInt(auth['nonce'], 'invalid_payload');
    const nowSeconds = BigInt(Math.floor(now() / 1000));
    if (validAfter > nowSeconds) throw new Refusal('permit2_not_yet_valid');
    if (nowSeconds >= deadline) throw new Refusal('permit2_deadline_expired');
    if (nowSeconds + BigInt(stopMargin) >= deadline) throw new Refusal('permit2_deadline_too_close');
    const signatureBytes = hexToBytes(signature.slice(2));
    if (signatureBytes.length === 65) {
      let signer: string;
      try {
        signer = await recoverTypedDataAddress({
          domain: { name: 'Permit2', chainId: 8453, verifyingContract: PERMIT2_ADDRESS },
          types: uptoPermit2WitnessTypes,
          primaryType: 'PermitWitnessTransferFrom',
          message: {
            permitted: { token: permitted['token'] as `0x${string}`, amount },
            spender: auth['spender'] as `0x${string}`,
            nonce,
            deadline,
            witness: {
              to: witness['to'] as `0x${string}`,
              facilitator: witness['facilitator'] as `0x${string}`,
              validAfter,
            },
          },
          signature: signature as `0x${string}`,
        });
      } catch {
        throw new Refusal('invalid_signature');
      }
      if (signer.toLowerCase() !== from.toLowerCase()) throw new Refusal('invalid_signature');
    }
    return from;
  };

  const expiredOrExhausted = (offer: PaymentRequirements, url: string, path: string) =>
    paymentRequired(offer, url, path, 'Session expired or exhausted');

  const usable = (session: UptoSession | undefined, method: string, path: string): session is UptoSession =>
    session !== undefined &&
    session.status === 'active' &&
    session.method === method &&
    session.path === path &&
    Math.floor(now() / 1000) + stopMargin < session.deadline;

  const settle = async (session: UptoSession): Promise<void> => {
    if (session.status === 'settling' || session.status === 'settled') return;
    const previous = session.status;
    session.status = 'settling';
    try {
      const result = await options.facilitator.settle(session.payload, {
        ...session.requirements,
        amount: session.cost.toString(),
      });
      session.settlement = result;
      session.status = result.success ? 'settled' : 'failed';
      evict(session);
      logger.info(
        { session: session.id.slice(0, 16), amount: session.cost.toString(), success: result.success },
        'upto session settled',
      );
    } catch (error) {
      session.status = previous === 'exhausted' ? 'exhausted' : 'active';
      if (Math.floor(now() / 1000) + giveUpMargin >= session.deadline) {
        session.status = 'failed';
        evict(session);
      }
      logger.error(
        { session: session.id.slice(0, 16), err: error instanceof Error ? error.message : 'settle failed' },
        'upto settlement failed',
      );
    }
  };

  const ticketFor = (session: UptoSession, headers: Headers): PaymentTicket => {
    const settlementType = normalizeSettlementType(headers.get('x-settlement-type'));
    return {
      sessionId: session.id,
      settlementType,
      headers: () => ({ 'X-Upto-Session': session.id }),
      async complete(outcome: PaymentOutcome) {
        if (outcome.status < 200 || outcome.status > 299) return {};
        session.lastActivity = now();
        session.requests++;
        let cost: bigint;
        try {
          if (!outcome.model) throw new RangeError('model is missing');
          const decimals = ASSET_DECIMALS_BY_ADDRESS.get(session.requirements.asset.toLowerCase());
          if (decimals === undefined) throw new RangeError('unknown asset');
          cost = calculateCost(outcome.model, outcome.usage, options.priceFeed.getPrice(), decimals);
        } catch (error) {
          logger.fatal(
            { session: session.id.slice(0, 16), err: error instanceof Error ? error.message : 'cost failed' },
            'session cost calculation failed; request not charged',
          );
          return {};
        }
        const remaining = session.maxAmount - session.cost;
        const charge = cost < remaining ? cost : remaining;
        session.cost += charge;
        if (session.cost >= session.maxAmount) session.status = 'exhausted';
        if (settlementType !== 'private' && outcome.tee) {
          const tee = outcome.tee;
          const data: Record<string, unknown> = {
            tee_id: tee.tee_id,
            input_hash: tee.tee_request_hash,
            output_hash: tee.tee_output_hash,
            tee_signature: tee.tee_signature,
            tee_timestamp: tee.tee_timestamp,
            timestamp: settlementType === 'individual' ? String(tee.tee_timestamp) : tee.tee_timestamp,
          };
          if (settlementType === 'individual') {
            data['input'] = outcome.requestJson;
            data['output'] = outcome.responseJson;
            data['eth_address'] = session.payer;
          }
          void options.facilitator
            .settleData(settlementType, data)
            .catch((error: unknown) =>
              logger.warn(
                { err: error instanceof Error ? error.message : 'settle_data failed' },
                'settlement data not delivered',
              ),
            );
        }
        if (session.status === 'exhausted') {
          await settle(session);
          if (session.settlement) {
            return {
              'PAYMENT-RESPONSE': encodePaymentResponseHeader({
                ...session.settlement,
                amount: session.cost.toString(),
              } as Parameters<typeof encodePaymentResponseHeader>[0]),
            };
          }
        }
        return {};
      },
    };
  };

  const gate: X402Gate = {
    requirements,
    session: (id) => sessions.get(id),
    sessionCount: () => sessions.size,
    retiredSessionCount: () => retired.size,
    async authorize({ method, path, url, headers }): Promise<PaymentDecision> {
      let offer: PaymentRequirements;
      try {
        offer = await requirements();
      } catch (error) {
        logger.error(
          { err: error instanceof Error ? error.message : 'facilitator error' },
          'payment facilitator unavailable',
        );
        return {
          kind: 'deny',
          response: Response.json({ error: 'Payment facilitator unavailable' }, { status: 503 }),
        };
      }
      const raw = headers.get('payment-signature') ?? headers.get('x-payment');
      const sessionHeader = headers.get('x-upto-session');
      if (raw === null) {
        if (sessionHeader === null) return { kind: 'deny', response: paymentRequired(offer, url, path) };
        const session = sessions.get(sessionHeader.trim());
        if (!usable(session, method, path))
          return { kind: 'deny', response: expiredOrExhausted(offer, url, path) };
        return { kind: 'allow', ticket: ticketFor(session, headers) };
      }
      const id = hash('sha256', raw, 'hex');
      if (retired.has(id)) return { kind: 'deny', response: expiredOrExhausted(offer, url, path) };
      const existing = sessions.get(id);
      if (existing) {
        if (!usable(existing, method, path))
          return { kind: 'deny', response: expiredOrExhausted(offer, url, path) };
        return { kind: 'allow', ticket: ticketFor(existing, headers) };
      }
      let payment: PaymentPayload;
      let from: string;
      try {
        payment = decodeHeader(raw);
        from = await checkLocally(payment, offer);
      } catch (error) {
        if (error instanceof Refusal)
          return { kind: 'deny', response: paymentRequired(offer, url, path, error.message) };
        throw error;
      }
      let verified: VerifyResponse;
      try {
        verified = await options.facilitator.verify(payment, offer);
      } catch (error) {
        logger.error(
          { err: error instanceof Error ? error.message : 'verify failed' },
          'facilitator /verify failed',
        );
        return {
          kind: 'deny',
          response: Response.json({ error: 'Payment facilitator unavailable' }, { status: 503 }),
        };
      }
      if (!verified.isValid) {
        return {
          kind: 'deny',
          response: paymentRequired(offer, url, path, verified.invalidReason ?? 'payment_invalid'),
        };
      }
      const auth = payment.payload['permit2Authorization'] as Record<string, unknown>;
      const session: UptoSession = {
        id,
        payer: from,
        method,
        path,
        maxAmount: BigInt(offer.amount),
        deadline: Number(toBigInt(auth['deadline'], 'invalid_payload')),
        cost: 0n,
        lastActivity: now(),
        requests: 0,
        status: 'active',
        settlement: undefined,
        payload: payment,
        requirements: offer,
      };
      sessions.set(id, session);
      countChanged();
      logger.info({ session: id.slice(0, 16), payer: from }, 'UPTO_SESSION_CREATED');
      return { kind: 'allow', ticket: ticketFor(session, headers) };
    },
    async sweep() {
      const settled: string[] = [];
      const nowMs = now();
      const nowSeconds = Math.floor(nowMs / 1000);
      for (const [id, deadline] of retired) if (nowSeconds >= deadline) retired.delete(id);
      for (const session of [...sessions.values()]) {
        if (session.status === 'settling') continue;
        if (session.status === 'settled' || session.status === 'failed' || nowSeconds >= session.deadline) {
          // Nothing more can be settled on an expired permit.
          if (session.status !== 'settled' && session.status !== 'failed' && session.cost > 0n) {
            logger.error({ session: session.id.slice(0, 16) }, 'upto session expired before settlement');
          }
          evict(session);
          continue;
        }
        const idleFor = (nowMs - session.lastActivity) / 1000;
        const due =
          session.status === 'exhausted' || idleFor > idle || nowSeconds + settleMargin >= session.deadline;
        if (!due) continue;
        if (session.cost === 0n) {
          // Zero-cost sessions are not settled; drop them once idle.
          session.status = 'settled';
          evict(session);
          continue;
        }
        await settle(session);
        if ((session.status as UptoSession['status']) === 'settled') settled.push(session.id);
      }
      return settled;
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
  const interval = Math.max(5, Math.min(Math.floor(idle / 4), 30)) * 1000;
  const timer = options.autoSweep === false ? undefined : setInterval(() => void gate.sweep(), interval);
  timer?.unref();
  return gate;
}
