import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VerifierError } from '../src/errors.js';
import type { Verdict } from '../src/verdict.js';
import { createVerifiedFetch, type VerifiedFetch, verdictOf } from '../src/verified-fetch.js';
import { type ComposedFixture, startComposed, TOKEN } from './composed-server.js';
import { flipAfter, flipHexAfter, startTamperProxy, type TamperProxy } from './tamper-proxy.js';

// The real composed server (every face) behind a relay that can change one byte of an answer, a signature or the
// attestation evidence; the real openai SDK as the client, through createVerifiedFetch.

let fixture: ComposedFixture;
let relay: TamperProxy;

beforeAll(async () => {
  fixture = await startComposed();
  relay = await startTamperProxy(fixture.server.url);
}, 120_000);

afterAll(async () => {
  await relay?.close();
  await fixture?.close();
});

beforeEach(() => {
  relay.tamper = undefined;
  relay.tamperHeaders = undefined;
  relay.target = fixture.server.url;
});

type Face = 'vllm-proxy' | 'chutes' | 'tee-gateway' | 'venice';

const FACES: Record<Face, { path: string; model: string; apiKey: string }> = {
  'vllm-proxy': { path: '/v1', model: 'fake-model', apiKey: TOKEN },
  chutes: { path: '/v1/chutes', model: 'fake/echo-model', apiKey: TOKEN },
  // Every face of the composed server takes its client token.
  'tee-gateway': { path: '/tee-gateway/v1', model: 'gpt-4.1', apiKey: TOKEN },
  venice: { path: '/venice/v1', model: 'e2ee-qwen3-6-27b', apiKey: TOKEN },
};

function clientFor(face: Face, options: { strict?: boolean } = {}): { client: OpenAI; fetch: VerifiedFetch } {
  const fetch = createVerifiedFetch({
    service: face,
    policy: options.strict ? {} : fixture.policy,
  });
  const client = new OpenAI({
    baseURL: `${relay.url}${FACES[face].path}`,
    apiKey: FACES[face].apiKey,
    maxRetries: 0,
    fetch,
  });
  return { client, fetch };
}

