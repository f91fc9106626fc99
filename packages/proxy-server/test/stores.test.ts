import { describe, expect, it } from 'vitest';
import { createMemoryReplayStore, createMemorySignatureStore } from '../src/stores.js';

describe('memory stores', () => {
  it('replay LRU: single claim, expiry, bounded with eviction callback', async () => {
    let now = 1_000_000;
    let evicted = 0;
    const store = createMemoryReplayStore({
      maxEntries: 3,
      now: () => now,
      onEvict: () => evicted++,
      knownSinceSeconds: 0,
    });
    const claim = (key: string, ttlSeconds: number, earliestAcceptSeconds = 10_000) =>
      store.claim({ key, ttlSeconds, earliestAcceptSeconds }).then((result) => result.outcome);
    expect(await claim('a', 10, 9_000)).toBe('claimed');
    expect(await claim('a', 10, 9_000)).toBe('replay');
    now += 10_001;
    expect(await claim('a', 10, 9_000)).toBe('claimed'); // expired claim can be made again
    expect(await claim('b', 100)).toBe('claimed');
    expect(await claim('c', 100)).toBe('claimed');
    expect(await claim('d', 100)).toBe('claimed'); // full: oldest live claim ('a') evicted
    expect(evicted).toBe(1);
    expect(store.size()).toBe(3);
    expect(await claim('b', 100)).toBe('replay');
    now += 200_000;
    expect(await claim('e', 1, 20_000)).toBe('claimed'); // expired ones are swept, not counted as evictions
    expect(evicted).toBe(1);
    expect(store.size()).toBe(1);
    expect(() => createMemoryReplayStore({ maxEntries: 0 })).toThrow(RangeError);
  });

  it('replay LRU: knowledge starts at creation; an eviction moves it past the evicted claim', async () => {
    let now = 5_000_000;
    const store = createMemoryReplayStore({ maxEntries: 2, now: () => now });
    expect(store.knownSinceSeconds()).toBe(5000);
    const claim = (key: string, earliestAcceptSeconds: number) =>
      store.claim({ key, ttlSeconds: 600, earliestAcceptSeconds });
    // a request that could have been accepted before this store existed is refused, unclaimed
    expect(await claim('old', 4999)).toEqual({ outcome: 'before_known_state', knownSinceSeconds: 5000 });
    expect(store.size()).toBe(0);
    expect(await claim('a', 5000)).toEqual({ outcome: 'claimed' });
    now += 1000;
    expect(await claim('b', 5002)).toEqual({ outcome: 'claimed' });
    expect(await claim('c', 5001)).toEqual({ outcome: 'claimed' }); // evicts 'a' (earliest 5000) while live
    expect(store.knownSinceSeconds()).toBe(5001);
    // 'a' is forgotten: replaying it is refused, not accepted
    expect(await claim('a', 5000)).toEqual({ outcome: 'before_known_state', knownSinceSeconds: 5001 });
    expect(await claim('b', 5002)).toEqual({ outcome: 'replay' });
  });

  it('signature store: expiry and bound', async () => {
    let now = 0;
    const store = createMemorySignatureStore({ maxEntries: 2, now: () => now });
    const record = {
      text: 't',
      signature_ecdsa: 'a',
      signing_address_ecdsa: 'b',
      signature_ed25519: 'c',
      signing_address_ed25519: 'd',
    };
    await store.put('k1', record, 5);
    await store.put('k2', record, 5);
    await store.put('k3', record, 5);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k3')).toEqual(record);
    now += 5000;
    expect(await store.get('k3')).toBeUndefined();
  });
});
