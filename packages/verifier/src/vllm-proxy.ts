import {
  TeeSigningError,
  type VllmSigningAlgorithm,
  verifyVllmSignature,
  vllmRequestHash,
  vllmResponseHash,
} from '@confidential-ai/tee-signing';
import { bearer, fetchAttestationReport } from './attestation-report.js';
import {
  type EvidenceTransport,
  getEvidence,
  isPlainObject,
  joinUrl,
  parseJsonObject,
  randomNonceHex,
} from './http.js';
import { resolvePolicy, type VerificationPolicy } from './policy.js';
import { combineVerdicts, type ServiceKind, type StepName, type Verdict, VerdictBuilder } from './verdict.js';
import { type AttestedVllmKey, checkVllmReport } from './vllm-report.js';

/** Steps of a vllm-proxy attestation, in order. */
export const VLLM_ATTESTATION_STEPS: readonly StepName[] = [
  'attestation-report',
  'tdx-quote',
  'tcb-status',
  'measurements',
  'key-binding',
  'gpu-evidence',
];

/** Steps of a vllm-proxy answer signature, in order. */
export const VLLM_SIGNATURE_STEPS: readonly StepName[] = ['response-hash', 'response-signature'];

/** Where and how to reach a vllm-proxy face. */
export interface VllmProxyTarget extends EvidenceTransport {
  /** The face's OpenAI base URL, e.g. `http://127.0.0.1:8000/v1` (evidence routes are below it). */
  baseUrl: string;
  /** The proxy's Bearer token (`TOKEN`), sent to the evidence routes. */
  apiKey?: string | undefined;
  /** Signature algorithm to attest and verify. Default `ecdsa`. */
  signingAlgo?: VllmSigningAlgorithm | undefined;
}

/** Options of {@link attestVllmProxy}. */
export interface VllmProxyAttestationOptions extends VllmProxyTarget {
  /** Verification policy (strict by default). */
  policy?: VerificationPolicy | undefined;
  /** Fixed 32-byte nonce as 64 hex characters (tests); default a fresh random one. */
  nonce?: string | undefined;
  /** Pick this signer's entry from `all_attestations` (servers behind a load balancer). */
  signingAddress?: string | undefined;
}

/** A checked attestation: its verdict and, when it holds, the attested key. */
export interface AttestationResult {
  /** The attestation steps. */
  readonly verdict: Verdict;
  /** The attested key, when no step failed. */
  readonly key: AttestedVllmKey | undefined;
  /** The nonce sent, lowercase hex. */
  readonly nonce: string;
  /** When the attestation was checked (ms since the epoch). */
  readonly checkedAt: number;
}

/** `Authorization` header for an API key. */

function algoOf(value: unknown): VllmSigningAlgorithm {
  if (value === undefined || value === 'ecdsa') return 'ecdsa';
  if (value === 'ed25519') return 'ed25519';
  throw new TypeError("signingAlgo must be 'ecdsa' or 'ed25519'");
}

function nonceOf(value: string | undefined, bytes: number): string {
  if (value === undefined) return randomNonceHex(bytes);
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(value)) {
    throw new TypeError(`nonce must be ${bytes} bytes as ${bytes * 2} hex characters`);
  }
  return value.toLowerCase();
}

/**
 * Fetches `GET {baseUrl}/attestation/report?signing_algo=&nonce=` with a fresh 32-byte nonce and checks it
 * (vllm-proxy.md §5): steps `attestation-report`, `tdx-quote`, `tcb-status`, `measurements`, `key-binding`,
 * `gpu-evidence`. Never throws for bad evidence: read `result.verdict`.
 *
 * @example
 * ```ts
 * const { verdict, key } = await attestVllmProxy({ baseUrl: 'http://127.0.0.1:8000/v1', apiKey: 'demo-token' });
 * console.log(verdict.status, key?.signingAddress);
 * ```
 * @throws TypeError for a malformed `nonce` or `signingAlgo`.
 */
export async function attestVllmProxy(options: VllmProxyAttestationOptions): Promise<AttestationResult> {
  const policy = resolvePolicy(options.policy);
  const signingAlgo = algoOf(options.signingAlgo);
  const nonce = nonceOf(options.nonce, 32);
  const builder = new VerdictBuilder('vllm-proxy', VLLM_ATTESTATION_STEPS, policy);
  const url = new URL(joinUrl(options.baseUrl, 'attestation/report'));
  url.searchParams.set('signing_algo', signingAlgo);
  url.searchParams.set('nonce', nonce);
  const text = await fetchAttestationReport(builder, url, 'attestation report', options);
  let key: AttestedVllmKey | undefined;
  if (text !== undefined) {
    const report = parseJsonObject(text);
    key = await checkVllmReport(builder, 'vllm-proxy', report, {
      nonce,
      signingAlgo,
      signingAddress: options.signingAddress,
      policy,
    });
  }
  const verdict = builder.finish();
  return { verdict, key: verdict.ok ? key : undefined, nonce, checkedAt: Date.now() };
}

