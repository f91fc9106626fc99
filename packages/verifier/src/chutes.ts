import { base64ToBytes, base64UrlToBytes, bytesToHex, bytesToUtf8, equalBytes } from '@confidential-ai/bytes';
import { chutesReportDataPrefix } from '@confidential-ai/tdx-attestation';
import {
  pythonJsonDumps,
  sha256,
  TeeSigningError,
  type VllmSigningAlgorithm,
  verifyVllmSignature,
} from '@confidential-ai/tee-signing';
import { fetchAttestationReport } from './attestation-report.js';
import { runGpuStep } from './gpu.js';
import { type EvidenceTransport, isPlainObject, joinUrl, parseJsonObject, randomNonceHex } from './http.js';
import { type ResolvedPolicy, resolvePolicy, type VerificationPolicy } from './policy.js';
import { checkTdxQuote, passOrSimulate } from './tdx.js';
import {
  type StepName,
  type StepStatus,
  type Verdict,
  VerdictBuilder,
  type VerificationStep,
} from './verdict.js';
import { type AttestedVllmKey, checkVllmReport } from './vllm-report.js';

/** Steps of a Chutes attestation chain, in order. */
export const CHUTES_ATTESTATION_STEPS: readonly StepName[] = [
  'attestation-report',
  'tdx-quote',
  'tcb-status',
  'measurements',
  'key-binding',
  'gpu-evidence',
  'binding-proof',
  'instance-evidence',
  'instance-tdx-quote',
  'instance-tcb-status',
  'instance-gpu-evidence',
];

/** Size of a Chutes instance `e2e_pubkey` (ML-KEM-768 encapsulation key). */
const E2E_PUBKEY_BYTES = 1184;

/** Options of {@link verifyChutesAttestation}. */
export interface ChutesAttestationOptions extends EvidenceTransport {
  /** The proxy's vllm-proxy base URL (where `/attestation/chain` is), e.g. `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** The proxy's Bearer token. */
  apiKey?: string | undefined;
  /** The Chutes model name, e.g. `fake/echo-model`. */
  model: string;
  /** Algorithm of the proxy key that signs the binding proof and the answers. Default `ecdsa`. */
  signingAlgo?: VllmSigningAlgorithm | undefined;
  /** Fixed 32-byte nonce as 64 hex characters (tests); default a fresh random one. */
  nonce?: string | undefined;
  /** Verification policy; `tdxMeasurements` applies to the proxy's own quote. */
  policy?: VerificationPolicy | undefined;
}

/** A checked Chutes attestation chain. */
export interface ChutesAttestationResult {
  /** The steps. */
  readonly verdict: Verdict;
  /** The attested proxy key (which signs the answers), when no step failed. */
  readonly key: AttestedVllmKey | undefined;
  /** The upstream instance ids whose evidence was verified. */
  readonly instanceIds: readonly string[];
  /** The nonce sent. */
  readonly nonce: string;
  /** When it was checked (ms since the epoch). */
  readonly checkedAt: number;
}

/** The canonical JSON the reference hashes and signs: Python `json.dumps(sort_keys=True, separators=(",", ":"))`. */
function canonicalCompact(value: unknown): string {
  return pythonJsonDumps(value, {
    sortKeys: true,
    separators: [',', ':'],
    unsafeIntegers: 'as-json',
    maxDepth: 64,
  });
}

/** What Chutes' GPU platform token claims (decoded WITHOUT verifying its signature). */
interface GpuTokenClaims {
  /** A `gpu_tokens` object is present. */
  readonly present: boolean;
  /** Its platform token claims `x-nvidia-overall-att-result: true` for `eat_nonce` = the digest, with no error. */
  readonly agrees: boolean;
  /** Always `not-verified`: the claims are read, the NRAS signature is not checked. */
  readonly signature: 'not-verified';
}

/** Reads the claims of `gpu_tokens.tokens[0][1]` (a compact JWT) without verifying it; never throws. */
function gpuTokenClaims(tokens: unknown, digestHex: string): GpuTokenClaims {
  if (tokens === undefined || tokens === null)
    return { present: false, agrees: false, signature: 'not-verified' };
  let agrees = false;
  try {
    const list = isPlainObject(tokens) && !tokens.error ? tokens.tokens : undefined;
    const platform = Array.isArray(list) && Array.isArray(list[0]) ? list[0][1] : undefined;
    const parts = typeof platform === 'string' ? platform.split('.') : [];
    if (parts.length === 3) {
      const claims: unknown = JSON.parse(bytesToUtf8(base64UrlToBytes(parts[1]!)));
      agrees =
        isPlainObject(claims) &&
        claims['x-nvidia-overall-att-result'] === true &&
        claims.eat_nonce === digestHex;
    }
  } catch {
    agrees = false;
  }
  return { present: true, agrees, signature: 'not-verified' };
}

