import { subjectPublicKeyInfo } from '@confidential-ai/nitro-attestation';
import { TeeSigningError, teeIdFromSpki, verifyResponse } from '@confidential-ai/tee-signing';
import {
  type EvidenceTransport,
  errorMessageOf,
  getEvidence,
  joinUrl,
  parseJsonObject,
  randomNonceHex,
} from './http.js';
import { checkNitroDocument } from './nitro.js';
import { resolvePolicy, type VerificationPolicy } from './policy.js';
import { combineVerdicts, type StepName, type Verdict, VerdictBuilder } from './verdict.js';

/** Steps of a TEE gateway attestation, in order. */
export const TEE_GATEWAY_ATTESTATION_STEPS: readonly StepName[] = [
  'signing-key',
  'attestation-document',
  'measurements',
  'key-binding',
];

/** Steps of a TEE gateway answer, in order. */
export const TEE_GATEWAY_RESPONSE_STEPS: readonly StepName[] = ['response-hash', 'response-signature'];

/** Where and how to reach a TEE gateway. */
export interface TeeGatewayTarget extends EvidenceTransport {
  /**
   * The gateway's root URL, where `/signing-key` and `/enclave/attestation` are served, e.g.
   * `http://127.0.0.1:8000/tee-gateway` (the OpenAI base URL without `/v1`).
   */
  baseUrl: string;
}

/** Options of {@link attestTeeGateway}. */
export interface TeeGatewayAttestationOptions extends TeeGatewayTarget {
  /** Verification policy (strict by default: PCRs must be given). */
  policy?: VerificationPolicy | undefined;
  /** Fixed 20-byte nonce as 40 hex characters (tests); default a fresh random one. */
  nonce?: string | undefined;
}

/** The gateway's attested signing key. */
export interface AttestedGatewayKey {
  /** The RSA public key, SubjectPublicKeyInfo PEM as `/signing-key` serves it. */
  readonly publicKeyPem: string;
  /** `0x` + keccak256(SPKI DER). */
  readonly teeId: string;
  /** True when the binding rests on a document verified to the AWS root (false: simulated or TEST evidence). */
  readonly real: boolean;
}

/** A checked gateway attestation. */
export interface GatewayAttestationResult {
  /** The attestation steps. */
  readonly verdict: Verdict;
  /** The attested key, when no step failed. */
  readonly key: AttestedGatewayKey | undefined;
  /** The nonce sent, lowercase hex. */
  readonly nonce: string;
  /** When the attestation was checked (ms since the epoch). */
  readonly checkedAt: number;
}

/**
 * Attests a TEE gateway (tee-gateway.md, nitro-attestation.md D3/D4): `GET /signing-key` (the RSA key and its
 * `tee_id` = keccak256(SPKI)), then `GET /enclave/attestation?nonce=<40 hex>` with a fresh nonce, verified by
 * {@link checkNitroDocument}. A gateway outside an enclave answers 503 there: under `acceptSimulated` that is
 * reported as `simulated` (the key is not attested), otherwise as `ERR_VERIFY_EVIDENCE_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * const { verdict, key } = await attestTeeGateway({
 *   baseUrl: 'https://gateway.example', policy: { nitroPcrs: parseNitroMeasurements(measurementsTxt) },
 * });
 * ```
 * @throws TypeError for a malformed `nonce`.
 */
