import { createHash } from 'node:crypto';
import { ed25519VerifyText, recoverPersonalSignAddress } from '@confidential-ai/tee-signing';
import { describe, expect, it } from 'vitest';
import { fakeReplyText } from '../src/fake-vllm.js';
import { AUTH, createTestApp, sseData, TOKEN } from './helpers.js';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

function expectEnvelope(body: unknown, type: string) {
  expect(body).toEqual({
    error: {
      message: expect.any(String),
      type,
      param: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
      code: null,
    },
  });
}

describe('route table', () => {
  // Every route of the Dstack-TEE main route table (§1.1) plus the Chutes sidecar routes (D1, D4), with its auth rule.
  const table: Array<{ method: 'GET' | 'POST'; path: string; auth: boolean }> = [
    { method: 'GET', path: '/', auth: false },
    { method: 'GET', path: '/local-metrics', auth: false },
    { method: 'GET', path: '/v1/metrics', auth: false },
    { method: 'GET', path: '/v1/models', auth: false },
    { method: 'GET', path: '/v1/attestation/report', auth: true },
    { method: 'POST', path: '/v1/chat/completions', auth: true },
    { method: 'POST', path: '/v1/completions', auth: true },
    { method: 'GET', path: '/v1/signature/chatcmpl-x', auth: true },
    { method: 'POST', path: '/v1/chutes/chat/completions', auth: true },
    { method: 'GET', path: '/v1/chutes/models', auth: true },
    // Version C's chain route (D12).
    { method: 'GET', path: '/v1/attestation/chain', auth: true },
  ];

  it.each(table)('$method $path exists and auth=$auth', async ({ method, path, auth }) => {
    const { app } = createTestApp();
    const init =
      method === 'POST'
        ? { method, body: '{}', headers: { 'content-type': 'application/json' } }
        : { method };
    const anonymous = await app.request(path, init);
    expect(anonymous.status).not.toBe(404);
    if (auth) {
      expect(anonymous.status).toBe(401);
      expectEnvelope(await anonymous.json(), 'authentication_error');
      const wrong = await app.request(path, {
        ...init,
        headers: { ...(init.headers ?? {}), authorization: 'Bearer nope' },
      });
      expect(wrong.status).toBe(401);
      expect(((await wrong.json()) as { error: { message: string } }).error.message).toBe('Invalid token');
      const basic = await app.request(path, {
        ...init,
        headers: { ...(init.headers ?? {}), authorization: `Basic ${TOKEN}` },
      });
      expect(((await basic.json()) as { error: { message: string } }).error.message).toBe(
        'Invalid or missing Authorization header',
      );
    } else {
      expect(anonymous.status).toBe(200);
    }
  });

  it('unset TOKEN rejects every authenticated call', async () => {
    const { app } = createTestApp({ env: { TOKEN: '' } });
    const response = await app.request('/v1/attestation/report', { headers: AUTH });
    expect(response.status).toBe(401);
  });

  it('unknown routes answer the envelope', async () => {
    const { app } = createTestApp();
    const response = await app.request('/v1/nope');
    expect(response.status).toBe(404);
    expectEnvelope(await response.json(), 'not_found');
  });

  it('GET / answers {}', async () => {
    const { app } = createTestApp();
    expect(await (await app.request('/')).json()).toEqual({});
  });
});

