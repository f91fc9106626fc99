import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Bytes, bytesToHex, concatBytes, hexToBytes } from '@confidential-ai/bytes';
import type { TestNvidiaPlatform } from '@confidential-ai/nvidia-attestation/testing';
import type { TdxCollateralJson } from '@confidential-ai/tdx-attestation';
import {
  createTestTdxPlatform,
  lazyTestTdxPlatform,
  type TestTdxPlatform,
} from '@confidential-ai/tdx-attestation/testing';
import { signingAddress, signingAddressBytes } from '../address.js';
import { VeniceE2eeError } from '../errors.js';
import { decryptField, encryptField, generateFieldKeyPair } from '../field-cipher.js';
import type { FieldKeyPair } from '../key-agreement.js';
import { selectToolFormat } from '../tools.js';
import { createFakeGpuEvidence } from './fake-gpu-evidence.js';

/** A model served by the fake. */
export interface FakeVeniceModel {
  /** Model id, e.g. `e2ee-qwen3-6-27b`. */
  id: string;
  /** Attestation layout: `flat` (Shape A, default) or `aci` (Shape B). */
  shape?: 'flat' | 'aci';
  /** Field that carries reasoning deltas: `reasoning_content` (default) or `reasoning`. */
  reasoningField?: 'reasoning_content' | 'reasoning';
  /** Model key pair (default generated). */
  keyPair?: FieldKeyPair;
}

/**
 * Faults the fake can inject. Attestation: `bad-nonce`, `wrong-model`, `not-verified`, `missing-verified`,
 * `debug-flag` (root `debug: true`), `debug-quote` (TD_ATTRIBUTES bit 0), `wrong-key` (another key than the
 * one in REPORTDATA), `conflicting-keys` (`signing_key` ≠ `signing_public_key`), `invalid-key`, `bad-address`
 * (`signing_address` of another key), `binding-address`, `binding-padding`, `binding-nonce` (REPORTDATA parts),
 * `missing-quote`, `malformed-quote`, `quote-mismatch` (Shape B root and evidence quotes differ),
 * `tampered-quote-body` (one bit of MRTD flipped after signing), `tampered-quote-signature` (one bit of the
 * quote's ECDSA signature flipped), `untrusted-quote` (a well-formed quote signed by another test platform whose
 * root is not {@link FakeVeniceServer.tdxRoot}),
 * `report-data-mismatch` (Shape B `quote_report_data`), `no-nvidia`, `nvidia-number`, `nvidia-empty` (the gateway's
 * placeholder payload with an empty `evidence_list`), `tampered-nvidia-report` (one bit of GPU 0's signed SPDM
 * report flipped after signing), `nvidia-wrong-nonce` (the GPU reports answer another nonce), `untrusted-nvidia`
 * (evidence signed under another test platform whose root is not {@link FakeVeniceServer.nvidiaRoot}),
 * `attestation-401`, `attestation-500`, `attestation-not-json`, `attestation-short-nonce-ok` (accepts short
 * nonces). Chat: `chat-401`, `chat-500`, `plaintext-content`, `plaintext-reasoning`, `tampered-content`,
 * `wrong-client-key` (encrypts to another key), `broken-stream` (ends without `[DONE]`), `error-event`,
 * `extra-field` (unknown SSE field).
 */
export type FakeVeniceFault =
  | 'bad-nonce'
  | 'wrong-model'
  | 'not-verified'
  | 'missing-verified'
  | 'debug-flag'
  | 'debug-quote'
  | 'wrong-key'
  | 'conflicting-keys'
  | 'invalid-key'
  | 'bad-address'
  | 'binding-address'
  | 'binding-padding'
  | 'binding-nonce'
  | 'missing-quote'
  | 'malformed-quote'
  | 'quote-mismatch'
  | 'report-data-mismatch'
  | 'tampered-quote-body'
  | 'tampered-quote-signature'
  | 'untrusted-quote'
  | 'no-nvidia'
  | 'nvidia-number'
  | 'nvidia-empty'
  | 'tampered-nvidia-report'
  | 'nvidia-wrong-nonce'
  | 'untrusted-nvidia'
  | 'attestation-401'
  | 'attestation-500'
  | 'attestation-not-json'
  | 'chat-401'
  | 'chat-500'
  | 'plaintext-content'
  | 'plaintext-reasoning'
  | 'tampered-content'
  | 'wrong-client-key'
  | 'broken-stream'
  | 'error-event'
  | 'extra-field';

