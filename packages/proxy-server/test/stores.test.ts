import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { SignatureRecord } from '../src/index.js';
import { createMemoryReplayStore, createMemorySignatureStore } from '../src/stores.js';

const recordOf = (text: string): SignatureRecord => ({
  text,
  signature_ecdsa: `ecdsa ${text}`,
  signing_address_ecdsa: 'address',
  signature_ed25519: `ed25519 ${text}`,
  signing_address_ed25519: 'public key',
});

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
    const record = recordOf('t');
    await store.put('k1', record, 5);
    await store.put('k2', record, 5);
    await store.put('k3', record, 5);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k3')).toEqual(record);
    now += 5000;
    expect(await store.get('k3')).toBeUndefined();
  });

  it('signature store: a key written again gives its newest record, and an expired record is gone', async () => {
    let now = 0;
    const store = createMemorySignatureStore({ maxEntries: 3, now: () => now });
    await store.put('a', recordOf('a1'), 10);
    await store.put('b', recordOf('b1'), 10);
    await store.put('a', recordOf('a2'), 20);
    expect((await store.get('a'))?.text).toBe('a2');
    now = 10_000;
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.text).toBe('a2');
    now = 20_000;
    expect(await store.get('a')).toBeUndefined();
    // Expired records read once are gone, and leave room: only the bound of 3 evicts here.
    for (const key of ['c', 'd', 'e', 'f']) await store.put(key, recordOf(key), 10);
    expect(await Promise.all(['c', 'd', 'e', 'f'].map(async (key) => (await store.get(key))?.text))).toEqual([
      undefined,
      'd',
      'e',
      'f',
    ]);
  });

  // The store's whole contract as a model: a key is there exactly when it is one of the `maxEntries` keys written
  // most recently (and its newest write has not expired), and it gives the record of its newest write.
  fcTest.prop(
    [
      fc.integer({ min: 1, max: 6 }),
      fc.array(
        fc.record({
          key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'),
          ttl: fc.integer({ min: 1, max: 4 }),
        }),
        {
          maxLength: 40,
        },
      ),
      fc.integer({ min: 0, max: 5 }),
    ],
    { numRuns: 300 },
  )(
    'signature store: holds the maxEntries keys written last, least recently written out first',
    async (maxEntries, writes, laterSeconds) => {
      let now = 0;
      const store = createMemorySignatureStore({ maxEntries, now: () => now });
      const newest = new Map<string, { index: number; ttl: number }>();
      for (const [index, { key, ttl }] of writes.entries()) {
        now = index; // one ms apart
        await store.put(key, recordOf(`${key}#${index}`), ttl);
        newest.set(key, { index, ttl });
      }
      now = writes.length + laterSeconds * 1000;
      const newestFirst = [...newest.keys()].sort((a, b) => newest.get(b)!.index - newest.get(a)!.index);
      for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) {
        const write = newest.get(key);
        const held =
          write !== undefined &&
          newestFirst.indexOf(key) < maxEntries &&
          write.index + write.ttl * 1000 > now;
        expect((await store.get(key))?.text).toBe(held ? `${key}#${write!.index}` : undefined);
      }
    },
  );
});
