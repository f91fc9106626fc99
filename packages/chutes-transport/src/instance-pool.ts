import type { DiscoveredInstance } from './discovery.js';
import { ChutesTransportError } from './errors.js';

/** The nonce cache of one (API key, chute) pair for one cache period. */
export interface PoolEntry {
  readonly instances: readonly { readonly instance: DiscoveredInstance; readonly nonces: string[] }[];
  /** Local time (ms) after which no nonce of this entry is used. */
  readonly expiresAt: number;
  /** Instances dropped after a 410/429/502 for the rest of this cache period. */
  readonly dropped: Set<string>;
}

/** One nonce taken from the cache, with the instance it is bound to. */
export interface Lease {
  readonly instance: DiscoveredInstance;
  readonly nonce: string;
  readonly entry: PoolEntry;
}

/** Fetches a fresh discovery answer (already filtered) and returns the instances and their lifetime. */
export type Discover = (
  key: string,
) => Promise<{ instances: readonly DiscoveredInstance[]; expiresInSeconds: number }>;

/** Bounds of the queue of requests waiting for a nonce. */
export interface NonceQueueLimits {
  /** Requests that may wait per (API key, chute); one more is refused at once (`ERR_NONCE_QUEUE_FULL`). */
  readonly maxWaiting: number;
  /** How long a request may wait for a nonce, in milliseconds, before `ERR_NONCE_TIMEOUT`. */
  readonly timeoutMs: number;
}

interface Waiter {
  readonly exclude: ReadonlySet<string>;
  settle(lease: Lease | undefined, error?: unknown): void;
}

interface KeyState {
  entry: PoolEntry | undefined;
  /** Requests waiting for a nonce, oldest first. */
  readonly waiters: Waiter[];
  discovering: boolean;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Nonce cache per (API key, chute) with a bounded wait queue. Each nonce is handed out once, in order (first
 * instance first). A request that finds no nonce joins the queue (oldest first); while the queue is not empty
 * exactly one discovery call runs for the key (single flight), back to back, and each answer is shared out
 * among the waiting requests in order. A request waits at most `timeoutMs` (`ERR_NONCE_TIMEOUT`) and is refused
 * at once when `maxWaiting` requests already wait (`ERR_NONCE_QUEUE_FULL`); a failed discovery fails every
 * request waiting for it.
 */
export class InstancePool {
  readonly #discover: Discover;
  readonly #now: () => number;
  readonly #limits: NonceQueueLimits;
  readonly #states = new Map<string, KeyState>();

  constructor(discover: Discover, now: () => number, limits: NonceQueueLimits) {
    this.#discover = discover;
    this.#now = now;
    this.#limits = limits;
  }