/** What the simulated model sees. */
export interface FakeVeniceTurn {
  /** Model id. */
  model: string;
  /** Decrypted messages. */
  messages: Array<{ role: string; content: string }>;
  /** 0-based number of chat requests served so far for this model. */
  requestIndex: number;
}

/** What the simulated model answers. */
export interface FakeVeniceReply {
  /** Answer text. */
  content: string;
  /** Optional reasoning text (streamed before the content). */
  reasoning?: string;
  /** Finish reason; default `stop`. */
  finishReason?: string;
  /** Wait this long (ms) after the role chunk before streaming the answer (timeout tests). */
  delayMs?: number;
}

/** Decides the simulated model's answer. */
export type FakeVeniceResponder = (turn: FakeVeniceTurn) => FakeVeniceReply | string;

/** Options of {@link createFakeVeniceServer}. */
export interface FakeVeniceOptions {
  /** Bind address; default `127.0.0.1`. */
  host?: string;
  /** Port; default 0 (free port). */
  port?: number;
  /** Models; default an E2EE Qwen, GLM and Gemma model. */
  models?: FakeVeniceModel[];
  /** When set, every request must send `Authorization: Bearer <apiKey>` (else 401). */
  apiKey?: string;
  /** Also list a non-text model without `capabilities` (spec section 10.1). */
  includeNonTextModel?: boolean;
  /** The simulated model; default {@link defaultFakeResponder}. */
  responder?: FakeVeniceResponder;
  /** Characters per streamed content chunk; default 8. */
  chunkSize?: number;
  /**
   * The synthetic TDX platform (from `@confidential-ai/tdx-attestation/testing`) that signs the attestation
   * quotes. Default: one platform per fake instance, created on first use, with its own test root CA.
   */
  tdxPlatform?: TestTdxPlatform;
  /**
   * Replaces the platform as the builder of the attestation quote (e.g. to serve captured or hand-made
   * quotes). {@link FakeVeniceServer.tdxRoot} still describes the platform, which then signs nothing.
   */
  quoteFactory?: (options: { reportData: Uint8Array; debug: boolean }) => Uint8Array | Promise<Uint8Array>;
  /**
   * The synthetic NVIDIA-like platform (from `@confidential-ai/nvidia-attestation/testing`) whose GPUs sign the
   * `nvidia_payload` evidence. Default: one platform per fake instance, created on first use, with its own test
   * root.
   */
  nvidiaPlatform?: TestNvidiaPlatform;
  /** Number of GPUs in each `nvidia_payload` (Venice's nodes have 8). Default 8. */
  gpuCount?: number;
}

/** A logged request. */
export interface FakeVeniceRequestLog {
  /** HTTP method. */
  method: string;
  /** Path with query. */
  url: string;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  /** Parsed JSON body, if any. */
  body: unknown;
}