/** Folds per-instance sub-verdicts into one step each: the worst status, every instance's outcome as evidence. */
function foldInstances(
  builder: VerdictBuilder,
  name: StepName,
  perInstance: ReadonlyArray<{ id: string; step: VerificationStep | undefined }>,
): void {
  const rank: Record<StepStatus, number> = { passed: 0, skipped: 1, simulated: 2, failed: 3 };
  const present = perInstance.filter((entry) => entry.step !== undefined) as Array<{
    id: string;
    step: VerificationStep;
  }>;
  if (present.length === 0) return;
  const worst = present.reduce((a, b) => (rank[b.step.status] > rank[a.step.status] ? b : a));
  const evidence = {
    instances: present.map(({ id, step }) => ({
      instanceId: id,
      status: step.status,
      message: step.message,
      ...step.evidence,
    })),
  };
  const message = `${present.length} instance${present.length === 1 ? '' : 's'}: ${worst.step.message}`;
  if (worst.step.status === 'failed')
    builder.fail(
      name,
      worst.step.code ?? 'ERR_VERIFY_INSTANCE_EVIDENCE',
      `Instance ${worst.id}: ${worst.step.message}`,
      evidence,
    );
  else if (worst.step.status === 'simulated') builder.simulate(name, message, evidence);
  else if (worst.step.status === 'skipped') builder.skip(name, message, evidence);
  else builder.pass(name, message, evidence);
}

async function checkInstance(
  entry: Record<string, unknown>,
  nonce: string,
  policy: ResolvedPolicy,
): Promise<ReadonlyMap<StepName, VerificationStep>> {
  const sub = new VerdictBuilder(
    'chutes',
    ['instance-evidence', 'instance-tdx-quote', 'instance-tcb-status', 'instance-gpu-evidence'],
    policy,
  );
  const steps = () => sub.recorded();
  const pubkey = entry.e2e_pubkey;
  let keyOk = false;
  try {
    keyOk = typeof pubkey === 'string' && base64ToBytes(pubkey).length === E2E_PUBKEY_BYTES;
  } catch {
    keyOk = false;
  }
  if (!keyOk) {
    sub.fail(
      'instance-evidence',
      'ERR_VERIFY_INSTANCE_EVIDENCE',
      'e2e_pubkey is not 1184 bytes of strict base64 (ML-KEM-768).',
    );
    return steps();
  }
  if (entry.nonce !== nonce) {
    sub.fail(
      'instance-evidence',
      'ERR_VERIFY_NONCE_MISMATCH',
      'The instance evidence answers another nonce.',
    );
    return steps();
  }
  let quote: Uint8Array;
  try {
    quote = base64ToBytes(String(entry.intel_quote ?? ''));
    if (quote.length === 0) throw new RangeError('empty');
  } catch {
    sub.fail('instance-evidence', 'ERR_VERIFY_INSTANCE_EVIDENCE', 'intel_quote is not a base64 TDX quote.');
    return steps();
  }
  const reported =
    isPlainObject(entry.tdx_verification) && isPlainObject(entry.tdx_verification.result)
      ? entry.tdx_verification.result.status
      : undefined;
  const outcome = await checkTdxQuote(
    sub,
    quote,
    { quote: 'instance-tdx-quote', tcb: 'instance-tcb-status' },
    policy,
  );
  if (!outcome.trusted || !outcome.quote) return steps();
  const expected = chutesReportDataPrefix(nonce, pubkey as string);
  const bound = outcome.quote.body.reportData.subarray(0, 32);
  const bindingEvidence = {
    expected: bytesToHex(expected),
    reportData: bytesToHex(outcome.quote.body.reportData),
    chutesReportedTcbStatus: typeof reported === 'string' ? reported : null,
  };
  if (!equalBytes(bound, expected)) {
    sub.fail(
      'instance-evidence',
      'ERR_VERIFY_KEY_BINDING',
      'REPORTDATA[0:32] is not SHA-256(nonce ‖ e2e_pubkey).',
      bindingEvidence,
    );
    return steps();
  }
  passOrSimulate(
    sub,
    outcome.real,
    'instance-evidence',
    'REPORTDATA[0:32] = SHA-256(nonce ‖ e2e_pubkey): the instance key is bound to this nonce.',
    bindingEvidence,
  );
  const gpuEvidence = Array.isArray(entry.gpu_evidence) ? entry.gpu_evidence : [];
  const digestHex = bytesToHex(expected);
  const tokenClaims = gpuTokenClaims(entry.gpu_tokens, digestHex);
  const summary = { gpuEvidenceCount: gpuEvidence.length, gpuTokenClaims: tokenClaims };
  await runGpuStep(
    sub,
    'instance-gpu-evidence',
    {
      service: 'chutes',
      evidence: { gpu_evidence: entry.gpu_evidence ?? null, gpu_tokens: entry.gpu_tokens ?? null },
      nonce: digestHex,
    },
    entry.gpu_evidence !== undefined &&
      entry.gpu_evidence !== null &&
      !(Array.isArray(entry.gpu_evidence) && gpuEvidence.length === 0),
    policy,
    summary,
  );
  // Chutes' NRAS token is an additional signal only (its signature is not verified, so it never passes the step):
  // a token that claims a failed attestation or another nonce fails the instance.
  if (tokenClaims.present && !tokenClaims.agrees) {
    sub.fail(
      'instance-gpu-evidence',
      'ERR_VERIFY_GPU_EVIDENCE',
      "Chutes' GPU platform token (unverified claims, an additional signal) reports a failed attestation or another nonce.",
      summary,
    );
  }
  return steps();
}

