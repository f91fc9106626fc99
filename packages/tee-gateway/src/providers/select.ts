import type { FetchFunction } from '@confidential-ai/server-kit';
import type { TeeGatewayConfig } from '../config.js';
import { GatewayHttpError } from '../errors.js';
import type { ModelConfig, ProviderId } from '../registry.js';
import { createAnthropicAdapter } from './anthropic.js';
import { createGeminiAdapter } from './gemini.js';
import { createOpenAiCompatibleAdapter } from './openai-compatible.js';
import { createSimulatedAdapter } from './simulated.js';
import type { ProviderAdapter } from './types.js';

/** What {@link createAdapterSelector} reads. */
export interface AdapterSelectorOptions {
  /** Provider base URLs and `simulate`. */
  config: TeeGatewayConfig;
  /** The injected provider keys (read at every call: `POST /v1/keys` fills them later). */
  providerKeys: ReadonlyMap<ProviderId, string>;
  /** fetch for the providers. */
  fetch: FetchFunction;
}

/**
 * Picks the adapter of a registry model: the native one of its provider with the injected key; the simulated
 * provider only while simulating and before any key is injected (a simulator never stands in next to real
 * providers).
 * @example
 * ```ts
 * const adapterFor = createAdapterSelector({ config, providerKeys, fetch });
 * const adapter = adapterFor(getModelConfig('gpt-4.1')!);
 * ```
 */
export function createAdapterSelector(
  options: AdapterSelectorOptions,
): (model: ModelConfig) => ProviderAdapter {
  const { config, providerKeys, fetch } = options;
  const simulated = createSimulatedAdapter();

  const baseUrlOf = (provider: ProviderId): string =>
    ({
      openai: config.openai_base_url,
      'x-ai': config.xai_base_url,
      bytedance: config.bytedance_base_url,
      nous: config.nous_base_url,
      zai: config.zai_base_url,
      openrouter: config.openrouter_base_url,
      anthropic: config.anthropic_base_url,
      google: config.google_base_url,
    })[provider];

  return (model: ModelConfig): ProviderAdapter => {
    const apiKey = providerKeys.get(model.provider);
    if (apiKey === undefined) {
      // The simulator never stands in next to real providers: once any provider key is injected, an
      // unconfigured provider is an error, not a simulated answer.
      if (config.simulate && providerKeys.size === 0) return simulated;
      throw new GatewayHttpError(503, `Provider '${model.provider}' is not configured`);
    }
    const endpoint = { baseUrl: baseUrlOf(model.provider), apiKey, fetch };
    if (model.provider === 'anthropic') return createAnthropicAdapter(endpoint);
    if (model.provider === 'google') return createGeminiAdapter(endpoint);
    return createOpenAiCompatibleAdapter(endpoint, model.provider);
  };
}