export async function attestTeeGateway(
  options: TeeGatewayAttestationOptions,
): Promise<GatewayAttestationResult> {
  const policy = resolvePolicy(options.policy);
  if (options.nonce !== undefined && !/^[0-9a-fA-F]{40}$/.test(options.nonce)) {
    throw new TypeError('nonce must be 20 bytes as 40 hex characters');
  }
  const nonce = options.nonce?.toLowerCase() ?? randomNonceHex(20);
  const builder = new VerdictBuilder('tee-gateway', TEE_GATEWAY_ATTESTATION_STEPS, policy);
  const finish = (key: AttestedGatewayKey | undefined): GatewayAttestationResult => {
    const verdict = builder.finish();
    return { verdict, key: verdict.ok ? key : undefined, nonce, checkedAt: Date.now() };
  };

  const keyReply = await getEvidence(joinUrl(options.baseUrl, 'signing-key'), options);
  const keyBody = keyReply.ok ? parseJsonObject(keyReply.text) : undefined;
  if (
    !keyReply.ok ||
    !keyBody ||
    typeof keyBody.public_key !== 'string' ||
    typeof keyBody.tee_id !== 'string'
  ) {
    builder.fail(
      'signing-key',
      keyReply.ok ? 'ERR_VERIFY_EVIDENCE_MALFORMED' : 'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
      keyReply.ok
        ? 'The /signing-key answer lacks public_key or tee_id.'
        : `The signing key could not be fetched: ${keyReply.reason}.`,
    );
    return finish(undefined);
  }
  const publicKeyPem = keyBody.public_key;
  let teeId: string;
  try {
    teeId = teeIdFromSpki(await subjectPublicKeyInfo(publicKeyPem));
  } catch {
    builder.fail(
      'signing-key',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      'public_key is not an RSA SubjectPublicKeyInfo PEM.',
    );
    return finish(undefined);
  }
  const claimed = keyBody.tee_id.replace(/^0x/i, '').toLowerCase();
  if (claimed !== teeId.replace(/^0x/i, '')) {
    builder.fail(
      'signing-key',
      'ERR_VERIFY_KEY_BINDING',
      "tee_id is not keccak256 of the signing key's SPKI.",
      { teeId: keyBody.tee_id, computed: teeId },
    );
    return finish(undefined);
  }
  builder.pass('signing-key', "tee_id is keccak256 of the RSA signing key's SubjectPublicKeyInfo.", {
    teeId,
  });

  const url = new URL(joinUrl(options.baseUrl, 'enclave/attestation'));
  url.searchParams.set('nonce', nonce);
  const reply = await getEvidence(url.toString(), {
    ...options,
    headers: { accept: 'text/plain', ...options.headers },
  });
  if (!reply.ok) {
    const serverMessage = errorMessageOf(reply.text);
    if (reply.status === 503 && policy.acceptSimulated) {
      const message =
        'The gateway serves no attestation document (it runs outside a Nitro enclave, 503): its signing key is not attested.';
      builder.simulate('attestation-document', message, {
        status: 503,
        ...(serverMessage ? { serverMessage } : {}),
      });
      builder.simulate('measurements', 'Not evaluated: no attestation document.');
      builder.simulate('key-binding', 'Not evaluated: no attestation document.');
      return finish({ publicKeyPem, teeId, real: false });
    }
    builder.fail(
      'attestation-document',
      'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
      `The attestation document could not be fetched: ${reply.reason}.`,
      {
        status: reply.status ?? null,
        ...(serverMessage ? { serverMessage } : {}),
      },
    );
    return finish(undefined);
  }
  const checked = await checkNitroDocument(builder, reply.text.trim(), {
    nonce,
    signingKeyPem: publicKeyPem,
    policy,
  });
  return finish(checked ? { publicKeyPem, teeId, real: checked.real } : undefined);
}

/** Options of {@link checkTeeGatewayAnswer}. */
export interface TeeGatewayAnswerCheck {
  /** The exact request body sent (JSON text or bytes). */
  requestBody: Uint8Array | string;
  /** The exact response body received: JSON, or the whole SSE text of a stream. */
  responseBody: Uint8Array | string;
  /** The attested key. */
  key: AttestedGatewayKey;
  /** Policy (for `acceptSimulated`). */
  policy?: VerificationPolicy | undefined;
}

/**
 * Checks a gateway answer's proof fields with tee-signing's `verifyResponse` (the reference verifier's checks):
 * `response-hash` (the canonical request's keccak256 and the output's keccak256 equal `tee_request_hash` /
 * `tee_output_hash`) and `response-signature` (RSA-PSS over keccak256(request ‖ output ‖ timestamp) by the attested
 * key, whose `tee_id` the answer names).
 */
