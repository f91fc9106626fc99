import { Redis } from 'ioredis';
import { ProxyServerError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Single-use claims of E2EE v2 nonces. Implementations must be atomic across every replica that shares them.
 */
export interface ReplayStore {
  /**
   * Claims `key` for `ttlSeconds`.
   *
   * @returns true when the key was free (and is now claimed), false when it is already claimed (a replay).
   * @throws {ProxyServerError} `ERR_REPLAY_STORE_UNAVAILABLE` when the backing store cannot answer.
   */
  claim(key: string, ttlSeconds: number): Promise<boolean>;
}

/** The stored result of signing one chat/completion response (the reference's cache record). */
export interface SignatureRecord {
  /** `"<request_sha256_hex>:<response_sha256_hex>"`. */
  text: string;
  /** EIP-191 personal_sign signature, `0x` + 65 bytes hex. */
  signature_ecdsa: string;
  /** Checksummed Ethereum address of the ECDSA key. */
  signing_address_ecdsa: string;
  /** Raw Ed25519 signature, 64 bytes hex. */
  signature_ed25519: string;
  /** Ed25519 public key, 32 bytes hex. */
  signing_address_ed25519: string;
}

/** Signature records by `<model>:chat:<id>`, with expiry. */
export interface SignatureStore {
  /** Stores a record for `ttlSeconds`. Never throws for a store outage (logs instead). */
  put(key: string, record: SignatureRecord, ttlSeconds: number): Promise<void>;
  /** Reads a record; `undefined` when absent or expired. */
  get(key: string): Promise<SignatureRecord | undefined>;
}

/** Options of {@link createMemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /** Most live claims kept (default 100000). When full, the oldest claim is evicted and `onEvict` is called. */
  maxEntries?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Called when a live (unexpired) claim is evicted because the store is full. */
  onEvict?: () => void;
}

/**
 * A bounded in-memory replay store for a single replica: insertion-ordered map with per-entry expiry; expired
 * entries are swept from the old end, and when the bound is reached the oldest claim is evicted.
 *
 * @example
 * ```ts
 * const store = createMemoryReplayStore({ maxEntries: 100_000 });
 * await store.claim('model:e2ee_replay:ecdsa:1700000000:nonce', 600); // true, then false
 * ```
 */
export function createMemoryReplayStore(
  options: MemoryReplayStoreOptions = {},
): ReplayStore & { size(): number } {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError('maxEntries must be a positive integer');
  const now = options.now ?? Date.now;
  const entries = new Map<string, number>();
  return {
    async claim(key, ttlSeconds) {
      const at = now();
      const existing = entries.get(key);
      if (existing !== undefined && existing > at) return false;
      if (existing !== undefined) entries.delete(key);
      // Sweep expired claims from the oldest end (TTLs are similar, so the oldest expire first).
      for (const [oldKey, expiresAt] of entries) {
        if (expiresAt > at) break;
        entries.delete(oldKey);
      }
      while (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value as string;
        const expiresAt = entries.get(oldest)!;
        entries.delete(oldest);
        if (expiresAt > at) options.onEvict?.();
      }
      entries.set(key, at + ttlSeconds * 1000);
      return true;
    },
    size: () => entries.size,
  };
}

/** Options of {@link createMemorySignatureStore}. */
export interface MemorySignatureStoreOptions {
  /** Most records kept (default 100000); least recently written evicted first. */
  maxEntries?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

/**
 * A bounded in-memory signature store with per-record expiry.
 *
 * @example
 * ```ts
 * const store = createMemorySignatureStore({ maxEntries: 10_000 });
 * ```
 */
export function createMemorySignatureStore(options: MemorySignatureStoreOptions = {}): SignatureStore {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError('maxEntries must be a positive integer');
  const now = options.now ?? Date.now;
  const entries = new Map<string, { record: SignatureRecord; expiresAt: number }>();
  return {
    async put(key, record, ttlSeconds) {
      entries.delete(key);
      while (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(key, { record, expiresAt: now() + ttlSeconds * 1000 });
    },
    async get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.record;
    },
  };
}

/** Connection settings of {@link createRedisClient}. */
export interface RedisClientOptions {
  /** Host name or address. */
  host: string;
  /** Port. Default 6379. */
  port?: number;
  /** Password (AUTH). */
  password?: string | undefined;
  /** Database index. Default 0. */
  db?: number;
  /** Connect and per-command timeout in ms. Default 500. */
  timeoutMs?: number;
  /** Logger for connection state changes (never logs the password). */
  logger?: Logger;
}

/**
 * Creates an ioredis client tuned to fail fast: no offline queue (commands fail at once while disconnected),
 * no per-command retries, a command timeout, and background reconnection with capped backoff.
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const timeoutMs = options.timeoutMs ?? 500;
  const client = new Redis({
    host: options.host,
    port: options.port ?? 6379,
    ...(options.password ? { password: options.password } : {}),
    db: options.db ?? 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: true,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  let wasReady = false;
  client.on('ready', () => {
    wasReady = true;
    options.logger?.info({ redis: `${options.host}:${options.port ?? 6379}` }, 'redis connected');
  });
  client.on('error', (error: Error) => {
    if (wasReady) options.logger?.warn({ err: { message: error.message } }, 'redis connection error');
  });
  client.on('end', () => {
    wasReady = false;
  });
  return client;
}

/**
 * A replay store on Redis (`SET key 1 NX EX ttl`), shared by every replica that uses the same Redis.
 *
 * @example
 * ```ts
 * const store = createRedisReplayStore(createRedisClient({ host: '127.0.0.1' }));
 * ```
 */
export function createRedisReplayStore(client: Redis): ReplayStore {
  return {
    async claim(key, ttlSeconds) {
      let reply: string | null;
      try {
        if (client.status !== 'ready') throw new Error(`redis is ${client.status}`);
        reply = await client.set(key, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX');
      } catch (error) {
        throw new ProxyServerError('ERR_REPLAY_STORE_UNAVAILABLE', 'replay store (Redis) is unavailable', {
          cause: error,
        });
      }
      return reply === 'OK';
    },
  };
}

/**
 * A signature store that writes through to Redis and to a local LRU, and reads Redis first (as the reference).
 * A Redis outage degrades to the local copy with a warning; it never fails a request.
 */
export function createRedisSignatureStore(
  client: Redis,
  local: SignatureStore,
  logger?: Logger,
): SignatureStore {
  return {
    async put(key, record, ttlSeconds) {
      await local.put(key, record, ttlSeconds);
      try {
        if (client.status !== 'ready') throw new Error(`redis is ${client.status}`);
        await client.set(key, JSON.stringify(record), 'EX', Math.max(1, Math.ceil(ttlSeconds)));
      } catch (error) {
        logger?.warn({ err: { message: (error as Error).message } }, 'signature write to redis failed');
      }
    },
    async get(key) {
      try {
        if (client.status === 'ready') {
          const text = await client.get(key);
          if (text !== null) return JSON.parse(text) as SignatureRecord;
        }
      } catch (error) {
        logger?.warn({ err: { message: (error as Error).message } }, 'signature read from redis failed');
      }
      return local.get(key);
    },
  };
}
