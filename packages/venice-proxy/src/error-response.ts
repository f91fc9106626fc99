import { escapeControlCharacters } from '@confidential-ai/server-kit';
import { VeniceE2eeError } from '@confidential-ai/venice-e2ee';
import { VeniceProxyHttpError } from './errors.js';

/**
 * The error envelope and status for any failure (spec section 5.9). Messages can quote client input, so control
 * and bidi-control characters in them are escaped ({@link escapeControlCharacters}).
 */
export function veniceErrorResponse(error: unknown): { status: number; code: string; body: unknown } {
  if (error instanceof VeniceProxyHttpError) {
    return {
      status: error.status,
      code: error.proxyCode,
      body: {
        error: { message: escapeControlCharacters(error.message), type: error.type, code: error.proxyCode },
      },
    };
  }
  if (VeniceE2eeError.isInstance(error)) {
    if (error.code === 'ERR_INVALID_TOOL_CALL') {
      return {
        status: error.status,
        code: error.proxyCode,
        body: {
          error: {
            code: error.proxyCode,
            details: error.details ?? {},
            message: escapeControlCharacters(error.message),
            type: error.type,
          },
        },
      };
    }
    return {
      status: error.status,
      code: error.proxyCode,
      body: {
        error: { message: escapeControlCharacters(error.message), type: error.type, code: error.proxyCode },
      },
    };
  }
  // Anything else while talking to Venice (a reset connection, a body that breaks mid-read).
  return {
    status: 502,
    code: 'upstream_stream_error',
    body: {
      error: {
        message: 'Venice upstream stream failed',
        type: 'proxy_upstream_error',
        code: 'upstream_stream_error',
      },
    },
  };
}
