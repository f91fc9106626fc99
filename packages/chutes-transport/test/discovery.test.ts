import { bytesToBase64 } from '@confidential-ai/bytes';
import { generateKeyPair } from '@confidential-ai/chutes-crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ChutesTransportError, isChuteId, parseDiscoveryResponse, parseModelList } from '../src/index.js';

const key = bytesToBase64(generateKeyPair(new Uint8Array(64).fill(7)).publicKey);
const nonces = (prefix: string, count = 10) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(30, 'x')}`);
const instance = (id: string, extra: Record<string, unknown> = {}) => ({
  instance_id: id,
  e2e_pubkey: key,
  nonces: nonces(id.slice(0, 1)),
  ...extra,
});

describe('parseDiscoveryResponse', () => {
  it('parses the documented shape', () => {
    const result = parseDiscoveryResponse({
      instances: [instance('a-1'), instance('b-2')],
      nonce_expires_in: 60,
      nonce_expires_at: 1,
    });
    expect(result.instances.map((i) => i.instanceId)).toEqual(['a-1', 'b-2']);
    expect(result.instances[0]!.publicKey).toHaveLength(1184);
    expect(result.instances[0]!.nonces).toHaveLength(10);
    expect(result.expiresInSeconds).toBe(60);
    expect(result.rejected).toEqual([]);
  });

  it('defaults the lifetime to 55 s and caps it', () => {
    expect(parseDiscoveryResponse({ instances: [instance('a')] }).expiresInSeconds).toBe(55);
    expect(
      parseDiscoveryResponse({ instances: [instance('a')], nonce_expires_in: -3 }).expiresInSeconds,
    ).toBe(55);
    expect(
      parseDiscoveryResponse({ instances: [instance('a')], nonce_expires_in: 1e9 }).expiresInSeconds,
    ).toBe(300);
  });

  it('drops instances with a key that is not exactly 1184 bytes of strict base64 (D3)', () => {
    const short = bytesToBase64(new Uint8Array(1183));
    const long = bytesToBase64(new Uint8Array(1185));
    const result = parseDiscoveryResponse({
      instances: [
        instance('a', { e2e_pubkey: short }),
        instance('b', { e2e_pubkey: long }),
        instance('c', { e2e_pubkey: key.replace(/=$/, '') }),
        instance('d', { e2e_pubkey: ` ${key}` }),
        instance('e', { e2e_pubkey: key.replaceAll('+', '-') }),
        instance('f', { e2e_pubkey: 5 }),
        instance('g'),
      ],
    });
    expect(result.instances.map((i) => i.instanceId)).toEqual(['g']);
    expect(result.rejected.map((r) => r.instanceId)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('keeps at most 5 instances and 10 nonces, skips header-unsafe ids and nonces', () => {
    const many = Array.from({ length: 7 }, (_, i) => instance(`i${i}`, { nonces: nonces(`n${i}`, 12) }));
    const result = parseDiscoveryResponse({
      instances: [
        instance('bad id\r\n'),
        instance('ok', {
          nonces: ['short', 'has space inside it......', 'evil\r\nheader:xxxxxxxxx', ...nonces('z', 1)],
        }),
        instance('none', { nonces: [] }),
        ...many,
      ],
    });
    expect(result.instances).toHaveLength(5);
    expect(result.instances[0]!.nonces).toEqual(nonces('z', 1));
    expect(result.instances[1]!.nonces).toHaveLength(10);
    expect(result.rejected.map((r) => r.reason)).toContain('invalid instance_id');
    expect(result.rejected.map((r) => r.reason)).toContain('no valid nonces');
  });

  it('throws ERR_DISCOVERY_INVALID when the shape is wrong', () => {
    for (const body of [null, [], 'x', 1, {}, { instances: {} }, { instances: 'a' }]) {
      expect(() => parseDiscoveryResponse(body)).toThrow(
        expect.objectContaining({ code: 'ERR_DISCOVERY_INVALID' }),
      );
    }
  });

  test.prop([fc.anything()], { numRuns: 300 })('throws only typed errors on arbitrary values', (value) => {
    try {
      const result = parseDiscoveryResponse(value);
      for (const entry of result.instances) expect(entry.publicKey).toHaveLength(1184);
    } catch (error) {
      expect(ChutesTransportError.isInstance(error)).toBe(true);
    }
  });

  test.prop(
    [
      fc.array(
        fc.record({
          instance_id: fc.oneof(fc.string(), fc.uuid()),
          e2e_pubkey: fc.oneof(fc.string(), fc.base64String(), fc.constant(key)),
          nonces: fc.oneof(fc.array(fc.string()), fc.anything()),
        }),
        { maxLength: 8 },
      ),
      fc.anything(),
    ],
    { numRuns: 200 },
  )('validates every kept instance on random discovery answers', (instances, ttl) => {
    const result = parseDiscoveryResponse({ instances, nonce_expires_in: ttl });
    expect(result.instances.length).toBeLessThanOrEqual(5);
    expect(result.instances.length + result.rejected.length).toBe(instances.length);
    for (const entry of result.instances) {
      expect(entry.e2ePubkey).toBe(key);
      expect(entry.nonces.length).toBeGreaterThan(0);
      expect(entry.nonces.length).toBeLessThanOrEqual(10);
      for (const nonce of entry.nonces) expect(nonce).toMatch(/^[\x21-\x7e]+$/);
    }
    expect(result.expiresInSeconds).toBeGreaterThan(0);
    expect(result.expiresInSeconds).toBeLessThanOrEqual(300);
  });
});

describe('parseModelList and isChuteId', () => {
  it('maps model names to chute ids', () => {
    const map = parseModelList({
      object: 'list',
      data: [
        { id: 'a/model', chute_id: '9966d5a9-c381-495e-ae5c-442fc2bd9bef' },
        { id: 'no-chute' },
        { id: 'bad', chute_id: 'not-a-uuid' },
        null,
      ],
    });
    expect([...map]).toEqual([['a/model', '9966d5a9-c381-495e-ae5c-442fc2bd9bef']]);
    expect(() => parseModelList({ object: 'list' })).toThrow(
      expect.objectContaining({ code: 'ERR_UPSTREAM' }),
    );
  });

  it('recognises UUIDs only', () => {
    expect(isChuteId('9966d5a9-c381-495e-ae5c-442fc2bd9bef')).toBe(true);
    expect(isChuteId('9966D5A9-C381-495E-AE5C-442FC2BD9BEF')).toBe(true);
    expect(isChuteId('9966d5a9-c381-495e-ae5c-442fc2bd9be')).toBe(false);
    expect(isChuteId('9966d5a9c381-495e-ae5c-442fc2bd9bef0')).toBe(false);
    expect(isChuteId('9966d5a9-c381-495e-ae5c-442fc2bd9bez')).toBe(false);
    expect(isChuteId('deepseek-ai/DeepSeek-V3')).toBe(false);
  });

  test.prop([fc.uuid()], { numRuns: 100 })('accepts every UUID', (uuid) => {
    expect(isChuteId(uuid)).toBe(true);
  });

  test.prop([fc.anything()], { numRuns: 200 })(
    'throws only typed errors on arbitrary model lists',
    (value) => {
      try {
        parseModelList(value);
      } catch (error) {
        expect(ChutesTransportError.isInstance(error)).toBe(true);
      }
    },
  );
});
