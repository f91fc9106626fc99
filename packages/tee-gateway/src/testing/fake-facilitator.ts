/**
 * In-process fake x402 facilitator (D4): `GET /supported` (upto on eip155:8453 with a facilitatorAddress),
 * `POST /verify` that really recovers the Permit2 EIP-712 signer with viem, `POST /settle` in 200 or
 * 202-plus-job mode (`GET /settle/:jobId`), `POST /settle_data` (202 `{settlementJob}`), `POST /heartbeat`.
 * Injectable failures; every call recorded.
 */
import { PERMIT2_ADDRESS, uptoPermit2WitnessTypes } from '@x402/evm';
import { recoverTypedDataAddress } from 'viem';
import { type RecordedCall, type Served, startRecorder } from './recorder.js';

interface Permit {
  from: string;
  spender: `0x${string}`;
  nonce: string;
  deadline: string;
  permitted: { token: `0x${string}`; amount: string };
  witness: { to: `0x${string}`; facilitator: `0x${string}`; validAfter: string };
}

interface FacilitatorBody {
  paymentPayload: { payload: { signature: `0x${string}`; permit2Authorization: Permit } };
  paymentRequirements: { amount: string; network: string };
  teeId?: string;
  timestamp?: string;
  contractAddress?: string;
}

/** The `facilitatorAddress` the fake facilitator advertises in `GET /supported`. */
export const FACILITATOR_ADDRESS = '0x1111111111111111111111111111111111111111';

/** A running fake facilitator. */
export interface FakeFacilitator extends Served {
  /** Every call received. */
  calls: RecordedCall[];
  /** `POST /settle` answers 200 with the result, or 202 with a job polled at `GET /settle/:jobId`. */
  settleMode: '200' | '202';
  /** When set, `POST /verify` answers `isValid: false` with this reason. */
  verifyFailure: string | undefined;
  /** `METHOD path` of every call, in order. */
  calledPaths(): string[];
}

/**
 * Starts the fake x402 facilitator on loopback (tests and demos of the x402 gate). It needs the optional payment
 * packages `viem` and `@x402/evm` (it really recovers EIP-712 signers).
 * @example
 * ```ts
 * const facilitator = await startFakeFacilitator();
 * const gateway = await createTeeGateway({ config: { facilitator_url: facilitator.url, opg_price_usd: '1' } });
 * ```
 */
export async function startFakeFacilitator(): Promise<FakeFacilitator> {
  const jobs = new Map<string, { polls: number; amount: string; network: string }>();
  let jobCounter = 0;
  const state = { settleMode: '200' as '200' | '202', verifyFailure: undefined as string | undefined };
  const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const recorder = await startRecorder(async (call, res) => {
    const body = (call.body ? JSON.parse(call.body) : {}) as FacilitatorBody;
    if (call.method === 'GET' && call.path === '/supported') {
      return send(res, 200, {
        kinds: [
          {
            x402Version: 2,
            scheme: 'upto',
            network: 'eip155:8453',
            extra: { facilitatorAddress: FACILITATOR_ADDRESS },
          },
        ],
        extensions: ['erc20ApprovalGasSponsoring'],
        signers: { 'eip155:*': [FACILITATOR_ADDRESS] },
      });
    }
    if (call.method === 'POST' && call.path === '/verify') {
      if (state.verifyFailure) return send(res, 200, { isValid: false, invalidReason: state.verifyFailure });
      const payload = body['paymentPayload']?.payload;
      const auth = payload?.permit2Authorization;
      try {
        const signer = await recoverTypedDataAddress({
          domain: { name: 'Permit2', chainId: 8453, verifyingContract: PERMIT2_ADDRESS },
          types: uptoPermit2WitnessTypes,
          primaryType: 'PermitWitnessTransferFrom',
          message: {
            permitted: { token: auth.permitted.token, amount: BigInt(auth.permitted.amount) },
            spender: auth.spender,
            nonce: BigInt(auth.nonce),
            deadline: BigInt(auth.deadline),
            witness: {
              to: auth.witness.to,
              facilitator: auth.witness.facilitator,
              validAfter: BigInt(auth.witness.validAfter),
            },
          },
          signature: payload.signature,
        });
        if (signer.toLowerCase() !== String(auth.from).toLowerCase())
          return send(res, 200, { isValid: false, invalidReason: 'invalid_signature' });
        if (auth.permitted.amount !== body['paymentRequirements']?.amount)
          return send(res, 200, { isValid: false, invalidReason: 'amount_mismatch' });
        return send(res, 200, { isValid: true, payer: signer });
      } catch {
        return send(res, 200, { isValid: false, invalidReason: 'invalid_payload' });
      }
    }
    if (call.method === 'POST' && call.path === '/settle') {
      const requirements = body['paymentRequirements'];
      const payer = body['paymentPayload']?.payload?.permit2Authorization?.from;
      if (state.settleMode === '202') {
        const id = `job-${++jobCounter}`;
        jobs.set(id, { polls: 0, amount: requirements.amount, network: requirements.network });
        return send(res, 202, { paymentJob: { id, status: 'queued' } });
      }
      return send(res, 200, {
        success: true,
        transaction: `0x${'ab'.repeat(32)}`,
        network: requirements.network,
        payer,
        amount: requirements.amount,
      });
    }
    const job = /^\/settle\/([\w-]+)$/.exec(call.path);
    if (call.method === 'GET' && job) {
      const entry = jobs.get(job[1]!);
      if (!entry) return send(res, 404, { error: 'no such job' });
      entry.polls++;
      if (entry.polls < 2) return send(res, 200, { paymentJob: { id: job[1], status: 'processing' } });
      return send(res, 200, {
        paymentJob: {
          id: job[1],
          status: 'succeeded',
          result: { transaction: `0x${'cd'.repeat(32)}`, network: entry.network },
        },
      });
    }
    if (call.method === 'POST' && call.path === '/settle_data') {
      const type = call.headers['x-settlement-type'];
      if (type === 'private')
        return send(res, 200, { settlementJob: null, notes: 'Private settlement ignored by facilitator.' });
      if (typeof call.headers['x-settlement-data'] !== 'string')
        return send(res, 400, { error: 'x-settlement-data required' });
      return send(res, 202, { settlementJob: { id: `sd-${++jobCounter}` } });
    }
    if (call.method === 'POST' && call.path === '/heartbeat') {
      return send(res, 200, {
        success: true,
        txHash: `0x${'ef'.repeat(32)}`,
        teeId: body['teeId'],
        timestamp: body['timestamp'],
        relayer: FACILITATOR_ADDRESS,
        contract: body['contractAddress'],
      });
    }
    return send(res, 404, { error: 'not found' });
  });
  return Object.defineProperties(recorder, {
    settleMode: {
      get: () => state.settleMode,
      set: (value: '200' | '202') => (state.settleMode = value),
      enumerable: true,
    },
    verifyFailure: {
      get: () => state.verifyFailure,
      set: (value: string | undefined) => (state.verifyFailure = value),
      enumerable: true,
    },
    calledPaths: { value: () => recorder.calls.map((call) => `${call.method} ${call.path}`) },
  }) as FakeFacilitator;
}
