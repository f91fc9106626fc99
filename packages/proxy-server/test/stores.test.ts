import { describe, expect, it } from 'vitest';
import { createMemoryReplayStore, createMemorySignatureStore } from '../src/stores.js';

describe('memory stores', () => {
  it('replay LRU: single claim, expiry, bounded with eviction callback', async () => {
    let now = 1_000_000;
    let evicted = 0;
    const store = createMemoryReplayStore({ maxEntries: 3, now: () => now, onEvict: () => evicted++ });
    expect(await store.claim('a', 10)).toBe(true);
    expect(await store.claim('a', 10)).toBe(false);
    now += 10_001;
    expect(await store.claim('a', 10)).toBe(true); // expired claim can be made again
    expect(await store.claim('b', 100)).toBe(true);
    expect(await store.claim('c', 100)).toBe(true);
    expect(await store.claim('d', 100)).toBe(true); // full: oldest live claim ('a') evicted
    expect(evicted).toBe(1);
    expect(store.size()).toBe(3);
    expect(await store.claim('b', 100)).toBe(false);
    now += 200_000;
    expect(await store.claim('e', 1)).toBe(true); // expired ones are swept, not counted as evictions
    expect(evicted).toBe(1);
    expect(store.size()).toBe(1);
    expect(() => createMemoryReplayStore({ maxEntries: 0 })).toThrow(RangeError);
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
