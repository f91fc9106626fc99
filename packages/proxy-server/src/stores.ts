import { createRequire } from 'node:module';
import type { Logger } from '@confidential-ai/server-kit';
import { ProxyServerError } from './errors.js';
import { SignatureTable } from './signature-table.js';

/** One E2EE v2 claim. */
export interface ReplayClaim {
  /** Store key: `<model>:e2ee_replay:<algo>:<timestamp>:<nonce>`. */
  key: string;
  /** How long the claim must live, in seconds (until `timestamp + window` has passed, D8). */
  ttlSeconds: number;
  /**
   * Unix seconds: the earliest moment at which the same request could have been accepted (its timestamp minus
   * the acceptance window). A store whose knowledge starts after this moment cannot tell whether it was.
   */
  earliestAcceptSeconds: number;
}

/** What a claim found. */
export type ReplayClaimResult =
  /** The key was free and is now claimed. */
  | { outcome: 'claimed' }
  /** The key is already claimed: a replay. */
  | { outcome: 'replay' }
  /**
   * The store's knowledge of claims starts after `earliestAcceptSeconds` (it was created, restarted, flushed or
   * had to evict a live claim since), so it cannot rule out an earlier claim: the request is refused unclaimed.
   */
  | { outcome: 'before_known_state'; knownSinceSeconds: number };

/**
 * Single-use claims of E2EE v2 nonces. Implementations must be atomic across every replica that shares them, and
 * must know from when their knowledge is complete: a store that lost claims (a restart, a flush, an eviction)
 * must refuse every claim that could have been made before the loss, so that losing state costs refusals for at
 * most one acceptance window, never a replay.
 */
export interface ReplayStore {
  /**
   * Claims `claim.key` for `claim.ttlSeconds`, unless the store's knowledge starts after
   * `claim.earliestAcceptSeconds`.
   *
   * @throws {ProxyServerError} `ERR_REPLAY_STORE_UNAVAILABLE` when the backing store cannot answer.
   */
  claim(claim: ReplayClaim): Promise<ReplayClaimResult>;
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
  /**
   * Unix seconds from which this store knows every claim. Default: the moment it is created, since claims made
   * before (by an earlier process with the same keys) are unknown to it. Pass 0 only when no request accepted
   * before could be accepted again, e.g. when the E2EE keys are generated for this process (no `signing.key_seed`).
   */
  knownSinceSeconds?: number;
}

/**
 * A bounded in-memory replay store for a single replica: insertion-ordered map with per-entry expiry; expired
 * entries are swept from the old end, and when the bound is reached the oldest claim is evicted. Its knowledge
 * starts at `knownSinceSeconds`; evicting a live claim moves that point past the evicted claim, so the evicted
 * request is refused (`before_known_state`) rather than accepted again.
 *
 * @example
 * ```ts
 * const store = createMemoryReplayStore({ maxEntries: 100_000 });
 * await store.claim({ key: 'model:e2ee_replay:ecdsa:1700000000:nonce', ttlSeconds: 600, earliestAcceptSeconds: 1699999700 });
 * ```
 */
