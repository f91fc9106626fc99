import { generateKeyPairSync, hash, randomBytes, sign as signWithKey } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  bytesToBase64,
  bytesToBase64Url,
  bytesToHex,
  bytesToUtf8,
  hexToBytes,
  utf8ToBytes,
} from '@confidential-ai/bytes';
import {
  beginStream,
  ChutesCryptoError,
  generateKeyPair,
  type KemKeyPair,
  openRequest,
  sealResponse,
  sealStreamChunk,
} from '@confidential-ai/chutes-crypto';
import type { TestNvidiaPlatform } from '@confidential-ai/nvidia-attestation/testing';
import { lazyTestTdxPlatform, type TestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import { createFakeGpuEvidenceSource, type FakeGpuEvidenceVariant } from './fake-gpu-evidence.js';
import { simulateCompletion, simulateStreamLines } from './simulated-model.js';

/** A model served by the fake server. */
export interface FakeModelOptions {
  /** Model name (the `id` in `/v1/models`). */
  name: string;
  /** Chute id; default a UUID derived from the name. */
  chuteId?: string;
  /** Number of E2E instances; default the server's `instancesPerChute`. */
  instances?: number;
}

/** Options of {@link createFakeChutesServer}. */
export interface FakeChutesServerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /**
   * Synthetic TDX platform that signs the evidence quotes (from `@confidential-ai/tdx-attestation/testing`);
   * default: one created on first use. Share one to know its root before the server starts.
   */
  tdxPlatform?: TestTdxPlatform;
  /**
   * Synthetic NVIDIA-like platform whose simulated GPUs sign each instance's `gpu_evidence` (from
   * `@confidential-ai/nvidia-attestation/testing`); default: one created on first use. Share one to know its TEST
   * roots and make its RIMs before the server starts.
   */
  nvidiaPlatform?: TestNvidiaPlatform;
  /** GPUs per instance, each with its own evidence entry in `gpu_evidence`; 0 serves empty lists. Default 1. */
  gpusPerInstance?: number;
  /** Port; default 0 (a free port). */
  port?: number;
  /**
   * The only API key accepted (the last token of `Authorization`). When omitted, any non-empty token is
   * accepted and identifies its own user.
   */
  apiKey?: string;
  /** Models to serve; default one model, `fake/echo-model`. */
  models?: readonly (string | FakeModelOptions)[];
  /** E2E instances per chute; default 2. */
  instancesPerChute?: number;
  /** Clock in milliseconds (nonce expiry, `created`, rate limit). Default `Date.now`. */
  now?: () => number;
  /** Discovery calls allowed per minute (the relay's global `e2e_instances` limit is 10). Default unlimited. */
  discoveryRateLimit?: number;
  /** Emit plaintext `data: {"usage":...}` events before usage chunks, as relays before 2026-03-27 did. */
  legacyUsageEvents?: boolean;
  /** Serve the `/_fake/*` admin routes (fault injection over HTTP). Default true. */
  adminRoutes?: boolean;
  /**
   * Add `gpu_tokens` (NVIDIA-style JWTs whose `eat_nonce` is the binding digest, signed with an in-memory ES384
   * key that chains to nothing) to evidence entries. Default true.
   */
  evidenceGpuTokens?: boolean;
}

/**
 * A failure the fake server injects. `count` (default 1) is how many matching calls it affects; `instanceId`
 * limits it to one instance.
 *
 * - `instance-gone`: the instance becomes inactive: `/e2e/invoke` answers 410 and discovery leaves it out.
 * - `capacity`: 429 `Instance is at maximum capacity, try again later`.
 * - `bad-gateway`: 502 `Instance requires key exchange, try a different instance`.
 * - `quota`: 429 with a quota message (not an instance failure).
 * - `nonce-reject`: 403 `Invalid, expired, or already-used nonce` (the nonce is still consumed).
 * - `tamper-chunk`: flips one ciphertext bit of stream chunk `chunkIndex` (default 1).
 * - `truncate`: ends the stream after `afterChunks` chunks (default 2), without `[DONE]`.
 * - `e2e-error`: sends `data: {"e2e_error": value}` after `afterChunks` chunks (default 1) and ends.
 * - `wrong-response-key`: seals the answer (or stream) to a fresh key instead of the client's.
 * - `bad-pubkey`: discovery advertises a 1183-byte key for the instance.
 * - `evidence-mismatch`: the evidence quote's REPORTDATA does not match for the instance.
 * - `delay`: waits `ms` (default 50) before each stream chunk.
 * - `td-attributes`: the evidence quote of the instance carries TD_ATTRIBUTES `hex` (8 bytes, 16 hex digits,
 *   byte 0 first), e.g. `0100001000000000` for a debug TD.
 * - `tdx-status`: the evidence entry's `tdx_verification.result.status` is `status` (default `OutOfDate`).
 * - `gpu-token-bad`: the instance's GPU platform token is broken: `variant` `overall-false` (default; the claim
 *   `x-nvidia-overall-att-result` is false), `nonce-mismatch` (`eat_nonce` is another digest), `malformed`
 *   (not a JWT), `missing` (no `gpu_tokens`) or `error` (`gpu_tokens.error` set).
 * - `gpu-evidence-bad`: the instance's `gpu_evidence` is broken (its `gpu_tokens` still claim success):
 *   `variant` `tampered-report` (default; one bit flipped in a signed report), `wrong-nonce` (reports bound to the
 *   caller's raw nonce instead of SHA-256(nonce ‖ e2e_pubkey)), `untrusted-root` (GPUs of another TEST root),
 *   `missing` (an empty list) or `malformed` (a certificate field that is not base64 of a PEM chain).
 * - `rate-limit`: the next call of `path` (`listing`, `discovery` or `evidence`; default any of them) answers 429
 *   `Rate limit exceeded. Try again later.` with `Retry-After: <retryAfter>` (default 30).
 */
