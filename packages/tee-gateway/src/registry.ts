/**
 * The model registry of the TEE gateway (tee-gateway.md §7): user-facing names and aliases, the provider, the
 * provider's model id (`api_name`) and per-token USD prices as decimal strings. Data, not code branches.
 */

/** Provider ids as the reference registry spells them. */
export type ProviderId =
  | 'openai'
  | 'anthropic'
  | 'google'
  | 'x-ai'
  | 'bytedance'
  | 'openrouter'
  | 'nous'
  | 'zai';

/** One model of the registry. */
export interface ModelConfig {
  /** Canonical user-facing name. */
  readonly name: string;
  /** Provider that serves it. */
  readonly provider: ProviderId;
  /** The model id sent to the provider. */
  readonly apiName: string;
  /** USD per input token, decimal string. */
  readonly inputPriceUsd: string;
  /** USD per output token, decimal string. */
  readonly outputPriceUsd: string;
  /** Temperature forced regardless of the request (e.g. `1.0` for o-series models). */
  readonly forceTemperature?: number;
  /** Gemini thinking budget (thoughts not returned when set). */
  readonly thinkingBudget?: number;
  /** False: the temperature field is omitted from the provider call. Default true. */
  readonly supportsTemperature?: boolean;
}

type Row = readonly [
  provider: ProviderId,
  apiName: string,
  names: readonly string[],
  input: string,
  output: string,
  extra?: { forceTemperature?: number; thinkingBudget?: number; supportsTemperature?: boolean },
];