describe('plain chat completions', () => {
  const body = { model: 'fake-model', messages: [{ role: 'user', content: 'hello there proxy' }] };

  it('non-stream: forwards, signs the exact bytes, serves the signature', async () => {
    const { app, deps, vllm } = createTestApp();
    const raw = JSON.stringify({
      ...body,
      messages: [...body.messages, { role: 'assistant', content: 'x', tool_calls: [] }],
    });
    const response = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: raw,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-e2ee-applied')).toBe('false');
    const bytes = new Uint8Array(await response.arrayBuffer());
    const payload = JSON.parse(new TextDecoder().decode(bytes));
    expect(payload.choices[0].message.content).toBe(fakeReplyText('hello there proxy\nx'));
    // empty tool_calls were stripped before forwarding
    const forwarded = vllm.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
    expect(forwarded.messages[1]).not.toHaveProperty('tool_calls');

    for (const algo of ['ecdsa', 'ed25519'] as const) {
      const signature = await app.request(`/v1/signature/${payload.id}?signing_algo=${algo}`, {
        headers: AUTH,
      });
      expect(signature.status).toBe(200);
      const record = (await signature.json()) as {
        text: string;
        signature: string;
        signing_address: string;
        signing_algo: string;
      };
      expect(record.text).toBe(`${sha256(raw)}:${sha256(bytes)}`);
      expect(record.signing_algo).toBe(algo);
      if (algo === 'ecdsa') {
        expect(record.signing_address).toBe(deps.signer.ecdsaAddress);
        expect(recoverPersonalSignAddress(record.text, record.signature)).toBe(record.signing_address);
      } else {
        expect(ed25519VerifyText(record.signing_address, record.text, record.signature)).toBe(true);
      }
    }
  });

  it('a signature read while its record is still being stored waits for it, for every response of a batch', async () => {
    // A shared store whose writes take 50 ms (Redis over a network): the records of responses answered in the same
    // turn are stored together on the next one, and a read must not answer 404 while they are on their way.
    const records = new Map<string, unknown>();
    const signatureStore = {
      async put(key: string, record: unknown) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        records.set(key, record);
      },
      async get(key: string) {
        return records.get(key) as never;
      },
    };
    const { app } = createTestApp({ overrides: { signatureStore } });
    // Read at once (the batch is still open), and after two turns (its records are being written).
    for (const turnsBeforeReading of [0, 2]) {
      records.clear();
      const answers = await Promise.all(
        [1, 2, 3].map(async (n) => {
          const response = await app.request('/v1/chat/completions', {
            method: 'POST',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body: JSON.stringify({ ...body, messages: [{ role: 'user', content: `prompt ${n}` }] }),
          });
          return (await response.json()) as { id: string };
        }),
      );
      expect(new Set(answers.map((answer) => answer.id)).size).toBe(3);
      for (let turn = 0; turn < turnsBeforeReading; turn++)
        await new Promise((resolve) => setImmediate(resolve));
      expect(records.size).toBe(0);
      const reads = await Promise.all(
        answers.map(async (answer) => {
          const read = await app.request(`/v1/signature/${answer.id}`, { headers: AUTH });
          return { status: read.status, text: ((await read.json()) as { text?: string }).text };
        }),
      );
      for (const read of reads) {
        expect(read.status).toBe(200);
        expect(read.text).toMatch(/^[0-9a-f]{64}:[0-9a-f]{64}$/);
      }
    }
    expect((await app.request('/v1/signature/chatcmpl-none', { headers: AUTH })).status).toBe(404);
  });

  it('uses X-Request-Hash as the request hash when given', async () => {
    const { app } = createTestApp();
    const response = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { ...AUTH, 'x-request-hash': 'a'.repeat(64) },
      body: JSON.stringify(body),
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    const id = JSON.parse(new TextDecoder().decode(bytes)).id;
    const record = (await (await app.request(`/v1/signature/${id}`, { headers: AUTH })).json()) as {
      text: string;
    };
    expect(record.text).toBe(`${'a'.repeat(64)}:${sha256(bytes)}`);
  });

  it('stream: passes bytes through, hashes every byte including [DONE], signs before the end', async () => {
    const { app } = createTestApp();
    const raw = JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } });
    const response = await app.request('/v1/chat/completions', { method: 'POST', headers: AUTH, body: raw });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    const bytes = new Uint8Array(await response.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    const data = sseData(text);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line));
    const content = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
    expect(content).toBe(fakeReplyText('hello there proxy'));
    expect(chunks.at(-1).usage.total_tokens).toBeGreaterThan(0);
    const record = (await (
      await app.request(`/v1/signature/${chunks[0].id}?model=fake-model`, { headers: AUTH })
    ).json()) as {
      text: string;
    };
    expect(record.text).toBe(`${sha256(raw)}:${sha256(bytes)}`);
  });

  it('signature: unknown id 404, bad algo 400', async () => {
    const { app } = createTestApp();
    const missing = await app.request('/v1/signature/chatcmpl-none', { headers: AUTH });
    expect(missing.status).toBe(404);
    expectEnvelope(await missing.json(), 'not_found');
    const bad = await app.request('/v1/signature/chatcmpl-none?signing_algo=rsa', { headers: AUTH });
    expect(bad.status).toBe(400);
    expectEnvelope(await bad.json(), 'invalid_signing_algo');
  });

  it('upstream errors come back in the envelope without upstream headers', async () => {
    const { app } = createTestApp();
    for (const stream of [false, true]) {
      const response = await app.request('/v1/chat/completions', {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify({ ...body, stream, fake_fault: 'status:503' }),
      });
      expect(response.status).toBe(503);
      expectEnvelope(await response.json(), 'upstream_error');
    }
    const missingModel = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ ...body, model: 'nope' }),
    });
    expect(missingModel.status).toBe(404);
    expect(((await missingModel.json()) as { error: { message: string } }).error.message).toContain(
      'does not exist',
    );
  });

  it('unreachable upstream → 502 upstream_unreachable; bad JSON → 400; oversize → 413', async () => {
    const { app } = createTestApp({
      env: { VLLM_PROXY_MAX_REQUEST_SIZE: '2048' },
      overrides: {
        vllm: {
          baseUrl: 'http://127.0.0.1:1',
          fetch: async () => {
            throw new TypeError('fetch failed', {
              cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }),
            });
          },
        },
      },
    });
    const down = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify(body),
    });
    expect(down.status).toBe(502);
    expectEnvelope(await down.json(), 'upstream_unreachable');
    const badJson = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: AUTH,
      body: '{"model":',
    });
    expect(badJson.status).toBe(400);
    expectEnvelope(await badJson.json(), 'invalid_request_error');
    const big = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ ...body, padding: 'x'.repeat(4096) }),
    });
    expect(big.status).toBe(413);
    expectEnvelope(await big.json(), 'request_too_large');
  });

  it('truncated upstream stream ends with an error event and no [DONE]', async () => {
    const { app } = createTestApp();
    const response = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ ...body, stream: true, fake_fault: 'truncate' }),
    });
    const data = sseData(await response.text());
    expect(data).not.toContain('[DONE]');
    expect(JSON.parse(data.at(-1)!).error.type).toBe('upstream_stream_error');
  });
});