/** A running fake Venice server. */
export interface FakeVeniceServer {
  /** `http://host:port/api/v1`. */
  readonly baseUrl: string;
  /** Port. */
  readonly port: number;
  /** Every request received, in order. */
  readonly requests: FakeVeniceRequestLog[];
  /** Models with their key pairs. */
  readonly models: ReadonlyArray<Required<Pick<FakeVeniceModel, 'id' | 'keyPair'>> & FakeVeniceModel>;
  /** Turns a fault on or off. */
  setFault(fault: FakeVeniceFault, enabled?: boolean): void;
  /** Turns every fault off. */
  clearFaults(): void;
  /** Replaces the simulated model. */
  setResponder(responder: FakeVeniceResponder): void;
  /** Number of attestation requests answered. */
  readonly attestationCount: number;
  /**
   * DER of the test root CA that anchors the attestation quotes' PCK chain. Pass it as `trustedRootCa` (with
   * {@link FakeVeniceServer.tdxCollateral} as `tdxCollateral`) to run `requireTdx` verification offline; the
   * quotes do NOT chain to Intel's root, so the pinned Intel root rejects them.
   */
  tdxRoot(): Promise<Bytes>;
  /**
   * DCAP collateral (TCB info, QE identity, CRLs; dcap-qvl JSON shape) signed under {@link FakeVeniceServer.tdxRoot},
   * with TCB status `UpToDate`, valid 2025-01-01 to 2099-01-01. Built once per fake instance.
   */
  tdxCollateral(): Promise<TdxCollateralJson>;
  /**
   * DER of the test root that anchors the GPU evidence of `nvidia_payload`. Pass it as `nvidiaRoot` to verify the
   * fake's GPU evidence; NVIDIA's pinned root rejects it.
   */
  nvidiaRoot(): Promise<Bytes>;
  /** Stops the server. */
  close(): Promise<void>;
}

const DEFAULT_MODELS: FakeVeniceModel[] = [
  { id: 'e2ee-qwen3-6-27b' },
  { id: 'e2ee-glm-5-2-p', shape: 'aci', reasoningField: 'reasoning' },
  { id: 'e2ee-gemma-4-31b' },
];

function exampleValue(schema: unknown): unknown {
  const s = (typeof schema === 'object' && schema !== null ? schema : {}) as Record<string, unknown>;
  if (Array.isArray(s['enum']) && s['enum'].length > 0) return s['enum'][0];
  const type = Array.isArray(s['type']) ? s['type'][0] : s['type'];
  switch (type) {
    case 'integer':
      return 3;
    case 'number':
      return 1.5;
    case 'boolean':
      return true;
    case 'array':
      return [exampleValue(s['items'])];
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = (s['properties'] ?? {}) as Record<string, unknown>;
      for (const key of (s['required'] as string[] | undefined) ?? Object.keys(properties))
        out[key] = exampleValue(properties[key]);
      return out;
    }
    default:
      return 'Paris';
  }
}

/**
 * Renders a tool call in a model's native format (used by the default responder and by tests).
 * @param model - Model id (selects the format as the proxy does).
 */
export function renderFakeToolCall(model: string, name: string, args: Record<string, unknown>): string {
  const format = selectToolFormat(model);
  if (format === 'glm') {
    const pairs = Object.entries(args)
      .map(
        ([key, value]) =>
          `<arg_key>${key}</arg_key>\n<arg_value>${typeof value === 'string' ? value : JSON.stringify(value)}</arg_value>`,
      )
      .join('\n');
    return `<tool_call>${name}\n${pairs}\n</tool_call>`;
  }
  return `<tool_call>\n${JSON.stringify({ name, arguments: args })}\n</tool_call>`;
}

/**
 * The default simulated model: when the conversation carries the tool controller prompt ("Available
 * tools:"), it calls the first tool with example arguments from the schema in the model's format; otherwise
 * it answers `You said: <last user message>` with a short reasoning text.
 */
export const defaultFakeResponder: FakeVeniceResponder = (turn) => {
  const system = turn.messages.find((message) => message.role === 'system')?.content ?? '';
  const marker = system.lastIndexOf('Available tools:\n');
  const lastUser = [...turn.messages].reverse().find((message) => message.role === 'user');
  if (marker >= 0 && !lastUser?.content.includes('<tool_result')) {
    try {
      const tools = JSON.parse(system.slice(marker + 'Available tools:\n'.length).split('\n')[0]!) as Array<{
        function: { name: string; parameters?: unknown };
      }>;
      const tool = tools[0]!;
      const args = exampleValue({ type: 'object', ...(tool.function.parameters as object) }) as Record<
        string,
        unknown
      >;
      return {
        content: renderFakeToolCall(turn.model, tool.function.name, args),
        reasoning: 'I should call a tool.',
      };
    } catch {
      // fall through to the echo
    }
  }
  return { content: `You said: ${lastUser?.content ?? ''}`, reasoning: 'Thinking about it.' };
};

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
    ...headers,
  });
  response.end(text);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  if (text.length === 0) return undefined;
  return JSON.parse(text);
}