/**
 * Verifies the Chutes upstream of a proxy through its attestation chain route (vllm-proxy.md §6.4, D12):
 * `GET {baseUrl}/attestation/chain?model=&nonce=&verify_mode=passthrough` with a fresh nonce, then, on the
 * client: the proxy's own report for that nonce (as {@link attestVllmProxy}); the `binding_proof` (the bundle's
 * canonical SHA-256 is `upstream_attestation_sha256`, the payload names this nonce and model, and it is signed by
 * the attested proxy key); and every upstream instance: `e2e_pubkey` is an ML-KEM-768 key, REPORTDATA[0:32] =
 * SHA-256(nonce ‖ e2e_pubkey), the quote's signature chain, debug bit and TCB status, and the GPU evidence
 * (`gpu_evidence`, verified by the policy's GPU verifier against the same digest). Chutes' own `tdx_verification`
 * status and `gpu_tokens` claims are reported as evidence, never trusted (a token claiming a failure still fails).
 *
 * @example
 * ```ts
 * const { verdict } = await verifyChutesAttestation({
 *   baseUrl: 'http://127.0.0.1:8000/v1', apiKey: 'demo-token', model: 'fake/echo-model', policy,
 * });
 * ```
 * @throws TypeError for a malformed `nonce` or an empty `model`.
 */
