import { createTestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ChutesInstance,
  ChutesTransportError,
  createChutesFetch,
  createTdxEvidenceFilter,
  type FetchFunction,
  readTdxReportData,
  redactHeaders,
} from '../src/index.js';
import { API_KEY, acceptedNonces, type Harness, MODEL, startHarness } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
});

const chat = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], ...extra });

function stubFetch() {
  const calls: { input: unknown; init: RequestInit | undefined }[] = [];
  const fetch = (async (input: unknown, init?: RequestInit) => {
    calls.push({ input, init });
    return new Response('passed', { status: 299 });
  }) as FetchFunction;
  return { fetch, calls };
}

describe('pass-through rules', () => {
  it('sends requests without a JSON object with "model" to the inner fetch unchanged', async () => {
    const { fetch, calls } = stubFetch();
    const chutes = createChutesFetch({ apiKey: API_KEY, fetch });
    const inits: (RequestInit | undefined)[] = [
      undefined,
      { method: 'GET' },
      { method: 'POST', body: '' },
      { method: 'POST', body: 'not json' },
      { method: 'POST', body: '[{"model":"x"}]' },
      { method: 'POST', body: '{"prompt":"no model"}' },
      { method: 'POST', body: new URLSearchParams({ model: 'x' }) },
      { method: 'POST', body: new Uint8Array([0xff, 0xfe]) },
    ];
    for (const init of inits) {
      const response = await chutes('https://llm.example/v1/models', init);
      expect(response.status).toBe(299);
      expect(calls.at(-1)!.input).toBe('https://llm.example/v1/models');
      expect(calls.at(-1)!.init).toBe(init);
    }
  });

  it('re-sends a consumed stream body as bytes', async () => {
    const { fetch, calls } = stubFetch();
    const chutes = createChutesFetch({ apiKey: API_KEY, fetch });
    const body = new Blob(['{"no":"model"}']).stream();
    await chutes('https://x.example/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(new TextDecoder().decode(calls[0]!.init!.body as Uint8Array)).toBe('{"no":"model"}');
  });

  it('rejects bad options and bad requests with typed errors', async () => {
    expect(() => createChutesFetch({ apiBase: 'ftp://x' })).toThrow(TypeError);
    expect(() => createChutesFetch({ modelsBase: 'nope' })).toThrow(TypeError);
    expect(() => createChutesFetch({ apiKey: '' })).toThrow(TypeError);
    expect(() => createChutesFetch({ apiKey: 'cpk_a\r\nx: y' })).toThrow(TypeError);
    const { fetch } = stubFetch();
    const noKey = createChutesFetch({ fetch });
    await expect(
      noKey('https://x/v1/chat/completions', { method: 'POST', body: chat('x') }),
    ).rejects.toMatchObject({
      code: 'ERR_REQUEST_INVALID',
    });
    const chutes = createChutesFetch({ apiKey: API_KEY, fetch });
    await expect(
      chutes('https://x/v1/chat/completions', { method: 'POST', body: '{"model":7}' }),
    ).rejects.toMatchObject({
      code: 'ERR_REQUEST_INVALID',
    });
  });
});

describe('encrypted requests', () => {
  it('accepts a Request object and strips the query from X-E2E-Path; stream uses Python truthiness', async () => {
    const headers: Headers[] = [];
    harness = await startHarness(
      {},
      {
        fetch: (input, init) => {
          if (String(input).endsWith('/e2e/invoke')) headers.push(new Headers(init?.headers));
          return globalThis.fetch(input, init);
        },
      },
    );
    const request = new Request(`${harness.server.url}/v1/chat/completions?x=1`, {
      method: 'POST',
      body: chat('req', { stream: [] }),
    });
    const response = await harness.fetch(request);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(
      ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message
        .content,
    ).toBe('You said: req');
    expect(headers[0]!.get('x-e2e-path')).toBe('/v1/chat/completions');
    expect(headers[0]!.get('x-e2e-stream')).toBe('false');
  });

  it('shares one discovery between concurrent requests and survives one caller aborting', async () => {
    harness = await startHarness();
    const controller = new AbortController();
    const url = `${harness.server.url}/v1/chat/completions`;
    const aborted = harness.fetch(url, { method: 'POST', body: chat('abort me'), signal: controller.signal });
    const others = Array.from({ length: 5 }, (_, i) =>
      harness!.fetch(url, { method: 'POST', body: chat(`other ${i}`) }),
    );
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    for (const response of await Promise.all(others)) expect(response.status).toBe(200);
    expect(harness.server.discoveryLog).toHaveLength(1);
    expect(acceptedNonces(harness.server)).toHaveLength(5);
  });

  it('skips an instance whose advertised key is malformed, and fails when none is usable', async () => {
    harness = await startHarness({ instancesPerChute: 2 });
    harness.server.inject({ type: 'bad-pubkey', count: 1 });
    const client = harness.client;
    await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    const used = new Set(harness.server.nonceLog.map((entry) => entry.instanceId));
    expect(used.size).toBe(1);
    harness.fetch.clearCache();
    harness.server.inject({ type: 'bad-pubkey', count: 2 });
    const error = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] })
      .catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(error.cause).toMatchObject({ code: 'ERR_NO_INSTANCES' });
  });

  it('rejects a malformed discovery answer with ERR_DISCOVERY_INVALID', async () => {
    harness = await startHarness(
      {},
      {
        fetch: (input, init) =>
          String(input).includes('/e2e/instances/')
            ? Promise.resolve(new Response('{"instances":"nope"}', { status: 200 }))
            : globalThis.fetch(input, init),
      },
    );
    await expect(
      harness.fetch(`${harness.server.url}/v1/chat/completions`, { method: 'POST', body: chat('x') }),
    ).rejects.toMatchObject({ code: 'ERR_DISCOVERY_INVALID' });
  });

  it('never logs the API key, nonces or plaintext', async () => {
    const lines: string[] = [];
    const logger = {
      error: (...args: unknown[]) => lines.push(JSON.stringify(args)),
      warn: (...args: unknown[]) => lines.push(JSON.stringify(args)),
      info: (...args: unknown[]) => lines.push(JSON.stringify(args)),
      debug: (...args: unknown[]) => lines.push(JSON.stringify(args)),
    };
    harness = await startHarness({}, { logger, logLevel: 'debug' });
    harness.server.inject({ type: 'nonce-reject' });
    harness.server.inject({ type: 'capacity' });
    harness.server.inject({ type: 'tamper-chunk', count: 1 });
    await harness.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'top secret words' }],
    });
    await harness
      .fetch(`${harness.server.url}/v1/chat/completions`, {
        method: 'POST',
        body: chat('more secret', { stream: true }),
      })
      .then((r) => r.text())
      .catch(() => {});
    expect(lines.length).toBeGreaterThan(3);
    const all = lines.join('\n');
    expect(all).not.toContain(API_KEY);
    expect(all).not.toContain('secret');
    for (const nonce of harness.server.nonceLog.map((entry) => entry.nonce)) expect(all).not.toContain(nonce);
  });
});

