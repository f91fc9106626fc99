import { bytesToHex } from '@confidential-ai/bytes';
import { verifyAttestation } from '@confidential-ai/venice-e2ee';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, postChat, rawError, startHarness, VENICE_KEY } from './helpers.js';

// GET /v1/tee/attestation relays Venice's model attestation byte for byte, and every chat answer names the model
// key it was encrypted to: together a client can attest the model with its own nonce and compare the keys.

let harness: Harness;
/** The bodies of the attestation answers the proxy received from Venice, in order. */
const upstreamBodies: Uint8Array[] = [];
const MODEL = 'e2ee-qwen3-6-27b';

beforeAll(async () => {
  harness = await startHarness({
    fetch: async (input, init) => {
      const response = await globalThis.fetch(input, init);
      if (!String(input).includes('/tee/attestation')) return response;
      const bytes = new Uint8Array(await response.arrayBuffer());
      upstreamBodies.push(bytes);
      return new Response(bytes, { status: response.status, headers: response.headers });
    },
  });
});
afterEach(() => harness.fake.clearFaults());
afterAll(async () => {
  await harness?.close();
  expect(harness.logs.text()).not.toContain(VENICE_KEY);
});

function nonce(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
}

function attestationPath(model: string, value: string): string {
  return `/v1/tee/attestation?${new URLSearchParams({ model, nonce: value })}`;
}

describe('GET /v1/tee/attestation', () => {
  it("relays Venice's answer for the client's nonce byte for byte, with the proxy's key and only model and nonce", async () => {
    const clientNonce = nonce();
    const before = upstreamBodies.length;
    const response = await harness.raw(`${attestationPath(MODEL, clientNonce)}&extra=dropped`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const relayed = new Uint8Array(await response.arrayBuffer());
    expect(upstreamBodies.length).toBe(before + 1);
    expect(bytesToHex(relayed)).toBe(bytesToHex(upstreamBodies.at(-1)!));
    const upstream = harness.fake.requests.filter((request) =>
      request.url.startsWith('/api/v1/tee/attestation'),
    );
    const last = upstream.at(-1)!;
    expect(last.url).toBe(`/api/v1/tee/attestation?model=${MODEL}&nonce=${clientNonce}`);
    expect(last.headers['authorization']).toBe(`Bearer ${VENICE_KEY}`);
    // The relayed report is the model's attestation for this nonce (venice-e2ee's checks).
    const attested = await verifyAttestation(JSON.parse(new TextDecoder().decode(relayed)), {
      model: MODEL,
      nonce: clientNonce,
    });
    expect(attested.signingAddress).toMatch(/^0x[0-9a-f]{40}$/);
  });

  it('names the key each answer was encrypted to: the key the client attests with its own nonce', async () => {
    const report = await (await harness.raw(attestationPath(MODEL, nonce()))).json();
    const clientNonce = report.nonce as string;
    const attested = await verifyAttestation(report, { model: MODEL, nonce: clientNonce });
    for (const stream of [false, true]) {
      const response = await postChat(harness, {
        model: MODEL,
        stream,
        messages: [{ role: 'user', content: 'which key?' }],
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      expect(response.headers.get('x-venice-proxy-model-public-key')).toBe(attested.publicKeyHex);
      expect(response.headers.get('x-venice-proxy-model-address')).toBe(attested.signingAddress);
    }
  });

  it('rejects a missing model or a nonce that is not 32 bytes of hex (400), before calling Venice', async () => {
    const before = harness.fake.requests.length;
    for (const path of [
      `/v1/tee/attestation?nonce=${nonce()}`,
      attestationPath('', nonce()),
      attestationPath(MODEL, 'ab'.repeat(31)),
      attestationPath(MODEL, 'zz'.repeat(32)),
      attestationPath('m'.repeat(257), nonce()),
    ]) {
      const failure = await rawError(await harness.raw(path));
      expect(failure).toMatchObject({ status: 400, header: 'invalid_attestation_query' });
    }
    expect(harness.fake.requests.length).toBe(before);
  });

  it('answers 405 to other methods', async () => {
    const failure = await rawError(
      await harness.raw(attestationPath(MODEL, nonce()), { method: 'POST', body: '{}' }),
    );
    expect(failure).toMatchObject({ status: 405, header: 'method_not_allowed' });
  });

  it("turns Venice's errors into the proxy's own 502 envelope (never relays Venice's 401)", async () => {
    harness.fake.setFault('attestation-401');
    expect(await rawError(await harness.raw(attestationPath(MODEL, nonce())))).toMatchObject({
      status: 502,
      header: 'upstream_authentication_failed',
    });
    harness.fake.clearFaults();
    harness.fake.setFault('attestation-500');
    expect(await rawError(await harness.raw(attestationPath(MODEL, nonce())))).toMatchObject({
      status: 502,
      header: 'upstream_status_error',
    });
  });
});