export function createMemoryReplayStore(
  options: MemoryReplayStoreOptions = {},
): ReplayStore & { size(): number; knownSinceSeconds(): number } {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError('maxEntries must be a positive integer');
  const now = options.now ?? Date.now;
  let knownSince = options.knownSinceSeconds ?? Math.floor(now() / 1000);
  const entries = new Map<string, { expiresAt: number; earliest: number }>();
  return {
    async claim({ key, ttlSeconds, earliestAcceptSeconds }) {
      if (earliestAcceptSeconds < knownSince) {
        return { outcome: 'before_known_state', knownSinceSeconds: knownSince };
      }
      const at = now();
      const existing = entries.get(key);
      if (existing !== undefined && existing.expiresAt > at) return { outcome: 'replay' };
      if (existing !== undefined) entries.delete(key);
      // Sweep expired claims from the oldest end (TTLs are similar, so the oldest expire first).
      for (const [oldKey, entry] of entries) {
        if (entry.expiresAt > at) break;
        entries.delete(oldKey);
      }
      while (entries.size >= maxEntries) {
        const [oldest, entry] = entries.entries().next().value as [
          string,
          { expiresAt: number; earliest: number },
        ];
        entries.delete(oldest);
        if (entry.expiresAt > at) {
          // A live claim is forgotten: refuse everything that could have been accepted as early as it was.
          knownSince = Math.max(knownSince, entry.earliest + 1);
          options.onEvict?.();
        }
      }
      entries.set(key, { expiresAt: at + ttlSeconds * 1000, earliest: earliestAcceptSeconds });
      return { outcome: 'claimed' };
    },
    size: () => entries.size,
    knownSinceSeconds: () => knownSince,
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
 * A bounded in-memory signature store with per-record expiry. Records made by `signatureRecord` are kept as
 * their text in typed arrays outside the JavaScript heap: about 190 bytes per key once the arrays (which double up
 * to the bound) are full, instead of about 280 bytes of objects per key that the garbage collector copied and
 * marked. Other records are kept as given.
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
  const table = new SignatureTable(maxEntries, options.now ?? Date.now);
  return {
    async put(key, record, ttlSeconds) {
      table.put(key, record, ttlSeconds);
    },
    async get(key) {
      return table.get(key);
    },
  };
}

/**
 * The part of an ioredis client that the Redis stores and the server use; an ioredis `Redis` instance is one.
 * Declared here so that this package's public types do not include ioredis's own declarations (which do not
 * compile for consumers with `skipLibCheck: false`: they import the untyped `redis-errors`).
 */
export interface RedisConnection {
  /** Connection state; `ready` when commands can be sent. */
  readonly status: string;
  /** Adds a listener (`ready`, `error`, `end`, ...). */
  on(event: string, listener: (error: Error) => void): unknown;
  /** Adds a one-time listener. */
  once(event: string, listener: (error: Error) => void): unknown;
  /** Removes a listener. */
  off(event: string, listener: (error: Error) => void): unknown;
  /** `SET key value NX`. */
  set(key: string, value: string, mode: 'NX'): Promise<unknown>;
  /** `SET key value EX seconds`. */
  set(key: string, value: string, expiry: 'EX', seconds: number): Promise<unknown>;
  /** `GET key`. */
  get(key: string): Promise<string | null>;
  /** Registers a Lua script as a command (ioredis `defineCommand`). */
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  /** Closes the connection at once (no reconnection). */
  disconnect(): void;
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

// ioredis (CommonJS, about a quarter of a second of CPU to load) is required only when a Redis client is created:
// a server without Redis never loads it. Its types stay internal (see RedisConnection).
type IoRedis = typeof import('ioredis');
let ioredis: IoRedis | undefined;

/**
 * Creates an ioredis client tuned to fail fast: no offline queue (commands fail at once while disconnected),
 * no per-command retries, a command timeout, and background reconnection with capped backoff. ioredis is loaded
 * on the first call.
 */
export function createRedisClient(options: RedisClientOptions): RedisConnection {
  const timeoutMs = options.timeoutMs ?? 500;
  ioredis ??= createRequire(import.meta.url)('ioredis') as IoRedis;
  const client = new ioredis.Redis({
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
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
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

/** Options of {@link createRedisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** Clock in ms (tests). */
  now?: () => number;
  /** Key of the knowledge marker. Default {@link REPLAY_KNOWN_SINCE_KEY}. */
  markerKey?: string;
}

/**
 * Redis key holding the unix second from which the Redis replay store knows every claim. It has no expiry; when
 * it is missing (Redis restarted empty, `FLUSHALL`/`FLUSHDB`, or a first start) the claims are assumed lost and
 * it is written again with the current time.
 */
export const REPLAY_KNOWN_SINCE_KEY = 'e2ee_replay:known_since';

// KEYS[1] marker, KEYS[2] claim; ARGV[1] now (s), ARGV[2] earliest accept (s), ARGV[3] ttl (s).
// Returns {1, since} claimed, {0, since} replay, {-1, since} before the known state. One atomic step.
const CLAIM_COMMAND = 'confidentialAiReplayClaim';
const CLAIM_SCRIPT = `
local since = tonumber(redis.call('GET', KEYS[1]))
if not since then
  since = tonumber(ARGV[1])
  redis.call('SET', KEYS[1], ARGV[1])
end
if tonumber(ARGV[2]) < since then return {-1, since} end
if redis.call('SET', KEYS[2], '1', 'EX', ARGV[3], 'NX') then return {1, since} end
return {0, since}
`;

/**
 * A replay store on Redis, shared by every replica that uses the same Redis: one Lua script per claim reads the
 * knowledge marker ({@link REPLAY_KNOWN_SINCE_KEY}; re-created with the current time when missing) and, unless
 * the request could have been accepted before it, claims the key with `SET key 1 NX EX ttl`. On every
 * (re)connection the marker is also written if missing, so a Redis that restarted empty is noticed at once. The
 * Redis must not evict keys on its own (`maxmemory-policy noeviction`, the default): a claim it drops silently
 * could be replayed.
 *
 * @example
 * ```ts
 * const store = createRedisReplayStore(createRedisClient({ host: '127.0.0.1' }));
 * ```
 */
export function createRedisReplayStore(
  client: RedisConnection,
  options: RedisReplayStoreOptions = {},
): ReplayStore {
  const now = options.now ?? Date.now;
  const marker = options.markerKey ?? REPLAY_KNOWN_SINCE_KEY;
  const seconds = () => String(Math.floor(now() / 1000));
  const mark = () => {
    client.set(marker, seconds(), 'NX').catch(() => {});
  };
  client.on('ready', mark);
  if (client.status === 'ready') mark();
  // EVALSHA with a fallback to EVAL (ioredis caches the script's digest).
  if (!(CLAIM_COMMAND in client)) client.defineCommand(CLAIM_COMMAND, { numberOfKeys: 2, lua: CLAIM_SCRIPT });
  const run = (client as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[CLAIM_COMMAND]!;
  return {
    async claim({ key, ttlSeconds, earliestAcceptSeconds }) {
      let reply: unknown;
      try {
        if (client.status !== 'ready') throw new Error(`redis is ${client.status}`);
        reply = await run.call(
          client,
          marker,
          key,
          seconds(),
          String(Math.floor(earliestAcceptSeconds)),
          String(Math.max(1, Math.ceil(ttlSeconds))),
        );
      } catch (error) {
        throw new ProxyServerError('ERR_REPLAY_STORE_UNAVAILABLE', 'replay store (Redis) is unavailable', {
          cause: error,
        });
      }
      const [code, since] = Array.isArray(reply) ? (reply as unknown[]) : [];
      if (code === 1) return { outcome: 'claimed' };
      if (code === 0) return { outcome: 'replay' };
      if (code === -1 && typeof since === 'number')
        return { outcome: 'before_known_state', knownSinceSeconds: since };
      throw new ProxyServerError(
        'ERR_REPLAY_STORE_UNAVAILABLE',
        'replay store (Redis) gave an unexpected reply',
      );
    },
  };
}

/**
 * A signature store that writes through to Redis and to a local LRU, and reads Redis first (as the reference).
 * A Redis outage degrades to the local copy with a warning; it never fails a request.
 */
export function createRedisSignatureStore(
  client: RedisConnection,
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
