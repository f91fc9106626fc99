import { errorForLog, isPlainObject } from '@confidential-ai/server-kit';
import { type Context, Hono } from 'hono';
import { type AppDependencies, type AppEnv, requireBearer, sendError } from '../app.js';
import { ownAttestationReport, signingAlgoParam } from '../attestation.js';
import {
  CHUTES_VERIFICATION_POLICY,
  type ChutesAttestationBundle,
  type ChutesAttestationEntry,
  type ChutesInstanceResult,
  canonicalJsonCompact,
  type DcapMaterial,
  loadDcapMaterial,
  safeToken,
  verifyChutesInstance,
} from '../chutes-attestation.js';
import { loadNvidiaMaterial, type NvidiaMaterial, withEmbeddedTestRoot } from '../chutes-gpu-evidence.js';
import {
  createChuteIdCache,
  readLimitedText,
  type Step,
  saneRetryAfter,
  UpstreamRateLimitedError,
} from '../chutes-platform-reads.js';
import { ApiError } from '../errors.js';
import { sha256Hex } from '../signing.js';
import { upstreamFailure } from '../upstream-failure.js';

/** Default Chutes platform API of the chain route (`CHUTES_ATTESTATION_BASE_URL`). */
const DEFAULT_ATTESTATION_BASE_URL = 'https://api.chutes.ai';
const MAX_MODEL_CHARS = 256;
const CHUTE_ID = /^[A-Za-z0-9-]{1,64}$/;

type SigningAlgo = 'ecdsa' | 'ed25519';

/** `verified` when every instance's GPU evidence verified, `absent` when none had any (not required), else `mixed`. */
function gpuSummary(results: readonly ChutesInstanceResult[]): 'verified' | 'absent' | 'mixed' {
  const outcomes = new Set(results.map((result) => result.checks.gpu_evidence));
  if (outcomes.size === 1 && outcomes.has('pass')) return 'verified';
  if (outcomes.size === 1 && outcomes.has('absent')) return 'absent';
  return 'mixed';
}

/** The distinct roots that anchored the verified GPU chains (subject and SHA-256), as the receipt names them. */
function gpuRoots(results: readonly ChutesInstanceResult[]): Array<{ subject: string; sha256: string }> {
  const roots = new Map<string, { subject: string; sha256: string }>();
  for (const result of results) {
    if (result.gpu) roots.set(result.gpu.device_root.sha256, result.gpu.device_root);
  }
  return [...roots.values()];
}

/**
 * `GET /v1/attestation/chain` (vllm-proxy version C, §6.4, D12) with the reference's caveats fixed: the nonce
 * must be exactly 32 bytes as 64 hex characters; in `verify_mode=proxy` every discovered instance is verified
 * fail-closed (REPORTDATA binding, little-endian TD debug bit, offline DCAP signature chain and TCB status when
 * the operator configured `chutes.tdx_root_file` / `chutes.tdx_collateral_file`, otherwise Chutes' reported
 * `tdx_verification` status; the GPU evidence verified offline with nvidia-attestation, bound to the same digest,
 * chained to NVIDIA's root or `chutes.nvidia_root_file` (the built-in simulator's TEST root for that simulator
 * only), measurements against `chutes.nvidia_rim_file`; GPU platform token claims as an additional signal) and a
 * `verification_receipt` signed with the proxy's response-signing key is returned; `verify_mode=passthrough` returns the bundle with a signed `binding_proof`.
 * Needs the Bearer `TOKEN`; 503 `chutes_disabled` / `chutes_misconfigured` as the Chutes sidecar routes.
 *
 * @example
 * ```ts
 * const app = createApp(deps, { modules: [attestationChainRoutes] });
 * const response = await app.request(`/v1/attestation/chain?model=fake/echo-model&nonce=${'ab'.repeat(32)}`, {
 *   headers: { authorization: `Bearer ${token}` },
 * });
 * ```
 * @throws {ConfigError} at construction when `chutes.tdx_root_file` / `chutes.tdx_collateral_file` /
 * `chutes.nvidia_root_file` / `chutes.nvidia_rim_file` / `chutes.nvidia_rim_root_file` cannot be read or parsed.
 */
