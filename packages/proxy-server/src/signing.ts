import { createVllmProxySigner } from '@confidential-ai/tee-signing';
import type { ModelKeys } from './keys.js';

/** Signatures of one text with both instance keys. */
export interface TextSignatures {
  /** EIP-191 personal_sign, `0x` + r‖s‖v hex (65 bytes). */
  ecdsa: string;
  /** Raw Ed25519 signature, 64 bytes hex (no `0x`). */
  ed25519: string;
}

/** Signs vllm-proxy texts (`"<request_sha256>:<response_sha256>"`) with the instance keys. */
export interface ResponseSigner {
  /** EIP-55 checksummed Ethereum address of the ECDSA key (`signing_address` for `ecdsa`). */
  readonly ecdsaAddress: string;
  /** Ed25519 public key hex (`signing_address` for `ed25519`). */
  readonly ed25519Address: string;
  /** Signs one text with both algorithms. */
  sign(text: string): TextSignatures;
}

/**
 * Creates the response signer over the instance keys with tee-signing's vllm-proxy scheme (ECDSA EIP-191
 * personal_sign with an EIP-55 address; Ed25519 over the UTF-8 text, natively signed where node:crypto exists).
 *
 * @example
 * ```ts
 * const signer = createResponseSigner(createModelKeys());
 * signer.sign(`${requestHash}:${responseHash}`);
 * ```
 */
export function createResponseSigner(keys: ModelKeys): ResponseSigner {
  const ecdsa = createVllmProxySigner({ algorithm: 'ecdsa', privateKey: keys.ecdsa.privateKey });
  const ed25519 = createVllmProxySigner({ algorithm: 'ed25519', privateKey: keys.ed25519.privateKey });
  return Object.freeze({
    ecdsaAddress: ecdsa.signingAddress,
    ed25519Address: ed25519.signingAddress,
    sign: (text: string) => ({ ecdsa: ecdsa.sign(text), ed25519: ed25519.sign(text) }),
  });
}
