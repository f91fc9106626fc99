import type { Bytes } from '@confidential-ai/bytes';
import { parsePublicKey } from '@confidential-ai/chutes-crypto';
import { ChutesTransportError } from './errors.js';

/** One E2E-capable instance as the relay described it, with its public key checked (decision D3). */
export interface ChutesInstance {
  /** The relay's instance id (sent as `X-Instance-Id`). */
  readonly instanceId: string;
  /** The instance's ML-KEM-768 encapsulation key exactly as the relay sent it (standard base64). */
  readonly e2ePubkey: string;
  /** The decoded 1184-byte encapsulation key. */
  readonly publicKey: Bytes;
}

/** An instance of a discovery answer together with its single-use nonces. */
export interface DiscoveredInstance extends ChutesInstance {
  /** Nonce tokens issued for this instance, in the relay's order. */
  readonly nonces: readonly string[];
}

/** A parsed `GET /e2e/instances/{chute_id}` answer. */
export interface DiscoveryResult {
  /** Usable instances (valid key, at least one valid nonce), at most {@link MAX_INSTANCES}. */
  readonly instances: readonly DiscoveredInstance[];
  /** Seconds the nonces stay valid according to the relay (`nonce_expires_in`; 55 when absent). */
  readonly expiresInSeconds: number;
  /** Instances that were left out, with the reason (never the key or nonce values). */
  readonly rejected: readonly { readonly instanceId: string | undefined; readonly reason: string }[];
}

/** The relay returns at most 5 instances per discovery call. */
export const MAX_INSTANCES = 5;
/** The relay issues 10 nonces per instance. */
export const NONCES_PER_INSTANCE = 10;
/** Lifetime assumed when `nonce_expires_in` is absent (the reference client's value). */
export const DEFAULT_NONCE_TTL_SECONDS = 55;
/** Upper bound on the lifetime the client believes, whatever the relay says. */
export const MAX_NONCE_TTL_SECONDS = 300;

// Instance ids go into a header: printable token characters only.
const INSTANCE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Nonces are 32 URL-safe base64 characters today; accept any header-safe token of sane length.
const NONCE = /^[A-Za-z0-9._~+/=-]{8,256}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates the JSON body of `GET /e2e/instances/{chute_id}`. Instances with a public key that is not
 * exactly 1184 bytes of strict base64, an unusable id, or no valid nonce are left out (listed in `rejected`);
 * invalid nonce tokens are skipped. At most 5 instances and 10 nonces each are kept.
 * @throws ChutesTransportError `ERR_DISCOVERY_INVALID` when the body is not the documented shape.
 */
export function parseDiscoveryResponse(body: unknown): DiscoveryResult {
  if (!isPlainObject(body) || !Array.isArray(body.instances)) {
    throw new ChutesTransportError('ERR_DISCOVERY_INVALID', 'discovery answer has no "instances" array');
  }
  const instances: DiscoveredInstance[] = [];
  const rejected: { instanceId: string | undefined; reason: string }[] = [];
  const seen = new Set<string>();
  for (const item of body.instances as unknown[]) {
    if (!isPlainObject(item)) {
      rejected.push({ instanceId: undefined, reason: 'entry is not an object' });
      continue;
    }
    const instanceId = item.instance_id;
    if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
      rejected.push({ instanceId: undefined, reason: 'invalid instance_id' });
      continue;
    }
    if (seen.has(instanceId)) {
      rejected.push({ instanceId, reason: 'duplicate instance_id' });
      continue;
    }
    if (typeof item.e2e_pubkey !== 'string') {
      rejected.push({ instanceId, reason: 'e2e_pubkey is not a string' });
      continue;
    }
    let publicKey: Bytes;
    try {
      publicKey = parsePublicKey(item.e2e_pubkey);
    } catch {
      rejected.push({ instanceId, reason: 'e2e_pubkey is not 1184 bytes of standard base64' });
      continue;
    }
    const nonces: string[] = [];
    if (Array.isArray(item.nonces)) {
      for (const nonce of item.nonces as unknown[]) {
        if (typeof nonce === 'string' && NONCE.test(nonce) && !nonces.includes(nonce)) nonces.push(nonce);
        if (nonces.length === NONCES_PER_INSTANCE) break;
      }
    }
    if (nonces.length === 0) {
      rejected.push({ instanceId, reason: 'no valid nonces' });
      continue;
    }
    seen.add(instanceId);
    if (instances.length < MAX_INSTANCES) {
      instances.push({ instanceId, e2ePubkey: item.e2e_pubkey, publicKey, nonces });
    } else {
      rejected.push({ instanceId, reason: 'more than 5 instances' });
    }
  }
  const ttl = body.nonce_expires_in;
  const expiresInSeconds =
    typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0
      ? Math.min(ttl, MAX_NONCE_TTL_SECONDS)
      : DEFAULT_NONCE_TTL_SECONDS;
  return { instances, expiresInSeconds, rejected };
}

/**
 * Parses the `GET /v1/models` answer into a map from model name (`id`) to chute id (`chute_id`). Entries
 * without both strings are skipped.
 * @throws ChutesTransportError `ERR_UPSTREAM` when the body has no `data` array.
 */
export function parseModelList(body: unknown): Map<string, string> {
  if (!isPlainObject(body) || !Array.isArray(body.data)) {
    throw new ChutesTransportError('ERR_UPSTREAM', 'model list answer has no "data" array');
  }
  const map = new Map<string, string>();
  for (const entry of body.data as unknown[]) {
    if (!isPlainObject(entry)) continue;
    const { id, chute_id: chuteId } = entry;
    if (typeof id === 'string' && typeof chuteId === 'string' && isChuteId(chuteId)) map.set(id, chuteId);
  }
  return map;
}

const UUID_PART_LENGTHS = [8, 4, 4, 4, 12];

/**
 * True when `model` looks like a chute id (a UUID: five dash-separated hex groups, 36 characters); such a
 * model string is used as the chute id without a lookup.
 */
export function isChuteId(model: string): boolean {
  if (model.length !== 36) return false;
  const parts = model.split('-');
  return (
    parts.length === 5 &&
    parts.every((part, index) => part.length === UUID_PART_LENGTHS[index] && /^[0-9a-fA-F]+$/.test(part))
  );
}
