// The scale-out stack of deploy/compose.yaml, run by podman-compose with the locally built images: two
// replicas of the composed server sharing one Redis behind haproxy. Clients are the real openai SDK.
import { randomBytes } from 'node:crypto';
import { verifyVllmExchange } from '@confidential-ai/tee-signing';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, containerEnv, freePort, images, podman, run, waitFor } from './support/commands.js';
import { createE2eeV2Client, simulatedReply } from './support/e2ee-client.js';

const project = `ca-test-stack-${process.pid}`;
const token = randomBytes(24).toString('hex');
const model = 'fake-model';
const replayWindowSeconds = 10;
const env: NodeJS.ProcessEnv = {
  ...containerEnv,
  TOKEN: token,
  SIGNING_KEY_SEED: randomBytes(32).toString('hex'),
  REDIS_PASSWORD: randomBytes(16).toString('hex'),
  PROXY_IMAGE: images.service('confidential-proxy'),
  REDIS_IMAGE: images.servicesBase,
  BALANCER_IMAGE: images.servicesBase,
  BALANCER_ADDRESS: '127.0.0.1',
  // A Redis that starts empty cannot rule out a replay of a request from the window before it, so E2EE v2 is refused
  // (503 replay_state_incomplete) for one window after it starts: 10 s here instead of 300 s.
  E2EE_REPLAY_WINDOW_SECONDS: String(replayWindowSeconds),
};
const compose = (args: string[]) =>
  check('podman-compose', ['-p', project, '-f', 'deploy/compose.yaml', ...args], { env });

let balancer: string;
const replicas: string[] = [];

/** Base URL of a replica, reached on its address in the stack's network. */
async function replicaUrl(index: number): Promise<string> {
  const address = await podman([
    'inspect',
    '--format',
    `{{(index .NetworkSettings.Networks "${project}_default").IPAddress}}`,
    `${project}_proxy_${index}`,
  ]);
  return `http://${address.trim()}:8000`;
}

/** An openai client for a base URL, with a fetch that keeps the last request and response bytes. */
function openai(baseUrl: string, options: { apiKey?: string } = {}) {
  const exchange: { request?: string; response?: Uint8Array } = {};
  const client = new OpenAI({
    baseURL: `${baseUrl}/v1`,
    apiKey: options.apiKey ?? token,
    maxRetries: 0,
    timeout: 30_000,
    fetch: async (url, init) => {
      if (typeof init?.body === 'string') exchange.request = init.body;
      const response = await fetch(url, init);
      const bytes = new Uint8Array(await response.arrayBuffer());
      exchange.response = bytes;
      return new Response(bytes, { status: response.status, headers: response.headers });
    },
  });
  return { client, exchange };
}

async function modelKey(baseUrl: string): Promise<{ key: string; address: string }> {
  const response = await fetch(`${baseUrl}/v1/attestation/report?signing_algo=ecdsa`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(200);
  const report = (await response.json()) as { signing_public_key: string; signing_address: string };
  return { key: report.signing_public_key, address: report.signing_address };
}

async function e2eeChat(baseUrl: string, e2ee: ReturnType<typeof createE2eeV2Client>, prompt: string) {
  const { client } = openai(baseUrl);
  const body = e2ee.encrypt(model, [{ role: 'user', content: prompt }]);
  return client.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming, {
    headers: e2ee.headers,
  });
}

/** Waits until E2EE v2 is served (one replay window after Redis started empty); each try is a new request. */
async function waitForE2ee(what = 'E2EE v2 after the replay window of a fresh Redis') {
  const { key } = await modelKey(balancer);
  return waitFor(
    what,
    async () => e2eeChat(balancer, createE2eeV2Client(key), 'ready?'),
    (replayWindowSeconds + 50) * 1000,
  );
}