describe('instance filter (D5)', () => {
  it('runs before any nonce is used and limits the instances', async () => {
    const seen: { chuteId: string; instances: readonly ChutesInstance[] }[] = [];
    let keep: string | undefined;
    harness = await startHarness(
      { instancesPerChute: 3 },
      {
        instanceFilter: async (chuteId, instances) => {
          seen.push({ chuteId, instances });
          keep = instances[2]!.instanceId;
          return instances.filter((instance) => instance.instanceId === keep);
        },
      },
    );
    for (let i = 0; i < 3; i++) {
      await harness.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: `f${i}` }],
      });
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]!.chuteId).toBe(harness.server.chutes[0]!.chuteId);
    expect(Object.keys(seen[0]!.instances[0]!).sort()).toEqual(['e2ePubkey', 'instanceId', 'publicKey']);
    expect(harness.server.nonceLog.every((entry) => entry.instanceId === keep)).toBe(true);
  });

  it('fails with ERR_INSTANCE_FILTER_EMPTY when every instance is rejected, and propagates throws', async () => {
    harness = await startHarness({}, { instanceFilter: () => [] });
    const url = `${harness.server.url}/v1/chat/completions`;
    await expect(harness.fetch(url, { method: 'POST', body: chat('x') })).rejects.toMatchObject({
      code: 'ERR_INSTANCE_FILTER_EMPTY',
    });
    const boom = new Error('attestation service down');
    const throwing = createChutesFetch({
      apiKey: API_KEY,
      apiBase: harness.server.url,
      modelsBase: harness.server.url,
      instanceFilter: () => {
        throw boom;
      },
    });
    await expect(throwing(url, { method: 'POST', body: chat('x') })).rejects.toBe(boom);
    expect(harness.server.nonceLog).toHaveLength(0);
  });

  it('keeps only instances whose TDX REPORTDATA binds the nonce and key', async () => {
    const quotes: Uint8Array[] = [];
    harness = await startHarness(
      { instancesPerChute: 3 },
      {
        instanceFilter: createTdxEvidenceFilter({
          verifyQuote: (entry) => {
            quotes.push(entry.quote);
            return true;
          },
        }),
      },
    );
    const victim = harness.server.chutes[0]!.instances[1]!.instanceId;
    harness.server.inject({ type: 'evidence-mismatch', instanceId: victim });
    for (let i = 0; i < 12; i++) {
      await harness.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: `t${i}` }],
      });
    }
    expect(quotes).toHaveLength(2);
    expect(readTdxReportData(quotes[0]!)).toHaveLength(64);
    expect(harness.server.nonceLog.some((entry) => entry.instanceId === victim)).toBe(false);
    expect(new Set(harness.server.nonceLog.map((entry) => entry.instanceId)).size).toBe(2);
  });

  it('drops every instance when the evidence call fails (fail closed)', async () => {
    harness = await startHarness(
      {},
      {
        instanceFilter: createTdxEvidenceFilter(),
        fetch: (input, init) =>
          String(input).includes('/evidence')
            ? Promise.resolve(new Response('{"detail":"down"}', { status: 502 }))
            : globalThis.fetch(input, init),
      },
    );
    await expect(
      harness.fetch(`${harness.server.url}/v1/chat/completions`, { method: 'POST', body: chat('x') }),
    ).rejects.toSatisfy(
      (error: unknown) =>
        ChutesTransportError.isInstance(error) && error.code === 'ERR_INSTANCE_FILTER_EMPTY',
    );
  });

  it('verifies the evidence quotes offline with tdx-attestation when asked', async () => {
    const tdxPlatform = await createTestTdxPlatform();
    const filter = createTdxEvidenceFilter({ verify: { root: tdxPlatform.root } });
    const verified = await startHarness({ instancesPerChute: 2, tdxPlatform }, { instanceFilter: filter });
    expect(await verified.server.tdxRoot()).toEqual(tdxPlatform.root);
    try {
      const reply = await verified.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'attested' }],
      });
      expect(reply.choices[0]?.message.content).toContain('attested');
      // The same quotes against Intel's pinned root (the default) fail: every instance is dropped.
      const intelOnly = await startHarness({}, { instanceFilter: createTdxEvidenceFilter({ verify: {} }) });
      try {
        await expect(
          intelOnly.fetch(`${intelOnly.server.url}/v1/chat/completions`, { method: 'POST', body: chat('x') }),
        ).rejects.toSatisfy(
          (error: unknown) =>
            ChutesTransportError.isInstance(error) && error.code === 'ERR_INSTANCE_FILTER_EMPTY',
        );
      } finally {
        await intelOnly.server.close();
      }
    } finally {
      await verified.server.close();
    }
  });

  it('reads REPORTDATA only from well-formed version 4 quotes', async () => {
    harness = await startHarness({}, {});
    const nonce = 'ab'.repeat(32);
    const response = await fetch(
      `${harness.server.url}/chutes/${harness.server.chutes[0]!.chuteId}/evidence?nonce=${nonce}`,
      {
        headers: { authorization: `Bearer ${API_KEY}` },
      },
    );
    const body = (await response.json()) as { evidence: Array<{ quote: string }> };
    const quote = Uint8Array.from(atob(body.evidence[0]!.quote), (c) => c.charCodeAt(0));
    expect(readTdxReportData(quote)).toHaveLength(64);
    const wrongVersion = quote.slice();
    wrongVersion[0] = 5;
    expect(readTdxReportData(wrongVersion)).toBeUndefined();
    expect(readTdxReportData(quote.subarray(0, 600))).toBeUndefined();
    expect(readTdxReportData(new Uint8Array(700))).toBeUndefined();
  });
});