describe('completions, models, metrics, attestation', () => {
  it('/v1/completions passes through and rejects any E2EE header', async () => {
    const { app } = createTestApp();
    const ok = await app.request('/v1/completions', {
      method: 'POST',
      headers: AUTH,
      body: JSON.stringify({ model: 'fake-model', prompt: 'one two' }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { choices: Array<{ text: string }> }).choices[0]!.text).toBe(
      fakeReplyText('one two'),
    );
    for (const header of ['x-signing-algo', 'x-e2ee-nonce', 'x-e2ee-version']) {
      const rejected = await app.request('/v1/completions', {
        method: 'POST',
        headers: { ...AUTH, [header]: 'ecdsa' },
        body: JSON.stringify({ model: 'fake-model', prompt: 'x' }),
      });
      expect(rejected.status).toBe(400);
      const error = (await rejected.json()) as { error: { type: string; message: string } };
      expect(error.error).toMatchObject({
        type: 'invalid_e2ee_request',
        message: 'E2EE is only supported on /v1/chat/completions',
      });
    }
  });

  it('/v1/models relays vLLM; /v1/metrics merges proxy and vLLM metrics', async () => {
    const { app } = createTestApp();
    const models = (await (await app.request('/v1/models')).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((model) => model.id)).toContain('fake-model');
    await app.request('/v1/models');
    const metrics = await (await app.request('/v1/metrics')).text();
    expect(metrics).toMatch(/vllm_proxy_requests_total\{route="\/v1\/models",method="GET",status="200"\} \d/);
    expect(metrics).toContain('# --- vLLM metrics ---');
    expect(metrics).toContain('vllm:num_requests_running');
  });

  it('/v1/metrics still answers 200 with a comment when vLLM is down', async () => {
    const { app } = createTestApp({
      overrides: {
        vllm: {
          baseUrl: 'http://x',
          fetch: async () => {
            throw new TypeError('fetch failed');
          },
        },
      },
    });
    const response = await app.request('/v1/metrics');
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('# Failed to fetch vLLM metrics');
  });

  it('attestation report is simulated, clearly marked, binds key and nonce, never claims verification', async () => {
    const { app, deps } = createTestApp();
    const nonce = 'ab'.repeat(32);
    for (const algo of ['ecdsa', 'ed25519'] as const) {
      const response = await app.request(`/v1/attestation/report?signing_algo=${algo}&nonce=${nonce}`, {
        headers: AUTH,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-attestation-simulated')).toBe('true');
      const report = (await response.json()) as Record<string, unknown> & { all_attestations: unknown[] };
      expect(report).toMatchObject({
        simulated: true,
        verified: false,
        attestation_type: 'simulated',
        request_nonce: nonce,
      });
      expect(String(report.warning)).toContain('SIMULATED');
      expect(report.intel_quote).toBe('');
      const { all_attestations, ...top } = report;
      expect(all_attestations[0]).toEqual(top);
      const key = String(report.signing_public_key);
      expect(key).toHaveLength(algo === 'ecdsa' ? 128 : 64);
      const identity =
        algo === 'ecdsa' ? deps.signer.ecdsaAddress.slice(2).toLowerCase().padEnd(64, '0') : key;
      expect(report.report_data).toBe(identity + nonce);
    }
    const badAlgo = await app.request('/v1/attestation/report?signing_algo=rsa', { headers: AUTH });
    expectEnvelope(await badAlgo.json(), 'invalid_signing_algo');
    const badNonce = await app.request('/v1/attestation/report?nonce=abc', { headers: AUTH });
    expect(badNonce.status).toBe(400);
    expectEnvelope(await badNonce.json(), 'invalid_nonce');
  });

  it('attestation answers 503 when simulation is disabled', async () => {
    const { app } = createTestApp({ env: { ATTESTATION_SIMULATE: 'false' } });
    const response = await app.request('/v1/attestation/report', { headers: AUTH });
    expect(response.status).toBe(503);
    expectEnvelope(await response.json(), 'attestation_unavailable');
  });
});
