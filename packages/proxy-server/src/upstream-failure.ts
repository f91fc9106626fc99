import { isTimeoutError } from '@confidential-ai/server-kit';
import { ApiError } from './errors.js';

/**
 * Maps a failed upstream call (network error, timeout) to the {@link ApiError} the client gets: 504
 * `upstream_timeout` or 502 `upstream_unreachable`. The message names the upstream, never its URL credentials
 * or the request.
 */
export function upstreamFailure(upstream: string, error: unknown): ApiError {
  if (isTimeoutError(error)) {
    return new ApiError(504, 'upstream_timeout', `${upstream} did not answer in time`, { cause: error });
  }
  return new ApiError(502, 'upstream_unreachable', `${upstream} is unreachable`, { cause: error });
}