export type FakeFault =
  | { type: 'instance-gone'; instanceId?: string; count?: number }
  | { type: 'capacity'; instanceId?: string; count?: number }
  | { type: 'bad-gateway'; instanceId?: string; count?: number }
  | { type: 'quota'; instanceId?: string; count?: number }
  | { type: 'nonce-reject'; instanceId?: string; count?: number }
  | { type: 'tamper-chunk'; instanceId?: string; count?: number; chunkIndex?: number }
  | { type: 'truncate'; instanceId?: string; count?: number; afterChunks?: number }
  | { type: 'e2e-error'; instanceId?: string; count?: number; afterChunks?: number; value?: unknown }
  | { type: 'wrong-response-key'; instanceId?: string; count?: number }
  | { type: 'bad-pubkey'; instanceId?: string; count?: number }
  | { type: 'evidence-mismatch'; instanceId?: string; count?: number }
  | { type: 'delay'; instanceId?: string; count?: number; ms?: number }
  | { type: 'td-attributes'; instanceId?: string; count?: number; hex: string }
  | { type: 'tdx-status'; instanceId?: string; count?: number; status?: string }
  | {
      type: 'gpu-token-bad';
      instanceId?: string;
      count?: number;
      variant?: 'overall-false' | 'nonce-mismatch' | 'malformed' | 'missing' | 'error';
    }
  | { type: 'gpu-evidence-bad'; instanceId?: string; count?: number; variant?: FakeGpuEvidenceVariant }
  | {
      type: 'rate-limit';
      instanceId?: string;
      count?: number;
      path?: 'listing' | 'discovery' | 'evidence';
      retryAfter?: number;
    };

/** The kinds of {@link FakeFault}. */
export type FakeFaultType = FakeFault['type'];

const FAULT_TYPES: readonly FakeFaultType[] = [
  'instance-gone',
  'capacity',
  'bad-gateway',
  'quota',
  'nonce-reject',
  'tamper-chunk',
  'truncate',
  'e2e-error',
  'wrong-response-key',
  'bad-pubkey',
  'evidence-mismatch',
  'delay',
  'td-attributes',
  'tdx-status',
  'gpu-token-bad',
  'gpu-evidence-bad',
  'rate-limit',
];

/** One E2E instance of the fake server. */
export interface FakeInstance {
  /** Relay instance id (a UUID). */
  readonly instanceId: string;
  /** Chute the instance serves. */
  readonly chuteId: string;
  /** Standard base64 of the 1184-byte public key, as discovery advertises it. */
  readonly e2ePubkey: string;
  /** Whether the instance is active (inactive ones answer 410 and are not discovered). */
  active: boolean;
}

/** One chute (model) of the fake server. */
export interface FakeChute {
  /** Model name (the `id` in `/v1/models`). */
  readonly name: string;
  /** Chute id (a UUID). */
  readonly chuteId: string;
  /** Its E2E instances. */
  readonly instances: readonly FakeInstance[];
}

/** One nonce presented to `/e2e/invoke` and what the relay made of it. */
export interface NonceLogEntry {
  /** The `X-E2E-Nonce` value. */
  readonly nonce: string;
  /** The `X-Chute-Id` value. */
  readonly chuteId: string;
  /** The `X-Instance-Id` value. */
  readonly instanceId: string;
  /** Stable pseudonym of the API key's user. */
  readonly user: string;
  /** Whether the relay accepted the nonce. */
  readonly outcome: 'accepted' | 'rejected';
  /** Why a nonce was rejected: unknown (never issued, reused, other user/chute), expired, wrong instance, fault. */
  readonly reason?: 'unknown' | 'expired' | 'wrong-instance' | 'fault';
  /** Server clock (ms). */
  readonly at: number;
}

