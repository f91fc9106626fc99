import { ChutesTransportError } from '@confidential-ai/chutes-transport';
import { Hono } from 'hono';
import { type AppDependencies, type AppEnv, requireBearer } from '../app.js';
import { type CompletionBackend, handleCompletion, upstreamHttpError } from '../completions.js';
import { ApiError } from '../errors.js';
import { upstreamFailure } from '../upstream-failure.js';

/** D1 checks: 503 `chutes_disabled` / `chutes_misconfigured`; returns the backend otherwise. */
function chutesBackend(deps: AppDependencies): CompletionBackend {
  if (!deps.config.chutes.enabled) throw new ApiError(503, 'chutes_disabled', 'Chutes route is disabled');
  const apiKey = deps.config.chutes.apiKey;
  if (!apiKey) throw new ApiError(503, 'chutes_misconfigured', 'CHUTES_API_KEY is not configured');
  return {
    name: 'chutes',
    label: 'Chutes upstream',
    upstream: deps.chutes,
    headers: { authorization: `Bearer ${apiKey}` },
    mapAuthFailures: true,
    mapFetchError: mapChutesTransportError,
  };
}

/** Maps chutes-transport failures (the `chutes.e2ee` leg) to client errors; codes only, never messages. */
export function mapChutesTransportError(error: unknown): ApiError | undefined {
  if (!ChutesTransportError.isInstance(error)) return undefined;
  switch (error.code) {
    case 'ERR_MODEL_NOT_FOUND':
      return new ApiError(404, 'model_not_found', 'The model is not served by Chutes', { cause: error });
    case 'ERR_REQUEST_INVALID':
      return new ApiError(400, 'invalid_request_error', 'The request cannot be sent to Chutes', {
        cause: error,
      });
    case 'ERR_NO_INSTANCES':
    case 'ERR_NONCE_TIMEOUT':
    case 'ERR_NONCE_QUEUE_FULL':
    case 'ERR_INSTANCE_FILTER_EMPTY':
      return new ApiError(503, 'upstream_unavailable', 'No Chutes E2EE instance is available', {
        cause: error,
      });
    case 'ERR_UPSTREAM':
      if (error.status === 401 || error.status === 403) {
        return new ApiError(
          502,
          'upstream_auth_failed',
          'Chutes upstream rejected the configured credentials',
          {
            cause: error,
          },
        );
      }
      return new ApiError(502, 'upstream_error', `Chutes upstream failed (${error.code})`, { cause: error });
    default:
      return new ApiError(502, 'upstream_e2ee_error', `Chutes E2EE transport failed (${error.code})`, {
        cause: error,
      });
  }
}

/**
 * The Chutes sidecar routes (version A, D1-D4): `POST /v1/chutes/chat/completions` (same E2EE, replay, signing
 * and stream behaviour as the vLLM route, forwarded to `${CHUTES_BASE_URL}/v1/chat/completions` with the Chutes
 * bearer, or through Chutes ML-KEM E2EE when `chutes.e2ee`) and `GET /v1/chutes/models`. Both need the Bearer
 * `TOKEN`. Upstream 401/403 become 502 `upstream_auth_failed`.
 *
 * @example
 * ```ts
 * const app = createApp(deps, { modules: [vllmProxyRoutes, chutesSidecarRoutes] });
 * ```
 */
export function chutesSidecarRoutes(deps: AppDependencies): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  const auth = requireBearer();

  routes.post('/v1/chutes/chat/completions', auth, (c) => handleCompletion(c, chutesBackend(deps), 'chat'));

  routes.get('/v1/chutes/models', auth, async (c) => {
    const backend = chutesBackend(deps);
    let response: Response;
    try {
      response = await backend.upstream.fetch(`${backend.upstream.baseUrl}/v1/models`, {
        headers: { accept: 'application/json', ...backend.headers },
        signal: c.req.raw.signal,
      });
    } catch (error) {
      throw mapChutesTransportError(error) ?? upstreamFailure(backend.label, error);
    }
    if (response.status !== 200) throw await upstreamHttpError(backend, response, true);
    const text = await response.text();
    try {
      JSON.parse(text);
    } catch {
      throw new ApiError(502, 'upstream_invalid_response', 'Chutes upstream returned a non-JSON body');
    }
    return c.body(text, 200, { 'content-type': 'application/json' });
  });

  return routes;
}
