// Issue 14, errors classified as what they are, on every face of the composed server (vLLM/Chutes at the root,
// Venice under /venice, the TEE gateway under /tee-gateway), over real HTTP: JSON nested too deeply is a 400 with
// one stable code; a client that disconnects mid-upload is a client abort; error messages never echo control or
// bidirectional-control characters from client input.
import { connect } from 'node:net';
import { createLogger } from '@confidential-ai/server-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSecrets, loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { captureLogs, createE2eeClient, TOKEN } from './helpers.js';

const COMPOSED_TOML = `
[server]
port = 0
[auth]
token = "${TOKEN}"
[chutes]
enabled = true
api_key = "cpk_ingress_test_key"
[venice]
enabled = true
[tee_gateway]
enabled = true
simulate = true
x402_enabled = false
opg_price_usd = "0.10"
`;

/** Control, bidi-control and separator characters that must never come back in an error message. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const HOSTILE = 'evil\u0000\u202egnp.exe\u0085\u2066x';

const nestedArray = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
/** A JSON Schema nested `levels` objects deep (two JSON levels per schema level). */
function nestedSchema(levels: number): string {
  return `${'{"type":"object","properties":{"a":'.repeat(levels)}{"type":"string"}${'}}'.repeat(levels)}`;
}

let server: RunningServer;
let logs: ReturnType<typeof captureLogs>;

beforeAll(async () => {
  logs = captureLogs();
  const config = loadConfig({ toml: COMPOSED_TOML, env: {} });
  const logger = createLogger({
    level: 'debug',
    destination: logs.destination,
    secrets: configSecrets(config),
  });
  server = await startServer({ config, logger, processMetrics: false });
}, 60_000);

afterAll(async () => {
  await server?.close();
});

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A field of an `{error:{...}}` envelope. */
function errorField(json: Record<string, unknown> | undefined, name: string): unknown {
  return (json?.error as Record<string, unknown> | undefined)?.[name];
}

/** The error message of any face's envelope (`{error:{message}}` or the gateway's `{error: message}`). */
function messageOf(json: Record<string, unknown> | undefined): string {
  const error = json?.error;
  if (typeof error === 'string') return error;
  return String((error as { message?: unknown } | undefined)?.message ?? '');
}

const chatBody = (extra: string) =>
  `{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"extra":${extra}}`;

