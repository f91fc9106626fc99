import { httpUrl, strictBoolean } from '@confidential-ai/server-kit';
import { z } from 'zod';

/** Default facilitator (`definitions.py` of the reference). */
export const DEFAULT_FACILITATOR_URL = 'https://facilitator.memchat.io';
/** Default x402 `payTo` (`EVM_PAYMENT_ADDRESS` default of the reference). */
export const DEFAULT_PAY_TO = '0x9deEBB5D1b22e4a6e027977CeAd13893A7E4cC1a';
/** Default nitriding enclave-internal API. */
export const DEFAULT_NITRIDING_INTERNAL_URL = 'http://127.0.0.1:8080';
/** CoinGecko OPG price endpoint (§9). */
export const DEFAULT_PRICE_FEED_URL =
  'https://api.coingecko.com/api/v3/simple/token_price/base?contract_addresses=0xFbC2051AE2265686a469421b2C5A2D5462FbF5eB&vs_currencies=usd';

/** Default provider base URLs (D3); every one is configurable. */
export const DEFAULT_PROVIDER_BASE_URLS = Object.freeze({
  openai: 'https://api.openai.com/v1',
  'x-ai': 'https://api.x.ai/v1',
  bytedance: 'https://ark.ap-southeast.bytepluses.com/api/v3',
  nous: 'https://inference-api.nousresearch.com/v1',
  zai: 'https://api.z.ai/api/paas/v4',
  openrouter: 'https://openrouter.ai/api/v1',
  anthropic: 'https://api.anthropic.com/v1',
  google: 'https://generativelanguage.googleapis.com/v1beta',
});

const seconds = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: `expected an integer between ${min} and ${max}` })
      .int({ error: 'expected an integer' })
      .min(min, { error: `must be >= ${min}` })
      .max(max, { error: `must be <= ${max}` }),
  );

// The composed configuration's one strict boolean: `x402_enabled = "ture"` is a startup error, never "off".
const flag = strictBoolean;

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, { error: 'expected a 0x-prefixed 20-byte address' });
// A zero price would make every session's cost calculation fail, and failed calculations are not charged.
const decimal = z
  .string({ error: 'expected a decimal string such as "0.10"' })
  .regex(/^\d+(\.\d+)?$/, { error: 'expected a positive decimal string such as "0.10"' })
  .refine((value) => /[1-9]/.test(value), { error: 'must be greater than 0' });

/** Environment variables of the `[tee_gateway]` section (the reference's names) and the keys they set. */
export const TEE_GATEWAY_ENV: ReadonlyArray<readonly [env: string, key: string]> = [
  ['NITRIDING_URL', 'nitriding_url'],
  ['FACILITATOR_URL', 'facilitator_url'],
  ['EVM_PAYMENT_ADDRESS', 'pay_to'],
  ['OPG_PRICE_USD', 'opg_price_usd'],
];

/**
 * zod schema of the `[tee_gateway]` configuration section (snake_case keys, as in the TOML file). The composed
 * proxy configuration can include it as `tee_gateway: teeGatewayConfigSchema.default({})`.
 */
export const teeGatewayConfigSchema = z
  .object({
    /** Serve the gateway. */
    enabled: flag.default(false),
    /** Largest accepted request body in bytes (larger: 413). */
    max_request_bytes: seconds(1024, 1024 ** 3).default(10 * 1024 * 1024),
    /**
     * Start initialised with the built-in simulated provider for every model (no `/v1/keys` needed). For demos
     * and tests only; the responses say `[simulated ...]`.
     */
    simulate: flag.default(false),
    /** Public nitriding URL `/enclave/attestation` is forwarded to (env `NITRIDING_URL`). */
    nitriding_url: httpUrl.optional(),
    /** nitriding's enclave-internal API (`/enclave/hash`, `/enclave/ready`). */
    nitriding_internal_url: httpUrl.default(DEFAULT_NITRIDING_INTERNAL_URL),
    /** Register the key hash with nitriding at startup (inside an enclave). */
    register_with_nitriding: flag.default(false),
    /** Facilitator used until `/v1/keys` sets one (env `FACILITATOR_URL`). */
    facilitator_url: httpUrl.default(DEFAULT_FACILITATOR_URL),
    /** Require x402 payment on inference routes. */
    x402_enabled: flag.default(true),
    /** x402 `payTo` (env `EVM_PAYMENT_ADDRESS`). */
    pay_to: address.default(DEFAULT_PAY_TO),
    /** x402 `maxTimeoutSeconds` of the offer. */
    max_timeout_seconds: seconds(30, 86_400).default(300),
    /** Idle time after which a session is settled. */
    session_idle_timeout_seconds: seconds(1, 86_400).default(100),
    /** Stop serving a session this long before its permit deadline. */
    session_stop_margin_seconds: seconds(0, 86_400).default(60),
    /** Settle a session this long before its permit deadline. */
    session_settle_margin_seconds: seconds(0, 86_400).default(30),
    /** Give up settling this long before the permit deadline. */
    session_give_up_margin_seconds: seconds(0, 86_400).default(10),
    /** Static OPG price in USD (decimal string); unset: the price feed is used. */
    opg_price_usd: decimal.optional(),
    /** OPG price feed URL (CoinGecko format). */
    price_feed_url: httpUrl.default(DEFAULT_PRICE_FEED_URL),
    /** Price feed refresh interval. */
    price_feed_refresh_seconds: seconds(10, 86_400).default(300),
    /** Provider base URLs (tests, egress proxies). */
    openai_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS.openai),
    xai_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS['x-ai']),
    bytedance_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS.bytedance),
    nous_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS.nous),
    zai_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS.zai),
    openrouter_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS.openrouter),
    anthropic_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS.anthropic),
    google_base_url: httpUrl.default(DEFAULT_PROVIDER_BASE_URLS.google),
    /**
     * Standalone `tee-gateway` command only: listen on a non-loopback address although neither x402 nor a client
     * token protects the gateway (logged at warn). Ignored by the composed server, which always requires its
     * client token.
     */
    allow_unauthenticated_public_listen: flag.default(false),
  })
  .strict()
  .refine(
    (value) =>
      value.session_stop_margin_seconds < value.max_timeout_seconds &&
      value.session_settle_margin_seconds < value.max_timeout_seconds &&
      value.session_give_up_margin_seconds <= value.session_settle_margin_seconds,
    { error: 'session margins must be smaller than max_timeout_seconds (and give_up <= settle)' },
  );

/** The validated `[tee_gateway]` section. */
export type TeeGatewayConfig = z.output<typeof teeGatewayConfigSchema>;
/** The `[tee_gateway]` section as written (every key optional). */
export type TeeGatewayConfigInput = z.input<typeof teeGatewayConfigSchema>;

/**
 * Validates a `[tee_gateway]` section and applies defaults.
 * @example
 * ```ts
 * const config = parseTeeGatewayConfig({ enabled: true, simulate: true, x402_enabled: false });
 * ```
 * @throws z.ZodError on invalid values.
 */
export function parseTeeGatewayConfig(input: TeeGatewayConfigInput = {}): TeeGatewayConfig {
  return teeGatewayConfigSchema.parse(input);
}
