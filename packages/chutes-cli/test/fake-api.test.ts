import { utf8ToBytes } from '@confidential-ai/bytes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotkeyFromSeed, pythonJsonDumps, signRequest } from '../src/index.js';
import { createFakeChutesApi, type FakeChutesApi } from '../src/testing/index.js';
import { ALICE_SEED, ALICE_SS58, ZERO_SS58 } from './helpers.js';

const hotkey = hotkeyFromSeed(ALICE_SEED);
let api: FakeChutesApi;
beforeEach(async () => {
  api = await createFakeChutesApi({ registrationTokens: ['tok-1'] });
});
afterEach(async () => {
  await api.close();
});

async function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

describe('fake management API authentication (spec section 12.1)', () => {
  beforeEach(() => {
    api.addUser({ username: 'alice', hotkey: ALICE_SS58 });
  });

  it('accepts purpose signatures and rejects tampered ones', async () => {
    const headers = signRequest({ purpose: 'chutes' }, { hotkey });
    expect((await call('GET', '/chutes/', headers)).status).toBe(200);
    const tampered = {
      ...headers,
      'X-Chutes-Signature': headers['X-Chutes-Signature']!.replace(/^./, (c) => (c === '0' ? '1' : '0')),
    };
    expect(await call('GET', '/chutes/', tampered)).toEqual({
      status: 401,
      json: { detail: 'Invalid request signature' },
    });
  });

  it('the declared purpose takes precedence over the body hash; GET without purpose is 401', async () => {
    const wrongPurpose = signRequest({ purpose: 'images' }, { hotkey });
    expect((await call('GET', '/chutes/', wrongPurpose)).status).toBe(401);
    const body = utf8ToBytes('{"reason":"x"}');
    const bodySigned = signRequest({ body }, { hotkey });
    expect((await call('GET', '/chutes/', bodySigned)).status).toBe(401);
    expect(
      (
        await call(
          'POST',
          '/invocations/i/report',
          { ...bodySigned, 'content-type': 'application/json' },
          body,
        )
      ).status,
    ).toBe(200);
    const logs = signRequest({ purpose: 'x' }, { hotkey });
    expect(await call('GET', '/users/me', logs)).toMatchObject({ status: 401 });
  });

  it('enforces the 600 s nonce window and digit-only nonces', async () => {
    const old = signRequest({ purpose: 'chutes' }, { hotkey, now: () => Date.now() - 600_000 });
    expect(await call('GET', '/chutes/', old)).toEqual({ status: 401, json: { detail: 'Invalid nonce' } });
    const recent = signRequest({ purpose: 'chutes' }, { hotkey, now: () => Date.now() - 590_000 });
    expect((await call('GET', '/chutes/', recent)).status).toBe(200);
    expect((await call('GET', '/chutes/', { ...recent, 'X-Chutes-Nonce': '12a' })).status).toBe(401);
  });

  it('no credentials → 401; malformed API key → 401', async () => {
    expect(await call('GET', '/chutes/', {})).toEqual({
      status: 401,
      json: { detail: 'Authentication required' },
    });
    expect((await call('GET', '/chutes/', { Authorization: 'Bearer cpk_x' })).status).toBe(401);
  });
});

describe('fake registration (spec section 12.2)', () => {
  const body = utf8ToBytes(pythonJsonDumps({ username: 'alice', coldkey: ZERO_SS58 }));
  const post = (token: string | null, bytes = body) =>
    call(
      'POST',
      `/users/register${token === null ? '' : `?token=${token}`}`,
      { 'content-type': 'application/json', ...signRequest({ body: bytes }, { hotkey }) },
      bytes,
    );

  it('token rules: missing 400, unknown 403, configured accepted; hotkey reuse 409', async () => {
    expect((await post(null)).status).toBe(400);
    expect((await post('replaceme')).status).toBe(403);
    const ok = await post('tok-1');
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.json as object).sort()).toEqual(
      [
        'coldkey',
        'created_at',
        'developer_payment_address',
        'fingerprint',
        'hotkey',
        'payment_address',
        'user_id',
        'username',
      ].sort(),
    );
    expect((await post('tok-1')).status).toBe(409);
  });

  it('at most 3 sign-ups per IP per day (429)', async () => {
    for (let i = 0; i < 3; i++) {
      const seed = hotkeyFromSeed(`${String(i).repeat(2)}${'ab'.repeat(31)}`);
      const bytes = utf8ToBytes(pythonJsonDumps({ username: `user${i}`, coldkey: ZERO_SS58 }));
      const result = await call(
        'POST',
        '/users/register?token=tok-1',
        signRequest({ body: bytes }, { hotkey: seed }),
        bytes,
      );
      expect(result.status).toBe(200);
    }
    expect((await post('tok-1')).status).toBe(429);
  });

  it('name_check and pricing need no auth', async () => {
    expect(await call('GET', '/users/name_check?username=alice', {})).toEqual({
      status: 200,
      json: { valid: true, available: true },
    });
    expect(await call('GET', '/users/name_check?username=a', {})).toEqual({
      status: 200,
      json: { valid: false, available: false },
    });
    const pricing = await call('GET', '/pricing', {});
    expect(
      (pricing.json as { gpu_price_estimates: Record<string, { usd: { hour: number } }> })
        .gpu_price_estimates['a4000']!.usd.hour,
    ).toBe(0.2);
  });
});
