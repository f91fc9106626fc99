// x402 session store bounds: settled, failed and expired sessions leave the store, the live count is a gauge, and
// after thousands of sessions the heap returns to its baseline (gc exposed at run time, WeakRefs as a second check).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createMetrics } from '@confidential-ai/server-kit';
import { encodePaymentSignatureHeader } from '@x402/core/http';
import { x402UptoPermit2ProxyAddress } from '@x402/evm';
import { describe, expect, it } from 'vitest';
import { createStaticPriceFeed } from '../src/pricing.js';
import { getModelConfig } from '../src/registry.js';
import type { FacilitatorClient, PaymentRequirements } from '../src/x402/facilitator.js';
import { createX402Gate, type UptoSession } from '../src/x402/gate.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PAY_TO = '0x9deEBB5D1b22e4a6e027977CeAd13893A7E4cC1a';
const FACILITATOR = '0x1111111111111111111111111111111111111111';
const PAYER = '0x2222222222222222222222222222222222222222';
const SESSIONS = 4000;

/** The facilitator is not under test here: it verifies and settles everything (contract-wallet signatures). */
function acceptingFacilitator(): FacilitatorClient & { settled: number } {
  const client = {
    settled: 0,
    supported: async () => ({
      kinds: [
        {
          x402Version: 2,
          scheme: 'upto',
          network: 'eip155:8453',
          extra: { facilitatorAddress: FACILITATOR },
        },
      ],
      extensions: [],
      signers: {},
    }),
    verify: async () => ({ isValid: true, payer: PAYER }),
    settle: async () => {
      client.settled++;
      return { success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:8453', payer: PAYER };
    },
    settleData: async () => ({}),
    heartbeat: async () => ({}),
  };
  return client as unknown as FacilitatorClient & { settled: number };
}

function paymentHeader(offer: PaymentRequirements, nonce: number, nowSeconds: number): string {
  return encodePaymentSignatureHeader({
    x402Version: 2,
    resource: { url: 'http://gateway.test/v1/chat/completions' },
    accepted: offer,
    payload: {
      // 66 bytes: not an EOA signature, so the gate leaves it to the (accepting) facilitator.
      signature: `0x${'cd'.repeat(66)}`,
      permit2Authorization: {
        from: PAYER,
        permitted: { token: offer.asset, amount: offer.amount },
        spender: x402UptoPermit2ProxyAddress,
        nonce: String(nonce),
        deadline: String(nowSeconds + 300),
        witness: { to: PAY_TO, facilitator: FACILITATOR, validAfter: String(nowSeconds - 600) },
      },
    },
  } as unknown as Parameters<typeof encodePaymentSignatureHeader>[0]);
}

async function settledHeap(): Promise<number> {
  for (let round = 0; round < 3; round++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

describe('x402 session store is bounded', () => {
  it(`drives ${SESSIONS} sessions: settled ones are evicted, the gauge follows, the heap returns to its baseline`, async () => {
    const clock = { ms: 1_900_000_000_000 };
    const facilitator = acceptingFacilitator();
    const metrics = createMetrics({ prefix: 'tee_gateway_' });
    const x402Sessions = metrics.gauge('x402_sessions', 'Live x402 upto sessions');
    const gate = createX402Gate({
      facilitator,
      payTo: PAY_TO,
      priceFeed: createStaticPriceFeed('1'),
      now: () => clock.ms,
      autoSweep: false,
      onSessionCountChange: (count) => x402Sessions.set(count),
    });
    const offer = await gate.requirements();
    const model = getModelConfig('gpt-4.1');
    const gauge = async () => (await x402Sessions.get()).values[0]?.value;

    /** Opens `count` sessions (nonces from `first`), each charged once; WeakRefs to every 100th session. */
    const open = async (first: number, count: number, watched: WeakRef<UptoSession>[]) => {
      const nowSeconds = Math.floor(clock.ms / 1000);
      for (let index = first; index < first + count; index++) {
        const decision = await gate.authorize({
          method: 'POST',
          path: '/v1/chat/completions',
          url: 'http://gateway.test/v1/chat/completions',
          headers: new Headers({ 'payment-signature': paymentHeader(offer, index, nowSeconds) }),
        });
        if (decision.kind !== 'allow') throw new Error(`session ${index} refused`);
        await decision.ticket.complete({
          status: 200,
          model,
          usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 },
          tee: undefined,
          requestJson: { model: 'gpt-4.1', messages: [{ role: 'user', content: 'x'.repeat(200) }] },
          responseJson: {},
        });
        if (index % 100 === 0) watched.push(new WeakRef(gate.session(decision.ticket.sessionId)!));
      }
    };
    /** Idle past 100 s → settled and evicted; then past the permit deadlines → retired ids dropped. */
    const settleAndExpire = async () => {
      clock.ms += 101_000;
      await gate.sweep();
      clock.ms += 300_000;
      await gate.sweep();
    };

    // Warm-up (compiles the code paths), then the baseline.
    await open(0, 200, []);
    await settleAndExpire();
    const baseline = await settledHeap();

    const watched: WeakRef<UptoSession>[] = [];
    await open(1_000_000, SESSIONS, watched);
    const firstId = watched[0]!.deref()!.id;
    expect(gate.session(firstId)?.status).toBe('active');
    expect(gate.sessionCount()).toBe(SESSIONS);
    expect(await gauge()).toBe(SESSIONS);
    const loaded = await settledHeap();

    // A settled session's header is refused locally (no new session from a spent permit).
    const replayHeader = paymentHeader(offer, 1_000_000, Math.floor(clock.ms / 1000));
    clock.ms += 101_000;
    const settledCount = (await gate.sweep()).length;
    expect(settledCount).toBe(SESSIONS);
    expect(facilitator.settled).toBe(SESSIONS + 200);
    // The settled session is gone from the store (the base kept every session forever).
    expect(gate.session(firstId)).toBeUndefined();
    expect(gate.sessionCount()).toBe(0);
    expect(await gauge()).toBe(0);
    expect(gate.retiredSessionCount()).toBe(SESSIONS);
    const replay = await gate.authorize({
      method: 'POST',
      path: '/v1/chat/completions',
      url: 'http://gateway.test/v1/chat/completions',
      headers: new Headers({ 'payment-signature': replayHeader }),
    });
    expect(replay.kind).toBe('deny');
    expect(gate.sessionCount()).toBe(0);
    // Past the permit deadlines the retired ids go too.
    clock.ms += 300_000;
    await gate.sweep();
    expect(gate.retiredSessionCount()).toBe(0);

    const after = await settledHeap();
    const growth = loaded - baseline;
    const left = after - baseline;
    console.log(
      `x402 sessions: ${SESSIONS} live → heap +${(growth / 1024 / 1024).toFixed(2)} MiB; after settlement and expiry +${(left / 1024 / 1024).toFixed(2)} MiB over the baseline`,
    );
    expect(growth).toBeGreaterThan(SESSIONS * 500);
    expect(left).toBeLessThan(growth / 5);
    expect(watched.every((reference) => reference.deref() === undefined)).toBe(true);
    gate.close();
  });

  it('expired sessions (permit deadline passed without a charge) are evicted too', async () => {
    const clock = { ms: 1_900_000_000_000 };
    const gate = createX402Gate({
      facilitator: acceptingFacilitator(),
      payTo: PAY_TO,
      priceFeed: createStaticPriceFeed('1'),
      now: () => clock.ms,
      autoSweep: false,
    });
    const offer = await gate.requirements();
    const decision = await gate.authorize({
      method: 'POST',
      path: '/v1/chat/completions',
      url: 'http://gateway.test/v1/chat/completions',
      headers: new Headers({ 'payment-signature': paymentHeader(offer, 1, Math.floor(clock.ms / 1000)) }),
    });
    expect(decision.kind).toBe('allow');
    expect(gate.sessionCount()).toBe(1);
    clock.ms += 400_000;
    await gate.sweep();
    expect(gate.sessionCount()).toBe(0);
    expect(gate.retiredSessionCount()).toBe(0);
    gate.close();
  });
});
