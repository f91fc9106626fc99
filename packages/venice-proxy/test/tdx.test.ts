// attestation.require_tdx = true end to end on the embedded fake Venice server: its quotes are really signed by
// a synthetic TDX platform, and only for the embedded fake the proxy trusts that platform's test root (and its
// collateral). A configured Venice base URL keeps Intel's pinned root (see attestation.test.ts).
import { intelSgxRootCaDer } from '@confidential-ai/tdx-attestation';
import type { FakeVeniceFault } from '@confidential-ai/venice-e2ee/testing';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningVeniceProxy } from '../src/server.js';
import * as embedded from './embedded-venice.js';
import { errorOf } from './helpers.js';

const { ACI, FLAT, openaiFor, postChatRaw, startEmbeddedProxy, streamedText, upstreamChats } = embedded;
const STRICT = '[attestation]\nrequire_tdx = true';

let proxy: RunningVeniceProxy;
let openai: OpenAI;

beforeAll(async () => {
  proxy = await startEmbeddedProxy(STRICT);
  openai = openaiFor(proxy);
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
    expect(await streamedText(openai, FLAT, 'streamed')).toBe('You said: streamed');
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
      const chatsBefore = upstreamChats(proxy);
      expect(await errorOf(ask(model))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_invalid_tdx_evidence',
      });
      const raw = await postChatRaw(proxy, model);
      expect(raw.headers.get('x-venice-proxy-error-code')).toBe('attestation_invalid_tdx_evidence');
      expect(raw.headers.get('x-venice-proxy-tdx-verified')).toBeNull();
      // Fail closed: nothing was encrypted to the unverified key.
      expect(upstreamChats(proxy)).toBe(chatsBefore);
    });
  }

  it('the key binding is still checked on a quote whose chain verifies', async () => {
    proxy.embeddedVenice!.setFault('binding-nonce');
    expect((await errorOf(ask(ACI))).code).toBe('attestation_nonce_mismatch');
  });

  it('an explicit trustedRootCa override wins: with Intel’s root the embedded fake’s quotes fail', async () => {
    const intel = await startEmbeddedProxy(STRICT, { trustedRootCa: intelSgxRootCaDer() });
    try {
      const client = openaiFor(intel);
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
