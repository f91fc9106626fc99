// attestation.require_nvidia = "required" end to end on the embedded fake Venice server: its nvidia_payload
// carries really signed SPDM reports of 8 simulated GPUs bound to the attestation nonce, and only for the embedded
// fake the proxy trusts their test root. A configured Venice base URL keeps NVIDIA's pinned root
// (see attestation.test.ts).
import { createFakeVeniceServer, type FakeVeniceFault } from '@confidential-ai/venice-e2ee/testing';
import type OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningVeniceProxy } from '../src/server.js';
import * as embedded from './embedded-venice.js';
import { errorOf } from './helpers.js';

const { ACI, FLAT, openaiFor, postChatRaw, startEmbeddedProxy, streamedText, upstreamChats } = embedded;
const REQUIRED = '[attestation]\nrequire_nvidia = "required"';

let proxy: RunningVeniceProxy;
let openai: OpenAI;

beforeAll(async () => {
  // No Venice key and the default base URL: the embedded fake is the upstream.
  proxy = await startEmbeddedProxy(REQUIRED);
  openai = openaiFor(proxy);
});
afterEach(() => proxy.embeddedVenice?.clearFaults());
afterAll(async () => {
  await proxy?.close();
});

function ask(model: string, client = openai) {
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: 'which GPU?' }] });
}

const chats = () => upstreamChats(proxy);

describe('require_nvidia = "required" on the embedded fake Venice server', () => {
  it('serves chats through the real openai SDK with the GPU evidence verified (both shapes, streaming)', async () => {
    for (const model of [FLAT, ACI]) {
      const { data, response } = await ask(model).withResponse();
      expect(data.choices[0]!.message.content).toBe('You said: which GPU?');
      expect(response.headers.get('x-venice-proxy-nvidia-verified')).toBe('verified');
      expect(response.headers.get('x-venice-proxy-key-binding')).toBe('true');
    }
    expect(await streamedText(openai, FLAT, 'streamed')).toBe('You said: streamed');
  });

  const refusals: Array<[FakeVeniceFault, string, string]> = [
    ['tampered-nvidia-report', FLAT, 'attestation_invalid_nvidia_evidence'],
    ['nvidia-wrong-nonce', ACI, 'attestation_invalid_nvidia_evidence'],
    ['untrusted-nvidia', FLAT, 'attestation_invalid_nvidia_evidence'],
    ['nvidia-empty', ACI, 'attestation_missing_nvidia_evidence'],
    ['no-nvidia', FLAT, 'attestation_missing_nvidia_evidence'],
  ];
  for (const [fault, model, code] of refusals) {
    it(`${fault}: 502 proxy_attestation_error / ${code}, nothing sent upstream`, async () => {
      proxy.embeddedVenice!.setFault(fault);
      const before = chats();
      expect(await errorOf(ask(model))).toEqual({ status: 502, type: 'proxy_attestation_error', code });
      const raw = await postChatRaw(proxy, model);
      expect(raw.status).toBe(502);
      expect(raw.headers.get('x-venice-proxy-error-code')).toBe(code);
      expect(raw.headers.get('x-venice-proxy-nvidia-verified')).toBeNull();
      // Fail closed: nothing was encrypted to a key whose GPUs did not verify.
      expect(chats()).toBe(before);
    });
  }

  it('an explicit nvidiaRoot override wins: under another root the embedded fake’s GPU evidence fails', async () => {
    const other = await createFakeVeniceServer();
    const overridden = await startEmbeddedProxy(REQUIRED, { nvidiaRoot: await other.nvidiaRoot() });
    try {
      const client = openaiFor(overridden);
      expect(await errorOf(ask(FLAT, client))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_invalid_nvidia_evidence',
      });
    } finally {
      await overridden.close();
      await other.close();
    }
  });
});