  /**
   * Takes one unused nonce for an instance not in `exclude`, waiting in the queue when none is cached. Resolves
   * `undefined` when a fresh discovery has no instance outside `exclude` (the caller then gives up).
   * @throws whatever discovery throws; the abort reason of `signal`; ChutesTransportError `ERR_NONCE_TIMEOUT`
   * or `ERR_NONCE_QUEUE_FULL` (no relay answer behind either: the caller maps them to 503).
   */
  lease(key: string, exclude: ReadonlySet<string>, signal?: AbortSignal): Promise<Lease | undefined> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    let state = this.#states.get(key);
    if (!state) {
      state = { entry: undefined, waiters: [], discovering: false };
      this.#states.set(key, state);
    }
    // Nobody is waiting: a cached nonce is taken at once. Otherwise join the queue behind the others.
    if (state.waiters.length === 0 && state.entry && this.#now() < state.entry.expiresAt) {
      const lease = take(state.entry, exclude);
      if (lease) return Promise.resolve(lease);
    }
    if (state.waiters.length >= this.#limits.maxWaiting) {
      return Promise.reject(
        new ChutesTransportError(
          'ERR_NONCE_QUEUE_FULL',
          `${state.waiters.length} requests are already waiting for a nonce of this chute`,
        ),
      );
    }
    const queue = state;
    return new Promise<Lease | undefined>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        remove();
        reject(abortReason(signal!));
      };
      const remove = () => {
        const index = queue.waiters.indexOf(waiter);
        if (index !== -1) queue.waiters.splice(index, 1);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        exclude,
        settle(lease, error) {
          remove();
          if (error !== undefined) reject(error);
          else resolve(lease);
        },
      };
      timer = setTimeout(() => {
        remove();
        reject(
          new ChutesTransportError(
            'ERR_NONCE_TIMEOUT',
            `no nonce became available within ${this.#limits.timeoutMs} ms`,
          ),
        );
      }, this.#limits.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.waiters.push(waiter);
      this.#pump(key, queue);
    });
  }

  /** Forgets the cache of `key` if it is still `entry` (after a nonce rejection). */
  invalidate(key: string, entry: PoolEntry): void {
    const state = this.#states.get(key);
    if (state?.entry === entry) state.entry = undefined;
  }

  /** Drops `instanceId` from `entry` for the rest of its cache period. */
  drop(entry: PoolEntry, instanceId: string): void {
    entry.dropped.add(instanceId);
  }

  /** Forgets every cached nonce (requests already waiting keep waiting for the next discovery). */
  clear(): void {
    for (const state of this.#states.values()) state.entry = undefined;
  }

  /** Requests waiting for a nonce of `key` (for tests and diagnostics). */
  waiting(key: string): number {
    return this.#states.get(key)?.waiters.length ?? 0;
  }

  // Serves the waiters from the cached entry, then starts a discovery if some are left and none runs.
  #pump(key: string, state: KeyState): void {
    if (state.entry && this.#now() < state.entry.expiresAt) serve(state, state.entry, false);
    if (state.waiters.length > 0 && !state.discovering) this.#startDiscovery(key, state);
  }

  #startDiscovery(key: string, state: KeyState): void {
    state.discovering = true;
    new Promise<Awaited<ReturnType<Discover>>>((resolve) => resolve(this.#discover(key))).then(
      (result) => {
        const entry: PoolEntry = {
          instances: result.instances.map((instance) => ({ instance, nonces: [...instance.nonces] })),
          expiresAt: this.#now() + result.expiresInSeconds * 1000,
          dropped: new Set(),
        };
        state.entry = entry;
        state.discovering = false;
        if (this.#now() < entry.expiresAt) serve(state, entry, true);
        // Nonces ran out before every waiter had one: the next discovery, at once (the deadline bounds it).
        if (state.waiters.length > 0) this.#startDiscovery(key, state);
      },
      (error: unknown) => {
        state.discovering = false;
        for (const waiter of [...state.waiters]) waiter.settle(undefined, error);
      },
    );
  }
}

// Hands out nonces to the waiters in order. With a fresh discovery answer, a waiter for whom the answer has no
// usable instance at all (every one excluded or dropped) gets `undefined`.
function serve(state: KeyState, entry: PoolEntry, fresh: boolean): void {
  for (const waiter of [...state.waiters]) {
    const lease = take(entry, waiter.exclude);
    if (lease) waiter.settle(lease);
    else if (fresh && !usable(entry, waiter.exclude)) waiter.settle(undefined);
  }
}

function usable(entry: PoolEntry, exclude: ReadonlySet<string>): boolean {
  return entry.instances.some(
    (cached) => !exclude.has(cached.instance.instanceId) && !entry.dropped.has(cached.instance.instanceId),
  );
}

function take(entry: PoolEntry, exclude: ReadonlySet<string>): Lease | undefined {
  for (const cached of entry.instances) {
    const id = cached.instance.instanceId;
    if (exclude.has(id) || entry.dropped.has(id)) continue;
    const nonce = cached.nonces.shift();
    if (nonce !== undefined) return { instance: cached.instance, nonce, entry };
  }
  return undefined;
}
