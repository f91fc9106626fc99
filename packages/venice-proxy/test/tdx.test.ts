// attestation.require_tdx = true end to end on the embedded fake Venice server: its quotes are really signed by
// a synthetic TDX platform, and only for the embedded fake the proxy trusts that platform's test root (and its
// collateral). A configured Venice base URL keeps Intel's pinned root (see attestation.test.ts).
import { intelSgxRootCaDer } from '@confidential-ai/tdx-attestation';
import type { FakeVeniceFault } from '@confidential-ai/venice-e2ee/testing';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadVeniceProxyConfig } from '../src/config.js';
import { type RunningVeniceProxy, startVeniceProxy } from '../src/server.js';
import { errorOf } from './helpers.js';

const FLAT = 'e2ee-qwen3-6-27b';
const ACI = 'e2ee-glm-5-2-p';
const STRICT = '[attestation]\nrequire_tdx = true';

let proxy: RunningVeniceProxy;
let openai: OpenAI;

beforeAll(async () => {
  // No Venice key and the default base URL: the embedded fake is the upstream.
  proxy = await startVeniceProxy({
    config: loadVeniceProxyConfig({ text: STRICT, env: {} }),
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
  });
  openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterEach(() => proxy.embeddedVenice?.clearFaults());
afterAll(async () => {
  await proxy?.close();
});

function ask(model: string, client = openai) {
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: 'attested?' }] });
}

describe('require_tdx = true on the embedded fake Venice server', () => {
  it('serves a chat through the real openai SDK with the quote chain verified (both shapes)', async () => {
    expect(proxy.embeddedVenice).toBeDefined();
    expect(proxy.embeddedVenice!.baseUrl).toBe(proxy.embeddedVeniceUrl);
    for (const model of [FLAT, ACI]) {
      const { data, response } = await ask(model).withResponse();
      expect(data.choices[0]!.message.content).toBe('You said: attested?');
      expect(response.headers.get('x-venice-proxy-tdx-verified')).toBe('true');
      expect(response.headers.get('x-venice-proxy-key-binding')).toBe('true');
    }
    const stream = await openai.chat.completions.create({
      model: FLAT,
      stream: true,
      messages: [{ role: 'user', content: 'streamed' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('You said: streamed');
  });

  const refusals: Array<[FakeVeniceFault, string]> = [
    ['tampered-quote-body', FLAT],
    ['tampered-quote-signature', ACI],
    ['untrusted-quote', FLAT],
  ];
  for (const [fault, model] of refusals) {
    it(`a ${fault} quote is refused: 502 proxy_attestation_error / attestation_invalid_tdx_evidence`, async () => {
      const fake = proxy.embeddedVenice!;
      fake.setFault(fault);
      const chatsBefore = fake.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length;
      expect(await errorOf(ask(model))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_invalid_tdx_evidence',
      });
      const raw = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(raw.headers.get('x-venice-proxy-error-code')).toBe('attestation_invalid_tdx_evidence');
      expect(raw.headers.get('x-venice-proxy-tdx-verified')).toBeNull();
      // Fail closed: nothing was encrypted to the unverified key.
      expect(fake.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length).toBe(
        chatsBefore,
      );
    });
  }

  it('the key binding is still checked on a quote whose chain verifies', async () => {
    proxy.embeddedVenice!.setFault('binding-nonce');
    expect((await errorOf(ask(ACI))).code).toBe('attestation_nonce_mismatch');
  });

  it('an explicit trustedRootCa override wins: with Intel’s root the embedded fake’s quotes fail', async () => {
    const intel = await startVeniceProxy({
      config: loadVeniceProxyConfig({ text: STRICT, env: {} }),
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      attestation: { trustedRootCa: intelSgxRootCaDer() },
    });
    try {
      const client = new OpenAI({ baseURL: `${intel.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      expect(await errorOf(ask(FLAT, client))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_invalid_tdx_evidence',
      });
    } finally {
      await intel.close();
    }
  });
});
