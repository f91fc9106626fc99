// What the require_tdx and require_nvidia tests share: a proxy whose upstream is the embedded fake Venice server.
import OpenAI from 'openai';
import { pino } from 'pino';
import type { VeniceAttestationOverrides } from '../src/app.js';
import { loadVeniceProxyConfig } from '../src/config.js';
import { type RunningVeniceProxy, startVeniceProxy } from '../src/server.js';

/** A model of the embedded fake in the flat (`e2ee-qwen3-...`) attestation shape. */
export const FLAT = 'e2ee-qwen3-6-27b';
/** A model of the embedded fake in the ACI (`e2ee-glm-...`) attestation shape. */
export const ACI = 'e2ee-glm-5-2-p';

/**
 * Starts a silent proxy on loopback with the config `text`, no Venice key and the default base URL: the embedded
 * fake is the upstream.
 */
export function startEmbeddedProxy(
  text: string,
  attestation?: VeniceAttestationOverrides,
): Promise<RunningVeniceProxy> {
  return startVeniceProxy({
    config: loadVeniceProxyConfig({ text, env: {} }),
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    ...(attestation === undefined ? {} : { attestation }),
  });
}

/** The real openai SDK pointed at a proxy (no retries). */
export function openaiFor(proxy: { url: string }): OpenAI {
  return new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

/** How many chat completions reached the proxy's embedded fake Venice server. */
export function upstreamChats(proxy: RunningVeniceProxy): number {
  return proxy.embeddedVenice!.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length;
}

/** The text of a streamed chat of `content` through the SDK. */
export async function streamedText(client: OpenAI, model: string, content: string): Promise<string> {
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    messages: [{ role: 'user', content }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

/** A chat posted without the SDK, for the response's headers. */
export function postChatRaw(proxy: { url: string }, model: string): Promise<Response> {
  return fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
  });
}
