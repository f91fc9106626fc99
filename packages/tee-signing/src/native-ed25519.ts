// node:crypto signs Ed25519 some 30x faster than pure JavaScript. RFC 8032 signatures are deterministic, so
// the native path gives the very bytes noble gives (checked once per process, and in the tests). Only
// signing is native: verification stays on noble's strict RFC 8032 rules, whose edge cases OpenSSL does not
// share. Loaded lazily without top-level await, so browsers and edge runtimes simply use noble.

interface NativeKey {
  readonly type: string;
}
interface NodeCryptoSubset {
  createPrivateKey(options: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NativeKey;
  sign(algorithm: null, data: Uint8Array, key: NativeKey): Uint8Array;
}

// PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410) up to the 32-byte seed.
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

let cached: NodeCryptoSubset | null | undefined;

function nodeCrypto(): NodeCryptoSubset | undefined {
  if (cached === undefined) {
    const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    cached = (process?.getBuiltinModule?.('node:crypto') as NodeCryptoSubset | undefined) ?? null;
  }
  return cached ?? undefined;
}

/**
 * A native Ed25519 signing function for a 32-byte seed, or `undefined` where node:crypto is unavailable or
 * disagrees with `reference` on a probe message (then callers keep the pure implementation).
 */
export function nativeEd25519Signer(
  seed: Uint8Array,
  reference: (message: Uint8Array) => Uint8Array,
): ((message: Uint8Array) => Uint8Array) | undefined {
  const crypto = nodeCrypto();
  if (!crypto) return undefined;
  try {
    const der = new Uint8Array(PKCS8_PREFIX.length + seed.length);
    der.set(PKCS8_PREFIX);
    der.set(seed, PKCS8_PREFIX.length);
    const key = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const sign = (message: Uint8Array) => new Uint8Array(crypto.sign(null, message, key));
    const probe = new TextEncoder().encode('confidential-ai ed25519 probe');
    const native = sign(probe);
    const pure = reference(probe);
    if (native.length !== pure.length || native.some((byte, i) => byte !== pure[i])) return undefined;
    return sign;
  } catch {
    return undefined;
  }
}