describe('the compose stack: 2 replicas, 1 Redis, haproxy', () => {
  beforeAll(async () => {
    const port = await freePort();
    env.BALANCER_PORT = String(port);
    balancer = `http://127.0.0.1:${port}`;
    await compose(['up', '-d']);
    replicas.push(await replicaUrl(1), await replicaUrl(2));
    for (const url of [...replicas, balancer]) {
      await waitFor(`${url}/v1/models`, async () => (await fetch(`${url}/v1/models`)).ok, 120_000);
    }
    await waitForE2ee();
  });

  afterAll(async () => {
    await run('podman-compose', ['-p', project, '-f', 'deploy/compose.yaml', 'down', '-t', '5'], { env });
    // Whatever podman-compose left (a failed start, the network): everything labelled with this project.
    const left = await run('podman', ['ps', '-aq', '--filter', `label=io.podman.compose.project=${project}`]);
    const ids = left.stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await run('podman', ['rm', '-f', '-t', '0', ...ids]);
    await run('podman', ['network', 'rm', '-f', `${project}_default`]);
  });

  it('answers the openai SDK through the balancer, only with the client token', async () => {
    const prompt = 'hello from the balancer';
    const reply = await openai(balancer).client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: prompt }],
    });
    expect(reply.choices[0]?.message.content).toBe(simulatedReply(prompt));
    await expect(
      openai(balancer, { apiKey: 'not-the-token' }).client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: prompt }],
      }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('serves E2EE v2 through the balancer: both replicas hold the same model key', async () => {
    const [first, second] = await Promise.all(replicas.map(modelKey));
    expect(second).toEqual(first);
    const prompt = 'a sealed prompt for any replica';
    const e2ee = createE2eeV2Client((first as { key: string }).key);
    const reply = await e2eeChat(balancer, e2ee, prompt);
    const content = reply.choices[0]?.message.content ?? '';
    expect(content).not.toContain('Simulated');
    expect(e2ee.decrypt(content, { model, id: reply.id, choice: 0, field: 'content' })).toBe(
      simulatedReply(prompt),
    );
  });

  it('rejects an E2EE request replayed to the other replica', async () => {
    const { key } = await modelKey(replicas[0] as string);
    const e2ee = createE2eeV2Client(key);
    await e2eeChat(replicas[0] as string, e2ee, 'only once');
    await expect(e2eeChat(replicas[1] as string, e2ee, 'only once')).rejects.toMatchObject({
      status: 400,
      error: { type: 'e2ee_replay_detected' },
    });
  });

  it('lets one replica serve the signature the other one wrote, over the exact bytes sent', async () => {
    const { client, exchange } = openai(replicas[0] as string);
    const reply = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'sign me' }],
    });
    const { address } = await modelKey(replicas[1] as string);
    const record = await waitFor('the signature on the other replica', async () => {
      const response = await fetch(`${replicas[1]}/v1/signature/${reply.id}?signing_algo=ecdsa`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return response.ok ? await response.json() : undefined;
    });
    const verified = verifyVllmExchange({
      record,
      requestBody: exchange.request as string,
      responseBytes: exchange.response as Uint8Array,
      expectedSigningAddress: address,
    });
    expect(verified.algorithm).toBe('ecdsa');
  });

  it('fails closed with 503 while Redis is down and recovers when it is back', async () => {
    const { key } = await modelKey(balancer);
    await podman(['stop', '-t', '2', `${project}_redis_1`]);
    try {
      await expect(e2eeChat(balancer, createE2eeV2Client(key), 'no replay store')).rejects.toMatchObject({
        status: 503,
        error: { type: 'replay_store_unavailable' },
      });
    } finally {
      await podman(['start', `${project}_redis_1`]);
    }
    // Redis comes back empty: one replay window of 503 replay_state_incomplete, then E2EE v2 again.
    const recovered = await waitForE2ee('an E2EE answer after Redis is back');
    expect(recovered.choices[0]?.message.content).toMatch(/^[0-9a-f]+$/);
  });

  it('loses no request when a replica is stopped mid-run, nor any that had not started when one is killed', async () => {
    // Both replicas take part before anything happens to them.
    const before = await Promise.all(replicas.map(chatCount));
    const warmUp = await underLoad(2000, async () => {});
    expect(warmUp.failed).toBe(0);
    const after = await Promise.all(replicas.map(chatCount));
    expect((after[0] as number) - (before[0] as number)).toBeGreaterThan(0);
    expect((after[1] as number) - (before[1] as number)).toBeGreaterThan(0);

    // SIGTERM (podman stop, a rolling update): the replica finishes what it has, haproxy moves on. Nothing fails.
    const graceful = await underLoad(8000, () => podman(['stop', '-t', '10', `${project}_proxy_1`]));
    console.info(`graceful stop: ${graceful.total} requests, ${graceful.failed} failed`);
    expect(graceful.failed).toBe(0);
    await podman(['start', `${project}_proxy_1`]);
    replicas[0] = await replicaUrl(1);
    const restarted = await chatCount(replicas[0] as string).catch(() => 0);
    await waitFor('the restarted replica back in rotation', async () => {
      await openai(balancer).client.chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'x' }],
      });
      return (await chatCount(replicas[0] as string)) > restarted;
    });

    // SIGKILL: requests the replica was serving (or was handed while `podman kill` ran) may fail; every request
    // started after the kill must succeed, on the other replica.
    const killed = await underLoad(8000, () => podman(['kill', `${project}_proxy_2`]));
    console.info(
      `kill: ${killed.total} requests, ${killed.failed} failed (all started before the kill returned), ` +
        `${killed.afterEvent} started after it, ${killed.failedAfterEvent} of those failed`,
    );
    expect(killed.afterEvent).toBeGreaterThan(0);
    expect(killed.failedAfterEvent).toBe(0);
    expect((await fetch(`${replicas[0]}/v1/models`)).ok).toBe(true);
  });
});

const workers = 4;

/** Chat requests answered by a replica so far (its Prometheus counter). */
async function chatCount(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/local-metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('vllm_proxy_requests_total{') && line.includes('chat/completions'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/**
 * Runs `workers` clients sending chat requests through the balancer in a loop for `milliseconds`; `event` runs
 * a second into it. Counts failures, and failures of requests started after `event` returned.
 */
async function underLoad(milliseconds: number, event: () => Promise<unknown>) {
  const { client } = openai(balancer);
  const outcomes: Array<{ startedAt: number; ok: boolean }> = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const startedAt = Date.now();
      try {
        await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'keep going' }] });
        outcomes.push({ startedAt, ok: true });
      } catch {
        outcomes.push({ startedAt, ok: false });
      }
    }
  };
  const loops = Array.from({ length: workers }, worker);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await event();
  const eventAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, milliseconds));
  running = false;
  await Promise.all(loops);
  const after = outcomes.filter((outcome) => outcome.startedAt > eventAt);
  return {
    total: outcomes.length,
    failed: outcomes.filter((outcome) => !outcome.ok).length,
    afterEvent: after.length,
    failedAfterEvent: after.filter((outcome) => !outcome.ok).length,
  };
}