// Names: the first entry is the canonical name. S rows first (§7.1), then the L text rows (§7.2).
const ROWS: readonly Row[] = [
  // openai
  ['openai', 'gpt-4.1-2025-04-14', ['gpt-4.1', 'gpt-4.1-2025-04-14'], '0.000002', '0.000008'],
  [
    'openai',
    'gpt-4.1-mini-2025-04-14',
    ['gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14'],
    '0.0000004',
    '0.0000016',
  ],
  [
    'openai',
    'gpt-4.1-nano-2025-04-14',
    ['gpt-4.1-nano', 'gpt-4.1-nano-2025-04-14'],
    '0.0000001',
    '0.0000004',
  ],
  ['openai', 'o3-2025-04-16', ['o3', 'o3-2025-04-16'], '0.00001', '0.00004', { forceTemperature: 1.0 }],
  ['openai', 'o4-mini', ['o4-mini'], '0.0000011', '0.0000044', { forceTemperature: 1.0 }],
  ['openai', 'gpt-5', ['gpt-5'], '0.00000125', '0.00001'],
  ['openai', 'gpt-5-mini', ['gpt-5-mini'], '0.00000025', '0.000002'],
  ['openai', 'gpt-5.2', ['gpt-5.2'], '0.00000175', '0.000014'],
  ['openai', 'gpt-5.4', ['gpt-5.4'], '0.0000025', '0.000015'],
  ['openai', 'gpt-5.4-mini', ['gpt-5.4-mini'], '0.00000075', '0.0000045'],
  ['openai', 'gpt-5.4-nano', ['gpt-5.4-nano'], '0.0000002', '0.00000125'],
  ['openai', 'gpt-5.5', ['gpt-5.5'], '0.000005', '0.00003'],
  ['openai', 'gpt-5.6-sol', ['gpt-5.6-sol', 'gpt-5.6'], '0.000005', '0.00003'],
  ['openai', 'gpt-5.6-terra', ['gpt-5.6-terra'], '0.0000025', '0.000015'],
  ['openai', 'gpt-5.6-luna', ['gpt-5.6-luna'], '0.000001', '0.000006'],
  ['openai', 'gpt-6-astra', ['gpt-6-astra'], '0.00001', '0.00005', { supportsTemperature: false }],
  // anthropic
  ['anthropic', 'claude-sonnet-4-5', ['claude-sonnet-4-5'], '0.000003', '0.000015'],
  ['anthropic', 'claude-sonnet-4-6', ['claude-sonnet-4-6'], '0.000003', '0.000015'],
  [
    'anthropic',
    'claude-sonnet-5',
    ['claude-sonnet-5'],
    '0.000003',
    '0.000015',
    { supportsTemperature: false },
  ],
  ['anthropic', 'claude-haiku-4-5-20251001', ['claude-haiku-4-5'], '0.000001', '0.000005'],
  ['anthropic', 'claude-opus-4-5-20251101', ['claude-opus-4-5'], '0.000005', '0.000025'],
  ['anthropic', 'claude-opus-4-6', ['claude-opus-4-6'], '0.000005', '0.000025'],
  [
    'anthropic',
    'claude-opus-4-7',
    ['claude-opus-4-7'],
    '0.000005',
    '0.000025',
    { supportsTemperature: false },
  ],
  [
    'anthropic',
    'claude-opus-4-8',
    ['claude-opus-4-8'],
    '0.000005',
    '0.000025',
    { supportsTemperature: false },
  ],
  ['anthropic', 'claude-opus-5', ['claude-opus-5'], '0.000005', '0.000025', { supportsTemperature: false }],
  ['anthropic', 'claude-fable-5', ['claude-fable-5'], '0.00001', '0.00005', { supportsTemperature: false }],
  [
    'anthropic',
    'claude-fable-5-1',
    ['claude-fable-5-1', 'claude-fable-5.1'],
    '0.00001',
    '0.00005',
    { supportsTemperature: false },
  ],
  ['anthropic', 'claude-sonnet-4-0', ['claude-sonnet-4-0', 'claude-4.0-sonnet'], '0.000003', '0.000015'],
  // google
  ['google', 'gemini-2.5-flash', ['gemini-2.5-flash'], '0.0000003', '0.0000025', { thinkingBudget: 0 }],
  ['google', 'gemini-2.5-pro', ['gemini-2.5-pro'], '0.00000125', '0.00001', { thinkingBudget: 128 }],
  [
    'google',
    'gemini-2.5-flash-lite',
    ['gemini-2.5-flash-lite'],
    '0.0000001',
    '0.0000004',
    { thinkingBudget: 0 },
  ],
  ['google', 'gemini-3-flash-preview', ['gemini-3-flash-preview'], '0.0000005', '0.000003'],
  [
    'google',
    'gemini-3.1-pro-preview',
    ['gemini-3.1-pro-preview'],
    '0.000002',
    '0.000012',
    { thinkingBudget: 128 },
  ],
  ['google', 'gemini-3.5-flash', ['gemini-3.5-flash'], '0.0000015', '0.000009'],
  ['google', 'gemini-3.5-flash-lite', ['gemini-3.5-flash-lite'], '0.0000003', '0.0000025'],
  ['google', 'gemini-3.6-flash', ['gemini-3.6-flash'], '0.0000015', '0.0000075'],
  ['google', 'gemini-3.7-flash', ['gemini-3.7-flash'], '0.00000075', '0.00000375'],
  ['google', 'gemini-3.8-flash', ['gemini-3.8-flash'], '0.00000075', '0.00000375'],
  // x-ai
  ['x-ai', 'grok-4', ['grok-4'], '0.000003', '0.000015'],
  ['x-ai', 'grok-4-fast', ['grok-4-fast'], '0.0000002', '0.0000005'],
  ['x-ai', 'grok-4-1-fast', ['grok-4-1-fast', 'grok-4.1-fast'], '0.0000002', '0.0000005'],
  ['x-ai', 'grok-4-1-fast-non-reasoning', ['grok-4-1-fast-non-reasoning'], '0.0000002', '0.0000005'],
  ['x-ai', 'grok-4.6', ['grok-4.6'], '0.000002', '0.000006'],
  ['x-ai', 'grok-4.5', ['grok-4.5', 'grok-4.5-latest'], '0.000002', '0.000006'],
  ['x-ai', 'grok-4.3', ['grok-4.3'], '0.00000125', '0.0000025'],
  ['x-ai', 'grok-4.20-reasoning', ['grok-4.20-reasoning'], '0.000002', '0.000006'],
  ['x-ai', 'grok-4.20-non-reasoning', ['grok-4.20-non-reasoning'], '0.000002', '0.000006'],
  ['x-ai', 'grok-code-fast-1', ['grok-code-fast-1'], '0.0000002', '0.0000015'],
  ['x-ai', 'grok-3-mini', ['grok-3-mini', 'grok-3-mini-beta'], '0.0000003', '0.0000005'],
  ['x-ai', 'grok-3-latest', ['grok-3', 'grok-3-beta'], '0.000003', '0.000015'],
  // bytedance (BytePlus ModelArk)
  ['bytedance', 'seed-1-6-250615', ['seed-1.6'], '0.0000008', '0.000008'],
  ['bytedance', 'seed-1-8-251228', ['seed-1.8'], '0.0000008', '0.000008'],
  ['bytedance', 'seed-2-0-lite-260228', ['seed-2.0-lite'], '0.0000004', '0.0000016'],
  ['bytedance', 'ep-20260624214211-j4vhk', ['dola-seed-2.0-mini'], '0.0000001', '0.0000004'],
  ['bytedance', 'deepseek-v4-flash-260425', ['deepseek-v4-flash'], '0.00000014', '0.00000028'],
  ['bytedance', 'deepseek-v4-pro-260425', ['deepseek-v4-pro'], '0.00000174', '0.00000348'],
  ['bytedance', 'ep-20260803211658-fwpzs', ['glm-5.2'], '0.0000014', '0.0000044'],
  // openrouter
  [
    'openrouter',
    'nousresearch/hermes-4-405b',
    ['hermes-4-405b', 'nousresearch/hermes-4-405b'],
    '0.000001',
    '0.000003',
  ],
  [
    'openrouter',
    'nousresearch/hermes-4-70b',
    ['hermes-4-70b', 'nousresearch/hermes-4-70b'],
    '0.00000013',
    '0.0000004',
  ],
  ['openrouter', 'tencent/hy3', ['hy3', 'tencent/hy3', 'tencent/hy3:floor'], '0.0000000825', '0.00000033'],
];

