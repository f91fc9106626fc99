import { Writable } from 'node:stream';
import {
  createFakeVeniceServer,
  type FakeVeniceOptions,
  type FakeVeniceServer,
} from '@confidential-ai/venice-e2ee/testing';
import OpenAI from 'openai';
import { pino } from 'pino';
import type { VeniceAttestationOverrides } from '../src/app.js';
import { loadVeniceProxyConfig } from '../src/config.js';
import { type RunningVeniceProxy, startVeniceProxy } from '../src/server.js';

/** The Venice key used by every test; it must never show up in a log line. */
export const VENICE_KEY = 'vk-test-2b7e151628aed2a6abf7158809cf4f3c';

/** Raw pino output (no scrubbing, so the tests prove the key is never handed to the logger). */
export function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  const logger = pino({ level: 'trace' }, stream);
  return { logger, lines, text: () => lines.join('') };
}

/** One proxy with its fake Venice upstream. */
export interface Harness {
  fake: FakeVeniceServer;
  proxy: RunningVeniceProxy;
  openai: OpenAI;
  logs: ReturnType<typeof captureLogs>;
  /** Raw request to the proxy. */
  raw(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/** Options of {@link startHarness}. */
export interface HarnessOptions {
  /** Extra TOML appended to the generated file (sections other than [server] and [venice]). */
  toml?: string;
  /** `VENICE_E2EE_PROXY__*` variables. */
  env?: Record<string, string>;
  /** Fake Venice options. */
  fake?: FakeVeniceOptions;
  /** Session clock. */
  now?: () => number;
  /** Verifier hooks. */
  attestation?: VeniceAttestationOverrides;
  /** `[venice]` request_timeout. */
  requestTimeout?: string;
  /** Fetch used towards Venice (wraps the default). */
  fetch?: typeof globalThis.fetch;
}

/** Starts the fake Venice server and the proxy in front of it (real HTTP on loopback). */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await createFakeVeniceServer({ apiKey: VENICE_KEY, ...options.fake });
  const logs = captureLogs();
  const text = [
    '[venice]',
    `base_url = "${fake.baseUrl}"`,
    `request_timeout = "${options.requestTimeout ?? '20s'}"`,
    options.toml ?? '',
  ].join('\n');
  const config = loadVeniceProxyConfig({
    text,
    env: { VENICE_E2EE_PROXY__VENICE__API_KEY: VENICE_KEY, ...options.env },
  });
  const proxy = await startVeniceProxy({
    config,
    host: '127.0.0.1',
    port: 0,
    logger: logs.logger,
    ...(options.now ? { now: options.now } : {}),
    ...(options.attestation ? { attestation: options.attestation } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'ignored-by-proxy', maxRetries: 0 });
  return {
    fake,
    proxy,
    openai,
    logs,
    raw: (path, init) => fetch(`${proxy.url}${path}`, init),
    async close() {
      await proxy.close();
      await fake.close();
    },
  };
}

/** POSTs a JSON chat body to the proxy. */
export function postChat(
  harness: Harness,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return harness.raw('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** The status, type and code of an OpenAI SDK error (or of a raw error response). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<{ status: number | undefined; type: unknown; code: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) {
      const body = error.error as { type?: unknown; code?: unknown } | undefined;
      return { status: error.status, type: body?.type ?? error.type, code: body?.code ?? error.code };
    }
    throw error;
  }
  throw new Error('expected the request to fail');
}

/** Reads a raw error response: status, envelope and the error-code header. */
export async function rawError(response: Response) {
  const body = (await response.json()) as { error: Record<string, unknown> };
  return {
    status: response.status,
    type: body.error['type'],
    code: body.error['code'],
    header: response.headers.get('x-venice-proxy-error-code'),
    body,
  };
}

/** The 32-byte lowercase hex test for packed ciphertext (section 4.4: `04` ephemeral key, nonce, ciphertext). */
export const CIPHERTEXT_HEX = /^04[0-9a-f]{184,}$/;