/** Absolute quote offset of MRTD (48-byte header + body offset 136). */
const MRTD_OFFSET = 184;
/** Absolute quote offset of the quote's ECDSA signature (after the 632 signed bytes and the u32 length). */
const QUOTE_SIGNATURE_OFFSET = 636;

function flipBit(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  if (offset < copy.length) copy[offset]! ^= 0x01;
  return copy;
}

/**
 * Starts a fake Venice server for tests and demos (spec D9). It uses real secp256k1 ECDH, HKDF-SHA256 and
 * AES-256-GCM with its own model keys, answers attestation in Shape A or B with a TDX quote v4 whose
 * REPORTDATA binds `signing address ‖ 12 zero bytes ‖ nonce`, decrypts every chat message and streams
 * encrypted `content` and reasoning deltas (fresh ephemeral key per chunk). The quotes are really signed
 * (quote signature, QE report, PCK chain) by a synthetic TDX platform of `@confidential-ai/tdx-attestation/testing`
 * whose test root is {@link FakeVeniceServer.tdxRoot}: `requireTdx` passes with that root as `trustedRootCa`
 * and fails with the pinned Intel root. Its `nvidia_payload` carries really signed SPDM reports of simulated GPUs
 * (`@confidential-ai/nvidia-attestation/testing`) bound to the request nonce, whose test root is
 * {@link FakeVeniceServer.nvidiaRoot}: the NVIDIA gate passes with that root as `nvidiaRoot` and fails with
 * NVIDIA's pinned root.
 *
 * Documented request errors (status and body are this fake's choice; Venice documents only the texts):
 * 502 `{"error":"Nonce must be exactly 32 bytes"}`; 400 `{"error":"E2EE requires streaming"}`;
 * 400 `{"error":"Encrypted field is not valid hex"}`; 400 `{"error":"Invalid public key"}`;
 * 400 `{"error":"Failed to decrypt field"}`; 400 `{"error":"TEE attestation verification failed"}` (model key
 * header is not the model's key); 404 `{"error":"Unknown model"}`; 401 `{"error":"Unauthorized"}`.
 * @example
 * ```ts
 * const fake = await createFakeVeniceServer();
 * const openai = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'test', fetch: createVeniceFetch() });
 * await fake.close();
 * ```
 */