function buildRegistry(): ReadonlyMap<string, ModelConfig> {
  const lookup = new Map<string, ModelConfig>();
  for (const [provider, apiName, names, inputPriceUsd, outputPriceUsd, extra] of ROWS) {
    const config: ModelConfig = Object.freeze({
      name: names[0]!,
      provider,
      apiName,
      inputPriceUsd,
      outputPriceUsd,
      ...extra,
    });
    for (const name of names) {
      const key = name.trim().toLowerCase();
      if (lookup.has(key)) throw new Error(`duplicate registry name ${key}`);
      lookup.set(key, config);
    }
  }
  return lookup;
}

/** Every accepted name (lowercase) and alias mapped to its model. */
export const MODEL_REGISTRY: ReadonlyMap<string, ModelConfig> = buildRegistry();

/**
 * Looks a model up the reference's way: `name.strip().lower()` against names and aliases, no prefix matching.
 *
 * @example
 * ```ts
 * getModelConfig(' GPT-4.1 ')?.apiName; // 'gpt-4.1-2025-04-14'
 * ```
 */
export function getModelConfig(name: string): ModelConfig | undefined {
  if (typeof name !== 'string') return undefined;
  return MODEL_REGISTRY.get(name.trim().toLowerCase());
}

/** The canonical names of every model, for listings. */
export function listModelNames(): string[] {
  return [...new Set([...MODEL_REGISTRY.values()].map((model) => model.name))];
}
