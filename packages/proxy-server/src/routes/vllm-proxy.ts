import { errorForLog, type NodeRequestHandler } from '@confidential-ai/server-kit';
import { Hono } from 'hono';
import { type AppDependencies, type AppEnv, requireBearer } from '../app.js';
import { ownAttestationReport, signingAlgoParam } from '../attestation.js';
import { createCompletionFastPath } from '../completion-fast-path.js';
import {
  awaitPendingSignature,
  type CompletionBackend,
  defaultSignatureNamespace,
  handleCompletion,
  signatureKey,
  upstreamHttpError,
} from '../completions.js';
import { ApiError } from '../errors.js';
import { upstreamFailure } from '../upstream-failure.js';
import { attestationChainRoutes } from './attestation-chain.js';

function vllmBackend(deps: AppDependencies): CompletionBackend {
  return { name: 'vllm', label: 'vLLM upstream', upstream: deps.vllm };
}

/**
 * The vllm-proxy face (Dstack-TEE `main` route table, §1.1): `GET /` (and `GET /health`), `GET /local-metrics`,
 * `GET /v1/attestation/report`, `POST /v1/chat/completions`, `POST /v1/completions`,
 * `GET /v1/signature/:chatId`, `GET /v1/metrics`, `GET /v1/models`, plus version C's
 * `GET /v1/attestation/chain` (D12, {@link attestationChainRoutes}).
 *
 * @example
 * ```ts
 * const app = createApp(deps, { modules: [vllmProxyRoutes] });
 * ```
 */
export function vllmProxyRoutes(deps: AppDependencies): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const auth = requireBearer();

  routes.get('/', (c) => c.json({}));
  // Liveness under the name every face of the toolkit answers (`/venice/health`, `/tee-gateway/health`).
  routes.get('/health', (c) => c.json({ status: 'ok' }));

  routes.get('/local-metrics', async (c) =>
    c.text(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );

  routes.get('/v1/metrics', async (c) => {
    const own = await deps.metrics.registry.metrics();
    let upstream: string;
    try {
      const response = await deps.vllm.fetch(`${deps.vllm.baseUrl}/metrics`, {
        signal: AbortSignal.timeout(5000),
      });
      upstream = response.ok
        ? await response.text()
        : `# Failed to fetch vLLM metrics: HTTP ${response.status}\n`;
      if (!response.ok) await response.body?.cancel();
    } catch (error) {
      deps.logger.warn({ reqId: c.var.requestId, err: errorForLog(error) }, 'vLLM metrics fetch failed');
      upstream = '# Failed to fetch vLLM metrics: upstream unreachable\n';
    }
    return c.text(`${own}\n# --- vLLM metrics ---\n${upstream}`, 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  });

  routes.get('/v1/models', async (c) => {
    let response: Response;
    try {
      response = await deps.vllm.fetch(`${deps.vllm.baseUrl}/v1/models`, {
        headers: { accept: 'application/json' },
        signal: c.req.raw.signal,
      });
    } catch (error) {
      throw upstreamFailure('vLLM upstream', error);
    }
    if (response.status !== 200) throw await upstreamHttpError(vllmBackend(deps), response, true);
    const text = await response.text();
    try {
      JSON.parse(text);
    } catch {
      throw new ApiError(502, 'upstream_invalid_response', 'vLLM upstream returned a non-JSON body');
    }
    return c.body(text, 200, { 'content-type': 'application/json' });
  });

  routes.get('/v1/attestation/report', auth, async (c) => {
    const algo = signingAlgoParam(c.req.query('signing_algo'));
    const nonce = c.req.query('nonce');
    if (nonce !== undefined && !/^[0-9a-fA-F]{64}$/.test(nonce)) {
      throw new ApiError(400, 'invalid_nonce', 'nonce must be 32 bytes as 64 hex characters', {
        param: 'nonce',
      });
    }
    return c.json(await ownAttestationReport(deps, algo, nonce?.toLowerCase()), 200, {
      'x-attestation-simulated': 'true',
    });
  });

  // Version C's chain route (D12): Chutes platform evidence bound to this proxy's signing key.
  routes.route('/', attestationChainRoutes(deps));

  routes.post('/v1/chat/completions', auth, (c) => handleCompletion(c, vllmBackend(deps), 'chat'));
  routes.post('/v1/completions', auth, (c) => handleCompletion(c, vllmBackend(deps), 'completions'));

  routes.get('/v1/signature/:chatId', auth, async (c) => {
    const algo = signingAlgoParam(c.req.query('signing_algo'));
    const model = c.req.query('model');
    const namespace = model && model.length > 0 ? model : defaultSignatureNamespace(deps);
    const chatId = c.req.param('chatId');
    await awaitPendingSignature(deps, chatId);
    const record = await deps.signatureStore.get(signatureKey(namespace, chatId));
    if (!record) throw new ApiError(404, 'not_found', 'Chat id not found or expired');
    return c.json({
      text: record.text,
      signature: algo === 'ecdsa' ? record.signature_ecdsa : record.signature_ed25519,
      signing_address: algo === 'ecdsa' ? record.signing_address_ecdsa : record.signing_address_ed25519,
      signing_algo: algo,
    });
  });

  return routes;
}

/**
 * The vllm-proxy face's node:http fast path for `POST /v1/chat/completions` and `POST /v1/completions`
 * ({@link createCompletionFastPath}), used by the composed server wherever {@link vllmProxyRoutes} is mounted.
 */
vllmProxyRoutes.fastPath = (deps: AppDependencies): NodeRequestHandler =>
  createCompletionFastPath(deps, vllmBackend(deps));
