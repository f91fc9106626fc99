import { VeniceE2eeError } from './errors.js';
import type { FieldSuite } from './key-agreement.js';

// The vllm-proxy E2EE labels around the field cipher: v2 AAD strings, the algo names and the error types.

/** Fields of a vllm-proxy v2 request AAD label. */
export interface RequestAadFields {
  /** `ecdsa` or `ed25519`. */
  algo: string;
  /** The request body's `model`. */
  model: string;
  /** 0-based message index. */
  messageIndex: number;
  /** 0-based content-part index, or undefined/null for string content (`-`). */
  contentIndex?: number | null;
  /** The `X-E2EE-Nonce` value. */
  nonce: string;
  /** The `X-E2EE-Timestamp` value (unix seconds, as sent). */
  timestamp: string | number;
}

/** Fields of a vllm-proxy v2 response AAD label. */
export interface ResponseAadFields {
  /** `ecdsa` or `ed25519`. */
  algo: string;
  /** `model` of the response object or chunk. */
  model: string;
  /** `id` of the response object or chunk. */
  id: string;
  /** `choices[].index` of the choice. */
  choice: number;
  /** Field name: `content`, `reasoning_content` or `reasoning`. */
  field: string;
  /** The request's `X-E2EE-Nonce`. */
  nonce: string;
  /** The request's `X-E2EE-Timestamp`. */
  timestamp: string | number;
}

/**
 * The vllm-proxy v2 request AAD label
 * `v2|req|algo=<algo>|model=<model>|m=<i>|c=<j or ->|n=<nonce>|ts=<timestamp>`.
 * @example
 * ```ts
 * buildRequestAad({ algo: 'ecdsa', model: 'm', messageIndex: 0, nonce: 'n'.repeat(16), timestamp: 1 });
 * ```
 */
export function buildRequestAad(fields: RequestAadFields): string {
  const content =
    fields.contentIndex === undefined || fields.contentIndex === null ? '-' : String(fields.contentIndex);
  return `v2|req|algo=${fields.algo}|model=${fields.model}|m=${fields.messageIndex}|c=${content}|n=${fields.nonce}|ts=${fields.timestamp}`;
}

/**
 * The vllm-proxy v2 response AAD label
 * `v2|resp|algo=<algo>|model=<model>|id=<id>|choice=<index>|field=<field>|n=<nonce>|ts=<timestamp>`.
 */
export function buildResponseAad(fields: ResponseAadFields): string {
  return `v2|resp|algo=${fields.algo}|model=${fields.model}|id=${fields.id}|choice=${fields.choice}|field=${fields.field}|n=${fields.nonce}|ts=${fields.timestamp}`;
}

/**
 * Maps a vllm-proxy `X-Signing-Algo` value (trimmed, case-insensitive) to a field suite: `ecdsa` →
 * `secp256k1`, `ed25519` → `ed25519`; anything else gives undefined (the caller reports
 * `e2ee_invalid_signing_algo`).
 */
export function fieldSuiteForAlgo(algo: string): FieldSuite | undefined {
  const normalized = typeof algo === 'string' ? algo.trim().toLowerCase() : '';
  if (normalized === 'ecdsa') return 'secp256k1';
  if (normalized === 'ed25519') return 'ed25519';
  return undefined;
}

/**
 * The vllm-proxy error `type` for a field-cipher failure (spec vllm-proxy section 2.5): a too-short blob or a
 * failed tag → `e2ee_decryption_failed`; any other parse problem (non-hex, bad point, non-UTF-8 plaintext) →
 * `invalid_e2ee_request`. Returns undefined for errors that are not field-cipher errors.
 */
export function vllmE2eeErrorType(
  error: unknown,
): 'e2ee_decryption_failed' | 'invalid_e2ee_request' | undefined {
  if (!VeniceE2eeError.isInstance(error)) return undefined;
  if (error.code === 'ERR_FIELD_DECRYPT_FAILED') return 'e2ee_decryption_failed';
  if (error.code === 'ERR_FIELD_MALFORMED') {
    return error.details?.['reason'] === 'length' ? 'e2ee_decryption_failed' : 'invalid_e2ee_request';
  }
  if (error.code === 'ERR_FIELD_NOT_UTF8' || error.code === 'ERR_KEY_INVALID') return 'invalid_e2ee_request';
  return undefined;
}
