import { bytesToHex } from '@confidential-ai/bytes';
import { type AttestationPolicy, type AttestedModelKey, attestModel, joinUrl } from './attestation.js';
import { VeniceE2eeError } from './errors.js';
import { generateFieldKeyPair, getFieldPublicKey } from './field-cipher.js';
import type { FieldKeyPair } from './key-agreement.js';
import { buildUpstreamBody, type RenderedMessage, renderMessages, veniceE2eeHeaders } from './messages.js';
import { createEnvProxyFetch } from './outbound-proxy.js';
import { validateChatRequest } from './request.js';
import { createSessionStore, type Session, type SessionStoreOptions } from './sessions.js';
import {
  CompletionMetadata,
  collectText,
  completionFromText,
  createUpstreamDecryptor,
  readUpstreamEvents,
  shapeChunks,
  type UpstreamDecryptor,
  type UpstreamEvent,
} from './stream.js';
import { buildControllerPrompt, buildCorrectionPrompt } from './tool-prompts.js';
import {
  appendToSystemMessage,
  classifyToolOutput,
  prepareToolContext,
  type ToolContext,
  type ToolSettings,
  ToolStreamScanner,
} from './tools.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ChunkDelta,
  Logger,
  ToolCall,
} from './types.js';

/** The default Venice API base URL. */
export const VENICE_BASE_URL = 'https://api.venice.ai/api/v1';

/** How a session id was obtained. */
export type SessionScope = 'agent' | 'request';

/** Session settings (the `[session]` section of the proxy configuration). */
export interface SessionSettings extends SessionStoreOptions {
  /**
   * Without an explicit session id: `agent` shares one random id per client, `request` uses a new id per
   * request (re-attests every time), `disabled` rejects the request. Default `agent`.
   */
  fallbackScope?: 'agent' | 'request' | 'disabled';
}

/** Options of {@link createVeniceClient}. */
export interface VeniceClientOptions {
  /** Venice API base; default `https://api.venice.ai/api/v1`. */
  baseUrl?: string;
  /** Venice API key. */
  apiKey?: string;
  /**
   * Inner fetch; default `globalThis.fetch`, or on Node, when `HTTPS_PROXY` / `HTTP_PROXY` are set, undici's fetch
   * through that proxy (see {@link createEnvProxyFetch}). A `fetch` given here is used as it is.
   */
  fetch?: typeof globalThis.fetch;
  /** The client ("proxy instance") key pair; default generated once per client. */
  clientKeyPair?: FieldKeyPair;
  /** HKDF info; default `ecdsa_encryption`. */
  hkdfInfo?: string;
  /** Fail closed on non-ciphertext response content (spec D3). Default true. */
  requireEncryptedResponseContent?: boolean;
  /** Attestation policy. */
  attestation?: AttestationPolicy;
  /** Session settings. */
  session?: SessionSettings;
  /** Tool-call emulation settings. */
  tools?: ToolSettings;
  /** Timeout for attestation and for the chat response headers, in ms. Default 30000. */
  requestTimeoutMs?: number;
  /** Logger hook; never receives plaintext, keys or ciphertext. */
  logger?: Logger;
}

/** Per-call options. */
export interface ChatCallOptions {
  /** Session id (else `metadata.session_id`, else the fallback scope). */
  sessionId?: string;
  /** Abort signal. */
  signal?: AbortSignal;
}

/** What a chat call was served with (for response headers). */
export interface ChatInfo {
  /** The attested model key. */
  attestation: AttestedModelKey;
  /** Session id. */
  sessionId: string;
  /** Session scope. */
  sessionScope: SessionScope;
  /** Tool mode: `emulated` when tools were emulated for this request, else `none`. */
  toolMode: 'emulated' | 'none';
  /** Correction attempts used (buffered path; streaming updates it as the stream runs). */
  toolRetries: number;
}

