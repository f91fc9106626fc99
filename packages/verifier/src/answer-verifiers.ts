import type { VllmSigningAlgorithm } from '@confidential-ai/tee-signing';
import { verifyChutesAttestation } from './chutes.js';
import { type EvidenceTransport, parseJsonObject } from './http.js';
import { type ResolvedPolicy, resolvePolicy, type VerificationPolicy } from './policy.js';
import {
  attestTeeGateway,
  checkTeeGatewayAnswer,
  type GatewayAttestationResult,
  TEE_GATEWAY_RESPONSE_STEPS,
} from './tee-gateway.js';
import {
  VENICE_MODEL_KEY_HEADER,
  type VeniceAttestationResult,
  veniceAnswerSteps,
  verifyVeniceAttestation,
} from './venice.js';
import { combineVerdicts, type ServiceKind, type StepName, type Verdict, VerdictBuilder } from './verdict.js';
import {
  answerSteps,
  attestVllmProxy,
  completionIdOf,
  fetchVllmSignatureRecord,
  VLLM_SIGNATURE_STEPS,
} from './vllm-proxy.js';
import type { AttestedVllmKey } from './vllm-report.js';

/** One answer as the verified fetch saw it. */
export interface ObservedAnswer {
  /** The chat URL that was called. */
  readonly url: URL;
  /** The exact request body bytes sent. */
  readonly requestBody: Uint8Array;
  /** The `X-Request-Hash` header sent, if any. */
  readonly requestHashHeader: string | undefined;
  /** The exact response body bytes received. */
  readonly responseBody: Uint8Array;
  /** The response headers. */
  readonly responseHeaders: Headers;
  /** The request's `model`, when the body names one. */
  readonly model: string | undefined;
  /** The request's abort signal. */
  readonly signal: AbortSignal | undefined;
  /** The request's `Authorization` header (reused for same-origin evidence routes). */
  readonly authorization: string | undefined;
}

/** Verifies the answers of one service, caching attestations per key for their validity. */
export interface AnswerVerifier {
  /** Verifies one answer; never throws for bad evidence (read the verdict). */
  verify(answer: ObservedAnswer): Promise<Verdict>;
  /** Drops every cached attestation. */
  clear(): void;
}

/** Options shared by the answer verifiers. */
export interface AnswerVerifierOptions {
  /** The service kind. */
  service: ServiceKind;
  /** Evidence base URL; default derived from the chat URL (see {@link evidenceBaseOf}). */
  evidenceBaseUrl?: string | undefined;
  /** Bearer for the evidence routes; default the chat request's `Authorization` when the origin is the same. */
  apiKey?: string | undefined;
  /** vllm-proxy / Chutes signature algorithm. Default `ecdsa`. */
  signingAlgo?: VllmSigningAlgorithm | undefined;
  /** Policy. */
  policy?: VerificationPolicy | undefined;
  /** Fetch for the evidence routes. */
  fetch?: EvidenceTransport['fetch'];
  /** Timeout of each evidence request, in ms. */
  evidenceTimeoutMs?: number | undefined;
}

const SUFFIXES: Readonly<Record<ServiceKind, readonly string[]>> = {
  'vllm-proxy': ['/chat/completions', '/completions'],
  chutes: ['/chutes/chat/completions'],
  'tee-gateway': ['/v1/chat/completions', '/v1/completions'],
  venice: ['/chat/completions'],
};

/**
 * The evidence base URL of a service, derived from the chat URL: vllm-proxy `…/v1/chat/completions` → `…/v1`;
 * Chutes `…/v1/chutes/chat/completions` → `…/v1` (the proxy's routes); TEE gateway
 * `…/tee-gateway/v1/chat/completions` → `…/tee-gateway`; Venice `…/venice/v1/chat/completions` → `…/venice/v1`.
 * @returns undefined when the URL does not end with the service's chat path.
 */
