import { decapsulate, encapsulate, generateKeyPair } from '@confidential-ai/chutes-crypto';
import { errorForLog, type Logger } from '@confidential-ai/server-kit';
import {
  createFieldDecryptor,
  createFieldEncryptor,
  encryptField,
  type FieldSuite,
  generateFieldKeyPair,
} from '@confidential-ai/venice-e2ee';
import type { ModelKeys } from './keys.js';
import type { ResponseSigner } from './signing.js';

/** Options of {@link warmUpCrypto}. */
export interface WarmUpCryptoOptions {
  /** The instance keys: each E2EE suite is exercised once against the real model key. */
  readonly keys: ModelKeys;
  /** Also run the Chutes ML-KEM primitives once (when the Chutes E2EE leg is on). */
  readonly chutes: boolean;
  /**
   * The response signer: one throw-away text is signed with each key, so that the first signature read does not pay
   * for the pure ECDSA implementation's precomputed tables (the keys' public halves are computed natively at start).
   */
  readonly signer?: ResponseSigner;
  /** Where a failure is reported (a warm-up failure never stops the server). */
  readonly logger: Logger;
}

const SUITES: ReadonlyArray<readonly [FieldSuite, 'ecdsa' | 'ed25519']> = [
  ['secp256k1', 'ecdsa'],
  ['ed25519', 'ed25519'],
];

/** Resolves on the next turn of the event loop, so requests that arrived meanwhile are served first. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs every primitive of the E2EE hot paths once with throw-away keys and data, so that the first client does not
 * pay for loading the native secp256k1 addon, the precomputed tables of the ECDSA signer, the native key-agreement objects of the model keys, the JIT of the
 * pure ML-KEM path (Node 20) and the gzip tables. Called after the server is ready (start time is measured to the
 * ready line), off the request path: each step runs in its own turn of the event loop, so requests interleave;
 * what it computes is discarded, and no secret or key is logged. Never rejects.
 *
 * @example
 * ```ts
 * await warmUpCrypto({ keys, chutes: false, logger });
 * ```
 */
export async function warmUpCrypto(options: WarmUpCryptoOptions): Promise<void> {
  try {
    // First: a shared (Redis) signature store signs at write time, where the tables' cost would delay the record.
    if (options.signer) {
      options.signer.sign('warm-up');
      await nextTurn();
    }
    for (const [suite, algo] of SUITES) {
      const modelKey = options.keys[algo];
      // request leg: a client seals a field to the model key, the proxy opens it
      const sealed = encryptField('warm-up', modelKey.publicKey, { suite });
      createFieldDecryptor(modelKey.privateKey, { suite }).decrypt(sealed);
      await nextTurn();
      // response leg: the proxy seals a field to a client key
      const client = generateFieldKeyPair(suite);
      createFieldEncryptor(client.publicKey, { suite }).encrypt('warm-up');
      await nextTurn();
    }
    if (options.chutes) {
      const pair = generateKeyPair();
      await nextTurn();
      const { ciphertext } = encapsulate(pair.publicKey);
      await nextTurn();
      decapsulate(ciphertext, pair.secretKey);
    }
  } catch (error) {
    options.logger.warn({ err: errorForLog(error) }, 'crypto warm-up failed (first requests pay for it)');
  }
}
