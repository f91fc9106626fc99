import type { Hono } from 'hono';
import { listModelNames, MODEL_REGISTRY } from '../registry.js';
import { GATEWAY_VERSION, type GatewayRuntime, json } from '../runtime.js';

/**
 * The gateway's informational routes (tee-gateway.md §4): `GET /health`, `GET /signing-key`,
 * `GET /enclave/attestation` (forwarded to nitriding when configured), `GET /heartbeat/status`, and
 * `GET /v1/models` (the registry in OpenAI's list shape: OpenAI clients probe it before chatting).
 */
export function registerInfoRoutes(app: Hono, runtime: GatewayRuntime): void {
  app.get('/health', (c) =>
    json(
      c,
      {
        status: 'OK',
        version: GATEWAY_VERSION,
        tee_enabled: runtime.state.nitridingRegistered || runtime.config.nitriding_url !== undefined,
        price_feed: runtime.priceFeed.status(),
        uptime_seconds: Math.max(0, Math.floor((runtime.now() - runtime.startedAt) / 1000)),
        providers: [...runtime.state.providerKeys.keys()],
        facilitator_url: runtime.state.facilitatorUrl,
      },
      200,
    ),
  );

  app.get('/signing-key', (c) =>
    json(
      c,
      {
        public_key: runtime.signer.publicKeyPem,
        tee_id: runtime.signer.teeId,
        wallet_address: runtime.walletAddress,
        timestamp: new Date(runtime.now()).toISOString(),
        enclave_info: { platform: 'aws-nitro', instance_type: 'tee-enabled', version: GATEWAY_VERSION },
        measurements: null,
      },
      200,
    ),
  );

  app.get('/enclave/attestation', async (c) => {
    if (runtime.config.nitriding_url === undefined) {
      return json(
        c,
        {
          error:
            'Attestation unavailable: not running inside an AWS Nitro Enclave and no nitriding URL is configured',
        },
        503,
      );
    }
    const query = new URL(c.req.url).search;
    let upstream: Response;
    try {
      upstream = await runtime.fetch(`${runtime.config.nitriding_url}/enclave/attestation${query}`, {
        signal: AbortSignal.timeout(15_000),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      return json(
        c,
        {
          error: `Attestation unavailable: nitriding at ${runtime.config.nitriding_url} is unreachable${typeof code === 'string' ? ` (${code})` : ''}`,
        },
        503,
      );
    }
    const body = await upstream.arrayBuffer();
    const headers = new Headers();
    const type = upstream.headers.get('content-type');
    if (type) headers.set('content-type', type);
    return new Response(body, { status: upstream.status, headers });
  });

  app.get('/heartbeat/status', (c) =>
    json(c, runtime.state.heartbeat ? runtime.state.heartbeat.status() : { enabled: false }, 200),
  );

  app.get('/v1/models', (c) => {
    const created = Math.floor(runtime.startedAt / 1000);
    const data = listModelNames().map((name) => ({
      id: name,
      object: 'model',
      created,
      owned_by: MODEL_REGISTRY.get(name.toLowerCase())?.provider ?? 'unknown',
    }));
    return json(c, { object: 'list', data }, 200);
  });
}
