import { randomBytes } from 'node:crypto';
import { type Bytes, hexToBytes } from '@confidential-ai/bytes';
import { deriveVllmProxyKeys } from '@confidential-ai/tee-signing';
import { generateFieldKeyPair, getFieldPublicKey } from '@confidential-ai/venice-e2ee';

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

/**
 * Creates the instance keys: random per process, or derived from a configured seed (D11).
 *
 * @example
 * ```ts
 * const keys = createModelKeys({ seed: process.env.SIGNING_KEY_SEED });
 * ```
 * @throws {RangeError} when the seed is not hex of at least 32 bytes.
 */
export function createModelKeys(options: ModelKeysOptions = {}): ModelKeys {
  if (options.seed === undefined) {
    const random = (length: number) => new Uint8Array(randomBytes(length));
    return Object.freeze({
      ecdsa: generateFieldKeyPair('secp256k1', random),
      ed25519: generateFieldKeyPair('ed25519', random),
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
      publicKey: getFieldPublicKey(derived.ecdsaPrivateKey, 'secp256k1'),
    },
    ed25519: {
      privateKey: derived.ed25519PrivateKey,
      publicKey: getFieldPublicKey(derived.ed25519PrivateKey, 'ed25519'),
    },
  });
}
