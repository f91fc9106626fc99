import { bytesToBase64 } from '@confidential-ai/bytes';
import type { FetchFunction } from '@confidential-ai/server-kit';
import { sha256 } from '@confidential-ai/tee-signing';

/** Outcome of {@link registerWithNitriding}. */
export interface NitridingRegistration {
  /** `/enclave/hash` accepted the key hash. */
  hashRegistered: boolean;
  /** `/enclave/ready` answered 2xx. */
  ready: boolean;
  /** Short reason of a failure (no secrets). */
  error?: string;
}

/**
 * Registers the signing key with nitriding's enclave-internal API (§2): `POST {internal}/enclave/hash` with
 * the plain-text body base64(SHA-256(SPKI DER)), then `GET {internal}/enclave/ready`. Failures are reported,
 * never thrown (the reference logs them and keeps running).
 *
 * @example
 * ```ts
 * const result = await registerWithNitriding({ internalUrl: 'http://127.0.0.1:8080', spki, fetch });
 * ```
 */
export async function registerWithNitriding(options: {
  internalUrl: string;
  spki: Uint8Array;
  fetch: FetchFunction;
  timeoutMs?: number;
}): Promise<NitridingRegistration> {
  const timeout = options.timeoutMs ?? 5000;
  const result: NitridingRegistration = { hashRegistered: false, ready: false };
  try {
    const response = await options.fetch(`${options.internalUrl}/enclave/hash`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: bytesToBase64(sha256(options.spki)),
      signal: AbortSignal.timeout(timeout),
    });
    await response.body?.cancel().catch(() => {});
    if (!response.ok) {
      result.error = `nitriding /enclave/hash answered HTTP ${response.status}`;
      return result;
    }
    result.hashRegistered = true;
  } catch {
    result.error = 'nitriding internal API is unreachable';
    return result;
  }
  try {
    const response = await options.fetch(`${options.internalUrl}/enclave/ready`, {
      signal: AbortSignal.timeout(timeout),
    });
    await response.body?.cancel().catch(() => {});
    result.ready = response.ok;
    if (!response.ok) result.error = `nitriding /enclave/ready answered HTTP ${response.status}`;
  } catch {
    result.error = 'nitriding /enclave/ready is unreachable';
  }
  return result;
}
