// The chain route's reads from the Chutes platform API: bounded bodies, sane Retry-After, the model -> chute_id cache.
import { readStreamLimited } from '@confidential-ai/bytes';
import { ApiError } from './errors.js';

/** Largest upstream JSON body read by the chain route. */
const MAX_UPSTREAM_BYTES = 8 * 1024 * 1024;
/** Bound of the model → chute_id cache. */
const MAX_CACHED_MODELS = 1024;
export type Step = 'listing' | 'discovery' | 'evidence';

/** Upstream 429, answered as 429 `upstream_rate_limited` with the upstream's `Retry-After` when it is sane. */
export class UpstreamRateLimitedError extends ApiError {
  readonly retryAfter: string | undefined;
  constructor(retryAfter: string | undefined) {
    super(
      429,
      'upstream_rate_limited',
      retryAfter === undefined
        ? 'Chutes attestation API is rate limited'
        : /^\d+$/.test(retryAfter)
          ? `Chutes attestation API is rate limited; retry after ${retryAfter} seconds`
          : `Chutes attestation API is rate limited; retry after ${retryAfter}`,
    );
    this.retryAfter = retryAfter;
  }
}

export function saneRetryAfter(value: string | null): string | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return trimmed;
  // An HTTP-date (IMF-fixdate): letters, digits, spaces, commas and colons only.
  if (/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return trimmed;
  return undefined;
}

export async function readLimitedText(response: Response, step: Step): Promise<string> {
  const body = await readStreamLimited(response.body, {
    maxBytes: MAX_UPSTREAM_BYTES,
    declaredLength: Number(response.headers.get('content-length') ?? '0'),
  });
  if (body === undefined) {
    throw new ApiError(
      502,
      'upstream_invalid_response',
      `Chutes attestation API answer is too large (${step})`,
    );
  }
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
}

/** The per-process model → chute_id cache of the chain route, with single-flight lookups. */
export interface ChuteIdCache {
  get(model: string): string | undefined;
  set(model: string, chuteId: string): void;
  pending: Map<string, Promise<string>>;
}

export function createChuteIdCache(ttlSeconds: number, now: () => number): ChuteIdCache {
  const entries = new Map<string, { chuteId: string; expiresAt: number }>();
  return {
    get(model) {
      const entry = entries.get(model);
      if (!entry) return undefined;
      if (now() >= entry.expiresAt) {
        entries.delete(model);
        return undefined;
      }
      return entry.chuteId;
    },
    set(model, chuteId) {
      if (ttlSeconds <= 0) return;
      entries.delete(model);
      entries.set(model, { chuteId, expiresAt: now() + ttlSeconds * 1000 });
      while (entries.size > MAX_CACHED_MODELS) entries.delete(entries.keys().next().value!);
    },
    pending: new Map(),
  };
}
