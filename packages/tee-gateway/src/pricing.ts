import type { FetchFunction } from '@confidential-ai/server-kit';
import type { ModelConfig } from './registry.js';

/** Decimals of known x402 assets (lowercase address → decimals). OPG on Base has 18. */
export const ASSET_DECIMALS_BY_ADDRESS: ReadonlyMap<string, number> = new Map([
  ['0xfbc2051ae2265686a469421b2c5a2d5462fbf5eb', 18],
]);

interface Rational {
  numerator: bigint;
  denominator: bigint;
}

/** Parses a non-negative decimal string exactly (`"0.0000011"` → 11 / 10^7). */
export function parseDecimal(text: string): Rational {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal string: ${JSON.stringify(text.slice(0, 40))}`);
  const fraction = match[2] ?? '';
  return { numerator: BigInt(match[1]! + fraction), denominator: 10n ** BigInt(fraction.length) };
}

/** Token counts accepted by the cost calculator (OpenAI or Anthropic names). */
export interface TokenUsage {
  /** Input tokens. */
  prompt_tokens?: number;
  /** Output tokens. */
  completion_tokens?: number;
  /** Input tokens (alternative name). */
  input_tokens?: number;
  /** Output tokens (alternative name). */
  output_tokens?: number;
}

function tokenCount(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  return undefined;
}

/**
 * The session cost of one response in atomic asset units (§6.6):
 * `ceil((in × input_price + out × output_price) / opg_usd_price × 10^decimals)`, in exact rational arithmetic.
 *
 * @example
 * ```ts
 * calculateCost(getModelConfig('gpt-4.1')!, { prompt_tokens: 1000, completion_tokens: 500 }, '1', 18); // 6000000000000000n
 * ```
 * @throws RangeError when usage is missing or malformed, or the price is not positive.
 */
export function calculateCost(
  model: ModelConfig,
  usage: TokenUsage | undefined,
  opgPriceUsd: string,
  decimals: number,
): bigint {
  if (usage === undefined || usage === null) throw new RangeError('usage is missing');
  const input = tokenCount(usage.prompt_tokens ?? usage.input_tokens);
  const output = tokenCount(usage.completion_tokens ?? usage.output_tokens);
  if (input === undefined || output === undefined) throw new RangeError('usage token counts are missing');
  const inPrice = parseDecimal(model.inputPriceUsd);
  const outPrice = parseDecimal(model.outputPriceUsd);
  const price = parseDecimal(opgPriceUsd);
  if (price.numerator === 0n) throw new RangeError('OPG price must be positive');
  // usd = input*inN/inD + output*outN/outD
  const usdNumerator =
    input * inPrice.numerator * outPrice.denominator + output * outPrice.numerator * inPrice.denominator;
  const usdDenominator = inPrice.denominator * outPrice.denominator;
  // cost = usd / price * 10^decimals
  const numerator = usdNumerator * price.denominator * 10n ** BigInt(decimals);
  const denominator = usdDenominator * price.numerator;
  return (numerator + denominator - 1n) / denominator;
}

/** Status of the OPG price feed as `/health` reports it. */
export interface PriceFeedStatus {
  /** Last price (decimal string) or null. */
  price_usd: string | null;
  /** ISO time of the last successful fetch. */
  last_success: string | null;
  /** Last error (message only). */
  last_error: string | null;
  /** Failures since the last success. */
  consecutive_failures: number;
  /** Fetch attempts. */
  total_fetches: number;
  /** Failed attempts. */
  total_errors: number;
  /** Refresh interval in seconds. */
  refresh_interval: number;
}

/** The OPG/USD price source. */
export interface PriceFeed {
  /** Current price as a decimal string. @throws Error when no usable price exists. */
  getPrice(): string;
  /** Health view. */
  status(): PriceFeedStatus;
  /** Fetch once now (no-op for a static feed). */
  refresh(): Promise<void>;
  /** Stops background refreshes. */
  close(): void;
}

/** A fixed price (tests, deployments with an external price policy). */
export function createStaticPriceFeed(priceUsd: string): PriceFeed {
  parseDecimal(priceUsd);
  const status: PriceFeedStatus = {
    price_usd: priceUsd,
    last_success: null,
    last_error: null,
    consecutive_failures: 0,
    total_fetches: 0,
    total_errors: 0,
    refresh_interval: 0,
  };
  return {
    getPrice: () => priceUsd,
    status: () => ({ ...status }),
    refresh: async () => {},
    close: () => {},
  };
}

/** Options of {@link createHttpPriceFeed}. */
export interface HttpPriceFeedOptions {
  /** CoinGecko `simple/token_price` URL. */
  url: string;
  /** Token address the answer is keyed by. */
  tokenAddress: string;
  /** Refresh interval in seconds. */
  refreshSeconds: number;
  /** fetch. */
  fetch: FetchFunction;
  /** Clock in ms. */
  now?: () => number;
  /** Start the background refresh timer. Default true. */
  background?: boolean;
}

/**
 * The CoinGecko price feed (§9): fetches `{address: {usd}}`, refreshes in the background, and refuses a price
 * older than 4 hours.
 */
export function createHttpPriceFeed(options: HttpPriceFeedOptions): PriceFeed {
  const now = options.now ?? Date.now;
  let price: string | null = null;
  let lastSuccess: number | null = null;
  const status = {
    last_error: null as string | null,
    consecutive_failures: 0,
    total_fetches: 0,
    total_errors: 0,
  };
  const refresh = async () => {
    status.total_fetches++;
    try {
      const response = await options.fetch(options.url, { signal: AbortSignal.timeout(10_000) });
      if (!response.ok) throw new Error(`price feed answered HTTP ${response.status}`);
      const body = (await response.json()) as Record<string, { usd?: unknown }>;
      const usd = body[options.tokenAddress.toLowerCase()]?.usd;
      if (typeof usd !== 'number' || !(usd > 0)) throw new Error('price feed returned no usd price');
      price = usd.toFixed(12).replace(/0+$/, '').replace(/\.$/, '');
      lastSuccess = now();
      status.consecutive_failures = 0;
    } catch (error) {
      status.total_errors++;
      status.consecutive_failures++;
      status.last_error = error instanceof Error ? error.message : 'price fetch failed';
    }
  };
  const timer =
    options.background === false
      ? undefined
      : setInterval(() => void refresh(), options.refreshSeconds * 1000);
  timer?.unref();
  if (options.background !== false) void refresh();
  return {
    getPrice() {
      if (price === null || lastSuccess === null) throw new Error('no OPG price has been fetched yet');
      if (now() - lastSuccess > 4 * 3600 * 1000) throw new Error('the OPG price is older than 4 hours');
      return price;
    },
    status: () => ({
      price_usd: price,
      last_success: lastSuccess === null ? null : new Date(lastSuccess).toISOString(),
      ...status,
      refresh_interval: options.refreshSeconds,
    }),
    refresh,
    close: () => {
      if (timer) clearInterval(timer);
    },
  };
}