/** The `GET /v1/signature/{id}` answer. */
export interface VllmSignatureRecord {
  /** `"<request_sha256_hex>:<response_sha256_hex>"`. */
  readonly text: string;
  /** The signature. */
  readonly signature: string;
  /** The signer's address (ECDSA) or public key (Ed25519). */
  readonly signing_address: string;
  /** The algorithm. */
  readonly signing_algo: VllmSigningAlgorithm;
}

/** A fetched signature record, or why there is none. */
export type SignatureRecordReply =
  | { readonly ok: true; readonly record: VllmSignatureRecord }
  | { readonly ok: false; readonly reason: string; readonly status: number | undefined };

/**
 * Fetches `GET {baseUrl}/signature/{chatId}?signing_algo=&model=` (vllm-proxy.md §4.5).
 */
export async function fetchVllmSignatureRecord(
  target: VllmProxyTarget,
  chatId: string,
  model?: string,
): Promise<SignatureRecordReply> {
  const url = new URL(joinUrl(target.baseUrl, `signature/${encodeURIComponent(chatId)}`));
  url.searchParams.set('signing_algo', algoOf(target.signingAlgo));
  if (model) url.searchParams.set('model', model);
  const reply = await getEvidence(url.toString(), {
    ...target,
    headers: { ...target.headers, ...bearer(target.apiKey) },
  });
  if (!reply.ok) return { ok: false, reason: reply.reason, status: reply.status };
  const body = parseJsonObject(reply.text);
  if (
    !body ||
    typeof body.text !== 'string' ||
    typeof body.signature !== 'string' ||
    typeof body.signing_address !== 'string' ||
    (body.signing_algo !== 'ecdsa' && body.signing_algo !== 'ed25519')
  ) {
    return { ok: false, reason: 'the signature record is malformed', status: reply.status };
  }
  return { ok: true, record: body as unknown as VllmSignatureRecord };
}

/** What a signature is checked against. */
export interface VllmSignatureCheck {
  /** The service whose verdict this is (`vllm-proxy` or `chutes`). */
  service?: ServiceKind;
  /** The fetched record. */
  record: SignatureRecordReply;
  /** SHA-256 hex of the exact request bytes sent (or the `X-Request-Hash` value sent). */
  requestHash: string;
  /** SHA-256 hex of the exact response bytes received. */
  responseHash: string;
  /** The attested key (from a verified attestation). */
  key: AttestedVllmKey;
  /** Policy (for `acceptSimulated`). */
  policy?: VerificationPolicy | undefined;
}

/**
 * Checks a signature record against the exchange this client saw (D5): steps `response-hash` (the signed text is
 * SHA-256(request bytes):SHA-256(response bytes)) and `response-signature` (signed by the attested key; `simulated`
 * when that key's attestation is simulated or TEST evidence).
 */
export function checkVllmSignature(check: VllmSignatureCheck): Verdict {
  const policy = resolvePolicy(check.policy);
  const builder = new VerdictBuilder(check.service ?? 'vllm-proxy', VLLM_SIGNATURE_STEPS, policy);
  const hashes = { requestHash: check.requestHash, responseHash: check.responseHash };
  if (!check.record.ok) {
    builder.fail(
      'response-hash',
      'ERR_VERIFY_SIGNATURE_UNAVAILABLE',
      `No signature record for this answer: ${check.record.reason}.`,
      {
        ...hashes,
        status: check.record.status ?? null,
      },
    );
    return builder.finish();
  }
  const record = check.record.record;
  const [signedRequest, signedResponse, ...rest] = record.text.split(':');
  const evidence = { ...hashes, signedText: record.text };
  if (rest.length > 0 || signedRequest === undefined || signedResponse === undefined) {
    builder.fail(
      'response-hash',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      'The signed text is not "<request hash>:<response hash>".',
      evidence,
    );
    return builder.finish();
  }
  if (signedRequest.toLowerCase() !== check.requestHash) {
    builder.fail(
      'response-hash',
      'ERR_VERIFY_REQUEST_HASH',
      'The signed request hash is not the hash of the request sent.',
      evidence,
    );
    return builder.finish();
  }
  if (signedResponse.toLowerCase() !== check.responseHash) {
    builder.fail(
      'response-hash',
      'ERR_VERIFY_RESPONSE_HASH',
      'The signed response hash is not the hash of the bytes received.',
      evidence,
    );
    return builder.finish();
  }
  builder.pass(
    'response-hash',
    'SHA-256 of the exact request and response bytes equals the signed text.',
    evidence,
  );
  const signer = {
    signingAlgo: record.signing_algo,
    signingAddress: record.signing_address,
    attestedAddress: check.key.signingAddress,
    signature: record.signature,
  };
  if (record.signing_algo !== check.key.signingAlgo) {
    builder.fail(
      'response-signature',
      'ERR_VERIFY_SIGNER_MISMATCH',
      'The record is signed with another algorithm than the attested one.',
      signer,
    );
    return builder.finish();
  }
  try {
    verifyVllmSignature({
      algorithm: record.signing_algo,
      text: record.text,
      signature: record.signature,
      signingAddress: check.key.signingAddress,
    });
  } catch (error) {
    const code = TeeSigningError.isInstance(error) ? error.code : undefined;
    if (code === 'ERR_ADDRESS_MISMATCH') {
      builder.fail(
        'response-signature',
        'ERR_VERIFY_SIGNER_MISMATCH',
        'The answer is signed by another key than the attested one.',
        signer,
      );
    } else {
      builder.fail('response-signature', 'ERR_VERIFY_SIGNATURE_INVALID', 'The signature does not verify.', {
        ...signer,
        signingCode: code ?? null,
      });
    }
    return builder.finish();
  }
  const kind = record.signing_algo === 'ecdsa' ? 'EIP-191 ECDSA' : 'Ed25519';
  if (check.key.real)
    builder.pass(
      'response-signature',
      `Valid ${kind} signature by the attested key ${check.key.signingAddress}.`,
      signer,
    );
  else {
    builder.simulate(
      'response-signature',
      `Valid ${kind} signature by ${check.key.signingAddress}, the key of a simulated or TEST attestation.`,
      signer,
    );
  }
  return builder.finish();
}