export function evidenceBaseOf(service: ServiceKind, url: URL): string | undefined {
  for (const suffix of SUFFIXES[service]) {
    if (url.pathname.endsWith(suffix)) return `${url.origin}${url.pathname.slice(0, -suffix.length)}`;
  }
  return undefined;
}

interface CacheEntry<T> {
  readonly value: T;
  readonly expiresAt: number;
}

/** Most attestations kept per service (one per signing key). */
const MAX_CACHED_ATTESTATIONS = 64;

/** A small cache with single-flight loads, expiry and a size bound (the oldest entry goes first). */
class AttestationCache<T> {
  private readonly entries = new Map<string, CacheEntry<T>>();
  private readonly pending = new Map<string, Promise<T>>();

  get(key: string, now: number): T | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return entry.value;
    if (entry) this.entries.delete(key);
    return undefined;
  }

  async load(key: string, loader: () => Promise<T>, keep: (value: T) => number | undefined): Promise<T> {
    let promise = this.pending.get(key);
    if (!promise) {
      promise = loader()
        .then((value) => {
          const expiresAt = keep(value);
          if (expiresAt !== undefined) {
            this.entries.delete(key);
            this.entries.set(key, { value, expiresAt });
            while (this.entries.size > MAX_CACHED_ATTESTATIONS)
              this.entries.delete(this.entries.keys().next().value!);
          }
          return value;
        })
        .finally(() => this.pending.delete(key));
      this.pending.set(key, promise);
    }
    return promise;
  }

  clear(): void {
    this.entries.clear();
  }
}

function authHeader(
  options: AnswerVerifierOptions,
  answer: ObservedAnswer,
  base: string,
): Record<string, string> {
  if (options.apiKey) return { authorization: `Bearer ${options.apiKey}` };
  if (answer.authorization && new URL(base).origin === answer.url.origin)
    return { authorization: answer.authorization };
  return {};
}

function missingBase(
  service: ServiceKind,
  order: readonly StepName[],
  policy: ResolvedPolicy,
  url: URL,
): Verdict {
  const builder = new VerdictBuilder(service, order, policy);
  builder.fail(
    order[0]!,
    'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
    `Cannot derive the evidence URL from ${url.pathname}; set evidenceBaseUrl.`,
  );
  return builder.finish();
}

/** Reads `tee_id` from a gateway JSON body or from the final SSE frame that carries the proof. */
function teeIdOf(text: string): string | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    const body = parseJsonObject(trimmed);
    return typeof body?.tee_id === 'string' ? body.tee_id : undefined;
  }
  let found: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const frame = parseJsonObject(line.slice(5).trim());
    if (frame && typeof frame.tee_id === 'string') found = frame.tee_id;
  }
  return found;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Creates the answer verifier of one service, as used by {@link createVerifiedFetch}: it attests each signing key
 * once (with a fresh nonce) and reuses that attestation for `policy.attestationMaxAgeMs`; an answer signed by a key
 * it has not attested yet (another replica, a restart) is attested first. Up to 64 keys are kept.
 */