describe('model resolution cache', () => {
  it('caches the model map for 5 minutes', async () => {
    let now = 1_000_000;
    harness = await startHarness({}, { now: () => now });
    const ask = () =>
      harness!.client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'm' }] });
    await ask();
    now += 299_000;
    await ask();
    expect(harness.server.stats.modelListCalls).toBe(1);
    now += 2_000;
    await ask();
    expect(harness.server.stats.modelListCalls).toBe(2);
  });

  it('reports a failing model list as ERR_UPSTREAM', async () => {
    const fetch = vi.fn(async () => new Response('nope', { status: 503 })) as unknown as FetchFunction;
    const chutes = createChutesFetch({ apiKey: API_KEY, fetch });
    await expect(
      chutes('https://x/v1/chat/completions', { method: 'POST', body: chat('x') }),
    ).rejects.toMatchObject({
      code: 'ERR_UPSTREAM',
      status: 503,
    });
  });
});

describe('errors and logging helpers', () => {
  it('marks errors across package copies and keeps the cause', () => {
    const cause = new Error('inner');
    const error = new ChutesTransportError('ERR_STREAM_DECRYPT', 'x', { cause, status: 200, chuteId: 'c' });
    expect(error).toMatchObject({
      name: 'ChutesTransportError',
      code: 'ERR_STREAM_DECRYPT',
      status: 200,
      chuteId: 'c',
    });
    expect(error.cause).toBe(cause);
    expect(ChutesTransportError.isInstance(error)).toBe(true);
    const foreign = Object.defineProperty(
      new Error('y'),
      Symbol.for('confidential-ai.error.chutes-transport'),
      { value: true },
    );
    expect(ChutesTransportError.isInstance(foreign)).toBe(true);
    expect(ChutesTransportError.isInstance(new Error('z'))).toBe(false);
    expect(error.name).not.toBe('AbortError');
  });

  it('redacts secret headers', () => {
    const headers = new Headers({
      Authorization: 'Bearer cpk_x',
      'X-E2E-Nonce': 'n',
      'x-api-key': 'k',
      'x-chute-id': 'c',
    });
    expect(redactHeaders(headers)).toEqual({
      authorization: '***',
      'x-e2e-nonce': '***',
      'x-api-key': '***',
      'x-chute-id': 'c',
    });
  });
});
