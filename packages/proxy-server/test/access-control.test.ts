// What protects each route of the composed server (README "What protects each route"). The route list comes from
// the Hono apps themselves, so a route added without an entry here fails the first assertion.

import { createLogger } from '@confidential-ai/server-kit';
import { type FakeFacilitator, startFakeFacilitator } from '@confidential-ai/tee-gateway/testing';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { captureLogs, TOKEN } from './helpers.js';

type Protection =
  | { kind: 'token' }
  | { kind: 'payment' }
  | { kind: 'loopback+token' }
  | { kind: 'public'; reason: string };

const TOKEN_ONLY: Protection = { kind: 'token' };
const REFERENCE_PUBLIC = 'unauthenticated in the vllm-proxy reference route table (§1.1)';

/** The expected protection of every route, for x402 on or off on the TEE gateway face. */
function protectionTable(x402: boolean): Record<string, Protection> {
  const paid: Protection = x402 ? { kind: 'payment' } : TOKEN_ONLY;
  return {
    'GET /': { kind: 'public', reason: `liveness; ${REFERENCE_PUBLIC}` },
    'GET /health': { kind: 'public', reason: 'liveness, the name every face answers' },
    'GET /local-metrics': { kind: 'public', reason: `Prometheus scrape; ${REFERENCE_PUBLIC}` },
    'GET /v1/metrics': { kind: 'public', reason: `Prometheus scrape; ${REFERENCE_PUBLIC}` },
    'GET /v1/models': { kind: 'public', reason: `model list; ${REFERENCE_PUBLIC}` },
    'GET /v1/attestation/report': TOKEN_ONLY,
    'GET /v1/attestation/chain': TOKEN_ONLY,
    'POST /v1/chat/completions': TOKEN_ONLY,
    'POST /v1/completions': TOKEN_ONLY,
    'GET /v1/signature/:chatId': TOKEN_ONLY,
    'POST /v1/chutes/chat/completions': TOKEN_ONLY,
    'GET /v1/chutes/models': TOKEN_ONLY,
    'GET /venice/health': { kind: 'public', reason: 'liveness of the Venice face' },
    'GET /venice/v1/models': TOKEN_ONLY,
    'POST /venice/v1/models': TOKEN_ONLY,
    'GET /venice/v1/chat/completions': TOKEN_ONLY,
    'POST /venice/v1/chat/completions': TOKEN_ONLY,
    'GET /venice/v1/tee/attestation': TOKEN_ONLY,
    'POST /venice/v1/tee/attestation': TOKEN_ONLY,
    'GET /ui': {
      kind: 'public',
      reason: 'the static chat page; every API call it makes carries the token the user enters',
    },
    'GET /tee-gateway/health': { kind: 'public', reason: 'liveness (tee-gateway reference)' },
    'GET /tee-gateway/signing-key': {
      kind: 'public',
      reason: 'verification material: clients check response signatures against it',
    },
    'GET /tee-gateway/enclave/attestation': {
      kind: 'public',
      reason: 'verification material: the Nitro attestation binding the signing key',
    },
    'GET /tee-gateway/v1/models': {
      kind: 'public',
      reason: 'model list: OpenAI clients probe it first, and an x402 client has no token',
    },
    'GET /tee-gateway/heartbeat/status': TOKEN_ONLY,
    'POST /tee-gateway/v1/keys': { kind: 'loopback+token' },
    'POST /tee-gateway/v1/chat/completions': paid,
    'POST /tee-gateway/v1/completions': paid,
  };
}

/**
 * Every (method, path) route of an app: handler routes only (middleware patterns end in `*`); `ALL` routes are
 * listed as GET and POST.
 */
function routesOf(app: Hono<never>): string[] {
  const routes = new Set<string>();
  for (const route of app.routes) {
    if (route.path.includes('*')) continue;
    const methods = route.method === 'ALL' ? ['GET', 'POST'] : [route.method];
    for (const method of methods) routes.add(`${method} ${route.path}`);
  }
  return [...routes].sort();
}

