import { createLogger } from '@confidential-ai/server-kit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import {
  createMemorySignatureStore,
  createRedisClient,
  createRedisReplayStore,
  createRedisSignatureStore,
  REPLAY_KNOWN_SINCE_KEY,
} from '../src/stores.js';
import { captureLogs, createE2eeClient, freePort, hasRedisServer, startRedis, TOKEN } from './helpers.js';
import { killAllSpawned, type SpawnedServer, spawnServer } from './processes.js';

/** The client as the ioredis `Redis` it is (the package types it as its narrower `RedisConnection`). */
const ioredisClient = (options: Parameters<typeof createRedisClient>[0]) =>
  createRedisClient(options) as unknown as Redis;

const redisAvailable = hasRedisServer();
if (!redisAvailable) {
  // CI installs redis-server; a developer machine without it skips these tests with a clear reason.
  console.warn(
    '[proxy-server] SKIPPING Redis tests: the redis-server binary is not on PATH (apt-get install redis-server)',
  );
}

const SEED = '5e'.repeat(32);
const body = { model: 'fake-model', messages: [{ role: 'user', content: 'replicated' }] };

async function modelKey(url: string): Promise<string> {
  const response = await fetch(`${url}/v1/attestation/report`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return ((await response.json()) as { signing_public_key: string }).signing_public_key;
}

interface ChatBody {
  id?: string;
  error: { message: string; type: string; param: null; code: null };
}

async function chat(url: string, headers: Record<string, string>, payload: unknown) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as ChatBody };
}

describe.skipIf(!redisAvailable)('Redis stores', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('SET NX EX claims once; signatures are shared; outage throws ERR_REPLAY_STORE_UNAVAILABLE', async () => {
    const client = ioredisClient({ host: '127.0.0.1', port: redis.port });
    await new Promise((resolve) => client.once('ready', resolve));
    const other = ioredisClient({ host: '127.0.0.1', port: redis.port });
    await new Promise((resolve) => other.once('ready', resolve));
    const store = createRedisReplayStore(client);
    const otherStore = createRedisReplayStore(other);
    const key = `t:e2ee_replay:ecdsa:1:${Date.now()}`;
    const claim = { key, ttlSeconds: 30, earliestAcceptSeconds: Math.floor(Date.now() / 1000) + 1 };
    expect(await store.claim(claim)).toEqual({ outcome: 'claimed' });
    expect(await otherStore.claim(claim)).toEqual({ outcome: 'replay' });
    expect(await client.ttl(key)).toBeGreaterThan(25);
    const signatures = createRedisSignatureStore(client, createMemorySignatureStore());
    const otherSignatures = createRedisSignatureStore(other, createMemorySignatureStore());
    const record = {
      text: 'a:b',
      signature_ecdsa: '0x',
      signing_address_ecdsa: '0x1',
      signature_ed25519: 'e',
      signing_address_ed25519: 'f',
    };
    await signatures.put('m:chat:1', record, 30);
    expect(await otherSignatures.get('m:chat:1')).toEqual(record);
    client.disconnect();
    await expect(store.claim({ ...claim, key: `${key}:2` })).rejects.toMatchObject({
      code: 'ERR_REPLAY_STORE_UNAVAILABLE',
    });
    other.disconnect();
  });
});

describe.skipIf(!redisAvailable)('two server processes sharing one Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let first: SpawnedServer;
  let second: SpawnedServer;

  beforeAll(async () => {
    redis = await startRedis();
    // This Redis is new and these keys were never used before: its replay knowledge is complete from the start
    // of time (without this marker, the first window after startup refuses v2 requests; see replay-state.test.ts).
    const setup = ioredisClient({ host: '127.0.0.1', port: redis.port });
    await new Promise((resolve) => setup.once('ready', resolve));
    await setup.set(REPLAY_KNOWN_SINCE_KEY, '0');
    setup.disconnect();
    const env = {
      TOKEN,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(redis.port),
      SIGNING_KEY_SEED: SEED,
      LOG_LEVEL: 'warn',
    };
    [first, second] = await Promise.all([spawnServer(env), spawnServer(env)]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    killAllSpawned();
    await redis?.stop();
  }, 60_000);

  it('a replay sent to the other replica is rejected; signatures are visible on both', async () => {
    const key = await modelKey(first.url);
    expect(await modelKey(second.url)).toBe(key); // same seed, same keys (D11)
    const client = createE2eeClient('ecdsa', 2);
    const payload = client.encryptMessages(body, key);
    const accepted = await chat(first.url, client.headers(key), payload);
    expect(accepted.status).toBe(200);
    const replay = await chat(second.url, client.headers(key), payload);
    expect(replay.status).toBe(400);
    expect(replay.body.error.type).toBe('e2ee_replay_detected');
    const signature = await fetch(`${second.url}/v1/signature/${accepted.body.id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(signature.status).toBe(200);
  });

  it('Redis down → 503 replay_store_unavailable (not a replay error); plain requests still work', async () => {
    await redis.stop();
    const key = await modelKey(first.url);
    const client = createE2eeClient('ed25519', 2);
    const edKey = await (
      await fetch(`${first.url}/v1/attestation/report?signing_algo=ed25519`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
    ).json();
    const response = await chat(
      first.url,
      client.headers(edKey.signing_public_key),
      client.encryptMessages(body, edKey.signing_public_key),
    );
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual({
      message: 'Replay protection store is unavailable',
      type: 'replay_store_unavailable',
      param: null,
      code: null,
    });
    expect(key).toHaveLength(128);
    const plain = await chat(first.url, {}, body);
    expect(plain.status).toBe(200);
  });
});

describe.skipIf(!redisAvailable)('Redis unreachable from the start', () => {
  it('the server starts, logs it, and answers E2EE v2 with 503', async () => {
    const port = await freePort();
    const logs = captureLogs();
    const config = loadConfig({
      env: {
        TOKEN,
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(port),
        REDIS_TIMEOUT_MS: '100',
        PROXY_PORT: '0',
      },
    });
    const server = await startServer({
      config,
      processMetrics: false,
      logger: createLogger({ level: 'warn', destination: logs.destination }),
    });
    try {
      const key = await modelKey(server.url);
      const client = createE2eeClient('ecdsa', 2);
      const response = await chat(server.url, client.headers(key), client.encryptMessages(body, key));
      expect(response.status).toBe(503);
      expect(response.body.error.type).toBe('replay_store_unavailable');
      expect(logs.text()).toContain('redis is unreachable');
    } finally {
      await server.close();
    }
  });
});