export function attestationChainRoutes(deps: AppDependencies): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const settings = deps.config.chutes;
  const dcap: DcapMaterial | undefined = settings.enabled ? loadDcapMaterial(settings) : undefined;
  // Configured files are read and checked here, at start-up (fail closed).
  const nvidiaFiles: NvidiaMaterial | undefined = settings.enabled ? loadNvidiaMaterial(settings) : undefined;
  // The simulator's TEST root only when the simulator is the upstream (chutes.simulate forbids other base URLs). The
  // simulator makes it on first use; a failure is retried by the next request.
  const embeddedRoot = settings.enabled && settings.simulate ? deps.embeddedChutes?.nvidiaRoot : undefined;
  let embeddedMaterial: Promise<NvidiaMaterial> | undefined;
  const nvidiaMaterial = (): Promise<NvidiaMaterial | undefined> | NvidiaMaterial | undefined => {
    if (nvidiaFiles === undefined || embeddedRoot === undefined) return nvidiaFiles;
    embeddedMaterial ??= embeddedRoot().then(
      (root) => withEmbeddedTestRoot(nvidiaFiles, root),
      (error: unknown) => {
        embeddedMaterial = undefined;
        throw error;
      },
    );
    return embeddedMaterial;
  };
  const now = deps.now ?? Date.now;
  const cache = createChuteIdCache(settings.chuteIdCacheTtlSeconds, now);
  // The embedded default (no upstream configured) serves Chutes from the built-in fake server, which is also the
  // platform API.
  const embedded = deps.config.vllm.baseUrl === undefined && settings.baseUrl === undefined;
  const apiBase = settings.apiBaseUrl ?? (embedded ? deps.chutes.baseUrl : DEFAULT_ATTESTATION_BASE_URL);
  const logger = deps.logger.child({ component: 'attestation-chain' });

  const platformGet = async (
    step: Step,
    path: string,
    apiKey: string,
    signal: AbortSignal,
  ): Promise<unknown> => {
    let response: Response;
    try {
      response = await deps.chutes.fetch(`${apiBase}${path}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
        signal: AbortSignal.any([signal, AbortSignal.timeout(settings.attestationTimeoutMs)]),
      });
    } catch (error) {
      logger.warn({ step, err: errorForLog(error) }, 'Chutes attestation API call failed');
      throw upstreamFailure('Chutes attestation API', error);
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      logger.warn({ step, status: response.status }, 'Chutes attestation API answered an error');
      if (response.status === 429) {
        throw new UpstreamRateLimitedError(saneRetryAfter(response.headers.get('retry-after')));
      }
      if (response.status === 401 || response.status === 403) {
        throw new ApiError(
          502,
          'upstream_auth_failed',
          'Chutes upstream rejected the configured credentials',
        );
      }
      if (step === 'discovery' && response.status === 404) {
        throw new ApiError(
          503,
          'upstream_unavailable',
          'No Chutes E2EE instance is available for this model',
        );
      }
      throw new ApiError(
        502,
        'upstream_error',
        `Chutes attestation API answered HTTP ${response.status} (${step})`,
      );
    }
    const text = await readLimitedText(response, step);
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError(
        502,
        'upstream_invalid_response',
        `Chutes attestation API returned a non-JSON body (${step})`,
      );
    }
  };

  const lookupChuteId = async (model: string, apiKey: string): Promise<string> => {
    const listing = await platformGet(
      'listing',
      `/chutes/?include_public=true&name=${encodeURIComponent(model)}`,
      apiKey,
      AbortSignal.timeout(settings.attestationTimeoutMs),
    );
    if (!isPlainObject(listing) || !Array.isArray(listing.items)) {
      throw new ApiError(502, 'upstream_invalid_response', 'Chutes chute listing is malformed');
    }
    // The relay matches names as substrings: only an exact name (or the chute id itself) identifies the model.
    const items = listing.items.filter(isPlainObject);
    const match =
      items.find((item) => item.name === model) ??
      items.find((item) => item.chute_id === model && model !== '');
    if (!match) throw new ApiError(404, 'upstream_model_not_found', 'No Chutes chute serves this model');
    if (typeof match.chute_id !== 'string' || !CHUTE_ID.test(match.chute_id)) {
      throw new ApiError(502, 'upstream_invalid_response', 'Chutes chute listing has no valid chute_id');
    }
    return match.chute_id;
  };

  const resolveChuteId = (model: string, apiKey: string): Promise<string> => {
    const cached = cache.get(model);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = cache.pending.get(model);
    if (!pending) {
      pending = lookupChuteId(model, apiKey)
        .then((chuteId) => {
          cache.set(model, chuteId);
          return chuteId;
        })
        .finally(() => cache.pending.delete(model));
      cache.pending.set(model, pending);
    }
    return pending;
  };

  const fetchBundle = async (
    model: string,
    nonce: string,
    apiKey: string,
    signal: AbortSignal,
  ): Promise<{
    bundle: ChutesAttestationBundle;
    discovered: Map<string, string>;
    failedIds: Set<string>;
  }> => {
    const chuteId = await resolveChuteId(model, apiKey);
    const discovery = await platformGet(
      'discovery',
      `/e2e/instances/${encodeURIComponent(chuteId)}`,
      apiKey,
      signal,
    );
    if (!isPlainObject(discovery) || !Array.isArray(discovery.instances)) {
      throw new ApiError(502, 'upstream_invalid_response', 'Chutes instance discovery answer is malformed');
    }
    const discovered = new Map<string, string>();
    for (const instance of discovery.instances) {
      if (!isPlainObject(instance)) continue;
      const id = instance.instance_id;
      const key = instance.e2e_pubkey;
      if (
        typeof id === 'string' &&
        id !== '' &&
        typeof key === 'string' &&
        key !== '' &&
        !discovered.has(id)
      ) {
        discovered.set(id, key);
      }
    }
    const evidence = await platformGet(
      'evidence',
      `/chutes/${encodeURIComponent(chuteId)}/evidence?nonce=${nonce}`,
      apiKey,
      signal,
    );
    if (!isPlainObject(evidence) || !Array.isArray(evidence.evidence)) {
      throw new ApiError(502, 'upstream_invalid_response', 'Chutes evidence answer is malformed');
    }
    const failedIds = new Set(
      Array.isArray(evidence.failed_instance_ids)
        ? evidence.failed_instance_ids.filter((id): id is string => typeof id === 'string')
        : [],
    );
    const all: ChutesAttestationEntry[] = [];
    for (const item of evidence.evidence) {
      if (!isPlainObject(item) || typeof item.instance_id !== 'string') continue;
      const e2ePubkey = discovered.get(item.instance_id);
      if (e2ePubkey === undefined) continue;
      all.push({
        instance_id: item.instance_id,
        nonce,
        e2e_pubkey: e2ePubkey,
        intel_quote: item.quote ?? null,
        gpu_evidence: item.gpu_evidence ?? [],
        gpu_tokens: item.gpu_tokens ?? null,
        tdx_verification: item.tdx_verification ?? null,
        certificate: item.certificate ?? null,
      });
    }
    if (all.length === 0) {
      throw new ApiError(502, 'upstream_invalid_response', 'No usable upstream attestations returned');
    }
    return {
      bundle: { attestation_type: 'chutes', nonce, chute_id: chuteId, all_attestations: all },
      discovered,
      failedIds,
    };
  };

  const signText = (algo: SigningAlgo, text: string) => ({
    signature: deps.signer.signWith(algo, text),
    signing_algo: algo,
    signing_address: algo === 'ecdsa' ? deps.signer.ecdsaAddress : deps.signer.ed25519Address,
  });

  const handle = async (c: Context<AppEnv>): Promise<Response> => {
    if (!settings.enabled) throw new ApiError(503, 'chutes_disabled', 'Chutes route is disabled');
    const apiKey = settings.apiKey;
    if (!apiKey) throw new ApiError(503, 'chutes_misconfigured', 'CHUTES_API_KEY is not configured');
    const algo = signingAlgoParam(c.req.query('signing_algo'));
    const mode = (c.req.query('verify_mode') ?? 'proxy').trim().toLowerCase();
    if (mode !== 'proxy' && mode !== 'passthrough') {
      throw new ApiError(400, 'invalid_verify_mode', 'verify_mode must be one of: proxy, passthrough', {
        param: 'verify_mode',
      });
    }
    const rawNonce = c.req.query('nonce');
    if (rawNonce === undefined || !/^[0-9a-fA-F]{64}$/.test(rawNonce)) {
      throw new ApiError(400, 'invalid_nonce', 'nonce must be 32 bytes as 64 hex characters', {
        param: 'nonce',
      });
    }
    const nonce = rawNonce.toLowerCase();
    const model = (c.req.query('model') ?? '').trim();
    if (model === '') throw new ApiError(400, 'invalid_model', 'model must not be empty', { param: 'model' });
    if (model.length > MAX_MODEL_CHARS) {
      throw new ApiError(400, 'invalid_model', `model must be at most ${MAX_MODEL_CHARS} characters`, {
        param: 'model',
      });
    }
    const proxyAttestation = await ownAttestationReport(deps, algo, nonce);
    const proxy = { attestation: proxyAttestation, signing_public_key: proxyAttestation.signing_public_key };

    const { bundle, discovered, failedIds } = await fetchBundle(model, nonce, apiKey, c.req.raw.signal);
    let attestationSha256: string;
    try {
      attestationSha256 = sha256Hex(canonicalJsonCompact(bundle));
    } catch (error) {
      throw new ApiError(502, 'upstream_invalid_response', 'Chutes evidence cannot be canonicalized', {
        cause: error,
      });
    }
    const upstream = {
      provider: 'chutes',
      base_url: apiBase,
      model,
      attestation: bundle,
      attestation_sha256: attestationSha256,
    };
    const bindingPayload = {
      nonce,
      timestamp: Math.floor(now() / 1000),
      provider: 'chutes',
      upstream_base_url: apiBase,
      model,
      upstream_attestation_sha256: attestationSha256,
    };
    const bindingProof = { payload: bindingPayload, ...signText(algo, canonicalJsonCompact(bindingPayload)) };
    const headers = { 'x-attestation-simulated': 'true' };

    if (mode === 'passthrough') {
      return c.json(
        { version: '1', verify_mode: mode, proxy, upstream, binding_proof: bindingProof },
        200,
        headers,
      );
    }

    const nvidia = await nvidiaMaterial();
    const options = {
      nonce,
      dcap,
      nvidia,
      requireGpu: settings.attestationRequireGpu,
      now: now(),
    };
    const results: ChutesInstanceResult[] = [];
    for (const entry of bundle.all_attestations) {
      const result = await verifyChutesInstance(entry, options);
      if (failedIds.has(entry.instance_id)) {
        result.errors.push('instance_reported_failed');
        result.result = 'fail';
      }
      results.push(result);
    }
    const withEvidence = new Set(bundle.all_attestations.map((entry) => entry.instance_id));
    for (const id of discovered.keys()) {
      if (withEvidence.has(id)) continue;
      results.push({
        instance_id: safeToken(id),
        result: 'fail',
        errors: failedIds.has(id) ? ['evidence_missing', 'instance_reported_failed'] : ['evidence_missing'],
        checks: {
          e2e_pubkey: 'not_checked',
          tdx_quote: 'fail',
          report_data_binding: 'not_checked',
          td_debug_disabled: 'not_checked',
          tdx_quote_signature: 'not_checked',
          tdx_status: 'not_checked',
          gpu_evidence: 'not_checked',
          gpu_platform_token: 'not_checked',
        },
        gpu: null,
        tdx_status: null,
        tdx_status_source: dcap && dcap.collaterals.length > 0 ? 'dcap-collateral' : 'chutes-reported',
      });
    }
    const failed = results.filter((result) => result.result === 'fail');
    if (failed.length > 0) {
      const details = failed.map((result) => ({ instance_id: result.instance_id, errors: result.errors }));
      logger.warn({ chuteId: bundle.chute_id, failures: details }, 'Chutes attestation verification failed');
      throw new ApiError(
        502,
        'chutes_verification_failed',
        `Chutes attestation verification failed in proxy mode: ${JSON.stringify(details)}`,
      );
    }
    const receiptPayload = {
      nonce,
      request_hash: sha256Hex(`${model}:${nonce}`),
      provider: 'chutes',
      model,
      chute_id: bundle.chute_id,
      verify_mode: mode,
      verification_policy: CHUTES_VERIFICATION_POLICY,
      verification_policy_version: '1',
      upstream_base_url: apiBase,
      upstream_attestation_sha256: attestationSha256,
      binding_signature: bindingProof.signature,
      binding_signing_algo: bindingProof.signing_algo,
      binding_signing_address: bindingProof.signing_address,
      verification_summary: {
        instances_total: results.length,
        instances_passed: results.length,
        tdx_status_source: dcap && dcap.collaterals.length > 0 ? 'dcap-collateral' : 'chutes-reported',
        tdx_quote_signature: dcap ? 'dcap-verified' : 'not-verified',
        tdx_trust_anchor: dcap ? (dcap.root === undefined ? 'intel-sgx-root-ca' : 'configured') : null,
        gpu_evidence_required: settings.attestationRequireGpu,
        gpu_evidence: gpuSummary(results),
        gpu_trust_anchor: nvidia?.rootSource ?? 'nvidia-device-identity-ca',
        gpu_trust_anchor_roots: gpuRoots(results),
        gpu_measurements: nvidia && nvidia.rims.length > 0 ? 'compared-with-rims' : 'not-compared',
        gpu_token_signature: 'not-verified',
        gpu_token_role: 'additional-signal',
        proxy_attestation: 'simulated',
      },
      instance_results: results,
      verified_at: Math.floor(now() / 1000),
      result: 'pass',
    };
    return c.json(
      {
        version: '1',
        verify_mode: mode,
        proxy,
        upstream,
        // Returned in proxy mode too, so the receipt's binding_signature can be checked.
        binding_proof: bindingProof,
        verification_receipt: {
          payload: receiptPayload,
          ...signText(algo, canonicalJsonCompact(receiptPayload)),
        },
      },
      200,
      headers,
    );
  };

  routes.get('/v1/attestation/chain', requireBearer(), async (c) => {
    try {
      return await handle(c);
    } catch (error) {
      if (error instanceof UpstreamRateLimitedError) {
        const response = sendError(c, error);
        if (error.retryAfter !== undefined) response.headers.set('retry-after', error.retryAfter);
        return response;
      }
      throw error;
    }
  });

  return routes;
}
