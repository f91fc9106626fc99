import type { StepName, Verdict } from './verdict.js';

const MARKER = Symbol.for('confidential-ai.error.verifier');

/**
 * Stable codes of verification failures. Each failed step of a {@link Verdict} carries one of them, and a
 * {@link VerifierError} thrown by {@link createVerifiedFetch} carries the code of the step that failed.
 *
 * - `ERR_VERIFY_EVIDENCE_UNAVAILABLE`: an evidence route (attestation report, attestation document, signing key,
 *   signature, chain) could not be fetched or answered an error status.
 * - `ERR_VERIFY_EVIDENCE_MALFORMED`: evidence was fetched but is not in the documented shape.
 * - `ERR_VERIFY_NONCE_MISMATCH`: the evidence does not carry (echo or bind) the fresh nonce this client sent.
 * - `ERR_VERIFY_SIMULATED`: the evidence is simulated (or chains to a test root) and the policy does not accept
 *   simulated evidence (`acceptSimulated` is false).
 * - `ERR_VERIFY_TDX_QUOTE`: the TDX quote is malformed, or its signature, QE report or certificate chain does not
 *   verify.
 * - `ERR_VERIFY_UNTRUSTED_ROOT`: the quote or document chains to a root that is neither the pinned vendor root nor
 *   a test root the policy names.
 * - `ERR_VERIFY_TCB_STATUS`: the TCB status is not one the policy allows, or the collateral does not verify.
 * - `ERR_VERIFY_DEBUG_MODE`: the TEE runs in debug mode and the policy does not allow it.
 * - `ERR_VERIFY_MEASUREMENTS`: a measurement (TDX MRTD/RTMR/MRCONFIGID, Nitro PCR) differs from the policy's.
 * - `ERR_VERIFY_POLICY_MISSING`: the strict default needs a policy input that was not given (expected
 *   measurements, TCB collateral, a required GPU verifier).
 * - `ERR_VERIFY_KEY_BINDING`: the attested report data does not bind the signing key (address, public key hash).
 * - `ERR_VERIFY_GPU_EVIDENCE`: the GPU evidence does not verify.
 * - `ERR_VERIFY_NITRO_DOCUMENT`: the Nitro attestation document is malformed, expired or badly signed.
 * - `ERR_VERIFY_SIGNATURE_UNAVAILABLE`: the response has no signature (no `/v1/signature/{id}` record, no proof
 *   fields).
 * - `ERR_VERIFY_REQUEST_HASH`: the signed request hash is not the hash of the request this client sent.
 * - `ERR_VERIFY_RESPONSE_HASH`: the signed response hash is not the hash of the bytes this client received.
 * - `ERR_VERIFY_SIGNER_MISMATCH`: the signature was made by another key than the attested one.
 * - `ERR_VERIFY_SIGNATURE_INVALID`: the signature does not verify.
 * - `ERR_VERIFY_RESPONSE_MALFORMED`: the chat response cannot be read (not JSON, no id, broken SSE).
 * - `ERR_VERIFY_RESPONSE_TOO_LARGE`: the response is larger than `maxResponseBytes`.
 * - `ERR_VERIFY_REQUEST_UNSUPPORTED`: the request body is of a kind whose exact bytes cannot be known (e.g. a
 *   stream), so it cannot be bound to the signature.
 * - `ERR_VERIFY_BINDING_PROOF`: a Chutes chain `binding_proof` does not hash the bundle or is not signed by the
 *   attested proxy key.
 * - `ERR_VERIFY_INSTANCE_EVIDENCE`: a Chutes instance's evidence fails a check (public key, binding, debug).
 */
