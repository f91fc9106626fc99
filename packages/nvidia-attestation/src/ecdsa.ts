import type * as NodeCrypto from 'node:crypto';
import { bytesToHex, toBytes } from '@confidential-ai/bytes';
import { nodeCrypto } from './native.js';

// ECDSA P-384 / SHA-384 verification, the only signature scheme of NVIDIA's device, RIM and OCSP chains.
// Portable path: WebCrypto. Node fast path: `node:crypto` reached lazily through `process.getBuiltinModule`
// (no static `node:` import, no top-level await), synchronous and without WebCrypto's promise hops.

/** Which implementation verifies signatures. */
export type EcdsaBackend = 'auto' | 'native' | 'webcrypto';

/** Size of a raw P-384 signature `r ‖ s`. */
export const P384_SIGNATURE_SIZE = 96;

/** True when the `node:crypto` fast path is available in this runtime. */
export function nativeEcdsaAvailable(): boolean {
  return nodeCrypto() !== undefined;
}

const KEY_CACHE_LIMIT = 256;
const nodeKeys = new Map<string, NodeCrypto.KeyObject | null>();
const webKeys = new Map<string, Promise<CryptoKey | undefined>>();

function remember<T>(cache: Map<string, T>, id: string, value: T): T {
  if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
  cache.set(id, value);
  return value;
}

function nodeKey(crypto: typeof NodeCrypto, spki: Uint8Array, id: string): NodeCrypto.KeyObject | null {
  const cached = nodeKeys.get(id);
  if (cached !== undefined) return cached;
  let key: NodeCrypto.KeyObject | null;
  try {
    // Node accepts any ArrayBufferView here; its type definitions only name Buffer.
    key = crypto.createPublicKey({ key: spki as unknown as Buffer, format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') key = null;
  } catch {
    key = null;
  }
  return remember(nodeKeys, id, key);
}

function webKey(spki: Uint8Array, id: string): Promise<CryptoKey | undefined> {
  const cached = webKeys.get(id);
  if (cached !== undefined) return cached;
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available');
  const imported = subtle
    .importKey('spki', toBytes(spki), { name: 'ECDSA', namedCurve: 'P-384' }, false, ['verify'])
    .catch(() => undefined);
  return remember(webKeys, id, imported);
}

/**
 * Verifies an ECDSA P-384 signature with SHA-384 in raw `r ‖ s` form (96 bytes) with a public key given as
 * SubjectPublicKeyInfo DER. Never throws for bad input: an invalid key or signature gives `false`.
 * Imported keys are cached by their bytes (bounded).
 * @param backend `auto` (default) prefers `node:crypto` when the runtime has it, else WebCrypto.
 */
export async function verifyP384(
  spki: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
  backend: EcdsaBackend = 'auto',
): Promise<boolean> {
  if (signature.length !== P384_SIGNATURE_SIZE) return false;
  const id = bytesToHex(spki);
  const crypto = backend === 'webcrypto' ? undefined : nodeCrypto();
  if (backend === 'native' && crypto === undefined) throw new Error('node:crypto is not available');
  if (crypto !== undefined) {
    const key = nodeKey(crypto, spki, id);
    if (key === null) return false;
    try {
      return crypto.verify(
        'sha384',
        message as Uint8Array<ArrayBuffer>,
        { key, dsaEncoding: 'ieee-p1363' },
        signature as Uint8Array<ArrayBuffer>,
      );
    } catch {
      return false;
    }
  }
  const key = await webKey(spki, id);
  if (key === undefined) return false;
  try {
    return await globalThis.crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-384' },
      key,
      toBytes(signature),
      toBytes(message),
    );
  } catch {
    return false;
  }
}