/** A model of the Venice list, in the OpenAI shape of spec section 5.2. */
export interface VeniceModel {
  /** Model id. */
  id: string;
  /** `model`. */
  object: 'model';
  /** Upstream `created` or 0. */
  created: number;
  /** Upstream `owned_by` or `venice.ai`. */
  owned_by: string;
  /** Same as id. */
  name: string;
  /** Capabilities. */
  info: { meta: { capabilities: Record<string, boolean> } };
  /** Venice flags. */
  venice: Record<string, unknown>;
}

/** A small typed Venice E2EE client. */
export interface VeniceClient {
  /** The client public key (130 hex characters) sent as `X-Venice-TEE-Client-Pub-Key`. */
  readonly clientPublicKeyHex: string;
  /** Attests a model (cached per session) and returns the verified key. */
  attest(
    model: string,
    options?: ChatCallOptions,
  ): Promise<{ attestation: AttestedModelKey; sessionId: string; sessionScope: SessionScope }>;
  /**
   * Sends an E2EE chat request and buffers the answer (emulating tools when the request has any).
   * @throws VeniceE2eeError for request, attestation, upstream, decryption and tool-call failures.
   */
  createChatCompletion(
    request: ChatRequest,
    options?: ChatCallOptions,
  ): Promise<{ completion: ChatCompletion; info: ChatInfo }>;
  /**
   * Sends an E2EE chat request and streams decrypted chunks. Errors before the first chunk reject; later
   * errors are thrown by the iterator (fail closed, no `[DONE]`).
   */
  streamChatCompletion(
    request: ChatRequest,
    options?: ChatCallOptions,
  ): Promise<{ stream: AsyncGenerator<ChatCompletionChunk>; info: ChatInfo }>;
  /** Lists E2EE-capable text models (spec section 5.2 with the 10.1 rule for non-text entries). */
  listModels(options?: { signal?: AbortSignal }): Promise<VeniceModel[]>;
  /** Number of live sessions. */
  readonly sessionCount: number;
  /** Stops the session sweeper. */
  close(): void;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The `X-Venice-Proxy-*` response headers for a served chat call (spec section 5.8.4).
 */
export function proxyResponseHeaders(info: ChatInfo): Record<string, string> {
  const headers: Record<string, string> = {
    'x-venice-proxy-e2ee': 'verified',
    'x-venice-proxy-attestation-mode': 'independent',
    'x-venice-proxy-attested-model': info.attestation.model,
    'x-venice-proxy-tee-provider': info.attestation.teeProvider ?? 'unknown',
    'x-venice-proxy-tdx-debug': String(info.attestation.debug),
    'x-venice-proxy-nvidia-verified': info.attestation.nvidia,
    'x-venice-proxy-key-binding': 'true',
    'x-venice-proxy-session-id': info.sessionId,
    'x-venice-proxy-session-scope': info.sessionScope,
    'x-venice-proxy-tool-mode': info.toolMode,
  };
  if (info.toolRetries > 0) headers['x-venice-proxy-tool-retries'] = String(info.toolRetries);
  if (info.attestation.tdxVerified) headers['x-venice-proxy-tdx-verified'] = 'true';
  return headers;
}

/**
 * Creates a Venice E2EE client: one client key pair, attested model keys cached per session, every message
 * encrypted, responses decrypted, tools emulated.
 * @example
 * ```ts
 * const client = createVeniceClient({ apiKey: process.env.VENICE_API_KEY });
 * const { completion } = await client.createChatCompletion({
 *   model: 'e2ee-qwen3-6-27b',
 *   messages: [{ role: 'user', content: 'Hello' }],
 * });
 * console.log(completion.choices[0].message.content);
 * ```
 */
export function createVeniceClient(options: VeniceClientOptions = {}): VeniceClient {
  const baseUrl = options.baseUrl ?? VENICE_BASE_URL;
  if (!/^https?:\/\//.test(baseUrl)) throw new TypeError('baseUrl must start with http:// or https://');
  const fetchFunction = options.fetch ?? createEnvProxyFetch();
  const keyPair = options.clientKeyPair ?? generateFieldKeyPair('secp256k1');
  const clientPublicKeyHex = bytesToHex(getFieldPublicKey(keyPair.privateKey));
  const requireEncrypted = options.requireEncryptedResponseContent !== false;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const fallbackScope = options.session?.fallbackScope ?? 'agent';
  const agentSessionId = globalThis.crypto.randomUUID();
  const sessions = createSessionStore<Promise<AttestedModelKey>>(options.session ?? {});
  const logger = options.logger;

  const resolveSession = (
    request: { metadata?: Record<string, unknown> | null },
    call: ChatCallOptions | undefined,
  ) => {
    const explicit = call?.sessionId?.trim();
    if (explicit) return { id: explicit, scope: 'agent' as const };
    const fromMetadata = request.metadata?.['session_id'];
    if (typeof fromMetadata === 'string' && fromMetadata.trim() !== '')
      return { id: fromMetadata.trim(), scope: 'agent' as const };
    if (fallbackScope === 'disabled')
      throw new VeniceE2eeError('ERR_SESSION', 'a session identifier is required');
    if (fallbackScope === 'agent') return { id: agentSessionId, scope: 'agent' as const };
    return { id: globalThis.crypto.randomUUID(), scope: 'request' as const };
  };

  const attestFor = async (
    model: string,
    session: Session<Promise<AttestedModelKey>>,
    signal?: AbortSignal,
  ) => {
    if (!session.value) {
      const pending = attestModel({
        baseUrl,
        model,
        fetch: fetchFunction,
        timeoutMs,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
        ...(signal ? { signal } : {}),
        ...(options.attestation ?? {}),
      });
      session.value = pending;
      pending.catch(() => {
        if (session.value === pending) session.value = undefined;
      });
    }
    return session.value;
  };

  const acquire = async (
    model: string,
    request: { metadata?: Record<string, unknown> | null },
    call?: ChatCallOptions,
  ) => {
    if (typeof model !== 'string' || model.length === 0)
      throw new VeniceE2eeError('ERR_INVALID_REQUEST', 'model must be a non-empty string');
    const { id, scope } = resolveSession(request, call);
    const session = sessions.acquire(model, id);
    const attestation = await attestFor(model, session, call?.signal);
    if (scope === 'request') sessions.delete(session);
    return { attestation, sessionId: id, sessionScope: scope };
  };

  const postChat = async (
    request: ChatRequest,
    messages: RenderedMessage[],
    attestation: AttestedModelKey,
    signal: AbortSignal | undefined,
  ): Promise<ReadableStream<Uint8Array>> => {
    const body = buildUpstreamBody(request, messages, {
      modelPublicKey: attestation.publicKey,
      ...(options.hkdfInfo === undefined ? {} : { hkdfInfo: options.hkdfInfo }),
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...veniceE2eeHeaders(clientPublicKeyHex, attestation.publicKeyHex),
    };
    if (options.apiKey) headers['authorization'] = `Bearer ${options.apiKey}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let response: Response;
    try {
      response = await fetchFunction(joinUrl(baseUrl, 'chat/completions'), {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (cause) {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) throw cause;
      if (controller.signal.aborted)
        throw new VeniceE2eeError('ERR_UPSTREAM_TIMEOUT', 'Venice did not answer in time', { cause });
      throw new VeniceE2eeError('ERR_UPSTREAM_UNAVAILABLE', 'could not reach Venice', { cause });
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel().catch(() => undefined);
      throw new VeniceE2eeError(
        'ERR_UPSTREAM_AUTHENTICATION_FAILED',
        `Venice rejected the API key (status ${response.status})`,
      );
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new VeniceE2eeError('ERR_UPSTREAM_STATUS', `Venice upstream returned status ${response.status}`, {
        details: { status: response.status },
      });
    }
    return response.body;
  };

  const decryptor = (): UpstreamDecryptor =>
    createUpstreamDecryptor({
      privateKey: keyPair.privateKey,
      requireEncryptedResponseContent: requireEncrypted,
      ...(options.hkdfInfo === undefined ? {} : { hkdfInfo: options.hkdfInfo }),
    });

  const prepare = (request: ChatRequest) => renderMessages(validateChatRequest(request).messages);

  // The start of every chat call: validate and render the messages, attest (or reuse the session), prepare the
  // tool emulation, and the info that reports all three.
  const begin = async (request: ChatRequest, call?: ChatCallOptions) => {
    const rendered = prepare(request);
    const { attestation, sessionId, sessionScope } = await acquire(request.model, request, call);
    const context = prepareToolContext(request, options.tools);
    const info: ChatInfo = {
      attestation,
      sessionId,
      sessionScope,
      toolMode: context ? 'emulated' : 'none',
      toolRetries: 0,
    };
    return { rendered, context, info };
  };

  const withTools = (
    rendered: RenderedMessage[],
    context: ToolContext,
    correction?: { error: string; output: string },
  ) => {
    let prompt = buildControllerPrompt(context);
    if (correction) prompt += `\n\n${buildCorrectionPrompt(context, correction.error, correction.output)}`;
    return appendToSystemMessage(rendered, prompt);
  };

  const invalidToolCall = (error: string, maxRetries: number) =>
    new VeniceE2eeError(
      'ERR_INVALID_TOOL_CALL',
      'The model failed to produce a valid tool call after correction attempts.',
      {
        details: { last_validation_error: error, max_retries: maxRetries },
      },
    );

  return {
    clientPublicKeyHex,
    get sessionCount() {
      return sessions.size;
    },
    async attest(model, call) {
      return acquire(model, {}, call);
    },

    async createChatCompletion(request, call) {
      const { rendered, context, info } = await begin(request, call);
      const { attestation } = info;
      if (!context) {
        const upstream = await postChat(request, rendered, attestation, call?.signal);
        const decrypting = decryptor();
        const collected = await collectText(readUpstreamEvents(upstream, decrypting), {
          model: request.model,
          decryptor: decrypting,
          requireEncryptedResponseContent: requireEncrypted,
        });
        return { completion: completionFromText(collected), info };
      }
      let correction: { error: string; output: string } | undefined;
      for (let attempt = 0; attempt <= context.maxRetries; attempt++) {
        info.toolRetries = attempt;
        const attemptController = new AbortController();
        const attemptSignal = call?.signal
          ? AbortSignal.any([call.signal, attemptController.signal])
          : attemptController.signal;
        const timer = setTimeout(
          () => attemptController.abort(new Error('timeout')),
          context.markerTimeoutMs,
        );
        let collected: Awaited<ReturnType<typeof collectText>>;
        try {
          const upstream = await postChat(
            request,
            withTools(rendered, context, correction),
            attestation,
            attemptSignal,
          );
          const decrypting = decryptor();
          collected = await collectText(readUpstreamEvents(upstream, decrypting), {
            model: request.model,
            decryptor: decrypting,
            requireEncryptedResponseContent: requireEncrypted,
          });
        } catch (error) {
          if (!attemptController.signal.aborted || call?.signal?.aborted) throw error;
          correction = {
            error: `tool-emulated completion did not finish within ${context.markerTimeoutMs / 1000}s`,
            output: '',
          };
          continue;
        } finally {
          clearTimeout(timer);
        }
        const outcome = classifyToolOutput(collected.content, context);
        if (outcome.kind === 'text') return { completion: completionFromText(collected), info };
        if (outcome.kind === 'tool_calls') {
          const completion = completionFromText(collected);
          const choice = completion.choices[0]!;
          choice.finish_reason = 'tool_calls';
          choice.message.content = null;
          choice.message.tool_calls = outcome.calls;
          return { completion, info };
        }
        logger?.debug('venice-e2ee: invalid emulated tool call', { attempt, error: outcome.error });
        correction = { error: outcome.error, output: collected.content };
      }
      throw invalidToolCall(correction!.error, context.maxRetries);
    },

    async streamChatCompletion(request, call) {
      const { rendered, context, info } = await begin(request, call);
      const { attestation } = info;
      const includeUsage = request.stream_options?.include_usage === true;
      const signal = call?.signal;
      if (!context) {
        const upstream = await postChat(request, rendered, attestation, signal);
        return {
          stream: shapeChunks(readUpstreamEvents(upstream, decryptor()), {
            model: request.model,
            includeUsage,
          }),
          info,
        };
      }
      const first = await postChat(request, withTools(rendered, context), attestation, signal);
      return {
        stream: streamWithTools(first, request, rendered, context, attestation, info, includeUsage, signal),
        info,
      };
    },

    async listModels(call) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.apiKey) headers['authorization'] = `Bearer ${options.apiKey}`;
      let response: Response;
      let json: unknown;
      try {
        response = await fetchFunction(joinUrl(baseUrl, 'models'), {
          method: 'GET',
          headers,
          signal: call?.signal
            ? AbortSignal.any([call.signal, AbortSignal.timeout(timeoutMs)])
            : AbortSignal.timeout(timeoutMs),
        });
      } catch (cause) {
        throw new VeniceE2eeError('ERR_UPSTREAM_UNAVAILABLE', 'could not reach Venice', { cause });
      }
      if (response.status === 401 || response.status === 403) {
        throw new VeniceE2eeError(
          'ERR_UPSTREAM_AUTHENTICATION_FAILED',
          `Venice rejected the API key (status ${response.status})`,
        );
      }
      if (!response.ok) {
        throw new VeniceE2eeError(
          'ERR_UPSTREAM_STATUS',
          `Venice upstream returned status ${response.status}`,
          {
            details: { status: response.status },
          },
        );
      }
      try {
        json = await response.json();
      } catch (cause) {
        throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'model list is not JSON', { cause });
      }
      return modelsFromVenice(json);
    },

    close() {
      sessions.close();
    },
  };

  async function* streamWithTools(
    firstUpstream: ReadableStream<Uint8Array>,
    request: ChatRequest,
    rendered: RenderedMessage[],
    context: ToolContext,
    attestation: AttestedModelKey,
    info: ChatInfo,
    includeUsage: boolean,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ChatCompletionChunk> {
    const meta = new CompletionMetadata(request.model);
    let roleSent = false;
    const chunk = (delta: ChunkDelta, finishReason: string | null, index = 0): ChatCompletionChunk => {
      if (!roleSent && Object.keys(delta).length > 0) {
        roleSent = true;
        delta = { role: 'assistant', ...delta };
      }
      return { ...meta.resolve(), choices: [{ index, delta, finish_reason: finishReason }] };
    };
    let upstream = firstUpstream;
    let correction: { error: string; output: string } | undefined;
    for (let attempt = 0; attempt <= context.maxRetries; attempt++) {
      info.toolRetries = attempt;
      if (attempt > 0)
        upstream = await postChat(request, withTools(rendered, context, correction), attestation, signal);
      const streamText = attempt === 0 && !context.required;
      const scanner = new ToolStreamScanner();
      let fullText = '';
      let finishReason: string | null = null;
      let usage: Record<string, unknown> | undefined;
      let index = 0;
      let tooLarge = false;
      const events: AsyncIterable<UpstreamEvent> = readUpstreamEvents(upstream, decryptor());
      for await (const event of events) {
        if (event.kind === 'done') break;
        meta.observe(event);
        if (event.kind === 'usage') {
          usage = event.usage;
          continue;
        }
        index = event.index;
        if (event.reasoning) yield chunk({ reasoning_content: event.reasoning }, null, index);
        if (event.content) {
          fullText += event.content;
          if (streamText) {
            const emit = scanner.push(event.content);
            if (emit) yield chunk({ content: emit }, null, index);
            if (scanner.bufferedLength > context.toolCallMaxBytes) tooLarge = true;
          }
        }
        if (event.finishReason !== null) finishReason = event.finishReason;
      }
      let outcome: ReturnType<typeof classifyToolOutput>;
      if (streamText) {
        const { tail, toolText } = scanner.finish();
        if (toolText === undefined) {
          if (tail) yield chunk({ content: tail }, null, index);
          outcome = { kind: 'text', text: '' };
        } else {
          outcome = tooLarge
            ? { kind: 'invalid', error: `tool-call output exceeds ${context.toolCallMaxBytes} bytes` }
            : classifyToolOutput(toolText, context);
          if (outcome.kind === 'text') yield chunk({ content: toolText }, null, index);
        }
      } else {
        outcome = classifyToolOutput(fullText, context);
        if (outcome.kind === 'text' && outcome.text) yield chunk({ content: outcome.text }, null, index);
      }
      if (outcome.kind === 'invalid') {
        logger?.debug('venice-e2ee: invalid emulated tool call in stream', { attempt, error: outcome.error });
        correction = { error: outcome.error, output: fullText };
        continue;
      }
      if (outcome.kind === 'tool_calls') {
        for (const [position, call] of outcome.calls.entries()) {
          yield chunk({ tool_calls: [{ index: position, ...(call as ToolCall) }] }, null, index);
        }
        yield chunk({}, 'tool_calls', index);
      } else {
        yield chunk({}, finishReason ?? 'stop', index);
      }
      if (includeUsage && usage) yield { ...meta.resolve(), choices: [], usage };
      return;
    }
    throw invalidToolCall(correction!.error, context.maxRetries);
  }
}

/**
 * Converts a Venice `/models` response into the OpenAI-shaped list of spec section 5.2: non-text entries are
 * skipped (section 10.1), text entries must carry both capability flags, and only text models with
 * `supportsE2EE` and `supportsTeeAttestation` are kept.
 * @throws VeniceE2eeError `ERR_UPSTREAM_MALFORMED_RESPONSE` for a malformed list.
 */
export function modelsFromVenice(json: unknown): VeniceModel[] {
  if (!isObject(json) || !Array.isArray(json['data'])) {
    throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'model list lacks data[]');
  }
  const out: VeniceModel[] = [];
  for (const entry of json['data']) {
    if (!isObject(entry) || typeof entry['id'] !== 'string' || typeof entry['type'] !== 'string') {
      throw new VeniceE2eeError('ERR_UPSTREAM_MALFORMED_RESPONSE', 'model entry lacks id or type');
    }
    if (entry['type'] !== 'text') continue;
    const spec = entry['model_spec'];
    const capabilities = isObject(spec) && isObject(spec['capabilities']) ? spec['capabilities'] : undefined;
    if (
      !capabilities ||
      typeof capabilities['supportsE2EE'] !== 'boolean' ||
      typeof capabilities['supportsTeeAttestation'] !== 'boolean'
    ) {
      throw new VeniceE2eeError(
        'ERR_UPSTREAM_MALFORMED_RESPONSE',
        `model ${entry['id']} lacks the E2EE capability flags`,
      );
    }
    if (!capabilities['supportsE2EE'] || !capabilities['supportsTeeAttestation']) continue;
    const flag = (key: string) => capabilities[key] === true;
    const builtin =
      typeof capabilities['supportsBuiltinTools'] === 'boolean'
        ? capabilities['supportsBuiltinTools']
        : flag('supportsWebSearch') || flag('supportsCodeInterpreter');
    out.push({
      id: entry['id'],
      object: 'model',
      created: typeof entry['created'] === 'number' ? entry['created'] : 0,
      owned_by: typeof entry['owned_by'] === 'string' ? entry['owned_by'] : 'venice.ai',
      name: entry['id'],
      info: {
        meta: {
          capabilities: {
            function_calling: flag('supportsFunctionCalling'),
            builtin_tools: builtin,
            web_search: flag('supportsWebSearch'),
            code_interpreter: flag('supportsCodeInterpreter'),
            vision: flag('supportsVision'),
            reasoning: flag('supportsReasoning'),
            reasoning_effort: flag('supportsReasoningEffort'),
          },
        },
      },
      venice: {
        id: entry['id'],
        supportsE2EE: true,
        supportsTeeAttestation: true,
        supportsReasoning: flag('supportsReasoning'),
        supportsReasoningEffort: flag('supportsReasoningEffort'),
      },
    });
  }
  return out;
}
