import { describe, expect, it } from 'vitest';
import { createSessionStore } from './sessions.js';

describe('session store', () => {
  it('counts requests and expires on max requests, idle TTL and max TTL', () => {
    let now = 0;
    const store = createSessionStore<string>({
      idleTtlMs: 100,
      maxTtlMs: 250,
      maxRequests: 3,
      now: () => now,
    });
    const first = store.acquire('m', 's');
    first.value = 'key';
    expect(store.acquire('m', 's')).toBe(first);
    expect(first.requestCount).toBe(2);
    expect(store.acquire('m', 's').requestCount).toBe(3);
    const second = store.acquire('m', 's'); // max requests reached
    expect(second).not.toBe(first);
    expect(second.value).toBeUndefined();
    now = 99;
    expect(store.acquire('m', 's')).toBe(second);
    now = 199; // idle for exactly 100 ms
    const third = store.acquire('m', 's');
    expect(third).not.toBe(second);
    for (now = 250; now < 400; now += 50) store.acquire('m', 's');
    expect(store.acquire('m', 's').createdAt).toBeGreaterThan(third.createdAt);
    // sessions are keyed by model and id
    expect(store.acquire('other', 's')).not.toBe(store.acquire('m', 's'));
    store.close();
  });

  it('sweeps expired sessions so memory stays bounded', () => {
    let now = 0;
    const store = createSessionStore<string>({
      idleTtlMs: 100,
      maxTtlMs: 1000,
      now: () => now,
      sweepIntervalMs: 1_000_000,
    });
    for (let index = 0; index < 50; index++) store.acquire('m', `s${index}`);
    expect(store.size).toBe(50);
    now = 50;
    store.acquire('m', 's0');
    expect(store.sweep()).toBe(0);
    now = 120;
    expect(store.sweep()).toBe(49);
    expect(store.size).toBe(1);
    store.delete(store.acquire('m', 's0'));
    expect(store.size).toBe(0);
    store.close();
  });

  it('rejects bad limits', () => {
    expect(() => createSessionStore({ idleTtlMs: 0 })).toThrow(RangeError);
    expect(() => createSessionStore({ idleTtlMs: 10, maxTtlMs: 5 })).toThrow(RangeError);
    expect(() => createSessionStore({ maxRequests: -1 })).toThrow(RangeError);
  });
});
