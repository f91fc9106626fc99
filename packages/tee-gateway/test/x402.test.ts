import { createHash } from 'node:crypto';
import { verifyResponse } from '@confidential-ai/tee-signing';
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  encodePaymentSignatureHeader,
} from '@x402/core/http';
import { toClientEvmSigner } from '@x402/evm';
import { UptoEvmScheme } from '@x402/evm/upto/client';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTeeGateway, getModelConfig, type TeeGateway } from '../src/index.js';
import {
  FACILITATOR_ADDRESS,
  type FakeFacilitator,
  startFakeFacilitator,
} from '../src/testing/fake-facilitator.js';
import type { X402Gate } from '../src/x402/gate.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

const PAY_TO = '0x9deEBB5D1b22e4a6e027977CeAd13893A7E4cC1a';
const payer = privateKeyToAccount(generatePrivateKey());
const other = privateKeyToAccount(generatePrivateKey());

let facilitator: FakeFacilitator;
beforeAll(async () => {
  facilitator = await startFakeFacilitator();
});
afterAll(async () => {
  await facilitator.close();
});

interface Harness {
  gateway: TeeGateway;
  gate: X402Gate;
  clock: { ms: number };
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
}

const open: TeeGateway[] = [];
afterEach(async () => {
  for (const gateway of open.splice(0)) await gateway.close();
  facilitator.calls.length = 0;
  facilitator.settleMode = '200';
  facilitator.verifyFailure = undefined;
});

