import { isHttpUrl } from '@confidential-ai/server-kit';
import type { Hono } from 'hono';
import { DEFAULT_FACILITATOR_URL } from '../config.js';
import { startHeartbeat } from '../heartbeat.js';
import { isLoopbackAddress } from '../peer.js';
import type { ProviderId } from '../registry.js';
import { type GatewayRuntime, json } from '../runtime.js';

/** Provider key fields accepted by `POST /v1/keys`, mapped to registry providers. */
export const PROVIDER_KEY_FIELDS: Readonly<Record<string, ProviderId>> = Object.freeze({
  openai_api_key: 'openai',
  anthropic_api_key: 'anthropic',
  google_api_key: 'google',
  xai_api_key: 'x-ai',
  bytedance_api_key: 'bytedance',
  nous_api_key: 'nous',
  zai_api_key: 'zai',
  openrouter_api_key: 'openrouter',
});

/**
 * `POST /v1/keys` (spec D2): one time, from a loopback TCP peer without forwarding headers; sets the provider keys,
 * the facilitator URL and the heartbeat, and builds the x402 gate when x402 is on.
 */
export function registerKeysRoute(app: Hono, runtime: GatewayRuntime): void {
  app.post('/v1/keys', async (c) => {
    const peer = runtime.peerAddress(c);
    const forwarded = ['forwarded', 'x-forwarded-for', 'x-real-ip'].some(
      (name) => c.req.header(name) !== undefined,
    );
    if (!isLoopbackAddress(peer) || forwarded) {
      runtime.logger.warn(
        { peer: peer ?? 'unknown', forwarded },
        'refused /v1/keys from a non-loopback peer',
      );
      return json(c, { error: 'Provider keys can only be set from a loopback address' }, 403);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return json(c, { error: 'JSON body required' }, 400);
    }
    const facilitatorField = (body as Record<string, unknown>)['facilitator_url'];
    if (
      facilitatorField !== undefined &&
      facilitatorField !== null &&
      facilitatorField !== '' &&
      (typeof facilitatorField !== 'string' || !isHttpUrl(facilitatorField))
    ) {
      return json(c, { error: 'facilitator_url must be an http(s) URL without credentials' }, 400);
    }
    // Single atomic guard: JS runs this block without interleaving.
    if (runtime.state.keysInjected)
      return json(c, { error: 'Provider keys have already been initialized' }, 409);
    runtime.state.keysInjected = true;
    const record = body as Record<string, unknown>;
    const providers: ProviderId[] = [];
    for (const [field, provider] of Object.entries(PROVIDER_KEY_FIELDS)) {
      const value = record[field];
      if (typeof value === 'string' && value.trim() !== '') {
        runtime.state.providerKeys.set(provider, value.trim());
        providers.push(provider);
      }
    }
    const facilitator = record['facilitator_url'];
    if (typeof facilitator === 'string' && facilitator !== '') {
      runtime.state.facilitatorUrl = facilitator.replace(/\/+$/, '');
    } else if (runtime.state.facilitatorUrl === undefined) {
      runtime.state.facilitatorUrl = DEFAULT_FACILITATOR_URL;
    }
    const intOr = (value: unknown, fallback: number) => {
      const parsed =
        typeof value === 'number'
          ? value
          : typeof value === 'string'
            ? Number.parseInt(value, 10)
            : Number.NaN;
      return Number.isSafeInteger(parsed) && parsed > 0 ? parsed : fallback;
    };
    const contract = record['heartbeat_contract_address'];
    if (typeof contract === 'string' && /^0x[0-9a-fA-F]{40}$/.test(contract)) {
      runtime.state.heartbeat?.stop();
      runtime.state.heartbeat = startHeartbeat(
        {
          facilitatorUrl: runtime.state.facilitatorUrl,
          contractAddress: contract,
          intervalSeconds: intOr(record['tee_heartbeat_interval'], 900),
          bufferSeconds: intOr(record['tee_heartbeat_buffer'], 300),
          signer: runtime.signer,
          fetch: runtime.fetch,
          now: runtime.now,
          logger: runtime.logger,
        },
        runtime.walletAddress,
      );
    }
    if (runtime.paymentGateFactory) {
      (runtime.state.gate as { close?: () => void } | undefined)?.close?.();
      runtime.state.gate = runtime.paymentGateFactory(runtime.state.facilitatorUrl);
    }
    runtime.state.initialized = true;
    runtime.logger.info({ providers }, 'provider keys initialized');
    return json(
      c,
      {
        status: 'ok',
        providers_initialized: providers,
        heartbeat_enabled: runtime.state.heartbeat !== undefined,
      },
      200,
    );
  });
}