/** One discovery call. */
export interface DiscoveryLogEntry {
  /** Chute asked for. */
  readonly chuteId: string;
  /** Pseudonym of the caller. */
  readonly user: string;
  /** HTTP status answered. */
  readonly status: number;
  /** Instances returned, in order. */
  readonly instanceIds: readonly string[];
  /** Server clock (ms). */
  readonly at: number;
}

/** A running fake Chutes server (relay and instances in one process). */
export interface FakeChutesServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`; use it as both `apiBase` and `modelsBase`. */
  readonly url: string;
  /**
   * DER root CA of the synthetic TDX platform that signs the evidence quotes: pass it as
   * `createTdxEvidenceFilter({ verify: { root } })` to verify them offline (they do not chain to Intel's root).
   */
  tdxRoot(): Promise<Uint8Array>;
  /**
   * DER of the synthetic NVIDIA-like device root that anchors every instance's `gpu_evidence`: pass it as `root` to
   * `verifyGpuEvidence` (or the gate's `gpu.root`) to accept it (it is not NVIDIA's root).
   */
  nvidiaRoot(): Promise<Uint8Array>;
  /** The synthetic NVIDIA-like platform of the GPU evidence (its RIM TEST root and RIMs). */
  nvidiaPlatform(): Promise<TestNvidiaPlatform>;
  /** The bound port. */
  readonly port: number;
  /** The bound interface. */
  readonly host: string;
  /** The served chutes and their instances. */
  readonly chutes: readonly FakeChute[];
  /** Every nonce presented to `/e2e/invoke`, in order. */
  readonly nonceLog: readonly NonceLogEntry[];
  /** Every discovery call, in order. */
  readonly discoveryLog: readonly DiscoveryLogEntry[];
  /** Counters: invocations, streams started, streams whose client disconnected early, model list and chute listing calls. */
  readonly stats: {
    invocations: number;
    streams: number;
    streamsClosedEarly: number;
    modelListCalls: number;
    chuteListingCalls: number;
  };
  /** Adds a fault. */
  inject(fault: FakeFault): void;
  /** Removes every pending fault. */
  clearFaults(): void;
  /** Faults not yet used up. */
  readonly faults: readonly FakeFault[];
  /** Marks an instance active or inactive. */
  setInstanceActive(instanceId: string, active: boolean): void;
  /** Forgets every issued nonce (as if the Redis hashes expired). */
  expireAllNonces(): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const MAX_INSTANCES_RETURNED = 5;
const NONCES_PER_INSTANCE = 10;
const NONCE_CLIENT_TTL = 60;
const NONCE_REDIS_TTL = 75;
const MAX_BODY = 32 * 1024 * 1024;
const E2E_PATHS = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/tokenize',
  '/detokenize',
  '/v1/models',
]);

/** A UUID derived from a name (SHA-256, formatted as a version-4-shaped UUID). */
export function fakeChuteId(name: string): string {
  const hex = hash('sha256', `chute:${name}`, 'hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function uuid(): string {
  return globalThis.crypto.randomUUID();
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Truthiness as the Python instance sees it (empty containers are false). */
function pythonTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isPlainObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}

function sendDetail(response: ServerResponse, status: number, detail: string): void {
  sendJson(response, status, { detail });
}

function readBody(request: IncomingMessage): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_BODY) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : new Uint8Array(Buffer.concat(chunks))));
    request.on('error', reject);
  });
}

/**
 * Starts a fake Chutes server on loopback: the relay (`GET /v1/models`, `GET /e2e/instances/{chute_id}`,
 * `POST /e2e/invoke`, `GET /chutes/{chute}/evidence`, the platform listing `GET /chutes/?name=`) and its E2E instances in one process, with real
 * ML-KEM-768 / HKDF-SHA256 / ChaCha20-Poly1305 through `@confidential-ai/chutes-crypto`, the relay's nonce
 * store semantics and error texts, a deterministic simulated vLLM model, and injectable faults.
 *
 * @example
 * ```ts
 * import { createFakeChutesServer } from '@confidential-ai/chutes-transport/testing';
 * const server = await createFakeChutesServer({ apiKey: 'cpk_test' });
 * const fetch = createChutesFetch({ apiKey: 'cpk_test', apiBase: server.url, modelsBase: server.url });
 * // ... new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'cpk_test', fetch })
 * await server.close();
 * ```
 */
export async function createFakeChutesServer(
  options: FakeChutesServerOptions = {},
): Promise<FakeChutesServer> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? Date.now;
  const perChute = options.instancesPerChute ?? 2;
  const adminRoutes = options.adminRoutes ?? true;
  const modelSpecs = (options.models ?? ['fake/echo-model']).map((spec) =>
    typeof spec === 'string' ? { name: spec } : spec,
  );

  const gpusPerInstance = options.gpusPerInstance ?? 1;
  if (!Number.isSafeInteger(gpusPerInstance) || gpusPerInstance < 0 || gpusPerInstance > 8)
    throw new RangeError('gpusPerInstance must be 0..8');
  const keys = new Map<string, KemKeyPair>();
  const instances = new Map<string, FakeInstance>();
  /** Position of each instance on the server: its GPUs are the simulated platform's GPUs from that position on. */
  const instanceIndex = new Map<string, number>();
  const chutes: FakeChute[] = modelSpecs.map((spec) => {
    const chuteId = spec.chuteId ?? fakeChuteId(spec.name);
    const list: FakeInstance[] = [];
    for (let index = 0; index < (spec.instances ?? perChute); index++) {
      const pair = generateKeyPair();
      const instance: FakeInstance = {
        instanceId: uuid(),
        chuteId,
        e2ePubkey: bytesToBase64(pair.publicKey),
        active: true,
      };
      keys.set(instance.instanceId, pair);
      instanceIndex.set(instance.instanceId, instances.size);
      instances.set(instance.instanceId, instance);
      list.push(instance);
    }
    return { name: spec.name, chuteId, instances: list };
  });
  const chuteById = new Map(chutes.map((chute) => [chute.chuteId, chute]));
  const chuteByName = new Map(chutes.map((chute) => [chute.name, chute]));

  const users = new Map<string, string>();
  const nonceStore = new Map<string, { fields: Map<string, string>; expiresAt: number }>();
  const nonceLog: NonceLogEntry[] = [];
  const discoveryLog: DiscoveryLogEntry[] = [];
  const stats = {
    invocations: 0,
    streams: 0,
    streamsClosedEarly: 0,
    modelListCalls: 0,
    chuteListingCalls: 0,
  };
  const faults: (FakeFault & { remaining: number })[] = [];
  const rate = { minute: -1, count: 0 };
  let responseCounter = 0;

  const takeFault = <T extends FakeFaultType>(
    type: T,
    instanceId: string,
  ): Extract<FakeFault, { type: T }> | undefined => {
    const index = faults.findIndex(
      (fault) => fault.type === type && (fault.instanceId === undefined || fault.instanceId === instanceId),
    );
    if (index === -1) return undefined;
    const fault = faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault as unknown as Extract<FakeFault, { type: T }>;
  };

  /** Answers 429 with Retry-After when a `rate-limit` fault matches `path`; returns whether it did. */
  const rateLimited = (response: ServerResponse, path: 'listing' | 'discovery' | 'evidence'): boolean => {
    const index = faults.findIndex(
      (fault) => fault.type === 'rate-limit' && (fault.path === undefined || fault.path === path),
    );
    if (index === -1) return false;
    const fault = faults[index]! as Extract<FakeFault, { type: 'rate-limit' }> & { remaining: number };
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    sendJson(
      response,
      429,
      { detail: 'Rate limit exceeded. Try again later.' },
      { 'retry-after': String(fault.retryAfter ?? 30) },
    );
    return true;
  };

  const inject = (fault: FakeFault): void => {
    if (!isPlainObject(fault) || !FAULT_TYPES.includes(fault.type))
      throw new TypeError('fault.type is not a known fault');
    const count = fault.count ?? 1;
    if (!(count > 0)) throw new RangeError('fault.count must be positive');
    if (fault.type === 'td-attributes' && !/^[0-9a-fA-F]{16}$/.test(String(fault.hex))) {
      throw new TypeError('fault.hex must be 8 bytes as 16 hex digits');
    }
    faults.push({ ...fault, remaining: count });
  };

  const authenticate = (request: IncomingMessage): string | undefined => {
    const header = request.headers.authorization;
    if (typeof header !== 'string') return undefined;
    const parts = header.trim().split(' ');
    const token = parts[parts.length - 1];
    if (!token) return undefined;
    if (options.apiKey !== undefined && token !== options.apiKey) return undefined;
    let user = users.get(token);
    if (!user) {
      user = `user-${users.size + 1}`;
      users.set(token, user);
    }
    return user;
  };

  const unauthorized = (response: ServerResponse) =>
    sendDetail(response, 401, "Can't find a user with that api key in our db :(");

  const handleModels = (response: ServerResponse) => {
    stats.modelListCalls++;
    const created = Math.floor(now() / 1000);
    sendJson(response, 200, {
      object: 'list',
      data: chutes.map((chute) => ({
        id: chute.name,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: chute.name,
        parent: null,
        max_model_len: 32768,
        chute_id: chute.chuteId,
        price: { input: { tao: 0, usd: 0 }, output: { tao: 0, usd: 0 } },
        pricing: { prompt: 0, completion: 0 },
        confidential_compute: true,
      })),
    });
  };

  // The platform listing `GET /chutes/?include_public=true&name=<model>`: the relay filters names with a
  // case-insensitive substring match, so a name can match several chutes.
  const handleListing = (request: IncomingMessage, response: ServerResponse, url: URL) => {
    stats.chuteListingCalls++;
    if (request.headers.authorization !== undefined && !authenticate(request)) return unauthorized(response);
    if (rateLimited(response, 'listing')) return;
    const name = (url.searchParams.get('name') ?? '').toLowerCase();
    const items = chutes
      .filter((chute) => chute.name.toLowerCase().includes(name))
      .map((chute) => ({
        chute_id: chute.chuteId,
        name: chute.name,
        tagline: 'fake chute',
        public: true,
        standard_template: 'vllm',
        tee: true,
        created_at: new Date(0).toISOString(),
        instances: chute.instances
          .filter((instance) => instance.active)
          .map((instance) => ({ instance_id: instance.instanceId, active: true, verified: true })),
      }));
    sendJson(response, 200, { total: items.length, page: 0, limit: 25, items });
  };

  const handleDiscovery = (request: IncomingMessage, response: ServerResponse, chuteId: string) => {
    const user = authenticate(request);
    if (!user) return unauthorized(response);
    if (rateLimited(response, 'discovery')) {
      discoveryLog.push({ chuteId, user, status: 429, instanceIds: [], at: now() });
      return;
    }
    const log = (status: number, ids: string[] = []) =>
      discoveryLog.push({ chuteId, user, status, instanceIds: ids, at: now() });
    if (options.discoveryRateLimit !== undefined) {
      const minute = Math.floor(now() / 60_000);
      if (rate.minute !== minute) {
        rate.minute = minute;
        rate.count = 0;
      }
      rate.count++;
      if (rate.count > options.discoveryRateLimit) {
        log(429);
        return sendDetail(response, 429, 'Rate limit exceeded. Try again later.');
      }
    }
    const chute = chuteById.get(chuteId);
    if (!chute) {
      log(404);
      return sendDetail(response, 404, 'Chute not found');
    }
    const active = chute.instances.filter((instance) => instance.active);
    if (active.length === 0) {
      log(404);
      return sendDetail(response, 404, 'No active instances found for this chute');
    }
    // Random sample of at most five.
    const sample = [...active];
    for (let index = sample.length - 1; index > 0; index--) {
      const other = randomBytes(4).readUInt32LE(0) % (index + 1);
      [sample[index], sample[other]] = [sample[other]!, sample[index]!];
    }
    const selected = sample.slice(0, MAX_INSTANCES_RETURNED);
    const hashKey = `${user}:${chuteId}`;
    const hash = nonceStore.get(hashKey);
    const fields = hash && now() < hash.expiresAt ? hash.fields : new Map<string, string>();
    const body = selected.map((instance) => {
      const nonces: string[] = [];
      for (let index = 0; index < NONCES_PER_INSTANCE; index++) {
        const token = bytesToBase64Url(randomBytes(24));
        fields.set(token, instance.instanceId);
        nonces.push(token);
      }
      let e2ePubkey = instance.e2ePubkey;
      if (takeFault('bad-pubkey', instance.instanceId)) {
        e2ePubkey = bytesToBase64(keys.get(instance.instanceId)!.publicKey.subarray(0, 1183));
      }
      return { instance_id: instance.instanceId, e2e_pubkey: e2ePubkey, nonces };
    });
    // The TTL of the whole hash is reset by every discovery call.
    nonceStore.set(hashKey, { fields, expiresAt: now() + NONCE_REDIS_TTL * 1000 });
    log(
      200,
      selected.map((instance) => instance.instanceId),
    );
    sendJson(response, 200, {
      instances: body,
      nonce_expires_in: NONCE_CLIENT_TTL,
      nonce_expires_at: Math.floor(now() / 1000) + NONCE_CLIENT_TTL,
    });
  };

  // Evidence quotes are real, signed TDX v4 quotes from a synthetic platform (its own root CA, generated on
  // first use), so clients can run the full offline verification against `tdxRoot()`.
  const tdxPlatform = lazyTestTdxPlatform(options.tdxPlatform);
  // GPU evidence is real-shaped and really signed: the nvtrust SDK evidence list of simulated GPUs (a synthetic
  // NVIDIA-like TEST root), bound to the same digest as the quote's REPORTDATA[0:32].
  const gpuEvidence = createFakeGpuEvidenceSource({
    platform: options.nvidiaPlatform,
    gpusPerInstance,
  });

  // NVIDIA-style attestation tokens: [["JWT", <platform token>], {"GPU-0": <GPU token>}], ES384 with an
  // in-memory key (fake: nothing chains to NVIDIA), the platform token's eat_nonce being the binding digest.
  let gpuKey: ReturnType<typeof generateKeyPairSync> | undefined;
  const jwt = (claims: Record<string, unknown>): string => {
    gpuKey ??= generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const part = (value: unknown) => bytesToBase64Url(utf8ToBytes(JSON.stringify(value)));
    const signingInput = `${part({ alg: 'ES384', typ: 'JWT', kid: 'fake-nras' })}.${part(claims)}`;
    const signature = signWithKey('sha384', Buffer.from(signingInput), {
      key: gpuKey.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${signingInput}.${bytesToBase64Url(signature)}`;
  };
  const gpuTokens = (
    digest: string,
    variant: Extract<FakeFault, { type: 'gpu-token-bad' }>['variant'] | undefined,
  ): Record<string, unknown> => {
    const issuedAt = Math.floor(now() / 1000);
    const platform = jwt({
      iss: 'https://nras.attestation.nvidia.com',
      sub: 'NVIDIA-PLATFORM-ATTESTATION',
      iat: issuedAt,
      exp: issuedAt + 3600,
      eat_nonce: variant === 'nonce-mismatch' ? hash('sha256', digest, 'hex') : digest,
      'x-nvidia-overall-att-result': variant !== 'overall-false',
      'x-nvidia-ver': '2.0',
    });
    const device = jwt({
      iss: 'https://nras.attestation.nvidia.com',
      sub: 'NVIDIA-GPU-ATTESTATION',
      iat: issuedAt,
      exp: issuedAt + 3600,
      eat_nonce: digest,
      measres: 'success',
      'x-nvidia-gpu-arch-check': true,
    });
    return {
      tokens: [['JWT', variant === 'malformed' ? 'not-a-jwt' : platform], { 'GPU-0': device }],
      ...(variant === 'error' ? { error: 'simulated NVIDIA attestation failure' } : {}),
    };
  };

  const handleEvidence = async (
    request: IncomingMessage,
    response: ServerResponse,
    chuteRef: string,
    url: URL,
  ) => {
    const user = authenticate(request);
    if (!user) return unauthorized(response);
    const nonce = url.searchParams.get('nonce') ?? '';
    if (!/^[0-9a-fA-F]{64}$/.test(nonce)) {
      return sendDetail(response, 400, 'Invalid nonce: must be exactly 64 hex characters');
    }
    const chute = chuteById.get(chuteRef) ?? chuteByName.get(chuteRef);
    if (!chute) return sendDetail(response, 404, 'Chute not found');
    if (rateLimited(response, 'evidence')) return;
    const tdx = await tdxPlatform();
    const evidence = await Promise.all(
      chute.instances
        .filter((instance) => instance.active)
        .map(async (instance) => {
          const reportData = new Uint8Array(64);
          reportData.set(hash('sha256', nonce + instance.e2ePubkey, 'buffer'), 0);
          const digest = bytesToHex(reportData.subarray(0, 32));
          if (takeFault('evidence-mismatch', instance.instanceId)) reportData[0]! ^= 0xff;
          const attributes = takeFault('td-attributes', instance.instanceId);
          const status = takeFault('tdx-status', instance.instanceId);
          const gpu = takeFault('gpu-token-bad', instance.instanceId);
          const badEvidence = takeFault('gpu-evidence-bad', instance.instanceId);
          const entry: Record<string, unknown> = {
            quote: bytesToBase64(
              await tdx.createQuote({
                reportData,
                ...(attributes ? { tdAttributes: hexToBytes(attributes.hex) } : {}),
              }),
            ),
            gpu_evidence: await gpuEvidence.evidence(
              instanceIndex.get(instance.instanceId)!,
              digest,
              nonce.toLowerCase(),
              badEvidence ? (badEvidence.variant ?? 'tampered-report') : undefined,
            ),
            instance_id: instance.instanceId,
            certificate: '',
            tdx_verification: {
              result: { status: status ? (status.status ?? 'OutOfDate') : 'UpToDate', advisory_ids: [] },
            },
          };
          if (options.evidenceGpuTokens !== false && gpu?.variant !== 'missing') {
            entry.gpu_tokens = gpuTokens(digest, gpu?.variant);
          }
          return entry;
        }),
    );
    sendJson(response, 200, { evidence, failed_instance_ids: [] });
  };

  const consumeNonce = (user: string, chuteId: string, instanceId: string, nonce: string): NonceLogEntry => {
    const hashKey = `${user}:${chuteId}`;
    const hash = nonceStore.get(hashKey);
    const base = { nonce, chuteId, instanceId, user, at: now() };
    if (!hash) return { ...base, outcome: 'rejected', reason: 'unknown' };
    if (now() >= hash.expiresAt) {
      nonceStore.delete(hashKey);
      return { ...base, outcome: 'rejected', reason: 'expired' };
    }
    const bound = hash.fields.get(nonce);
    if (bound === undefined) return { ...base, outcome: 'rejected', reason: 'unknown' };
    if (bound !== instanceId) return { ...base, outcome: 'rejected', reason: 'wrong-instance' };
    hash.fields.delete(nonce);
    return { ...base, outcome: 'accepted' };
  };

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const handleInvoke = async (request: IncomingMessage, response: ServerResponse) => {
    stats.invocations++;
    const body = await readBody(request);
    const user = authenticate(request);
    if (!user) return unauthorized(response);
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const chuteId = header('x-chute-id');
    const instanceId = header('x-instance-id');
    const nonce = header('x-e2e-nonce');
    const missing = (
      [
        ['x-chute-id', chuteId],
        ['x-instance-id', instanceId],
        ['x-e2e-nonce', nonce],
      ] as const
    ).filter(([, value]) => value === undefined);
    if (missing.length > 0 || chuteId === undefined || instanceId === undefined || nonce === undefined) {
      return sendJson(response, 422, {
        detail: missing.map(([name]) => ({
          type: 'missing',
          loc: ['header', name],
          msg: 'Field required',
          input: null,
        })),
      });
    }
    const streamHeader = (header('x-e2e-stream') ?? 'false').toLowerCase() === 'true';
    const path = header('x-e2e-path') ?? '/';

    // Step 2: the nonce is consumed before every other check.
    let entry = consumeNonce(user, chuteId, instanceId, nonce);
    if (entry.outcome === 'accepted' && takeFault('nonce-reject', instanceId)) {
      entry = { ...entry, outcome: 'rejected', reason: 'fault' };
    }
    nonceLog.push(entry);
    if (entry.outcome !== 'accepted')
      return sendDetail(response, 403, 'Invalid, expired, or already-used nonce');

    // Step 3: instance.
    const instance = instances.get(instanceId);
    if (!instance) return sendDetail(response, 404, 'Instance not found');
    if (instance.chuteId !== chuteId)
      return sendDetail(response, 400, 'Instance does not belong to the specified chute');
    if (takeFault('instance-gone', instanceId)) instance.active = false;
    if (!instance.active) return sendDetail(response, 410, 'Instance is no longer active');
    // Step 4: chute.
    if (!chuteById.has(chuteId)) return sendDetail(response, 404, 'Chute not found');
    // Step 6: quota.
    if (takeFault('quota', instanceId)) {
      return sendDetail(response, 429, 'Daily free model limit reached for this user (fake quota).');
    }
    // Step 7: body.
    if (body === undefined) return sendDetail(response, 413, 'Request body too large');
    if (body.length === 0) return sendDetail(response, 400, 'Empty request body');
    // Step 8: concurrency.
    if (takeFault('capacity', instanceId)) {
      return sendDetail(response, 429, 'Instance is at maximum capacity, try again later');
    }
    // Step 9: the instance.
    if (takeFault('bad-gateway', instanceId)) {
      return sendDetail(response, 502, 'Instance requires key exchange, try a different instance');
    }
    if (!E2E_PATHS.has(path)) return sendDetail(response, 403, 'Instance returned status 403');
    let payload: Record<string, unknown>;
    let responseKey: Uint8Array;
    try {
      const opened = openRequest(body, keys.get(instanceId)!.secretKey);
      payload = opened.payload;
      responseKey = opened.responsePublicKey;
    } catch (error) {
      const code = ChutesCryptoError.isInstance(error) ? (error as ChutesCryptoError).code : undefined;
      const detail =
        code === 'ERR_DECOMPRESS_FAILED' || code === 'ERR_JSON_INVALID'
          ? `E2E decryption failed: ${(error as Error).message}`
          : 'E2E decryption failed';
      return sendDetail(response, 400, JSON.stringify({ detail }));
    }
    const stream = pythonTruthy(payload.stream);
    if (stream !== streamHeader) return sendDetail(response, 500, 'Internal error during E2E invocation');
    if (takeFault('wrong-response-key', instanceId)) responseKey = generateKeyPair().publicKey;
    const context = { id: `chatcmpl-fake-${++responseCounter}`, created: Math.floor(now() / 1000) };

    if (path !== '/v1/chat/completions' && path !== '/v1/completions') {
      const result =
        path === '/v1/models'
          ? { object: 'list', data: [{ id: payload.model, object: 'model' }] }
          : { count: 0, tokens: [] };
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      return response.end(sealResponse(JSON.stringify(result), responseKey));
    }
    if (!stream) {
      const result = simulateCompletion(path, payload, context);
      const blob = sealResponse(JSON.stringify(result), responseKey);
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(blob.length),
      });
      return response.end(blob);
    }

    // Streaming: the instance forces usage reporting, then emits e2e_init and one e2e event per line.
    const streamOptions = isPlainObject(payload.stream_options) ? payload.stream_options : {};
    payload.stream_options = { ...streamOptions, include_usage: true, continuous_usage_stats: true };
    const lines = simulateStreamLines(path, payload, context);
    stats.streams++;
    const tamper = takeFault('tamper-chunk', instanceId);
    const truncate = takeFault('truncate', instanceId);
    const e2eError = takeFault('e2e-error', instanceId);
    const delay = takeFault('delay', instanceId);
    let closedEarly = false;
    response.on('close', () => {
      if (!response.writableFinished) {
        closedEarly = true;
        stats.streamsClosedEarly++;
      }
    });
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const write = (text: string) => {
      if (!closedEarly) response.write(text);
    };
    const { init, streamKey } = beginStream(responseKey);
    write(`data: ${JSON.stringify({ e2e_init: bytesToBase64(init) })}\n\n`);
    for (let index = 0; index < lines.length; index++) {
      if (closedEarly) return;
      if (delay) await sleep(delay.ms ?? 50);
      if (closedEarly) return;
      if (truncate && index === (truncate.afterChunks ?? 2)) return response.end();
      if (e2eError && index === (e2eError.afterChunks ?? 1)) {
        write(
          `data: ${JSON.stringify({ e2e_error: e2eError.value ?? { message: 'simulated instance failure', type: 'e2e_error', code: 500 } })}\n\n`,
        );
        return response.end();
      }
      const line = lines[index]!;
      if (options.legacyUsageEvents && line.startsWith('data: {')) {
        const parsed: unknown = JSON.parse(line.slice(6));
        if (isPlainObject(parsed) && parsed.usage)
          write(`data: ${JSON.stringify({ usage: parsed.usage })}\n\n`);
      }
      const sealed = sealStreamChunk(line, streamKey);
      if (tamper && index === (tamper.chunkIndex ?? 1)) sealed[sealed.length - 20]! ^= 0x01;
      write(`data: ${JSON.stringify({ e2e: bytesToBase64(sealed) })}\n\n`);
      // Let the event loop breathe so many streams interleave and disconnects are noticed.
      if (index % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
    response.end();
  };

  const handleAdmin = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    if (path === '/_fake/faults' && request.method === 'POST') {
      const body = await readBody(request);
      try {
        const parsed: unknown = JSON.parse(bytesToUtf8(body ?? new Uint8Array(0)));
        const list = Array.isArray(parsed) ? parsed : [parsed];
        for (const fault of list) inject(fault as FakeFault);
      } catch (error) {
        return sendDetail(response, 400, `invalid fault: ${(error as Error).message}`);
      }
      return sendJson(response, 200, { faults: faults.length });
    }
    if (path === '/_fake/faults' && request.method === 'DELETE') {
      faults.length = 0;
      return sendJson(response, 200, { faults: 0 });
    }
    if (path === '/_fake/state' && request.method === 'GET') {
      return sendJson(response, 200, {
        chutes: chutes.map((chute) => ({
          name: chute.name,
          chute_id: chute.chuteId,
          instances: chute.instances.map((instance) => ({
            instance_id: instance.instanceId,
            active: instance.active,
          })),
        })),
        stats,
        faults,
        nonces: {
          accepted: nonceLog.filter((entry) => entry.outcome === 'accepted').length,
          rejected: nonceLog.filter((entry) => entry.outcome === 'rejected').length,
        },
        discoveries: discoveryLog.length,
      });
    }
    return sendDetail(response, 404, 'Not Found');
  };

  const route = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    const path = url.pathname;
    const method = request.method ?? 'GET';
    if (method === 'GET' && path === '/v1/models') return handleModels(response);
    if (method === 'GET' && (path === '/chutes/' || path === '/chutes'))
      return handleListing(request, response, url);
    if (method === 'POST' && path === '/e2e/invoke') return handleInvoke(request, response);
    let match = /^\/e2e\/instances\/([^/]+)$/.exec(path);
    if (method === 'GET' && match) return handleDiscovery(request, response, decodeURIComponent(match[1]!));
    match = /^\/chutes\/(.+)\/evidence$/.exec(path);
    if (method === 'GET' && match)
      return handleEvidence(request, response, decodeURIComponent(match[1]!), url);
    if (adminRoutes && path.startsWith('/_fake/')) return handleAdmin(request, response, path);
    return sendDetail(response, 404, 'Not Found');
  };

  const server: Server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendDetail(response, 500, 'Internal error during E2E invocation');
      else response.destroy(error instanceof Error ? error : undefined);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || host.includes(':') ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;

  return {
    url,
    async tdxRoot() {
      return (await tdxPlatform()).root;
    },
    async nvidiaRoot() {
      return (await gpuEvidence.platform()).deviceRoot;
    },
    nvidiaPlatform: gpuEvidence.platform,
    port: address.port,
    host,
    chutes,
    nonceLog,
    discoveryLog,
    stats,
    get faults() {
      return faults.map(({ remaining, ...fault }) => ({ ...fault, count: remaining }) as FakeFault);
    },
    inject,
    clearFaults() {
      faults.length = 0;
    },
    setInstanceActive(instanceId, active) {
      const instance = instances.get(instanceId);
      if (!instance) throw new RangeError('unknown instanceId');
      instance.active = active;
    },
    expireAllNonces() {
      nonceStore.clear();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