export async function verifyChutesAttestation(
  options: ChutesAttestationOptions,
): Promise<ChutesAttestationResult> {
  if (typeof options.model !== 'string' || options.model === '')
    throw new TypeError('model must be a non-empty string');
  if (options.nonce !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.nonce))
    throw new TypeError('nonce must be 32 bytes as 64 hex characters');
  const signingAlgo = options.signingAlgo ?? 'ecdsa';
  const policy = resolvePolicy(options.policy);
  const nonce = options.nonce?.toLowerCase() ?? randomNonceHex(32);
  const builder = new VerdictBuilder('chutes', CHUTES_ATTESTATION_STEPS, policy);
  const instanceIds: string[] = [];
  const finish = (key: AttestedVllmKey | undefined): ChutesAttestationResult => {
    const verdict = builder.finish();
    return { verdict, key: verdict.ok ? key : undefined, instanceIds, nonce, checkedAt: Date.now() };
  };
  const url = new URL(joinUrl(options.baseUrl, 'attestation/chain'));
  url.searchParams.set('model', options.model);
  url.searchParams.set('nonce', nonce);
  url.searchParams.set('verify_mode', 'passthrough');
  url.searchParams.set('signing_algo', signingAlgo);
  const text = await fetchAttestationReport(builder, url, 'attestation chain', options);
  if (text === undefined) return finish(undefined);
  const chain = parseJsonObject(text);
  const proxy = chain && isPlainObject(chain.proxy) ? chain.proxy : undefined;
  const upstream = chain && isPlainObject(chain.upstream) ? chain.upstream : undefined;
  const bundle = upstream && isPlainObject(upstream.attestation) ? upstream.attestation : undefined;
  const proof = chain && isPlainObject(chain.binding_proof) ? chain.binding_proof : undefined;
  if (
    !proxy ||
    !upstream ||
    !bundle ||
    !proof ||
    !isPlainObject(proof.payload) ||
    !Array.isArray(bundle.all_attestations)
  ) {
    builder.fail(
      'attestation-report',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      'The chain answer lacks proxy, upstream or binding_proof.',
    );
    return finish(undefined);
  }
  const key = await checkVllmReport(builder, 'chutes', proxy.attestation, { nonce, signingAlgo, policy });
  if (!key) return finish(undefined);

  // The binding proof: the proxy's signature over the upstream bundle's hash, for this nonce and model.
  let digest: string;
  try {
    digest = bytesToHex(sha256(canonicalCompact(bundle)));
  } catch {
    builder.fail(
      'binding-proof',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      'The upstream bundle cannot be canonicalized.',
    );
    return finish(undefined);
  }
  const payload = proof.payload;
  const proofEvidence = {
    bundleSha256: digest,
    attestationSha256: upstream.attestation_sha256 ?? null,
    payloadSha256: payload.upstream_attestation_sha256 ?? null,
    signingAddress: proof.signing_address ?? null,
  };
  if (upstream.attestation_sha256 !== digest || payload.upstream_attestation_sha256 !== digest) {
    builder.fail(
      'binding-proof',
      'ERR_VERIFY_BINDING_PROOF',
      'The binding proof does not hash the upstream bundle received.',
      proofEvidence,
    );
    return finish(undefined);
  }
  if (payload.nonce !== nonce || bundle.nonce !== nonce || payload.model !== options.model) {
    builder.fail(
      'binding-proof',
      'ERR_VERIFY_NONCE_MISMATCH',
      'The binding proof or bundle names another nonce or model.',
      proofEvidence,
    );
    return finish(undefined);
  }
  try {
    if (proof.signing_algo !== signingAlgo || typeof proof.signature !== 'string')
      throw new TeeSigningError('ERR_SIGNATURE_MALFORMED', 'algorithm');
    verifyVllmSignature({
      algorithm: signingAlgo,
      text: canonicalCompact(payload),
      signature: proof.signature,
      signingAddress: key.signingAddress,
    });
  } catch (error) {
    const mismatch = TeeSigningError.isInstance(error) && error.code === 'ERR_ADDRESS_MISMATCH';
    builder.fail(
      'binding-proof',
      mismatch ? 'ERR_VERIFY_SIGNER_MISMATCH' : 'ERR_VERIFY_BINDING_PROOF',
      mismatch
        ? 'The binding proof is signed by another key than the attested proxy key.'
        : 'The binding proof signature does not verify.',
      proofEvidence,
    );
    return finish(undefined);
  }
  passOrSimulate(
    builder,
    key.real,
    'binding-proof',
    `The attested proxy key signed SHA-256 ${digest.slice(0, 16)}… of the upstream bundle for this nonce.`,
    proofEvidence,
  );

  const entries = bundle.all_attestations.filter(isPlainObject);
  if (entries.length === 0) {
    builder.fail('instance-evidence', 'ERR_VERIFY_INSTANCE_EVIDENCE', 'The bundle has no instance evidence.');
    return finish(undefined);
  }
  const results: Array<{ id: string; steps: ReadonlyMap<StepName, VerificationStep> }> = [];
  for (const entry of entries) {
    const id = typeof entry.instance_id === 'string' ? entry.instance_id.slice(0, 64) : 'missing';
    instanceIds.push(id);
    results.push({ id, steps: await checkInstance(entry, nonce, policy) });
  }
  for (const name of [
    'instance-evidence',
    'instance-tdx-quote',
    'instance-tcb-status',
    'instance-gpu-evidence',
  ] as const) {
    foldInstances(
      builder,
      name,
      results.map(({ id, steps }) => ({ id, step: steps.get(name) })),
    );
  }
  return finish(key);
}
