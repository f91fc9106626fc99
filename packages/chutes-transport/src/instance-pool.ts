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

const MAX_ROUNDS = 25;

/**
 * Nonce cache per (API key, chute): each nonce is handed out once, in order (first instance first); a refresh
 * happens when the cache is expired or has no nonce left for the caller; concurrent refreshes share one
 * discovery call (single flight).
 */
export class InstancePool {
  readonly #discover: Discover;
  readonly #now: () => number;
  readonly #entries = new Map<string, PoolEntry>();
  readonly #pending = new Map<string, Promise<PoolEntry>>();

  constructor(discover: Discover, now: () => number) {
    this.#discover = discover;
    this.#now = now;
  }

  /**
   * Takes one unused nonce for an instance not in `exclude`. Returns `undefined` when a fresh discovery has no
   * instance outside `exclude` (the caller then gives up).
   * @throws whatever discovery throws; ChutesTransportError `ERR_NO_INSTANCES` if nonces keep running out.
   */
  async lease(
    key: string,
    exclude: ReadonlySet<string>,
    wait: <T>(promise: Promise<T>) => Promise<T>,
  ): Promise<Lease | undefined> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = this.#entries.get(key);
      if (entry !== undefined && this.#now() < entry.expiresAt) {
        const lease = take(entry, exclude);
        if (lease) return lease;
      }
      const fresh = await wait(this.#refresh(key, entry));
      const lease = this.#now() < fresh.expiresAt ? take(fresh, exclude) : undefined;
      if (lease) return lease;
      const usable = fresh.instances.some(
        (cached) =>
          !exclude.has(cached.instance.instanceId) && !fresh.dropped.has(cached.instance.instanceId),
      );
      if (!usable) return undefined;
      // Others took the fresh nonces first: go round again.
    }
    throw new ChutesTransportError('ERR_NO_INSTANCES', 'could not obtain a nonce after repeated discovery');
  }

  /** Forgets the cache of `key` if it is still `entry` (after a nonce rejection). */
  invalidate(key: string, entry: PoolEntry): void {
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
  }

  /** Drops `instanceId` from `entry` for the rest of its cache period. */
  drop(entry: PoolEntry, instanceId: string): void {
    entry.dropped.add(instanceId);
  }

  /** Forgets every cached nonce. */
  clear(): void {
    this.#entries.clear();
  }

  #refresh(key: string, seen: PoolEntry | undefined): Promise<PoolEntry> {
    const current = this.#entries.get(key);
    if (current !== undefined && current !== seen && this.#now() < current.expiresAt)
      return Promise.resolve(current);
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const promise = this.#discover(key)
      .then((result) => {
        const entry: PoolEntry = {
          instances: result.instances.map((instance) => ({ instance, nonces: [...instance.nonces] })),
          expiresAt: this.#now() + result.expiresInSeconds * 1000,
          dropped: new Set(),
        };
        this.#entries.set(key, entry);
        return entry;
      })
      .finally(() => {
        this.#pending.delete(key);
      });
    // Waiters may give up (abort); the shared promise must never become an unhandled rejection.
    promise.catch(() => {});
    this.#pending.set(key, promise);
    return promise;
  }
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
