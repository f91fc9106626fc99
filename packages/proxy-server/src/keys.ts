import { randomBytes } from 'node:crypto';
import { type Bytes, hexToBytes } from '@confidential-ai/bytes';
import { deriveVllmProxyKeys, TeeSigningError, vllmProxyPublicKey } from '@confidential-ai/tee-signing';

/**
 * The instance keys. As in the reference, the same keys sign responses and act as the E2EE "model keys":
 * secp256k1 for `ecdsa`, Ed25519 for `ed25519`.
 */
export interface ModelKeys {
  /** secp256k1 key pair. */
  readonly ecdsa: {
    /** 32-byte scalar (secret). */
    readonly privateKey: Bytes;
    /** 65-byte uncompressed SEC1 point. */
    readonly publicKey: Bytes;
  };
  /** Ed25519 key pair. */
  readonly ed25519: {
    /** 32-byte seed (secret). */
    readonly privateKey: Bytes;
    /** 32-byte public key. */
    readonly publicKey: Bytes;
  };
}

/** Options of {@link createModelKeys}. */
export interface ModelKeysOptions {
  /**
   * Secret seed (hex, at least 32 bytes) from which both keys are derived (tee-signing's
   * `deriveVllmProxyKeys`, HKDF-SHA256), so every replica and restart with the same seed has the same keys
   * (D11). Unset: fresh random keys per process.
   */
  seed?: string | undefined;
}

/** A fresh secp256k1 scalar in [1, n-1] (a random 32 bytes is out of range with probability about 2^-128). */
function randomSecp256k1KeyPair(): ModelKeys['ecdsa'] {
  for (let attempt = 0; attempt < 16; attempt++) {
    const privateKey = new Uint8Array(randomBytes(32));
    try {
      return { privateKey, publicKey: vllmProxyPublicKey('ecdsa', privateKey) };
    } catch (error) {
      if (!(TeeSigningError.isInstance(error) && error.code === 'ERR_KEY_INVALID')) throw error;
    }
  }
  throw new RangeError('the random source did not produce a valid secp256k1 scalar');
}

/**
 * Creates the instance keys: random per process, or derived from a configured seed (D11). The public keys come
 * from tee-signing's `vllmProxyPublicKey` (node:crypto, no precomputed tables at start-up).
 *
 * @example
 * ```ts
 * const keys = createModelKeys({ seed: process.env.SIGNING_KEY_SEED });
 * ```
 * @throws {RangeError} when the seed is not hex of at least 32 bytes.
 */
export function createModelKeys(options: ModelKeysOptions = {}): ModelKeys {
  if (options.seed === undefined) {
    const seed = new Uint8Array(randomBytes(32));
    return Object.freeze({
      ecdsa: randomSecp256k1KeyPair(),
      ed25519: { privateKey: seed, publicKey: vllmProxyPublicKey('ed25519', seed) },
    });
  }
  let seed: Uint8Array;
  try {
    seed = hexToBytes(options.seed);
  } catch (cause) {
    throw new RangeError('signing key seed must be hex', { cause });
  }
  if (seed.length < 32) throw new RangeError('signing key seed must be at least 32 bytes');
  const derived = deriveVllmProxyKeys(seed);
  return Object.freeze({
    ecdsa: {
      privateKey: derived.ecdsaPrivateKey,
      publicKey: vllmProxyPublicKey('ecdsa', derived.ecdsaPrivateKey),
    },
    ed25519: {
      privateKey: derived.ed25519PrivateKey,
      publicKey: vllmProxyPublicKey('ed25519', derived.ed25519PrivateKey),
    },
  });
}
