import { describe, expect, it, vi } from 'vitest';
import { type Harness, postChat, startHarness, VENICE_KEY } from './helpers.js';

const MODEL = 'e2ee-qwen3-6-27b';

async function chat(
  harness: Harness,
  headers: Record<string, string> = {},
  metadata?: Record<string, unknown>,
) {
  const response = await postChat(
    harness,
    { model: MODEL, messages: [{ role: 'user', content: 'session' }], ...(metadata ? { metadata } : {}) },
    headers,
  );
  expect(response.status).toBe(200);
  await response.text();
  return {
    id: response.headers.get('x-venice-proxy-session-id'),
    scope: response.headers.get('x-venice-proxy-session-scope'),
  };
}

async function withHarness(
  options: Parameters<typeof startHarness>[0],
  run: (harness: Harness) => Promise<void>,
) {
  const harness = await startHarness(options);
  try {
    await run(harness);
  } finally {
    await harness.close();
    expect(harness.logs.text()).not.toContain(VENICE_KEY);
  }
}

describe('session scopes (spec 5.4.2)', () => {
  it('default fallback `request`: a new id and a fresh attestation per request', async () => {
    await withHarness({}, async (harness) => {
      const first = await chat(harness);
      const second = await chat(harness);
      expect(first.scope).toBe('request');
      expect(second.scope).toBe('request');
      expect(first.id).not.toBe(second.id);
      expect(harness.fake.attestationCount).toBe(2);
    });
  });

  it('the session header reuses the attested key (agent scope); a trimmed id; a new id re-attests', async () => {
    await withHarness({}, async (harness) => {
      const first = await chat(harness, { 'x-venice-proxy-session-id': 'agent-1' });
      const second = await chat(harness, { 'x-venice-proxy-session-id': '  agent-1  ' });
      expect(first).toEqual({ id: 'agent-1', scope: 'agent' });
      expect(second).toEqual({ id: 'agent-1', scope: 'agent' });
      expect(harness.fake.attestationCount).toBe(1);
      await chat(harness, { 'x-venice-proxy-session-id': 'agent-2' });
      expect(harness.fake.attestationCount).toBe(2);
      // Sessions are per model: the same id on another model attests that model.
      const other = await postChat(
        harness,
        { model: 'e2ee-gemma-4-31b', messages: [{ role: 'user', content: 'x' }] },
        { 'x-venice-proxy-session-id': 'agent-1' },
      );
      expect(other.status).toBe(200);
      expect(harness.fake.attestationCount).toBe(3);
    });
  });

  it('metadata.session_id works like the header, the header wins, and metadata is never forwarded', async () => {
    await withHarness({}, async (harness) => {
      const byMetadata = await chat(harness, {}, { session_id: ' meta-1 ' });
      expect(byMetadata).toEqual({ id: 'meta-1', scope: 'agent' });
      const headerWins = await chat(
        harness,
        { 'x-venice-proxy-session-id': 'head-1' },
        { session_id: 'meta-1' },
      );
      expect(headerWins.id).toBe('head-1');
      await chat(harness, {}, { session_id: 'meta-1' });
      expect(harness.fake.attestationCount).toBe(2);
      for (const request of harness.fake.requests.filter((r) => r.url.endsWith('/chat/completions')))
        expect((request.body as Record<string, unknown>)['metadata']).toBeUndefined();
    });
  });

  it('a metadata.session_id that is not visible ASCII is used as is and percent-encoded in the header', async () => {
    await withHarness({}, async (harness) => {
      const first = await chat(harness, {}, { session_id: 'café\nX-Injected: 1' });
      expect(first).toEqual({ id: encodeURIComponent('café\nX-Injected: 1'), scope: 'agent' });
      await chat(harness, {}, { session_id: 'café\nX-Injected: 1' });
      expect(harness.fake.attestationCount).toBe(1);
    });
  });

  it('a configured header name is honoured', async () => {
    await withHarness(
      { env: { VENICE_E2EE_PROXY__SESSION__HEADERS__INCOMING_SESSION_ID: 'X-Agent' } },
      async (harness) => {
        expect(await chat(harness, { 'x-agent': 'a' })).toEqual({ id: 'a', scope: 'agent' });
        await chat(harness, { 'x-agent': 'a' });
        expect(harness.fake.attestationCount).toBe(1);
      },
    );
  });

  it('fallback `agent`: one id per process shared by requests without an id', async () => {
    await withHarness({ toml: '[session]\nfallback_scope = "agent"' }, async (harness) => {
      const first = await chat(harness);
      const second = await chat(harness);
      expect(first.scope).toBe('agent');
      expect(first.id).toBe(second.id);
      expect(harness.fake.attestationCount).toBe(1);
    });
  });
});

describe('session lifecycle with an injected clock (spec 5.4.3, D6)', () => {
  it('idle TTL and max requests expire the cached key', async () => {
    let now = 1_000_000;
    await withHarness(
      { now: () => now, toml: '[session]\nidle_ttl = "1m"\nmax_ttl = "5m"\nmax_requests = 3' },
      async (harness) => {
        const headers = { 'x-venice-proxy-session-id': 'life' };
        await chat(harness, headers);
        now += 59_999;
        await chat(harness, headers);
        expect(harness.fake.attestationCount).toBe(1);
        now += 60_000; // idle for exactly idle_ttl
        await chat(harness, headers);
        expect(harness.fake.attestationCount).toBe(2);
        await chat(harness, headers); // request 2 of the new session
        await chat(harness, headers); // request 3
        expect(harness.fake.attestationCount).toBe(2);
        await chat(harness, headers); // max_requests reached → fresh session
        expect(harness.fake.attestationCount).toBe(3);
      },
    );
  });

  it('max TTL expires a session that is never idle', async () => {
    let now = 2_000_000;
    await withHarness(
      { now: () => now, toml: '[session]\nidle_ttl = "1m"\nmax_ttl = "5m"' },
      async (harness) => {
        const headers = { 'x-venice-proxy-session-id': 'busy' };
        await chat(harness, headers);
        for (let step = 1; step <= 5; step++) {
          now += 50_000; // t = 50 s … 250 s
          await chat(harness, headers);
        }
        expect(harness.fake.attestationCount).toBe(1);
        now += 50_000; // t = 300 s = max_ttl
        await chat(harness, headers);
        expect(harness.fake.attestationCount).toBe(2);
      },
    );
  });

  it('expired sessions are swept without being reused', async () => {
    let now = 5_000_000;
    const { createVeniceProxyClient } = await import('../src/app.js');
    const { loadVeniceProxyConfig } = await import('../src/config.js');
    const { createFakeVeniceServer } = await import('@confidential-ai/venice-e2ee/testing');
    const fake = await createFakeVeniceServer({ apiKey: VENICE_KEY });
    const config = loadVeniceProxyConfig({
      text: `[venice]\nbase_url = "${fake.baseUrl}"\napi_key = "${VENICE_KEY}"\n[session]\nidle_ttl = "1s"\nmax_ttl = "1h"`,
      env: {},
    });
    const client = createVeniceProxyClient({ config, now: () => now });
    try {
      for (const id of ['a', 'b', 'c']) await client.attest(MODEL, { sessionId: id });
      expect(client.sessionCount).toBe(3);
      now += 2_000;
      // The sweep timer (interval ≤ idle_ttl) removes them; nothing touches the sessions meanwhile.
      await vi.waitFor(() => expect(client.sessionCount).toBe(0), { timeout: 10_000, interval: 100 });
    } finally {
      client.close();
      await fake.close();
    }
  });
});
