import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ChutesTransportError, createChutesFetch, type NonceLeaseEvent } from '../src/index.js';
import { simulatedReplyText } from '../src/testing/index.js';
import { API_KEY, acceptedNonces, type Harness, MODEL, startHarness } from './helpers.js';

// Issue 20: waiting for nonces is a bounded queue with back-pressure. The relay hands out 10 nonces per
// instance and at most 5 instances per discovery call; before, 1,000 concurrent streams made 480 fail with
// ERR_NO_INSTANCES after 25 rounds of racing for them.

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
});

const body = (content: string, stream = false) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream, max_tokens: 4 });

/** Reads a decrypted SSE answer and returns the concatenated delta content (and whether [DONE] came). */
async function readStream(response: Response): Promise<{ text: string; done: boolean }> {
  let text = '';
  let done = false;
  for (const event of (await response.text()).split('\n\n')) {
    if (!event.startsWith('data: ')) continue;
    const data = event.slice(6);
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    text += JSON.parse(data).choices?.[0]?.delta?.content ?? '';
  }
  return { text, done };
}

/** An inner fetch whose discovery calls wait until `release()` (to hold requests in the queue). */
function gatedDiscovery() {
  let open: () => void = () => {};
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let calls = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    if (String(input).includes('/e2e/instances/')) {
      calls++;
      await gate;
    }
    return globalThis.fetch(input, init);
  };
  return {
    fetch,
    calls: () => calls,
    release() {
      open();
      gate = Promise.resolve();
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('nonce queue', () => {
  it('completes 1,000 concurrent streams against the fake in its own process: single-flight discovery, no nonce reused', {
    timeout: 150_000,
  }, async () => {
    // The fake runs as a separate process (its bin), so the two sides' ML-KEM work uses both cores.
    const bin = fileURLToPath(new URL('../dist/bin/chutes-fake.js', import.meta.url));
    const child = spawn(
      process.execPath,
      [bin, '--port', '0', '--api-key', API_KEY, '--model', MODEL, '--instances', '5'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const agent = new Agent({ connections: 64 });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const base = /^listening on (\S+)\n/.exec(line.toString())![1]!;
      const waits: NonceLeaseEvent[] = [];
      const fetch = createChutesFetch({
        apiKey: API_KEY,
        apiBase: base,
        modelsBase: base,
        fetch: ((input, init) =>
          undiciFetch(input as string, {
            ...(init as object),
            dispatcher: agent,
          })) as typeof globalThis.fetch,
        onNonceLease: (event) => waits.push(event),
        // This test is about every stream completing; the deadline has its own test below. A generous one keeps
        // it from failing on a machine that is busy with other work.
        nonceWaitTimeoutMs: 120_000,
      });
      const results = await Promise.allSettled(
        Array.from({ length: 1000 }, async (_, index) => {
          const response = await fetch(`${base}/v1/chat/completions`, {
            method: 'POST',
            body: body(`s${index}`, true),
          });
          if (response.status !== 200) throw new Error(`status ${response.status}`);
          return readStream(response);
        }),
      );
      const failed = results.filter((result) => result.status === 'rejected');
      expect(failed.map((result) => String((result as PromiseRejectedResult).reason))).toEqual([]);
      for (const [index, result] of results.entries()) {
        const { text, done } = (result as PromiseFulfilledResult<{ text: string; done: boolean }>).value;
        expect(done).toBe(true);
        expect(text).toBe(simulatedReplyText({ messages: [{ role: 'user', content: `s${index}` }] }));
      }
      const state = (await (await globalThis.fetch(`${base}/_fake/state`)).json()) as {
        nonces: { accepted: number; rejected: number };
        discoveries: number;
      };
      // Every nonce accepted once (a reused one would be rejected); 5 instances x 10 nonces per discovery:
      // exactly 20 calls, one at a time.
      expect(state.nonces).toEqual({ accepted: 1000, rejected: 0 });
      expect(state.discoveries).toBe(20);
      expect(waits).toHaveLength(1000);
      expect(waits.every((event) => event.waitMs >= 0)).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await agent.close();
    }
  });

  it('fails a request with ERR_NONCE_TIMEOUT when no nonce comes within the deadline', async () => {
    harness = await startHarness();
    const gate = gatedDiscovery();
    const fetch = createChutesFetch({
      apiKey: API_KEY,
      apiBase: harness.server.url,
      modelsBase: harness.server.url,
      fetch: gate.fetch,
      nonceWaitTimeoutMs: 150,
    });
    const url = `${harness.server.url}/v1/chat/completions`;
    const error = await failureOf(fetch(url, { method: 'POST', body: body('late') }));
    expect(ChutesTransportError.isInstance(error) && error.code).toBe('ERR_NONCE_TIMEOUT');
    expect((error as ChutesTransportError).chuteId).toBe(harness.server.chutes[0]!.chuteId);
    expect(gate.calls()).toBe(1);
    // The discovery answer still arrives and serves the next request.
    gate.release();
    const response = await fetch(url, { method: 'POST', body: body('next') });
    expect(response.status).toBe(200);
  });

  it('refuses requests beyond maxWaitingRequests at once, and serves the ones in the queue', async () => {
    harness = await startHarness();
    const gate = gatedDiscovery();
    const fetch = createChutesFetch({
      apiKey: API_KEY,
      apiBase: harness.server.url,
      modelsBase: harness.server.url,
      fetch: gate.fetch,
      maxWaitingRequests: 2,
    });
    const url = `${harness.server.url}/v1/chat/completions`;
    const pending = Array.from({ length: 5 }, (_, index) =>
      fetch(url, { method: 'POST', body: body(`q${index}`) }).then(
        async (response) => ({ status: response.status, json: await response.json() }),
        (error: unknown) => error,
      ),
    );
    // Let the model lookup finish and the requests reach the queue.
    await new Promise((resolve) => setTimeout(resolve, 200));
    gate.release();
    const outcomes = await Promise.all(pending);
    const refused = outcomes.filter((outcome) => ChutesTransportError.isInstance(outcome));
    expect(refused).toHaveLength(3);
    expect(refused.every((error) => (error as ChutesTransportError).code === 'ERR_NONCE_QUEUE_FULL')).toBe(
      true,
    );
    const served = outcomes.filter((outcome) => !ChutesTransportError.isInstance(outcome));
    expect(served.map((outcome) => (outcome as { status: number }).status)).toEqual([200, 200]);
    expect(gate.calls()).toBe(1);
  });

  it('removes an aborted request from the queue', async () => {
    harness = await startHarness({ instancesPerChute: 1 });
    const gate = gatedDiscovery();
    const fetch = createChutesFetch({
      apiKey: API_KEY,
      apiBase: harness.server.url,
      modelsBase: harness.server.url,
      fetch: gate.fetch,
      maxWaitingRequests: 1,
    });
    const url = `${harness.server.url}/v1/chat/completions`;
    const controller = new AbortController();
    const aborted = failureOf(fetch(url, { method: 'POST', body: body('gone'), signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    controller.abort();
    expect(((await aborted) as Error).name).toBe('AbortError');
    // Its place in the queue is free again.
    const next = fetch(url, { method: 'POST', body: body('stays') });
    gate.release();
    expect((await next).status).toBe(200);
    expect(acceptedNonces(harness.server)).toHaveLength(1);
  });

  it('shares one failed discovery among the waiting requests (single flight), as OpenAI errors', async () => {
    harness = await startHarness();
    const fetch = createChutesFetch({
      apiKey: API_KEY,
      apiBase: harness.server.url,
      modelsBase: harness.server.url,
    });
    const url = `${harness.server.url}/v1/chat/completions`;
    const missing = JSON.stringify({
      model: '00000000-0000-4000-8000-000000000000',
      messages: [{ role: 'user', content: 'x' }],
    });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => fetch(url, { method: 'POST', body: missing })),
    );
    for (const response of responses) {
      expect(response.status).toBe(404);
      expect((await response.json()).error.message).toBe('Chute not found');
    }
    expect(harness.server.discoveryLog).toHaveLength(1);
  });

  it('rejects unusable queue limits', () => {
    expect(() => createChutesFetch({ nonceWaitTimeoutMs: 0 })).toThrow(TypeError);
    expect(() => createChutesFetch({ maxWaitingRequests: 0 })).toThrow(TypeError);
  });
});