export type VerifierErrorCode =
  | 'ERR_VERIFY_EVIDENCE_UNAVAILABLE'
  | 'ERR_VERIFY_EVIDENCE_MALFORMED'
  | 'ERR_VERIFY_NONCE_MISMATCH'
  | 'ERR_VERIFY_SIMULATED'
  | 'ERR_VERIFY_TDX_QUOTE'
  | 'ERR_VERIFY_UNTRUSTED_ROOT'
  | 'ERR_VERIFY_TCB_STATUS'
  | 'ERR_VERIFY_DEBUG_MODE'
  | 'ERR_VERIFY_MEASUREMENTS'
  | 'ERR_VERIFY_POLICY_MISSING'
  | 'ERR_VERIFY_KEY_BINDING'
  | 'ERR_VERIFY_GPU_EVIDENCE'
  | 'ERR_VERIFY_NITRO_DOCUMENT'
  | 'ERR_VERIFY_SIGNATURE_UNAVAILABLE'
  | 'ERR_VERIFY_REQUEST_HASH'
  | 'ERR_VERIFY_RESPONSE_HASH'
  | 'ERR_VERIFY_SIGNER_MISMATCH'
  | 'ERR_VERIFY_SIGNATURE_INVALID'
  | 'ERR_VERIFY_RESPONSE_MALFORMED'
  | 'ERR_VERIFY_RESPONSE_TOO_LARGE'
  | 'ERR_VERIFY_REQUEST_UNSUPPORTED'
  | 'ERR_VERIFY_BINDING_PROOF'
  | 'ERR_VERIFY_INSTANCE_EVIDENCE';

/** Every code of {@link VerifierErrorCode}, for exhaustive tables and tests. */
export const VERIFIER_ERROR_CODES: readonly VerifierErrorCode[] = Object.freeze([
  'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
  'ERR_VERIFY_EVIDENCE_MALFORMED',
  'ERR_VERIFY_NONCE_MISMATCH',
  'ERR_VERIFY_SIMULATED',
  'ERR_VERIFY_TDX_QUOTE',
  'ERR_VERIFY_UNTRUSTED_ROOT',
  'ERR_VERIFY_TCB_STATUS',
  'ERR_VERIFY_DEBUG_MODE',
  'ERR_VERIFY_MEASUREMENTS',
  'ERR_VERIFY_POLICY_MISSING',
  'ERR_VERIFY_KEY_BINDING',
  'ERR_VERIFY_GPU_EVIDENCE',
  'ERR_VERIFY_NITRO_DOCUMENT',
  'ERR_VERIFY_SIGNATURE_UNAVAILABLE',
  'ERR_VERIFY_REQUEST_HASH',
  'ERR_VERIFY_RESPONSE_HASH',
  'ERR_VERIFY_SIGNER_MISMATCH',
  'ERR_VERIFY_SIGNATURE_INVALID',
  'ERR_VERIFY_RESPONSE_MALFORMED',
  'ERR_VERIFY_RESPONSE_TOO_LARGE',
  'ERR_VERIFY_REQUEST_UNSUPPORTED',
  'ERR_VERIFY_BINDING_PROOF',
  'ERR_VERIFY_INSTANCE_EVIDENCE',
]);

/** Options of {@link VerifierError}. */
export interface VerifierErrorOptions {
  /** The step that failed. */
  step?: StepName | undefined;
  /** The whole verdict, when the failure ended a verification. */
  verdict?: Verdict | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The one error class of this package: a verification that failed. `code` is stable, `step` names the failed
 * step and `verdict` holds every step with its evidence. Messages never contain prompts, answers or keys.
 *
 * @example
 * ```ts
 * try {
 *   await client.chat.completions.create({ model, messages });
 * } catch (error) {
 *   if (VerifierError.isInstance(error)) console.error(error.step, error.code);
 *   throw error;
 * }
 * ```
 */
export class VerifierError extends Error {
  /** Stable machine-readable code. */
  readonly code: VerifierErrorCode;
  /** The step that failed, when known. */
  readonly step: StepName | undefined;
  /** The verdict the failure ended, when known. */
  readonly verdict: Verdict | undefined;

  constructor(code: VerifierErrorCode, message: string, options: VerifierErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VerifierError';
    this.code = code;
    this.step = options.step;
    this.verdict = options.verdict;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** True for a `VerifierError` from any copy of this package. */
  static isInstance(error: unknown): error is VerifierError {
    return typeof error === 'object' && error !== null && MARKER in error;
  }
}