async function ask(face: Face, client: OpenAI, stream: boolean): Promise<string> {
  const messages = [{ role: 'user' as const, content: `Hello ${face}, answer me.` }];
  if (!stream) {
    const reply = await client.chat.completions.create({ model: FACES[face].model, messages });
    return reply.choices[0]?.message.content ?? '';
  }
  const chunks = await client.chat.completions.create({ model: FACES[face].model, messages, stream: true });
  let text = '';
  for await (const chunk of chunks) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

async function failure(promise: Promise<unknown>): Promise<VerifierError> {
  try {
    await promise;
  } catch (error) {
    if (VerifierError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('the call did not fail');
}

const statusOf = (verdict: Verdict | undefined, name: string) =>
  verdict?.steps.find((step) => step.name === name)?.status;

describe('honest answers verify on every face (TEST roots pinned, so "simulated", never "verified")', () => {
  for (const face of Object.keys(FACES) as Face[]) {
    for (const stream of [false, true]) {
      it(`${face}, ${stream ? 'streamed' : 'non-streamed'}`, async () => {
        const { client, fetch } = clientFor(face);
        const text = await ask(face, client, stream);
        expect(text.length).toBeGreaterThan(0);
        const verdict = fetch.lastVerdict!;
        expect(verdict.ok, JSON.stringify(verdict.failedStep)).toBe(true);
        expect(verdict.status).toBe('simulated');
        expect(verdict.steps.filter((step) => step.status === 'failed')).toEqual([]);
        if (face !== 'venice') expect(statusOf(verdict, 'response-hash')).toBe('passed');
        if (face === 'chutes') {
          expect(statusOf(verdict, 'instance-tdx-quote')).toBe('simulated');
          expect(verdict.steps.find((step) => step.name === 'instance-tdx-quote')?.message).toContain(
            'TEST root',
          );
          expect(statusOf(verdict, 'binding-proof')).toBe('simulated');
        }
        if (face === 'tee-gateway') expect(statusOf(verdict, 'key-binding')).toBe('simulated');
        if (face === 'venice') {
          expect(statusOf(verdict, 'key-binding')).toBe('simulated');
          expect(statusOf(verdict, 'encryption-key')).toBe('simulated');
          expect(statusOf(verdict, 'response-signature')).toBe('skipped');
        }
      });
    }
  }

  it('verifies Ed25519-signed answers too (signingAlgo: ed25519)', async () => {
    const fetch = createVerifiedFetch({
      service: 'vllm-proxy',
      signingAlgo: 'ed25519',
      policy: fixture.policy,
    });
    const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: TOKEN, maxRetries: 0, fetch });
    expect(await ask('vllm-proxy', client, true)).toBeTruthy();
    const signature = fetch.lastVerdict!.steps.find((step) => step.name === 'response-signature')!;
    expect(signature).toMatchObject({ status: 'simulated', evidence: { signingAlgo: 'ed25519' } });
    expect(signature.message).toContain('Ed25519');
  });

  it('exposes the verdict of a response (verdictOf) and passes other routes through', async () => {
    const { client } = clientFor('vllm-proxy');
    const { response } = await client.chat.completions
      .create({ model: 'fake-model', messages: [{ role: 'user', content: 'verdict please' }] })
      .withResponse();
    expect((await verdictOf(response))?.status).toBe('simulated');
    expect(response.headers.get('x-verifier-status')).toBe('simulated');
    const models = await client.models.list();
    expect(models.data.length).toBeGreaterThan(0);
  });

  it('is strict by default: the simulated vllm-proxy report fails the call (ERR_VERIFY_SIMULATED)', async () => {
    const { client } = clientFor('vllm-proxy', { strict: true });
    const error = await failure(ask('vllm-proxy', client, false));
    expect(error.code).toBe('ERR_VERIFY_SIMULATED');
    expect(error.step).toBe('tdx-quote');
    expect(error.verdict?.failedStep?.name).toBe('tdx-quote');
  });
});

describe('TEST roots pinned as trust anchors (a real policy over the test PKI)', () => {
  for (const face of ['venice', 'tee-gateway'] as const) {
    it(`${face}: every step that ran passed, so the answer is "verified"`, async () => {
      const fetch = createVerifiedFetch({ service: face, policy: fixture.trustedPolicy });
      const client = new OpenAI({
        baseURL: `${relay.url}${FACES[face].path}`,
        apiKey: FACES[face].apiKey,
        maxRetries: 0,
        fetch,
      });
      expect(await ask(face, client, true)).toBeTruthy();
      const verdict = fetch.lastVerdict!;
      expect(verdict.status, JSON.stringify(verdict.failedStep)).toBe('verified');
      expect(verdict.steps.filter((step) => step.status === 'simulated')).toEqual([]);
      const document = face === 'venice' ? 'tdx-quote' : 'attestation-document';
      expect(verdict.steps.find((step) => step.name === document)?.evidence.trustAnchor).toBe('policy-root');
    });
  }

  for (const face of ['vllm-proxy', 'chutes'] as const) {
    it(`${face}: the proxy's own simulated report still fails without acceptSimulated (never "verified")`, async () => {
      const fetch = createVerifiedFetch({ service: face, policy: fixture.trustedPolicy });
      const client = new OpenAI({
        baseURL: `${relay.url}${FACES[face].path}`,
        apiKey: FACES[face].apiKey,
        maxRetries: 0,
        fetch,
      });
      const error = await failure(ask(face, client, false));
      expect(error.code).toBe('ERR_VERIFY_SIMULATED');
    });
  }
});

describe('attestation caching', () => {
  it('attests once per key and reuses it for later answers', async () => {
    const { client } = clientFor('vllm-proxy');
    relay.paths.length = 0;
    await ask('vllm-proxy', client, false);
    await ask('vllm-proxy', client, true);
    await ask('vllm-proxy', client, false);
    expect(relay.paths.filter((path) => path.startsWith('/v1/attestation/report')).length).toBe(1);
    expect(relay.paths.filter((path) => path.startsWith('/v1/signature/')).length).toBe(3);
  });

  it('attests again when the answers are signed by another key', async () => {
    const { client, fetch } = clientFor('vllm-proxy');
    await ask('vllm-proxy', client, false);
    const first = fetch.lastVerdict!.steps.find((step) => step.name === 'response-signature')!.evidence
      .attestedAddress;
    const { loadConfig, startServer } = await import('../../proxy-server/dist/index.js');
    const other = await startServer({
      config: loadConfig({
        toml: `[server]\nport = 0\n[auth]\ntoken = "${TOKEN}"\n[log]\nlevel = "silent"\n`,
        env: {},
      }),
      processMetrics: false,
    });
    try {
      relay.target = other.url;
      relay.paths.length = 0;
      await ask('vllm-proxy', client, false);
      const second = fetch.lastVerdict!.steps.find((step) => step.name === 'response-signature')!.evidence
        .attestedAddress;
      expect(second).not.toBe(first);
      expect(fetch.lastVerdict!.ok).toBe(true);
      expect(relay.paths.filter((path) => path.startsWith('/v1/attestation/report')).length).toBe(1);
      // Back on the first replica: its key's attestation is still cached.
      relay.target = fixture.server.url;
      relay.paths.length = 0;
      await ask('vllm-proxy', client, false);
      expect(fetch.lastVerdict!.ok).toBe(true);
      expect(relay.paths.filter((path) => path.startsWith('/v1/attestation/report')).length).toBe(0);
    } finally {
      relay.target = fixture.server.url;
      await other.close();
    }
  }, 60_000);
});

describe('a tampering relay makes the SDK call fail with the typed error naming the failed step', () => {
  const chatPath = (face: Face) => `${FACES[face].path}/chat/completions`;

  for (const face of ['vllm-proxy', 'chutes', 'tee-gateway'] as const) {
    it(`${face}: one byte of a non-streamed answer → response-hash`, async () => {
      relay.tamper = (path, body) => (path === chatPath(face) ? flipAfter(body, '"content":"') : undefined);
      const { client } = clientFor(face);
      const error = await failure(ask(face, client, false));
      expect(error.step).toBe('response-hash');
      expect(error.code).toBe('ERR_VERIFY_RESPONSE_HASH');
    });

    it(`${face}: one byte of a streamed answer → the stream delivers its chunks, then fails at response-hash`, async () => {
      relay.tamper = (path, body) =>
        path === chatPath(face) ? flipAfter(body, '"content":"', 1) : undefined;
      const { client } = clientFor(face);
      const chunks = await client.chat.completions.create({
        model: FACES[face].model,
        messages: [{ role: 'user', content: 'stream me something' }],
        stream: true,
      });
      let received = 0;
      const error = await failure(
        (async () => {
          for await (const chunk of chunks) if (chunk.choices[0]?.delta?.content) received++;
        })(),
      );
      expect(received).toBeGreaterThan(0);
      expect(error.step).toBe('response-hash');
      expect(error.code).toBe('ERR_VERIFY_RESPONSE_HASH');
    });
  }

  for (const face of ['vllm-proxy', 'chutes'] as const) {
    it(`${face}: one byte of the signature → response-signature`, async () => {
      relay.tamper = (path, body) =>
        path.startsWith('/v1/signature/') ? flipHexAfter(body, '"signature":"0x', 10) : undefined;
      const { client } = clientFor(face);
      const error = await failure(ask(face, client, false));
      expect(error.step).toBe('response-signature');
      expect(['ERR_VERIFY_SIGNER_MISMATCH', 'ERR_VERIFY_SIGNATURE_INVALID']).toContain(error.code);
    });
  }

  it('tee-gateway: one byte of tee_signature → response-signature', async () => {
    relay.tamper = (path, body) =>
      path === chatPath('tee-gateway') ? flipAfter(body, '"tee_signature":"') : undefined;
    const { client } = clientFor('tee-gateway');
    const error = await failure(ask('tee-gateway', client, false));
    expect(error.step).toBe('response-signature');
    expect(error.code).toBe('ERR_VERIFY_SIGNATURE_INVALID');
  });

  it('vllm-proxy: one byte of the attestation report → key-binding', async () => {
    relay.tamper = (path, body) =>
      path.startsWith('/v1/attestation/report') ? flipHexAfter(body, '"report_data":"', 5) : undefined;
    const { client } = clientFor('vllm-proxy');
    const error = await failure(ask('vllm-proxy', client, false));
    expect(error.step).toBe('key-binding');
    expect(error.code).toBe('ERR_VERIFY_KEY_BINDING');
  });

  it('chutes: one byte of the upstream evidence → binding-proof', async () => {
    relay.tamper = (path, body) =>
      path.startsWith('/v1/attestation/chain') ? flipAfter(body, '"e2e_pubkey":"') : undefined;
    const { client } = clientFor('chutes');
    const error = await failure(ask('chutes', client, false));
    expect(error.step).toBe('binding-proof');
    expect(error.code).toBe('ERR_VERIFY_BINDING_PROOF');
  });

  it('tee-gateway: one byte of the Nitro attestation document → attestation-document', async () => {
    relay.tamper = (path, body) =>
      path.startsWith('/tee-gateway/enclave/attestation') ? flipAfter(body, 'MII') : undefined;
    const { client } = clientFor('tee-gateway');
    const error = await failure(ask('tee-gateway', client, false));
    expect(error.step).toBe('attestation-document');
  });

  it('venice: one byte of the model attestation quote, relayed by the face → tdx-quote', async () => {
    relay.tamper = (path, body) =>
      path.startsWith('/venice/v1/tee/attestation') ? flipHexAfter(body, '"intel_quote":"', 400) : undefined;
    const { client } = clientFor('venice');
    const error = await failure(ask('venice', client, false));
    expect(error.step).toBe('tdx-quote');
    expect(error.code).toBe('ERR_VERIFY_TDX_QUOTE');
  });

  it('venice: one byte of the model key the answer names → encryption-key', async () => {
    relay.tamperHeaders = (path, headers) => {
      const key = headers['x-venice-proxy-model-public-key'];
      if (path === chatPath('venice') && key)
        headers['x-venice-proxy-model-public-key'] = `${key.slice(0, -1)}${key.endsWith('0') ? '1' : '0'}`;
    };
    for (const stream of [false, true]) {
      const { client } = clientFor('venice');
      const error = await failure(ask('venice', client, stream));
      expect(error.step).toBe('encryption-key');
      expect(error.code).toBe('ERR_VERIFY_KEY_BINDING');
    }
  });

  it('venice: an answer that does not name its model key → encryption-key', async () => {
    relay.tamperHeaders = (path, headers) => {
      if (path === chatPath('venice')) delete headers['x-venice-proxy-model-public-key'];
    };
    const { client } = clientFor('venice');
    const error = await failure(ask('venice', client, false));
    expect(error.step).toBe('encryption-key');
    expect(error.code).toBe('ERR_VERIFY_EVIDENCE_UNAVAILABLE');
  });
});