async function harness(opgPrice = '1'): Promise<Harness> {
  const clock = { ms: Date.now() };
  const gateway = await createTeeGateway({
    privateKey: TEST_PRIVATE_KEY_PEM,
    config: {
      enabled: true,
      simulate: true,
      x402_enabled: true,
      facilitator_url: facilitator.url,
      opg_price_usd: opgPrice,
      pay_to: PAY_TO,
    },
    now: () => clock.ms,
    x402: { pollIntervalMs: 5, autoSweep: false },
  });
  open.push(gateway);
  const gate = gateway.paymentGate() as X402Gate;
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
    gateway.app.request(`http://gateway.test${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { gateway, gate, clock, post };
}

const CHAT = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'pay me please now' }] };

interface MutablePayment {
  accepted: { amount: string };
  payload: {
    permit2Authorization: {
      from: string;
      spender: string;
      permitted: { amount: string };
      witness: { to: string };
    };
  };
}

/** Signs a payment for the gateway's 402 offer with an independent client (the @x402/evm upto client). */
async function pay(h: Harness, mutate?: (payment: MutablePayment) => void, account = payer): Promise<string> {
  const unpaid = await h.post('/v1/chat/completions', CHAT);
  const required = decodePaymentRequiredHeader(unpaid.headers.get('PAYMENT-REQUIRED')!);
  const requirements = required.accepts[0]!;
  const scheme = new UptoEvmScheme(toClientEvmSigner(account));
  const result = await scheme.createPaymentPayload(2, requirements);
  const payment = {
    x402Version: 2,
    resource: required.resource,
    accepted: requirements,
    payload: result.payload,
  } as unknown as MutablePayment;
  mutate?.(payment);
  return encodePaymentSignatureHeader(
    payment as unknown as Parameters<typeof encodePaymentSignatureHeader>[0],
  );
}

function expectedCost(usage: { prompt_tokens: number; completion_tokens: number }): bigint {
  // gpt-4.1: $2e-6 and $8e-6 per token; at OPG = $1 with 18 decimals that is 2e12 and 8e12 atomic units.
  return (
    BigInt(usage.prompt_tokens) * 2_000_000_000_000n + BigInt(usage.completion_tokens) * 8_000_000_000_000n
  );
}

describe('x402 v2 gate', () => {
  it('answers an unpaid request with a well-formed 402 and PAYMENT-REQUIRED (no facilitator verify)', async () => {
    const h = await harness();
    const response = await h.post('/v1/chat/completions', CHAT);
    expect(response.status).toBe(402);
    const required = decodePaymentRequiredHeader(response.headers.get('PAYMENT-REQUIRED')!);
    expect(required.x402Version).toBe(2);
    expect(required.resource).toMatchObject({
      url: 'http://gateway.test/v1/chat/completions',
      description: 'Chat completion',
      mimeType: 'application/json',
    });
    expect(required.accepts).toEqual([
      {
        scheme: 'upto',
        network: 'eip155:8453',
        amount: '100000000000000000',
        asset: '0xFbC2051AE2265686a469421b2C5A2D5462FbF5eB',
        payTo: PAY_TO,
        maxTimeoutSeconds: 300,
        extra: {
          name: 'OpenGradient',
          version: '1',
          assetTransferMethod: 'permit2',
          facilitatorAddress: FACILITATOR_ADDRESS,
        },
      },
    ]);
    expect(Object.keys(required.extensions ?? {})).toEqual(['erc20ApprovalGasSponsoring']);
    const completions = await h.post('/v1/completions', { model: 'gpt-4.1', prompt: 'x' });
    expect(completions.status).toBe(402);
    expect(
      decodePaymentRequiredHeader(completions.headers.get('PAYMENT-REQUIRED')!).resource?.description,
    ).toBe('Completion');
    expect(facilitator.calledPaths()).toEqual(['GET /supported']);
  });

  it('accepts a payload signed with a test key, charges usage × price, continues with X-Upto-Session, settles after idle timeout', async () => {
    const h = await harness();
    const header = await pay(h);
    const first = await h.post('/v1/chat/completions', CHAT, { 'PAYMENT-SIGNATURE': header });
    expect(first.status).toBe(200);
    const sessionId = first.headers.get('X-Upto-Session')!;
    expect(sessionId).toBe(createHash('sha256').update(header).digest('hex'));
    const body = (await first.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    await verifyResponse({ request: CHAT, response: body, signingKey: h.gateway.signer.publicKeyPem });
    expect(facilitator.calledPaths().filter((path) => path === 'POST /verify')).toHaveLength(1);
    const session = h.gate.session(sessionId)!;
    expect(session.payer.toLowerCase()).toBe(payer.address.toLowerCase());
    expect(session.cost).toBe(expectedCost(body.usage));

    // Session continuation with X-Upto-Session (no new verify), streamed.
    const second = await h.post(
      '/v1/chat/completions',
      { ...CHAT, stream: true },
      { 'X-Upto-Session': sessionId },
    );
    expect(second.status).toBe(200);
    const sse = await second.text();
    const final = JSON.parse(sse.trim().split('\n\n').at(-2)!.slice(6)) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(session.cost).toBe(expectedCost(body.usage) + expectedCost(final.usage));
    expect(facilitator.calledPaths().filter((path) => path === 'POST /verify')).toHaveLength(1);
    // Bound to method and path.
    expect(
      (await h.post('/v1/completions', { model: 'gpt-4.1', prompt: 'x' }, { 'X-Upto-Session': sessionId }))
        .status,
    ).toBe(402);

    // Settlement data went out in the background (batch by default).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const data = facilitator.calls.filter((call) => call.path === '/settle_data');
    expect(data.length).toBe(2);
    expect(data[0]!.headers['x-settlement-type']).toBe('batch');
    const decoded = JSON.parse(
      Buffer.from(String(data[0]!.headers['x-settlement-data']), 'base64').toString('utf8'),
    );
    expect(Object.keys(decoded).sort()).toEqual([
      'input_hash',
      'output_hash',
      'tee_id',
      'tee_signature',
      'tee_timestamp',
      'timestamp',
    ]);
    expect(decoded.tee_id).toBe(h.gateway.signer.teeId);

    // Not idle yet: nothing settles.
    h.clock.ms += 50_000;
    expect(await h.gate.sweep()).toEqual([]);
    // Idle beyond 100 s: settled through 202 + job polling, with amount = accumulated cost.
    facilitator.settleMode = '202';
    h.clock.ms += 51_000;
    expect(await h.gate.sweep()).toEqual([sessionId]);
    const settle = facilitator.calls.find((call) => call.path === '/settle')!;
    expect(JSON.parse(settle.body).paymentRequirements.amount).toBe(session.cost.toString());
    expect(
      facilitator.calledPaths().filter((path) => path.startsWith('GET /settle/')).length,
    ).toBeGreaterThanOrEqual(2);
    expect(session.status).toBe('settled');

    // Replaying the settled session (header or id) is refused.
    const replay = await h.post('/v1/chat/completions', CHAT, { 'PAYMENT-SIGNATURE': header });
    expect(replay.status).toBe(402);
    expect(await replay.json()).toEqual({ error: 'Session expired or exhausted' });
    expect((await h.post('/v1/chat/completions', CHAT, { 'X-Upto-Session': sessionId })).status).toBe(402);
  });

  it('accepts X-PAYMENT as well', async () => {
    const h = await harness();
    const response = await h.post('/v1/chat/completions', CHAT, { 'X-PAYMENT': await pay(h) });
    expect(response.status).toBe(200);
  });

  async function refused(h: Harness, header: string, reason: RegExp) {
    const before = facilitator.calledPaths().filter((path) => path === 'POST /verify').length;
    const response = await h.post('/v1/chat/completions', CHAT, { 'PAYMENT-SIGNATURE': header });
    expect(response.status).toBe(402);
    const required = decodePaymentRequiredHeader(response.headers.get('PAYMENT-REQUIRED')!);
    expect(required.error).toMatch(reason);
    expect(((await response.json()) as { error: string }).error).toMatch(reason);
    // Local checks refuse before any facilitator /verify call.
    expect(facilitator.calledPaths().filter((path) => path === 'POST /verify').length).toBe(before);
  }

  it('refuses a wrong signer, an expired deadline, a wrong amount and garbage locally', async () => {
    const h = await harness();
    await refused(
      h,
      await pay(h, (p) => (p.payload.permit2Authorization.from = other.address)),
      /invalid_signature/,
    );
    await refused(
      h,
      await pay(h, undefined, other).then((header) => {
        const decoded = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
        decoded.payload.permit2Authorization.from = payer.address;
        return Buffer.from(JSON.stringify(decoded)).toString('base64');
      }),
      /invalid_signature/,
    );
    await refused(h, await pay(h, (p) => (p.payload.permit2Authorization.permitted.amount = '1')), /amount/);
    await refused(h, await pay(h, (p) => (p.accepted.amount = '1')), /mismatch/);
    await refused(
      h,
      await pay(h, (p) => (p.payload.permit2Authorization.witness.to = other.address)),
      /recipient/,
    );
    await refused(
      h,
      await pay(h, (p) => (p.payload.permit2Authorization.spender = other.address)),
      /spender/,
    );
    await refused(h, 'not base64 !!', /invalid_payment_header/);
    const header = await pay(h);
    h.clock.ms += 301_000;
    await refused(h, header, /deadline/);
  });

  it('individual settlement buffers X-TEE-* headers and sends input/output; private sends no settlement data', async () => {
    const h = await harness();
    const header = await pay(h);
    const response = await h.post('/v1/chat/completions', CHAT, {
      'PAYMENT-SIGNATURE': header,
      'X-SETTLEMENT-TYPE': 'individual',
    });
    const body = (await response.json()) as Record<string, string>;
    expect(response.headers.get('X-TEE-Signature')).toBe(body['tee_signature']);
    expect(response.headers.get('X-TEE-ID')).toBe(body['tee_id']);
    expect(response.headers.get('X-TEE-Request-Hash')).toBe(body['tee_request_hash']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const individual = facilitator.calls.filter((call) => call.path === '/settle_data');
    expect(individual).toHaveLength(1);
    expect(individual[0]!.headers['x-settlement-type']).toBe('individual');
    const data = JSON.parse(
      Buffer.from(String(individual[0]!.headers['x-settlement-data']), 'base64').toString('utf8'),
    );
    expect(data.input).toEqual(CHAT);
    expect(data.output.tee_signature).toBe(body['tee_signature']);
    expect(data.eth_address.toLowerCase()).toBe(payer.address.toLowerCase());
    const session = response.headers.get('X-Upto-Session')!;
    const privately = await h.post('/v1/chat/completions', CHAT, {
      'X-Upto-Session': session,
      'X-SETTLEMENT-TYPE': 'private',
    });
    expect(privately.status).toBe(200);
    expect(privately.headers.get('X-TEE-Signature')).toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(facilitator.calls.filter((call) => call.path === '/settle_data')).toHaveLength(1);
  });

  it('passes a facilitator refusal through as 402', async () => {
    const h = await harness();
    facilitator.verifyFailure = 'insufficient_funds';
    const response = await h.post('/v1/chat/completions', CHAT, { 'PAYMENT-SIGNATURE': await pay(h) });
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get('PAYMENT-REQUIRED')!).error).toBe(
      'insufficient_funds',
    );
  });

  it('caps the charge at the budget, settles an exhausted session with PAYMENT-RESPONSE, then refuses it', async () => {
    // A tiny OPG price makes one answer cost more than the 0.1 OPG cap.
    const h = await harness('0.000000001');
    const header = await pay(h);
    const response = await h.post('/v1/chat/completions', CHAT, { 'PAYMENT-SIGNATURE': header });
    expect(response.status).toBe(200);
    const sessionId = response.headers.get('X-Upto-Session')!;
    // Settled at once (the charge reached the cap): evicted from the store, its id retired.
    expect(h.gate.session(sessionId)).toBeUndefined();
    expect(h.gate.sessionCount()).toBe(0);
    expect(h.gate.retiredSessionCount()).toBe(1);
    const settled = decodePaymentResponseHeader(response.headers.get('PAYMENT-RESPONSE')!);
    expect(settled).toMatchObject({ success: true, network: 'eip155:8453', amount: '100000000000000000' });
    const next = await h.post('/v1/chat/completions', CHAT, { 'X-Upto-Session': sessionId });
    expect(next.status).toBe(402);
    const replay = await h.post('/v1/chat/completions', CHAT, { 'PAYMENT-SIGNATURE': header });
    expect(replay.status).toBe(402);
  });

  it('does not charge failed requests and does not settle zero-cost sessions', async () => {
    const h = await harness();
    const header = await pay(h);
    const bad = await h.post(
      '/v1/chat/completions',
      { model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] },
      { 'PAYMENT-SIGNATURE': header },
    );
    expect(bad.status).toBe(400);
    const session = h.gate.session(createHash('sha256').update(header).digest('hex'))!;
    expect(session.cost).toBe(0n);
    h.clock.ms += 200_000;
    await h.gate.sweep();
    expect(facilitator.calledPaths()).not.toContain('POST /settle');
  });

  it('computes cost = ceil(usage × price / OPG price) exactly', async () => {
    const { calculateCost } = await import('../src/pricing.js');
    const gpt = getModelConfig('gpt-4.1')!;
    expect(calculateCost(gpt, { prompt_tokens: 1000, completion_tokens: 500 }, '1', 18)).toBe(
      6_000_000_000_000_000n,
    );
    expect(calculateCost(gpt, { input_tokens: 1, output_tokens: 0 }, '3', 18)).toBe(666_666_666_667n);
    expect(() => calculateCost(gpt, undefined, '1', 18)).toThrow(RangeError);
  });
});