export function createAnswerVerifier(options: AnswerVerifierOptions): AnswerVerifier {
  const policy = resolvePolicy(options.policy);
  const service = options.service;
  const signingAlgo = options.signingAlgo ?? 'ecdsa';
  const maxAge = policy.attestationMaxAgeMs;
  const now = () => policy.now().getTime();
  const transport = (answer: ObservedAnswer, base: string): EvidenceTransport => ({
    fetch: options.fetch,
    headers: authHeader(options, answer, base),
    timeoutMs: options.evidenceTimeoutMs,
    signal: answer.signal,
  });
  const keepIfOk = (value: { verdict: Verdict }) => (value.verdict.ok ? now() + maxAge : undefined);

  const vllmCache = new AttestationCache<{ verdict: Verdict; key: AttestedVllmKey | undefined }>();
  const gatewayCache = new AttestationCache<GatewayAttestationResult>();
  const veniceCache = new AttestationCache<VeniceAttestationResult>();

  async function verifyVllmOrChutes(answer: ObservedAnswer, base: string): Promise<Verdict> {
    const target = { ...transport(answer, base), baseUrl: base, signingAlgo };
    const chatId = completionIdOf(decoder.decode(answer.responseBody));
    if (chatId === undefined) {
      const builder = new VerdictBuilder(service, VLLM_SIGNATURE_STEPS, policy);
      builder.fail(
        'response-hash',
        'ERR_VERIFY_RESPONSE_MALFORMED',
        'The answer has no completion id to look its signature up by.',
      );
      return builder.finish();
    }
    const record = await fetchVllmSignatureRecord(target, chatId, answer.model);
    const signer = record.ok ? record.record.signing_address.toLowerCase() : 'unknown';
    const model = answer.model ?? '';
    // One attestation per signing key: replicas behind a load balancer each keep theirs.
    const cacheKey = `${service}|${base}|${signingAlgo}|${service === 'chutes' ? model : ''}|${signer}`;
    let attestation = vllmCache.get(cacheKey, now());
    if (!attestation) {
      attestation = await vllmCache.load(
        cacheKey,
        async () =>
          service === 'chutes'
            ? verifyChutesAttestation({ ...target, model, policy: options.policy })
            : attestVllmProxy({
                ...target,
                policy: options.policy,
                ...(record.ok ? { signingAddress: record.record.signing_address } : {}),
              }),
        keepIfOk,
      );
    }
    return combineVerdicts(service, [
      attestation.verdict,
      answerSteps(service, { ...answer, policy: options.policy }, record, attestation.key),
    ]);
  }

  async function verifyGateway(answer: ObservedAnswer, base: string): Promise<Verdict> {
    const target = { ...transport(answer, base), baseUrl: base };
    const teeId = teeIdOf(decoder.decode(answer.responseBody))?.replace(/^0x/i, '').toLowerCase();
    const cacheKey = `tee-gateway|${base}|${teeId ?? 'unknown'}`;
    let attestation = gatewayCache.get(cacheKey, now());
    if (!attestation) {
      attestation = await gatewayCache.load(
        cacheKey,
        () => attestTeeGateway({ ...target, policy: options.policy }),
        keepIfOk,
      );
    }
    if (!attestation.key) {
      return combineVerdicts(service, [
        attestation.verdict,
        new VerdictBuilder(service, TEE_GATEWAY_RESPONSE_STEPS, policy).finish(),
      ]);
    }
    const checked = await checkTeeGatewayAnswer({
      requestBody: answer.requestBody,
      responseBody: answer.responseBody,
      key: attestation.key,
      policy: options.policy,
    });
    return combineVerdicts(service, [attestation.verdict, checked]);
  }

  async function verifyVenice(answer: ObservedAnswer, base: string): Promise<Verdict> {
    const model = answer.model ?? '';
    const claimed = answer.responseHeaders.get(VENICE_MODEL_KEY_HEADER)?.trim().toLowerCase();
    // One attestation per model key the proxy names: a new key (rotation, another replica) is attested afresh.
    const cacheKey = `venice|${base}|${model}|${claimed ?? 'unknown'}`;
    const attestation =
      veniceCache.get(cacheKey, now()) ??
      (await veniceCache.load(
        cacheKey,
        () =>
          verifyVeniceAttestation({
            ...transport(answer, base),
            baseUrl: base,
            model,
            policy: options.policy,
          }),
        keepIfOk,
      ));
    return combineVerdicts(service, [
      attestation.verdict,
      veniceAnswerSteps(answer.responseHeaders, claimed, attestation.key, policy),
    ]);
  }

  return {
    async verify(answer) {
      const base = options.evidenceBaseUrl ?? evidenceBaseOf(service, answer.url);
      if (base === undefined) return missingBase(service, ['attestation-report'], policy, answer.url);
      if (service === 'tee-gateway') return verifyGateway(answer, base);
      if (service === 'venice') return verifyVenice(answer, base);
      return verifyVllmOrChutes(answer, base);
    },
    clear() {
      vllmCache.clear();
      gatewayCache.clear();
      veniceCache.clear();
    },
  };
}