export async function createFakeVeniceServer(options: FakeVeniceOptions = {}): Promise<FakeVeniceServer> {
  const models = (options.models ?? DEFAULT_MODELS).map((model) => ({
    ...model,
    keyPair: model.keyPair ?? generateFieldKeyPair('secp256k1'),
  }));
  const faults = new Set<FakeVeniceFault>();
  const requests: FakeVeniceRequestLog[] = [];
  const requestCounts = new Map<string, number>();
  let responder = options.responder ?? defaultFakeResponder;
  let attestationCount = 0;
  const chunkSize = options.chunkSize ?? 8;

  // One synthetic platform per fake instance (created on first use), and a second, untrusted one for the
  // `untrusted-quote` fault. Real Venice quotes carry 70 zero bytes after the signature data.
  const tdxPlatform = lazyTestTdxPlatform(options.tdxPlatform);
  let untrustedPlatform: Promise<TestTdxPlatform> | undefined;
  let collateral: Promise<TdxCollateralJson> | undefined;
  const makeQuote = async (quoteOptions: { reportData: Uint8Array; debug: boolean }): Promise<Uint8Array> => {
    if (faults.has('untrusted-quote')) {
      untrustedPlatform ??= createTestTdxPlatform();
      return (await untrustedPlatform).createQuote({ ...quoteOptions, trailingBytes: 70 });
    }
    if (options.quoteFactory) return options.quoteFactory(quoteOptions);
    return (await tdxPlatform()).createQuote({ ...quoteOptions, trailingBytes: 70 });
  };
  const gpuEvidence = createFakeGpuEvidence({
    ...(options.nvidiaPlatform ? { platform: options.nvidiaPlatform } : {}),
    gpuCount: options.gpuCount ?? 8,
  });
  const attestation = async (modelId: string, nonce: string) => {
    const model = models.find((candidate) => candidate.id === modelId)!;
    let publicKey = model.keyPair.publicKey;
    if (faults.has('wrong-key')) publicKey = generateFieldKeyPair().publicKey;
    const nonceBytes = hexToBytes(nonce);
    const reportData = concatBytes(
      signingAddressBytes(model.keyPair.publicKey),
      new Uint8Array(12),
      nonceBytes,
    );
    if (faults.has('binding-address')) reportData[0]! ^= 1;
    if (faults.has('binding-padding')) reportData[25] = 1;
    if (faults.has('binding-nonce')) reportData[63]! ^= 1;
    let quote = await makeQuote({ reportData, debug: faults.has('debug-quote') });
    if (faults.has('tampered-quote-body')) quote = flipBit(quote, MRTD_OFFSET);
    if (faults.has('tampered-quote-signature')) quote = flipBit(quote, QUOTE_SIGNATURE_OFFSET);
    if (faults.has('malformed-quote')) quote = quote.slice(0, 700);
    const quoteHex = bytesToHex(quote);
    const keyHex = faults.has('invalid-key') ? `04${'00'.repeat(64)}` : bytesToHex(publicKey);
    const address = faults.has('bad-address')
      ? signingAddress(generateFieldKeyPair().publicKey)
      : signingAddress(publicKey);
    const echoedNonce = faults.has('bad-nonce')
      ? bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)))
      : nonce;
    const nvidia = faults.has('no-nvidia')
      ? undefined
      : faults.has('nvidia-number')
        ? 42
        : JSON.stringify(await gpuEvidence.payload(nonce, faults));
    const base: Record<string, unknown> = {
      verified: !faults.has('not-verified'),
      nonce: echoedNonce,
      model: faults.has('wrong-model') ? `${modelId}-other` : modelId,
      signing_address: address,
      ...(nvidia === undefined ? {} : { nvidia_payload: nvidia }),
    };
    if (faults.has('missing-verified')) delete base['verified'];
    if (faults.has('debug-flag')) base['debug'] = true;
    if (model.shape === 'aci') {
      return {
        api_version: 'aci/1',
        ...base,
        tee_provider: 'phala',
        debug: base['debug'] ?? false,
        signing_public_key: keyHex,
        ...(faults.has('conflicting-keys')
          ? { signing_key: bytesToHex(generateFieldKeyPair().publicKey) }
          : {}),
        ...(faults.has('quote-mismatch') ? { intel_quote: bytesToHex(flipBit(quote, MRTD_OFFSET)) } : {}),
        attestation: {
          tee_type: 'tdx',
          evidence: faults.has('missing-quote')
            ? {}
            : {
                quote: quoteHex,
                quote_report_data: faults.has('report-data-mismatch')
                  ? '00'.repeat(64)
                  : bytesToHex(reportData),
              },
        },
      };
    }
    return {
      ...base,
      request_nonce: echoedNonce,
      nonce_source: 'client',
      model_name: `Fake/${modelId}`,
      tee_provider: 'near-ai',
      tee_hardware: 'intel-tdx',
      signing_algo: 'ecdsa',
      signing_key: faults.has('conflicting-keys') ? bytesToHex(generateFieldKeyPair().publicKey) : keyHex,
      signing_public_key: keyHex,
      ...(faults.has('missing-quote') ? {} : { intel_quote: quoteHex }),
      event_log: [],
      server_verification: {
        note: 'fake Venice server: quotes are signed by a TEST platform root, not by Intel',
      },
    };
  };

  const handleAttestation = async (url: URL, response: ServerResponse) => {
    if (faults.has('attestation-401')) return send(response, 401, { error: 'Unauthorized' });
    if (faults.has('attestation-500')) return send(response, 500, { error: 'Internal error' });
    const modelId = url.searchParams.get('model') ?? '';
    const nonce = url.searchParams.get('nonce') ?? '';
    if (!models.some((model) => model.id === modelId)) return send(response, 404, { error: 'Unknown model' });
    if (!/^[0-9a-fA-F]{64}$/.test(nonce))
      return send(response, 502, { error: 'Nonce must be exactly 32 bytes' });
    attestationCount++;
    if (faults.has('attestation-not-json')) return send(response, 200, 'not json');
    return send(response, 200, await attestation(modelId, nonce.toLowerCase()));
  };

  const handleModels = (response: ServerResponse) => {
    const data: unknown[] = models.map((model) => ({
      id: model.id,
      type: 'text',
      created: 1_750_000_000,
      model_spec: {
        capabilities: {
          supportsE2EE: true,
          supportsTeeAttestation: true,
          supportsFunctionCalling: false,
          supportsReasoning: true,
          supportsReasoningEffort: false,
          supportsVision: false,
          supportsWebSearch: false,
        },
      },
    }));
    data.push({
      id: 'plain-text-model',
      type: 'text',
      created: 1_750_000_000,
      model_spec: { capabilities: { supportsE2EE: false, supportsTeeAttestation: false } },
    });
    if (options.includeNonTextModel)
      data.push({ id: 'fake-image-model', type: 'image', created: 1_750_000_000, model_spec: {} });
    send(response, 200, { object: 'list', data });
  };

  const handleChat = async (request: IncomingMessage, response: ServerResponse, body: unknown) => {
    if (faults.has('chat-401')) return send(response, 401, { error: 'Unauthorized' });
    if (faults.has('chat-500')) return send(response, 500, { error: 'Internal error' });
    const json = body as Record<string, unknown> | undefined;
    const model = models.find((candidate) => candidate.id === json?.['model']);
    if (!json || !model) return send(response, 404, { error: 'Unknown model' });
    const clientKeyHex = String(request.headers['x-venice-tee-client-pub-key'] ?? '');
    const modelKeyHex = String(request.headers['x-venice-tee-model-pub-key'] ?? '');
    if (!/^04[0-9a-f]{128}$/.test(clientKeyHex)) return send(response, 400, { error: 'Invalid public key' });
    if (modelKeyHex.toLowerCase() !== bytesToHex(model.keyPair.publicKey)) {
      return send(response, 400, { error: 'TEE attestation verification failed' });
    }
    if (request.headers['x-venice-tee-signing-algo'] !== 'ecdsa')
      return send(response, 400, { error: 'Invalid public key' });
    if (json['stream'] !== true) return send(response, 400, { error: 'E2EE requires streaming' });
    const messages: Array<{ role: string; content: string }> = [];
    for (const message of (json['messages'] as Array<{ role: string; content: unknown }>) ?? []) {
      const content = message.content;
      if (typeof content !== 'string' || !/^[0-9a-fA-F]+$/.test(content)) {
        return send(response, 400, { error: 'Encrypted field is not valid hex' });
      }
      try {
        messages.push({ role: message.role, content: decryptField(content, model.keyPair.privateKey) });
      } catch (error) {
        if (VeniceE2eeError.isInstance(error))
          return send(response, 400, { error: 'Failed to decrypt field' });
        throw error;
      }
    }
    const requestIndex = requestCounts.get(model.id) ?? 0;
    requestCounts.set(model.id, requestIndex + 1);
    const raw = responder({ model: model.id, messages, requestIndex });
    const reply: FakeVeniceReply = typeof raw === 'string' ? { content: raw } : raw;
    let clientKey: Uint8Array;
    try {
      clientKey = hexToBytes(clientKeyHex);
      if (faults.has('wrong-client-key')) clientKey = generateFieldKeyPair().publicKey;
      encryptField('', clientKey);
    } catch {
      return send(response, 400, { error: 'Invalid public key' });
    }
    const id = `chatcmpl-fake-${globalThis.crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const encrypt = (text: string, plaintext: boolean) => {
      if (plaintext) return text;
      let hex = encryptField(text, clientKey);
      if (faults.has('tampered-content')) hex = `${hex.slice(0, -2)}${hex.endsWith('00') ? '01' : '00'}`;
      return hex;
    };
    const frame = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: model.id, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.write(frame({ role: 'assistant', content: '' }, null));
    if (faults.has('extra-field')) response.write('weird: field\ndata: {}\n\n');
    if (reply.reasoning) {
      const field = model.reasoningField ?? 'reasoning_content';
      for (let at = 0; at < reply.reasoning.length; at += chunkSize) {
        response.write(
          frame(
            {
              [field]: encrypt(reply.reasoning.slice(at, at + chunkSize), faults.has('plaintext-reasoning')),
            },
            null,
          ),
        );
      }
    }
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, reply.delayMs);
        response.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (response.destroyed || response.writableEnded) return;
    }
    if (faults.has('error-event')) {
      response.end('event: error\ndata: {"error":"upstream failure"}\n\n');
      return;
    }
    const characters = Array.from(reply.content);
    for (let at = 0; at < characters.length; at += chunkSize) {
      response.write(
        frame(
          {
            content: encrypt(characters.slice(at, at + chunkSize).join(''), faults.has('plaintext-content')),
          },
          null,
        ),
      );
    }
    if (faults.has('broken-stream')) {
      response.end();
      return;
    }
    response.write(frame({}, reply.finishReason ?? 'stop'));
    const streamOptions = json['stream_options'] as { include_usage?: boolean } | undefined;
    if (streamOptions?.include_usage !== false) {
      response.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: model.id, choices: [], usage: { prompt_tokens: 10, completion_tokens: characters.length, total_tokens: 10 + characters.length } })}\n\n`,
      );
    }
    response.end('data: [DONE]\n\n');
  };

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      let body: unknown;
      try {
        body = await readJson(request);
      } catch {
        return send(response, 400, { error: 'Invalid JSON' });
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers))
        headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
      requests.push({ method: request.method ?? 'GET', url: `${url.pathname}${url.search}`, headers, body });
      if (options.apiKey && request.headers.authorization !== `Bearer ${options.apiKey}`) {
        return send(response, 401, { error: 'Unauthorized' });
      }
      if (request.method === 'GET' && url.pathname === '/api/v1/models') return handleModels(response);
      if (request.method === 'GET' && url.pathname === '/api/v1/tee/attestation')
        return handleAttestation(url, response);
      if (request.method === 'POST' && url.pathname === '/api/v1/chat/completions')
        return handleChat(request, response, body);
      return send(response, 404, { error: 'Not found' });
    })().catch(() => {
      if (!response.headersSent) send(response, 500, { error: 'Internal error' });
      else response.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    baseUrl: `http://${host}:${address.port}/api/v1`,
    port: address.port,
    requests,
    models,
    setFault(fault, enabled = true) {
      if (enabled) faults.add(fault);
      else faults.delete(fault);
    },
    clearFaults() {
      faults.clear();
    },
    setResponder(next) {
      responder = next;
    },
    get attestationCount() {
      return attestationCount;
    },
    async tdxRoot() {
      return (await tdxPlatform()).root;
    },
    tdxCollateral() {
      collateral ??= tdxPlatform().then((value) => value.createCollateral());
      return collateral;
    },
    nvidiaRoot() {
      return gpuEvidence.root();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}