describe('JSON nesting depth at ingress: 400 json_too_deep on every face', () => {
  it.each(['/v1/chat/completions', '/v1/completions', '/v1/chutes/chat/completions'])(
    '%s: 100,000 levels are refused as a client error, not a 502',
    async (path) => {
      const { status, json } = await post(path, chatBody(nestedArray(100_000)));
      expect(status).toBe(400);
      expect(errorField(json, 'type')).toBe('json_too_deep');
    },
  );

  it('vLLM face: the limit is exactly 128 levels', async () => {
    // body object (1) + 127 nested arrays = 128 levels: accepted and forwarded
    expect((await post('/v1/chat/completions', chatBody(nestedArray(127)))).status).toBe(200);
    const { status, json } = await post('/v1/chat/completions', chatBody(nestedArray(128)));
    expect(status).toBe(400);
    expect(errorField(json, 'type')).toBe('json_too_deep');
  });

  it('vLLM face, E2EE: decrypted content restored as a 100,000-level array is refused the same way', async () => {
    const report = (await (
      await fetch(`${server.url}/v1/attestation/report`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { signing_public_key: string };
    const client = createE2eeClient('ecdsa', 2);
    const body = client.encryptMessages(
      { model: 'fake-model', messages: [{ role: 'user', content: nestedArray(100_000) }] },
      report.signing_public_key,
    );
    const { status, json } = await post(
      '/v1/chat/completions',
      JSON.stringify(body),
      client.headers(report.signing_public_key),
    );
    expect(status).toBe(400);
    expect(errorField(json, 'type')).toBe('json_too_deep');
  });

  it('Venice face: a 2000-level tool schema is a 400, not a crash of the schema code', async () => {
    const body = `{"model":"fake-venice-model","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${nestedSchema(2000)}}}]}`;
    const { status, headers, json } = await post('/venice/v1/chat/completions', body);
    expect(status).toBe(400);
    expect(headers.get('x-venice-proxy-error-code')).toBe('json_too_deep');
    expect(errorField(json, 'code')).toBe('json_too_deep');
    const deep = await post('/venice/v1/chat/completions', chatBody(nestedArray(100_000)));
    expect(deep.status).toBe(400);
    expect(deep.headers.get('x-venice-proxy-error-code')).toBe('json_too_deep');
  });

  it('TEE gateway face: 100,000 levels are a 400 with code json_too_deep', async () => {
    const { status, json } = await post('/tee-gateway/v1/chat/completions', chatBody(nestedArray(100_000)));
    expect(status).toBe(400);
    expect(json?.code).toBe('json_too_deep');
  });
});

describe('error messages never echo control or bidi-control characters from client input', () => {
  it('TEE gateway: an unknown model name', async () => {
    const { status, json } = await post(
      '/tee-gateway/v1/chat/completions',
      JSON.stringify({ model: HOSTILE, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(status).toBe(400);
    const message = messageOf(json);
    expect(message).toContain('evil');
    expect(message).not.toMatch(UNSAFE);
    expect(message).toContain('\\u202e'); // visible instead of reordering the text
  });

  it('TEE gateway: an unknown message role', async () => {
    const { status, json } = await post(
      '/tee-gateway/v1/chat/completions',
      JSON.stringify({ model: 'gpt-4.1', messages: [{ role: HOSTILE, content: 'hi' }] }),
    );
    expect(status).toBe(400);
    expect(messageOf(json)).not.toMatch(UNSAFE);
  });

  it('vLLM face: an upstream error that quotes the model name (plain mode relays upstream messages)', async () => {
    const { status, json } = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: HOSTILE, messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(status).toBe(404);
    const message = messageOf(json);
    expect(message).toContain('evil');
    expect(message).not.toMatch(UNSAFE);
  });

  it('vLLM face: an unknown route path', async () => {
    const { status, json } = await post('/v1/%E2%80%AEnope%00%C2%85', '{}');
    expect(status).toBe(404);
    expect(messageOf(json)).not.toMatch(UNSAFE);
  });

  it('Venice face: an unsupported request field name', async () => {
    const { status, json } = await post(
      '/venice/v1/chat/completions',
      JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], [HOSTILE]: 1 }),
    );
    expect(status).toBe(400);
    const message = messageOf(json);
    expect(message).toContain('evil');
    expect(message).not.toMatch(UNSAFE);
  });

  it('Venice face: an unknown route path', async () => {
    const { status, json } = await post('/venice/v1/%E2%80%AEnope%00', '{}');
    expect(status).toBe(404);
    expect(messageOf(json)).not.toMatch(UNSAFE);
  });
});

describe('a client that disconnects mid-upload is a client abort, not a server error', () => {
  /** Sends the headers and part of a declared body, then resets the connection. */
  function abortMidUpload(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const url = new URL(server.url);
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
            'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"model":"fake-model","messages":[',
        );
        setTimeout(() => {
          socket.resetAndDestroy();
          setTimeout(resolve, 300);
        }, 150);
      });
      socket.on('error', reject);
    });
  }

  it.each([
    '/v1/chat/completions',
    '/v1/chutes/chat/completions',
    '/venice/v1/chat/completions',
    '/tee-gateway/v1/chat/completions',
  ])('%s', async (path) => {
    const before = logs.lines.length;
    await abortMidUpload(path);
    const lines = logs.lines.slice(before).join('');
    expect(lines).toContain('client closed the request');
    expect(lines).not.toContain('unhandled error');
    expect(lines).not.toContain('internal_error');
    expect(lines).not.toContain('request processing failed');
    expect(lines).not.toContain('venice proxy internal error');
    expect(lines).not.toContain('"level":50');
  });

  it('is counted as client_closed_request, never as internal_error', async () => {
    const metrics = await (await fetch(`${server.url}/local-metrics`)).text();
    expect(metrics).toMatch(/vllm_proxy_errors_total\{type="client_closed_request"\} [1-9]/);
    expect(metrics).not.toContain('type="internal_error"');
  });
});
