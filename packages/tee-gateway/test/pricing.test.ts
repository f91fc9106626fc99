import { describe, expect, it } from 'vitest';
import {
  calculateCost,
  createHttpPriceFeed,
  createTeeGateway,
  getModelConfig,
  parseDecimal,
} from '../src/index.js';
import { startRecorder } from './helpers.js';
import { TEST_PRIVATE_KEY_PEM } from './test-key.js';

const OPG = '0xFbC2051AE2265686a469421b2C5A2D5462FbF5eB';

describe('pricing', () => {
  it('parses decimals exactly and rounds the cost up to atomic units', () => {
    expect(parseDecimal('0.0000011')).toEqual({ numerator: 11n, denominator: 10_000_000n });
    expect(() => parseDecimal('1e-6')).toThrow(RangeError);
    const claude = getModelConfig('claude-opus-4-5')!;
    // 3 × 5e-6 + 7 × 2.5e-5 = 1.9e-4 USD; at $0.07 per OPG: 0.00271428571... OPG → ceil at 18 decimals.
    expect(calculateCost(claude, { prompt_tokens: 3, completion_tokens: 7 }, '0.07', 18)).toBe(
      2_714_285_714_285_715n,
    );
    expect(calculateCost(claude, { prompt_tokens: 0, completion_tokens: 0 }, '0.07', 18)).toBe(0n);
    expect(() => calculateCost(claude, { prompt_tokens: -1, completion_tokens: 0 }, '1', 18)).toThrow(
      RangeError,
    );
    expect(() => calculateCost(claude, { prompt_tokens: 1, completion_tokens: 1 }, '0', 18)).toThrow(
      RangeError,
    );
  });

  it('fetches the OPG price from a CoinGecko-shaped feed and refuses inference while it has none', async () => {
    let answer: unknown = { error: 'rate limited' };
    let status = 429;
    const feed = await startRecorder((_call, res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    const gateway = await createTeeGateway({
      privateKey: TEST_PRIVATE_KEY_PEM,
      config: {
        enabled: true,
        simulate: true,
        x402_enabled: false,
        price_feed_url: `${feed.url}/simple/token_price/base`,
      },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const request = () =>
        gateway.app.request('/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"model":"gpt-4.1","messages":[{"role":"user","content":"x"}]}',
        });
      const refused = await request();
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: string }).error).toMatch(/^Pricing unavailable: /);
      const manual = createHttpPriceFeed({
        url: `${feed.url}/p`,
        tokenAddress: OPG,
        refreshSeconds: 300,
        fetch,
        background: false,
      });
      await manual.refresh();
      expect(manual.status()).toMatchObject({ price_usd: null, consecutive_failures: 1, total_errors: 1 });
      status = 200;
      answer = { [OPG.toLowerCase()]: { usd: 0.0725 } };
      await manual.refresh();
      expect(manual.getPrice()).toBe('0.0725');
      expect(manual.status()).toMatchObject({
        price_usd: '0.0725',
        consecutive_failures: 0,
        total_fetches: 2,
      });
      expect(feed.calls.at(-1)!.path).toBe('/p');
    } finally {
      await gateway.close();
      await feed.close();
    }
  });
});
