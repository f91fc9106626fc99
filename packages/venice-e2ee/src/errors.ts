const MARKER = Symbol.for('confidential-ai.error.venice-e2ee');

/**
 * Stable codes of {@link VeniceE2eeError}.
 *
 * Field cipher:
 * - `ERR_FIELD_MALFORMED`: a packed field is not hex, too short, or its ephemeral key is not a valid point.
 * - `ERR_FIELD_DECRYPT_FAILED`: the AES-GCM tag did not verify (wrong key, wrong AAD, tampered bytes).
 * - `ERR_FIELD_NOT_UTF8`: the field decrypted but the plaintext is not valid UTF-8.
 * - `ERR_KEY_INVALID`: a public or private key has the wrong size, encoding or is not on the curve.
 *
 * Attestation (one code per check; {@link VeniceE2eeError.proxyCode} gives the snake-case code of the
 * reference proxy, e.g. `attestation_nonce_mismatch`):
 * `ERR_ATTESTATION_FETCH_FAILED`, `ERR_ATTESTATION_MALFORMED_RESPONSE`, `ERR_ATTESTATION_MISSING_REQUIRED_FIELD`,
 * `ERR_ATTESTATION_UPSTREAM_NOT_VERIFIED`, `ERR_ATTESTATION_NONCE_MISMATCH`, `ERR_ATTESTATION_MODEL_MISMATCH`,
 * `ERR_ATTESTATION_INVALID_SIGNING_KEY`, `ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH`,
 * `ERR_ATTESTATION_DEBUG_MODE_DETECTED`, `ERR_ATTESTATION_MISSING_TDX_EVIDENCE`,
 * `ERR_ATTESTATION_INVALID_TDX_EVIDENCE`, `ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE`,
 * `ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE`, `ERR_ATTESTATION_VERIFIER_UNAVAILABLE`.
 *
 * Transport and emulation:
 * - `ERR_E2EE_REQUEST_ENCRYPTION_FAILED`, `ERR_E2EE_RESPONSE_DECRYPTION_FAILED` (response content is not
 *   ciphertext, does not decrypt, or no encrypted field was seen on a buffered path).
 * - `ERR_UPSTREAM_AUTHENTICATION_FAILED`, `ERR_UPSTREAM_STATUS`, `ERR_UPSTREAM_TIMEOUT`, `ERR_UPSTREAM_UNAVAILABLE`,
 *   `ERR_UPSTREAM_MALFORMED_RESPONSE`, `ERR_UPSTREAM_STREAM`.
 * - `ERR_INVALID_REQUEST`: the chat request or tool definitions are not supported (400 class).
 * - `ERR_SESSION`: no session identifier could be resolved.
 * - `ERR_INVALID_TOOL_CALL`: tool-call emulation exhausted its correction attempts.
 */
export type VeniceE2eeErrorCode =
  | 'ERR_FIELD_MALFORMED'
  | 'ERR_FIELD_DECRYPT_FAILED'
  | 'ERR_FIELD_NOT_UTF8'
  | 'ERR_KEY_INVALID'
  | 'ERR_ATTESTATION_FETCH_FAILED'
  | 'ERR_ATTESTATION_MALFORMED_RESPONSE'
  | 'ERR_ATTESTATION_MISSING_REQUIRED_FIELD'
  | 'ERR_ATTESTATION_UPSTREAM_NOT_VERIFIED'
  | 'ERR_ATTESTATION_NONCE_MISMATCH'
  | 'ERR_ATTESTATION_MODEL_MISMATCH'
  | 'ERR_ATTESTATION_INVALID_SIGNING_KEY'
  | 'ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH'
  | 'ERR_ATTESTATION_DEBUG_MODE_DETECTED'
  | 'ERR_ATTESTATION_MISSING_TDX_EVIDENCE'
  | 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE'
  | 'ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE'
  | 'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE'
  | 'ERR_ATTESTATION_VERIFIER_UNAVAILABLE'
  | 'ERR_E2EE_REQUEST_ENCRYPTION_FAILED'
  | 'ERR_E2EE_RESPONSE_DECRYPTION_FAILED'
  | 'ERR_UPSTREAM_AUTHENTICATION_FAILED'
  | 'ERR_UPSTREAM_STATUS'
  | 'ERR_UPSTREAM_TIMEOUT'
  | 'ERR_UPSTREAM_UNAVAILABLE'
  | 'ERR_UPSTREAM_MALFORMED_RESPONSE'
  | 'ERR_UPSTREAM_STREAM'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_SESSION'
  | 'ERR_INVALID_TOOL_CALL';

/** How a code is reported by an OpenAI-compatible front end (reference proxy section 5.9). */
export interface ErrorDescription {
  /** Suggested HTTP status. */
  status: number;
  /** OpenAI-style error `type`. */
  type: string;
  /** Snake-case error `code` of the reference proxy. */
  code: string;
}

