import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVeniceClient, modelsFromVenice } from '../src/client.js';
import { VeniceE2eeError } from '../src/errors.js';
import { createFakeVeniceServer, type FakeVeniceServer } from '../src/testing/index.js';

let fake: FakeVeniceServer;
beforeAll(async () => {
  fake = await createFakeVeniceServer({ apiKey: 'secret', includeNonTextModel: true });
});
afterAll(async () => {
  await fake.close();
});

describe('typed client', () => {
  it('lists E2EE text models in the OpenAI shape, skipping non-text entries', async () => {
    const client = createVeniceClient({ baseUrl: fake.baseUrl, apiKey: 'secret' });
    const models = await client.listModels();
    expect(models.map((model) => model.id)).toEqual([
      'e2ee-qwen3-6-27b',
      'e2ee-glm-5-2-p',
      'e2ee-gemma-4-31b',
    ]);
    expect(models[0]).toMatchObject({
      object: 'model',
      owned_by: 'venice.ai',
      name: 'e2ee-qwen3-6-27b',
      info: { meta: { capabilities: { reasoning: true, builtin_tools: false } } },
      venice: { supportsE2EE: true, supportsTeeAttestation: true },
    });
    client.close();
    expect(() =>
      modelsFromVenice({ data: [{ id: 'x', type: 'text', model_spec: { capabilities: {} } }] }),
    ).toThrow(VeniceE2eeError);
    expect(() => modelsFromVenice({})).toThrow(VeniceE2eeError);
  });

  it('attests once per session, buffers and streams', async () => {
    const client = createVeniceClient({ baseUrl: fake.baseUrl, apiKey: 'secret' });
    const start = fake.attestationCount;
    const first = await client.attest('e2ee-qwen3-6-27b');
    expect(first.attestation.publicKeyHex).toMatch(/^04[0-9a-f]{128}$/);
    const { completion, info } = await client.createChatCompletion({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'typed' }],
    });
    expect(completion.choices[0]?.message.content).toBe('You said: typed');
    expect(info.attestation.signingAddress).toBe(first.attestation.signingAddress);
    const { stream } = await client.streamChatCompletion({
      model: 'e2ee-qwen3-6-27b',
      messages: [{ role: 'user', content: 'streamed' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('You said: streamed');
    expect(fake.attestationCount - start).toBe(1);
    expect(client.sessionCount).toBe(1);
    client.close();
  });

  it('a wrong API key fails with upstream_authentication_failed', async () => {
    const client = createVeniceClient({ baseUrl: fake.baseUrl, apiKey: 'wrong' });
    await expect(client.attest('e2ee-qwen3-6-27b')).rejects.toMatchObject({
      code: 'ERR_UPSTREAM_AUTHENTICATION_FAILED',
    });
    client.close();
  });

  it('an unreachable server fails with a typed error', async () => {
    const client = createVeniceClient({ baseUrl: 'http://127.0.0.1:1/api/v1' });
    await expect(client.attest('m')).rejects.toMatchObject({ code: 'ERR_ATTESTATION_FETCH_FAILED' });
    client.close();
  });
});
