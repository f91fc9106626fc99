// Issue 14, replay state: a claim store that loses its state (a proxy restart with a fixed SIGNING_KEY_SEED and
// the memory store; a Redis restarted empty or flushed) must refuse what it can no longer vouch for, at most for
// one acceptance window, and never accept a replay.

import { createLogger } from '@confidential-ai/server-kit';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSecrets, loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { createRedisClient, REPLAY_KNOWN_SINCE_KEY } from '../src/stores.js';
import {
  captureLogs,
  createE2eeClient,
  type E2eeClient,
  hasRedisServer,
  startRedis,
  TOKEN,
} from './helpers.js';
import { killAllSpawned, spawnServer } from './processes.js';

/** The client as the ioredis `Redis` it is (the package types it as its narrower `RedisConnection`). */
const ioredisClient = (options: Parameters<typeof createRedisClient>[0]) =>
  createRedisClient(options) as unknown as Redis;

const SEED = '6b'.repeat(32);
const WINDOW = 300;
const body = { model: 'fake-model', messages: [{ role: 'user', content: 'replay me' }] };

async function modelKey(url: string): Promise<string> {
  const response = await fetch(`${url}/v1/attestation/report`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return ((await response.json()) as { signing_public_key: string }).signing_public_key;
}

interface Sent {
  status: number;
  type: string | undefined;
  retryAfter: string | null;
}

/** Sends exactly the same bytes every time: a replay is a byte-identical request. */
function request(client: E2eeClient, key: string) {
  const headers = client.headers(key);
  const payload = JSON.stringify(client.encryptMessages(body, key));
  return async (url: string): Promise<Sent> => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      body: payload,
    });
    const json = (await response.json()) as { error?: { type: string } };
    return {
      status: response.status,
      type: json.error?.type,
      retryAfter: response.headers.get('retry-after'),
    };
  };
}

afterAll(() => {
  killAllSpawned();
});

describe('proxy restart with the memory store and a fixed SIGNING_KEY_SEED', () => {
  it('a request accepted before the restart is refused after it (503), and only for one window', async () => {
    const env = {
      TOKEN,
      SIGNING_KEY_SEED: SEED,
      LOG_LEVEL: 'warn',
      E2EE_REPLAY_WINDOW_SECONDS: String(WINDOW),
    };
    const first = await spawnServer(env);
    const key = await modelKey(first.url);
    // the first process has the same limitation (an earlier one may have existed): stamp at the window's far end
    const original = request(
      createE2eeClient('ecdsa', 2, { timestamp: Math.floor(Date.now() / 1000) + WINDOW }),
      key,
    );
    expect((await original(first.url)).status).toBe(200);
    expect((await original(first.url)).type).toBe('e2ee_replay_detected');
    await first.stop();

    const restarted = await spawnServer(env);
    try {
      expect(await modelKey(restarted.url)).toBe(key); // same seed, same key: the old request still decrypts
      const replay = await original(restarted.url);
      expect(replay.status).toBe(503);
      expect(replay.type).toBe('replay_state_incomplete');
      expect(Number(replay.retryAfter)).toBeGreaterThan(0);
      expect(Number(replay.retryAfter)).toBeLessThanOrEqual(WINDOW + 1);
      // a fresh request in the first window is refused the same way (it could not be told from an old one) ...
      const fresh = await request(createE2eeClient('ecdsa', 2), key)(restarted.url);
      expect(fresh.type).toBe('replay_state_incomplete');
      // ... but one that cannot have been accepted before the restart is: the cost is at most one window
      const now = Math.floor(Date.now() / 1000);
      const late = request(createE2eeClient('ecdsa', 2, { timestamp: now + WINDOW }), key);
      expect((await late(restarted.url)).status).toBe(200);
      expect((await late(restarted.url)).type).toBe('e2ee_replay_detected');
    } finally {
      await restarted.stop();
    }
  }, 120_000);

  it('without a seed the keys are new to each process, so its first window is not refused', async () => {
    const server = await spawnServer({ TOKEN, LOG_LEVEL: 'warn' });
    try {
      const key = await modelKey(server.url);
      expect((await request(createE2eeClient('ecdsa', 2), key)(server.url)).status).toBe(200);
    } finally {
      await server.stop();
    }
  }, 120_000);
});

describe.skipIf(!hasRedisServer())('Redis replay state lost', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let server: RunningServer;

  beforeAll(async () => {
    redis = await startRedis();
    // A brand-new deployment whose operator knows the state is complete (see the README): without this marker
    // the first window after the first start refuses v2 requests as well.
    const setup = ioredisClient({ host: '127.0.0.1', port: redis.port });
    await new Promise((resolve) => setup.once('ready', resolve));
    await setup.set(REPLAY_KNOWN_SINCE_KEY, '0');
    setup.disconnect();
    const config = loadConfig({
      env: {
        TOKEN,
        PROXY_PORT: '0',
        REDIS_HOST: '127.0.0.1',
        REDIS_PORT: String(redis.port),
        SIGNING_KEY_SEED: SEED,
        E2EE_REPLAY_WINDOW_SECONDS: String(WINDOW),
      },
    });
    server = await startServer({
      config,
      processMetrics: false,
      logger: createLogger({
        level: 'warn',
        destination: captureLogs().destination,
        secrets: configSecrets(config),
      }),
    });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await redis?.stop();
  });

  /** Repeats `send` while Redis is still reconnecting (503 replay_store_unavailable). */
  async function whenRedisIsBack(send: () => Promise<Sent>): Promise<Sent> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const sent = await send();
      if (sent.type !== 'replay_store_unavailable' || Date.now() > deadline) return sent;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('FLUSHALL: the marker is gone, so a replay of a claimed request is refused (503), not accepted', async () => {
    const key = await modelKey(server.url);
    const original = request(createE2eeClient('ecdsa', 2), key);
    expect((await original(server.url)).status).toBe(200);
    const admin = ioredisClient({ host: '127.0.0.1', port: redis.port });
    await new Promise((resolve) => admin.once('ready', resolve));
    await admin.flushall();
    const replay = await original(server.url);
    expect(replay).toMatchObject({ status: 503, type: 'replay_state_incomplete' });
    // the marker was written again with the current time
    const since = Number(await admin.get(REPLAY_KNOWN_SINCE_KEY));
    expect(Math.abs(since - Date.now() / 1000)).toBeLessThan(5);
    // one that cannot have been accepted before the flush is accepted, once
    const late = request(createE2eeClient('ecdsa', 2, { timestamp: since + WINDOW }), key);
    expect((await late(server.url)).status).toBe(200);
    expect((await late(server.url)).type).toBe('e2ee_replay_detected');
    await admin.set(REPLAY_KNOWN_SINCE_KEY, '0'); // back to a complete state for the next test
    admin.disconnect();
  });

  it('redis-server restarted empty: a replay of a claimed request is refused (503), not accepted', async () => {
    const key = await modelKey(server.url);
    const original = request(createE2eeClient('ed25519', 2), await edKey(server.url));
    expect((await original(server.url)).status).toBe(200);
    expect(key).toHaveLength(128);
    const port = redis.port;
    await redis.stop();
    redis = await startRedis(port);
    const replay = await whenRedisIsBack(() => original(server.url));
    expect(replay).toMatchObject({ status: 503, type: 'replay_state_incomplete' });
  }, 60_000);
});

async function edKey(url: string): Promise<string> {
  const response = await fetch(`${url}/v1/attestation/report?signing_algo=ed25519`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return ((await response.json()) as { signing_public_key: string }).signing_public_key;
}