function composedToml(x402: boolean, facilitatorUrl: string): string {
  return `
[server]
port = 0
[auth]
token = "${TOKEN}"
[chutes]
enabled = true
api_key = "cpk_access_test_key"
simulate = true
[venice]
enabled = true
[tee_gateway]
enabled = true
simulate = true
x402_enabled = ${x402}
facilitator_url = "${facilitatorUrl}"
opg_price_usd = "1"
`;
}

async function call(
  server: RunningServer,
  route: string,
  headers: Record<string, string>,
): Promise<Response> {
  const [method, pattern] = route.split(' ') as [string, string];
  const path = pattern.replace(':chatId', 'chatcmpl-unknown');
  const init: RequestInit = { method, headers: { ...headers } };
  if (method === 'POST') {
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
    // Not a JSON object: no route can act on it (POST /v1/keys answers 400 and stays unclaimed).
    init.body = 'not json';
  }
  return fetch(`${server.url}${path}`, init);
}

for (const x402 of [false, true]) {
  describe(`composed server route table (TEE gateway x402 ${x402 ? 'on' : 'off'})`, () => {
    let server: RunningServer;
    let facilitator: FakeFacilitator;
    const table = protectionTable(x402);
    beforeAll(async () => {
      facilitator = await startFakeFacilitator();
      const logs = captureLogs();
      const config = loadConfig({ toml: composedToml(x402, facilitator.url), env: {} });
      server = await startServer({
        config,
        logger: createLogger({ level: 'warn', destination: logs.destination }),
        processMetrics: false,
      });
    });
    afterAll(async () => {
      await server?.close();
      await facilitator?.close();
    });

    it('lists exactly the routes the table covers (a new route must state its protection)', () => {
      expect(routesOf(server.app as unknown as Hono<never>)).toEqual(Object.keys(table).sort());
    });

    it('every protected route refuses a request without the client token', async () => {
      for (const [route, protection] of Object.entries(table)) {
        const response = await call(server, route, {});
        await response.body?.cancel();
        if (protection.kind === 'public') {
          expect(protection.reason.length, route).toBeGreaterThan(10);
          expect(response.status, route).not.toBe(401);
        } else if (protection.kind === 'payment') {
          expect(response.status, route).toBe(402);
        } else {
          expect(response.status, route).toBe(401);
        }
        // A wrong token is no better than none.
        if (protection.kind === 'token' || protection.kind === 'loopback+token') {
          const wrong = await call(server, route, { authorization: 'Bearer not-the-token' });
          await wrong.body?.cancel();
          expect(wrong.status, route).toBe(401);
        }
      }
    });

    it('with the client token every token route lets the request through', async () => {
      for (const [route, protection] of Object.entries(table)) {
        if (protection.kind !== 'token' && protection.kind !== 'loopback+token') continue;
        const response = await call(server, route, { authorization: `Bearer ${TOKEN}` });
        await response.body?.cancel();
        expect(response.status, route).not.toBe(401);
        expect(response.status, route).not.toBe(403);
      }
      if (x402) {
        // The payment routes ignore the token: payment is their access control.
        const response = await call(server, 'POST /tee-gateway/v1/chat/completions', {
          authorization: `Bearer ${TOKEN}`,
        });
        await response.body?.cancel();
        expect(response.status).toBe(402);
      }
    });

    it('POST /tee-gateway/v1/keys needs the token as well as a loopback peer', async () => {
      const url = `${server.url}/tee-gateway/v1/keys`;
      const claim = JSON.stringify({
        openai_api_key: 'sk-attacker',
        facilitator_url: 'http://127.0.0.1:9/evil',
      });
      const anonymous = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: claim,
      });
      expect(anonymous.status).toBe(401);
      const health = (await (await fetch(`${server.url}/tee-gateway/health`)).json()) as {
        providers: string[];
        facilitator_url: string;
      };
      expect(health.providers).toEqual([]);
      expect(health.facilitator_url).toBe(facilitator.url);
    });

    if (x402) {
      it('exposes the live x402 session count as a Prometheus gauge', async () => {
        const text = await (await fetch(`${server.url}/local-metrics`)).text();
        expect(text).toMatch(/^tee_gateway_x402_sessions 0$/m);
      });
    }
  });
}
