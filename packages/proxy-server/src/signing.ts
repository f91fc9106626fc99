import { hash } from 'node:crypto';
import { createVllmProxySigner, type VllmSigningAlgorithm } from '@confidential-ai/tee-signing';
import type { ModelKeys } from './keys.js';
import type { SignatureRecord } from './stores.js';

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
  /** Signs one text with one algorithm (the same string {@link ResponseSigner.sign} gives for it). */
  signWith(algo: VllmSigningAlgorithm, text: string): string;
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
    signWith: (algo: VllmSigningAlgorithm, text: string) =>
      algo === 'ecdsa' ? ecdsa.sign(text) : ed25519.sign(text),
  });
}

/**
 * The signature record of one response, signed on first read: each signature is computed (once) when its
 * field is first read, by `GET /v1/signature/{id}` for the in-memory store or by the JSON serialization of a
 * shared (Redis) store at write time. A secp256k1 signature costs about half a millisecond of CPU, so
 * responses whose signature nobody asks for cost nothing, and the response path never waits for one. Both
 * algorithms are deterministic (RFC 6979 and RFC 8032), so the bytes do not depend on when they are computed.
 *
 * @example
 * ```ts
 * const record = signatureRecord(signer, `${requestHash}:${responseHash}`);
 * record.signature_ed25519; // computed now
 * ```
 */
export function signatureRecord(signer: ResponseSigner, text: string): SignatureRecord {
  return new LazySignatureRecord(signer, text);
}

/**
 * The signer of a record made by {@link signatureRecord}, whose signatures `signatureRecord(signer, record.text)`
 * gives again byte for byte; `undefined` for any other record. The memory store keeps such records as their text.
 */
export function lazyRecordSigner(record: SignatureRecord): ResponseSigner | undefined {
  return LazySignatureRecord.signerOf(record);
}

/**
 * One small object per response (a store may hold 100,000): the text, the signer and the signatures once computed,
 * with the signature fields as getters of the class and `toJSON` for the JSON form. (An object literal with its own
 * getter closures took about twice the memory, all of it copied and promoted by the young-generation collector.)
 */
class LazySignatureRecord implements SignatureRecord {
  /** The signer of `record` when it is one of these records, else `undefined`. */
  static signerOf(record: SignatureRecord): ResponseSigner | undefined {
    return record instanceof LazySignatureRecord ? record.#signer : undefined;
  }

  readonly text: string;
  readonly #signer: ResponseSigner;
  #ecdsa: string | undefined;
  #ed25519: string | undefined;

  constructor(signer: ResponseSigner, text: string) {
    this.text = text;
    this.#signer = signer;
  }

  get signature_ecdsa(): string {
    this.#ecdsa ??= this.#signer.signWith('ecdsa', this.text);
    return this.#ecdsa;
  }

  get signing_address_ecdsa(): string {
    return this.#signer.ecdsaAddress;
  }

  get signature_ed25519(): string {
    this.#ed25519 ??= this.#signer.signWith('ed25519', this.text);
    return this.#ed25519;
  }

  get signing_address_ed25519(): string {
    return this.#signer.ed25519Address;
  }

  toJSON(): SignatureRecord {
    return {
      text: this.text,
      signature_ecdsa: this.signature_ecdsa,
      signing_address_ecdsa: this.signing_address_ecdsa,
      signature_ed25519: this.signature_ed25519,
      signing_address_ed25519: this.signing_address_ed25519,
    };
  }
}

/**
 * SHA-256 of bytes or UTF-8 text as lowercase hex (the hashes the vllm-proxy scheme signs). Node's one-shot `hash`,
 * not `createHash`: a `Hash` object is a native object with a weak handle, and thousands of them dying in each
 * young-generation collection lengthened its pause by a few milliseconds at load (see AGENTS.md).
 */
export function sha256Hex(data: Uint8Array | string): string {
  return hash('sha256', data, 'hex');
}
