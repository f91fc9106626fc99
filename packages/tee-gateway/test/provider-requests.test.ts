// The gateway's outbound provider bodies, compared with the recorded fixtures (test/vectors/README.md): what the
// reference's LangChain adapters send for each provider and model family. Real loopback HTTP: the openai SDK
// talks to the gateway, the gateway to a recording provider server.
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeeGateway, type TeeGateway } from '../src/index.js';
import { type FakeProviders, startFakeProviders } from './fake-providers.js';
import { type Served, serveApp } from './helpers.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

interface Case {
  name: string;
  model: string;
  request: Record<string, unknown>;
  path: string;
  expected: Record<string, unknown>;
}

const { cases } = JSON.parse(
  readFileSync(new URL('./vectors/tee-gateway-provider-requests.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

describe('provider request bodies match the reference fixtures', () => {
  let providers: FakeProviders;
  let gateway: TeeGateway;
  let served: Served;
  let client: OpenAI;
  beforeAll(async () => {
    providers = await startFakeProviders();
    const openAiCompatible = `${providers.url}/openai/v1`;
    gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: {
        enabled: true,
        x402_enabled: false,
        opg_price_usd: '1',
        openai_base_url: openAiCompatible,
        xai_base_url: openAiCompatible,
        bytedance_base_url: openAiCompatible,
        openrouter_base_url: openAiCompatible,
        google_base_url: `${providers.url}/gemini/v1beta`,
      },
    });
    served = await serveApp(gateway.app);
    const keys = await fetch(`${served.url}/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        openai_api_key: 'sk-openai',
        xai_api_key: 'xai-key',
        bytedance_api_key: 'ark-key',
        openrouter_api_key: 'or-key',
        google_api_key: 'goog-key',
      }),
    });
    expect(keys.status).toBe(200);
    client = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await served?.close();
    await gateway?.close();
    await providers?.close();
  });

  it('covers every provider family of the registry it can reach', () => {
    const families = new Set(cases.map((entry) => entry.path.split('/')[1]));
    expect(families).toEqual(new Set(['openai', 'gemini']));
    expect(cases.length).toBeGreaterThanOrEqual(12);
  });

  for (const entry of cases) {
    it(entry.name, async () => {
      const before = providers.requests.length;
      const body = entry.request as unknown as OpenAI.ChatCompletionCreateParams;
      if (entry.request['stream'] === true) {
        const stream = await client.chat.completions.create({ ...body, stream: true });
        for await (const _chunk of stream) {
          // drain
        }
      } else {
        await client.chat.completions.create({ ...body, stream: false });
      }
      expect(providers.requests).toHaveLength(before + 1);
      const sent = providers.requests.at(-1)!;
      expect(sent.path).toBe(entry.path);
      expect(sent.body).toEqual(entry.expected);
    });
  }
});
