// attestation.require_nvidia = "required" end to end on the embedded fake Venice server: its nvidia_payload
// carries really signed SPDM reports of 8 simulated GPUs bound to the attestation nonce, and only for the embedded
// fake the proxy trusts their test root. A configured Venice base URL keeps NVIDIA's pinned root
// (see attestation.test.ts).
import { createFakeVeniceServer, type FakeVeniceFault } from '@confidential-ai/venice-e2ee/testing';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadVeniceProxyConfig } from '../src/config.js';
import { type RunningVeniceProxy, startVeniceProxy } from '../src/server.js';
import { errorOf } from './helpers.js';

const FLAT = 'e2ee-qwen3-6-27b';
const ACI = 'e2ee-glm-5-2-p';
const REQUIRED = '[attestation]\nrequire_nvidia = "required"';

let proxy: RunningVeniceProxy;
let openai: OpenAI;

beforeAll(async () => {
  // No Venice key and the default base URL: the embedded fake is the upstream.
  proxy = await startVeniceProxy({
    config: loadVeniceProxyConfig({ text: REQUIRED, env: {} }),
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
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: 'which GPU?' }] });
}

function chats(): number {
  return proxy.embeddedVenice!.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length;
}

describe('require_nvidia = "required" on the embedded fake Venice server', () => {
  it('serves chats through the real openai SDK with the GPU evidence verified (both shapes, streaming)', async () => {
    for (const model of [FLAT, ACI]) {
      const { data, response } = await ask(model).withResponse();
      expect(data.choices[0]!.message.content).toBe('You said: which GPU?');
      expect(response.headers.get('x-venice-proxy-nvidia-verified')).toBe('verified');
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
      const raw = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(raw.status).toBe(502);
      expect(raw.headers.get('x-venice-proxy-error-code')).toBe(code);
      expect(raw.headers.get('x-venice-proxy-nvidia-verified')).toBeNull();
      // Fail closed: nothing was encrypted to a key whose GPUs did not verify.
      expect(chats()).toBe(before);
    });
  }

  it('an explicit nvidiaRoot override wins: under another root the embedded fake’s GPU evidence fails', async () => {
    const other = await createFakeVeniceServer();
    const overridden = await startVeniceProxy({
      config: loadVeniceProxyConfig({ text: REQUIRED, env: {} }),
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      attestation: { nvidiaRoot: await other.nvidiaRoot() },
    });
    try {
      const client = new OpenAI({ baseURL: `${overridden.url}/v1`, apiKey: 'unused', maxRetries: 0 });
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