const TABLE: Record<VeniceE2eeErrorCode, ErrorDescription> = {
  ERR_FIELD_MALFORMED: { status: 502, type: 'proxy_e2ee_error', code: 'e2ee_response_decryption_failed' },
  ERR_FIELD_DECRYPT_FAILED: {
    status: 502,
    type: 'proxy_e2ee_error',
    code: 'e2ee_response_decryption_failed',
  },
  ERR_FIELD_NOT_UTF8: { status: 502, type: 'proxy_e2ee_error', code: 'e2ee_response_decryption_failed' },
  ERR_KEY_INVALID: { status: 502, type: 'proxy_e2ee_error', code: 'e2ee_request_encryption_failed' },
  ERR_ATTESTATION_FETCH_FAILED: att('attestation_fetch_failed'),
  ERR_ATTESTATION_MALFORMED_RESPONSE: att('attestation_malformed_response'),
  ERR_ATTESTATION_MISSING_REQUIRED_FIELD: att('attestation_missing_required_field'),
  ERR_ATTESTATION_UPSTREAM_NOT_VERIFIED: att('attestation_upstream_not_verified'),
  ERR_ATTESTATION_NONCE_MISMATCH: att('attestation_nonce_mismatch'),
  ERR_ATTESTATION_MODEL_MISMATCH: att('attestation_model_mismatch'),
  ERR_ATTESTATION_INVALID_SIGNING_KEY: att('attestation_invalid_signing_key'),
  ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH: att('attestation_signing_address_mismatch'),
  ERR_ATTESTATION_DEBUG_MODE_DETECTED: att('attestation_debug_mode_detected'),
  ERR_ATTESTATION_MISSING_TDX_EVIDENCE: att('attestation_missing_tdx_evidence'),
  ERR_ATTESTATION_INVALID_TDX_EVIDENCE: att('attestation_invalid_tdx_evidence'),
  ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE: att('attestation_missing_nvidia_evidence'),
  ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE: att('attestation_invalid_nvidia_evidence'),
  ERR_ATTESTATION_VERIFIER_UNAVAILABLE: {
    status: 503,
    type: 'proxy_attestation_verifier_unavailable',
    code: 'attestation_verifier_unavailable',
  },
  ERR_E2EE_REQUEST_ENCRYPTION_FAILED: {
    status: 502,
    type: 'proxy_e2ee_error',
    code: 'e2ee_request_encryption_failed',
  },
  ERR_E2EE_RESPONSE_DECRYPTION_FAILED: {
    status: 502,
    type: 'proxy_e2ee_error',
    code: 'e2ee_response_decryption_failed',
  },
  ERR_UPSTREAM_AUTHENTICATION_FAILED: {
    status: 502,
    type: 'proxy_upstream_authentication_error',
    code: 'upstream_authentication_failed',
  },
  ERR_UPSTREAM_STATUS: { status: 502, type: 'proxy_upstream_error', code: 'upstream_status_error' },
  ERR_UPSTREAM_TIMEOUT: { status: 502, type: 'proxy_upstream_error', code: 'upstream_timeout' },
  ERR_UPSTREAM_UNAVAILABLE: { status: 502, type: 'proxy_upstream_error', code: 'upstream_unavailable' },
  ERR_UPSTREAM_MALFORMED_RESPONSE: {
    status: 502,
    type: 'proxy_upstream_error',
    code: 'upstream_malformed_response',
  },
  ERR_UPSTREAM_STREAM: { status: 502, type: 'proxy_upstream_error', code: 'upstream_stream_error' },
  ERR_INVALID_REQUEST: { status: 400, type: 'invalid_request_error', code: 'invalid_request' },
  ERR_SESSION: { status: 400, type: 'invalid_request_error', code: 'session_identifier_missing' },
  ERR_INVALID_TOOL_CALL: { status: 502, type: 'proxy_tool_call_error', code: 'invalid_tool_call' },
};

function att(code: string): ErrorDescription {
  return { status: 502, type: 'proxy_attestation_error', code };
}

/** Options of the {@link VeniceE2eeError} constructor. */
export interface VeniceE2eeErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
  /** Overrides the snake-case proxy code (e.g. `unsupported_request_field` for `ERR_INVALID_REQUEST`). */
  proxyCode?: string;
  /** Machine-readable details safe to show to a client (never secrets or plaintext). */
  details?: Record<string, unknown>;
}

/**
 * The one error class of this package. Messages describe what is wrong and never contain key material,
 * plaintext or ciphertext.
 *
 * @example
 * ```ts
 * try {
 *   decryptField(hex, privateKey, { suite: 'secp256k1' });
 * } catch (error) {
 *   if (VeniceE2eeError.isInstance(error) && error.code === 'ERR_FIELD_DECRYPT_FAILED') {
 *     // tampered or wrong key
 *   }
 * }
 * ```
 */
export class VeniceE2eeError extends Error {
  /** Stable machine-readable code. */
  readonly code: VeniceE2eeErrorCode;
  /** Snake-case code of the reference proxy (section 5.9 of the spec). */
  readonly proxyCode: string;
  /** Suggested HTTP status for a front end. */
  readonly status: number;
  /** OpenAI-style error `type` for a front end. */
  readonly type: string;
  /** Extra machine-readable details (may be undefined). */
  readonly details: Record<string, unknown> | undefined;

  /**
   * @param code - Stable code.
   * @param message - Human-readable description without secrets.
   * @param options - `cause`, optional `proxyCode` override and `details`.
   */
  constructor(code: VeniceE2eeErrorCode, message: string, options: VeniceE2eeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VeniceE2eeError';
    this.code = code;
    const described = TABLE[code];
    this.proxyCode = options.proxyCode ?? described.code;
    this.status = described.status;
    this.type = described.type;
    this.details = options.details;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `VeniceE2eeError` from any copy of this package. */
  static isInstance(error: unknown): error is VeniceE2eeError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}

/**
 * The HTTP status, OpenAI `type` and snake-case `code` a front end should report for a code.
 * @example
 * ```ts
 * describeErrorCode('ERR_ATTESTATION_NONCE_MISMATCH'); // { status: 502, type: 'proxy_attestation_error', code: 'attestation_nonce_mismatch' }
 * ```
 */
export function describeErrorCode(code: VeniceE2eeErrorCode): ErrorDescription {
  return { ...TABLE[code] };
}