export async function checkTeeGatewayAnswer(check: TeeGatewayAnswerCheck): Promise<Verdict> {
  const builder = new VerdictBuilder('tee-gateway', TEE_GATEWAY_RESPONSE_STEPS, resolvePolicy(check.policy));
  try {
    const proof = await verifyResponse({
      request: check.requestBody,
      response: check.responseBody,
      signingKey: check.key.publicKeyPem,
      expectedTeeId: check.key.teeId,
    });
    const evidence = {
      teeId: proof.teeId,
      requestHash: proof.requestHash,
      outputHash: proof.outputHash,
      timestamp: proof.timestamp.toString(),
      source: proof.source,
    };
    builder.pass(
      'response-hash',
      'keccak256 of the canonical request and of the output equal the signed hashes.',
      evidence,
    );
    if (check.key.real)
      builder.pass(
        'response-signature',
        `Valid RSA-PSS signature by the attested key ${check.key.teeId}.`,
        evidence,
      );
    else {
      builder.simulate(
        'response-signature',
        `Valid RSA-PSS signature by ${check.key.teeId}, a key without a real attestation (simulated or TEST evidence).`,
        evidence,
      );
    }
  } catch (error) {
    const code = TeeSigningError.isInstance(error) ? error.code : 'ERR_UNKNOWN';
    const evidence = { signingCode: code, teeId: check.key.teeId };
    if (code === 'ERR_REQUEST_HASH_MISMATCH')
      builder.fail(
        'response-hash',
        'ERR_VERIFY_REQUEST_HASH',
        'The signed request hash is not the hash of the request sent.',
        evidence,
      );
    else if (code === 'ERR_OUTPUT_HASH_MISMATCH')
      builder.fail(
        'response-hash',
        'ERR_VERIFY_RESPONSE_HASH',
        'The signed output hash is not the hash of the answer received.',
        evidence,
      );
    else if (
      code === 'ERR_RESPONSE_MALFORMED' ||
      code === 'ERR_JSON_PARSE' ||
      code === 'ERR_REQUEST_UNSUPPORTED'
    ) {
      builder.fail(
        'response-hash',
        'ERR_VERIFY_SIGNATURE_UNAVAILABLE',
        'The answer carries no readable proof fields.',
        evidence,
      );
    } else if (code === 'ERR_TEE_ID_MISMATCH') {
      builder.pass('response-hash', 'keccak256 of the request and output equal the signed hashes.', evidence);
      builder.fail(
        'response-signature',
        'ERR_VERIFY_SIGNER_MISMATCH',
        'The answer names another TEE than the attested one.',
        evidence,
      );
    } else {
      builder.pass('response-hash', 'keccak256 of the request and output equal the signed hashes.', evidence);
      builder.fail(
        'response-signature',
        'ERR_VERIFY_SIGNATURE_INVALID',
        'The RSA-PSS signature does not verify.',
        evidence,
      );
    }
  }
  return builder.finish();
}

/** Options of {@link verifyTeeGatewayAnswer}. */
export interface TeeGatewayAnswerOptions extends TeeGatewayAttestationOptions {
  /** The exact request body sent. */
  requestBody: Uint8Array | string;
  /** The exact response body received (JSON or the whole SSE text). */
  responseBody: Uint8Array | string;
}

/**
 * Verifies one TEE gateway answer end to end: the attestation ({@link attestTeeGateway}) and the answer's proof
 * fields ({@link checkTeeGatewayAnswer}).
 *
 * @example
 * ```ts
 * const verdict = await verifyTeeGatewayAnswer({
 *   baseUrl: 'http://127.0.0.1:8000/tee-gateway', requestBody, responseBody,
 *   policy: { nitroPcrs: { 0: pcr0, 1: pcr1, 2: pcr2 } },
 * });
 * ```
 */
export async function verifyTeeGatewayAnswer(options: TeeGatewayAnswerOptions): Promise<Verdict> {
  const attestation = await attestTeeGateway(options);
  if (!attestation.key) {
    const builder = new VerdictBuilder(
      'tee-gateway',
      TEE_GATEWAY_RESPONSE_STEPS,
      resolvePolicy(options.policy),
    );
    return combineVerdicts('tee-gateway', [attestation.verdict, builder.finish()]);
  }
  const answer = await checkTeeGatewayAnswer({ ...options, key: attestation.key });
  return combineVerdicts('tee-gateway', [attestation.verdict, answer]);
}
