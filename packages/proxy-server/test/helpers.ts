import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { createLogger, type FetchFunction } from '@confidential-ai/server-kit';
import {
  buildRequestAad,
  buildResponseAad,
  decryptField,
  encryptField,
  generateFieldKeyPair,
} from '@confidential-ai/venice-e2ee';
import type { Hono } from 'hono';
import { type AppDependencies, type AppEnv, createApp, type RouteModule } from '../src/app.js';
import { type LoadConfigOptions, loadConfig } from '../src/config.js';
import { createFakeVllmApp } from '../src/fake-vllm.js';
import { createModelKeys } from '../src/keys.js';
import { createProxyMetrics } from '../src/metrics.js';
import { chutesSidecarRoutes } from '../src/routes/chutes.js';
import { vllmProxyRoutes } from '../src/routes/vllm-proxy.js';
import { createResponseSigner } from '../src/signing.js';
import { createMemoryReplayStore, createMemorySignatureStore } from '../src/stores.js';

export const TOKEN = 'test-token-6f1d2a9c';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

/** A log sink that keeps every line pino writes. */
export function captureLogs(): {
  lines: string[];
  destination: { write(line: string): void };
  text(): string;
} {
  const lines: string[] = [];
  return {
    lines,
    destination: { write: (line: string) => void lines.push(line) },
    text: () => lines.join(''),
  };
}

/** A fetch that serves a Hono app in-process (no socket). */
export function appFetch(app: { request: Hono['request'] }): FetchFunction {
  return async (input, init) => app.request(input instanceof Request ? input : String(input), init);
}

export interface TestApp {
  app: Hono<AppEnv>;
  deps: AppDependencies;
  vllm: ReturnType<typeof createFakeVllmApp>;
  logs: ReturnType<typeof captureLogs>;
}

/** An in-process app with the fake vLLM as upstream, memory stores and captured logs. */
export function createTestApp(
  options: {
    env?: Record<string, string>;
    toml?: string;
    modules?: RouteModule[];
    chutesFetch?: FetchFunction;
    chutesBaseUrl?: string;
    overrides?: Partial<AppDependencies>;
  } = {},
): TestApp {
  const loadOptions: LoadConfigOptions = { env: { TOKEN, LOG_LEVEL: 'debug', ...options.env } };
  if (options.toml) loadOptions.toml = options.toml;
  const config = loadConfig(loadOptions);
  const logs = captureLogs();
  const logger = createLogger({
    level: config.log.level,
    destination: logs.destination,
    secrets: [config.auth.token, config.chutes.apiKey, config.redis.password, config.signing.keySeed].filter(
      (value): value is string => !!value,
    ),
  });
  const vllm = createFakeVllmApp();
  const keys = createModelKeys({ seed: config.signing.keySeed });
  const deps: AppDependencies = {
    config,
    logger,
    metrics: createProxyMetrics(),
    keys,
    signer: createResponseSigner(keys),
    // as startServer: per-process keys, so nothing from before this store can be replayed
    replayStore: createMemoryReplayStore(config.signing.keySeed ? {} : { knownSinceSeconds: 0 }),
    signatureStore: createMemorySignatureStore(),
    vllm: { baseUrl: 'http://fake-vllm.test', fetch: appFetch(vllm) },
    chutes: {
      baseUrl: options.chutesBaseUrl ?? 'http://fake-chutes.test',
      fetch: options.chutesFetch ?? appFetch(createFakeVllmApp({ apiKey: 'chutes-key' })),
    },
    ...options.overrides,
  };
  const app = createApp(deps, { modules: options.modules ?? [vllmProxyRoutes, chutesSidecarRoutes] });
  return { app, deps, vllm, logs };
}

export type Algo = 'ecdsa' | 'ed25519';

/** A vllm-proxy E2EE client built from the shared field cipher of venice-e2ee. */
export interface E2eeClient {
  algo: Algo;
  version: 1 | 2;
  publicKeyHex: string;
  nonce: string;
  timestamp: number;
  headers(modelKeyHex: string): Record<string, string>;
  encryptMessages(body: Record<string, unknown>, modelKeyHex: string): Record<string, unknown>;
  decrypt(hex: string, aad: { model: string; id: string; choice: number; field: string } | undefined): string;
}

let nonceCounter = 0;

export function createE2eeClient(
  algo: Algo,
  version: 1 | 2,
  options: { timestamp?: number } = {},
): E2eeClient {
  const pair = generateFieldKeyPair(algo === 'ecdsa' ? 'secp256k1' : 'ed25519');
  const suite = algo === 'ecdsa' ? 'secp256k1' : 'ed25519';
  nonceCounter += 1;
  const nonce = `nonce-${Date.now().toString(36)}-${nonceCounter}-${bytesToHex(crypto.getRandomValues(new Uint8Array(8)))}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const publicKeyHex = algo === 'ecdsa' ? bytesToHex(pair.publicKey.subarray(1)) : bytesToHex(pair.publicKey);
  return {
    algo,
    version,
    publicKeyHex,
    nonce,
    timestamp,
    headers(modelKeyHex) {
      const headers: Record<string, string> = {
        'x-signing-algo': algo,
        'x-client-pub-key': publicKeyHex,
        'x-model-pub-key': modelKeyHex,
      };
      if (version === 2) {
        headers['x-e2ee-version'] = '2';
        headers['x-e2ee-nonce'] = nonce;
        headers['x-e2ee-timestamp'] = String(timestamp);
      }
      return headers;
    },
    encryptMessages(body, modelKeyHex) {
      const model = String(body.model ?? '');
      const modelKey = algo === 'ecdsa' ? modelKeyHex : hexToBytes(modelKeyHex);
      const messages = (body.messages as Array<Record<string, unknown>>).map((message, messageIndex) => {
        const aadFor = (contentIndex: number | null) =>
          version === 2
            ? buildRequestAad({ algo, model, messageIndex, contentIndex, nonce, timestamp })
            : undefined;
        const seal = (text: string, contentIndex: number | null) => {
          const aad = aadFor(contentIndex);
          return encryptField(text, modelKey, { suite, ...(aad ? { aad } : {}) });
        };
        if (typeof message.content === 'string') return { ...message, content: seal(message.content, null) };
        if (Array.isArray(message.content)) {
          return {
            ...message,
            content: (message.content as Array<Record<string, unknown>>).map((part, index) =>
              part.type === 'text' ? { ...part, text: seal(String(part.text), index) } : part,
            ),
          };
        }
        return message;
      });
      return { ...body, messages };
    },
    decrypt(hex, aad) {
      const label = version === 2 && aad ? buildResponseAad({ algo, ...aad, nonce, timestamp }) : undefined;
      return decryptField(hex, pair.privateKey, { suite, ...(label ? { aad: label } : {}) });
    },
  };
}

/** Parses an SSE body into its data payloads. */
export function sseData(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `redis-server` is on PATH. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Starts a throwaway, empty redis-server (no persistence) on `port` or a free loopback port. */
export async function startRedis(requestedPort?: number): Promise<{ port: number; stop(): Promise<void> }> {
  const port = requestedPort ?? (await freePort());
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