/** Options of {@link verifyVllmProxyAnswer}. */
export interface VllmProxyAnswerOptions extends VllmProxyAttestationOptions {
  /** The completion id (`id` of the response or of the first stream chunk). */
  chatId: string;
  /** The exact request body bytes sent (or text, as UTF-8). */
  requestBody: Uint8Array | string;
  /** The `X-Request-Hash` header sent, if any (the proxy signs it instead of the body hash). */
  requestHashHeader?: string | undefined;
  /** The exact response body bytes received (or text, as UTF-8). */
  responseBody: Uint8Array | string;
  /** The request's `model`, passed as the signature lookup namespace. */
  model?: string | undefined;
}

/**
 * Verifies one answer of a vllm-proxy face end to end: the attestation (fresh nonce, TDX quote, REPORTDATA
 * binding, GPU), then `GET /v1/signature/{id}` and the signature over SHA-256(request):SHA-256(response) by the
 * attested key.
 *
 * @example
 * ```ts
 * const verdict = await verifyVllmProxyAnswer({
 *   baseUrl: 'http://127.0.0.1:8000/v1', apiKey: 'demo-token', chatId: body.id,
 *   requestBody: sentBytes, responseBody: receivedBytes, policy: { acceptSimulated: true, tdxMeasurements: 'any' },
 * });
 * ```
 */
export async function verifyVllmProxyAnswer(options: VllmProxyAnswerOptions): Promise<Verdict> {
  const record = await fetchVllmSignatureRecord(options, options.chatId, options.model);
  const attestation = await attestVllmProxy({
    ...options,
    ...(record.ok ? { signingAddress: record.record.signing_address } : {}),
  });
  return combineVerdicts('vllm-proxy', [
    attestation.verdict,
    answerSteps('vllm-proxy', options, record, attestation.key),
  ]);
}

/** The response steps of an answer, given the attestation outcome. */
export function answerSteps(
  service: ServiceKind,
  exchange: Pick<VllmProxyAnswerOptions, 'requestBody' | 'requestHashHeader' | 'responseBody' | 'policy'>,
  record: SignatureRecordReply,
  key: AttestedVllmKey | undefined,
): Verdict {
  const requestHash = vllmRequestHash(exchange.requestBody, exchange.requestHashHeader);
  const responseHash = vllmResponseHash(exchange.responseBody);
  if (!key) {
    const builder = new VerdictBuilder(service, VLLM_SIGNATURE_STEPS, resolvePolicy(exchange.policy));
    builder.skip('response-hash', 'Not run: the attestation failed.', { requestHash, responseHash });
    builder.skip('response-signature', 'Not run: no attested key.');
    return builder.finish();
  }
  return checkVllmSignature({ service, record, requestHash, responseHash, key, policy: exchange.policy });
}

/** Reads the completion id of a non-streamed JSON body or of the first data event of an SSE body. */
export function completionIdOf(body: string): string | undefined {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) {
    const parsed = parseJsonObject(trimmed);
    return parsed && typeof parsed.id === 'string' && parsed.id !== '' ? parsed.id : undefined;
  }
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') break;
    const parsed = parseJsonObject(data);
    if (parsed && typeof parsed.id === 'string' && parsed.id !== '') return parsed.id;
  }
  return undefined;
}

/** The `model` string of a JSON request body, when it has one. */
export function requestModelOf(body: Uint8Array | string): string | undefined {
  try {
    const text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
    const parsed = parseJsonObject(text);
    return parsed && typeof parsed.model === 'string' ? parsed.model : undefined;
  } catch {
    return undefined;
  }
}

/** True when an SSE body or JSON value looks like a chat answer. */
export function isChatPayload(value: unknown): boolean {
  return isPlainObject(value);
}
