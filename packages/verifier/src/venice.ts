import { type Bytes, base64ToBytes, bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { VeniceE2eeError, verifyAttestation } from '@confidential-ai/venice-e2ee';
import { fetchAttestationReport } from './attestation-report.js';
import { type EvidenceTransport, isPlainObject, joinUrl, parseJsonObject, randomNonceHex } from './http.js';
import { type ResolvedPolicy, resolvePolicy, type VerificationPolicy } from './policy.js';
import { checkTdxQuote, passOrSimulate } from './tdx.js';
import { type StepName, type Verdict, VerdictBuilder } from './verdict.js';
import { checkNvidiaPayload } from './vllm-report.js';

/** Steps of a Venice model attestation, in order. */
export const VENICE_ATTESTATION_STEPS: readonly StepName[] = [
  'attestation-report',
  'key-binding',
  'tdx-quote',
  'tcb-status',
  'measurements',
  'gpu-evidence',
];

/** Options of {@link verifyVeniceAttestation}. */
export interface VeniceAttestationOptions extends EvidenceTransport {
  /**
   * Base URL that serves `{baseUrl}/tee/attestation?model=&nonce=`: Venice's API (`https://api.venice.ai/api/v1`)
   * or a face that relays it.
   */
  baseUrl: string;
  /** Venice API key (Bearer), when the server needs one. */
  apiKey?: string | undefined;
  /** The model id, e.g. `e2ee-qwen3-6-27b`. */
  model: string;
  /** Fixed 32-byte nonce as 64 hex characters (tests); default a fresh random one. */
  nonce?: string | undefined;
  /** Verification policy. */
  policy?: VerificationPolicy | undefined;
}

/** Steps of a Venice answer checked against the model attestation, in order. */
export const VENICE_ANSWER_STEPS: readonly StepName[] = ['encryption-key', 'response-signature'];

/**
 * Response header of the composed server's Venice face naming the model key an answer was encrypted to (65-byte
 * uncompressed secp256k1, hex).
 */
export const VENICE_MODEL_KEY_HEADER = 'x-venice-proxy-model-public-key';

/** The attested Venice model key. */
export interface AttestedVeniceKey {
  /** The model's secp256k1 key, 65-byte uncompressed, hex (`X-Venice-TEE-Model-Pub-Key`). */
  readonly publicKeyHex: string;
  /** `0x` + the key's 20-byte Keccak address. */
  readonly signingAddress: string;
  /** True when the binding rests on a quote verified to the Intel root. */
  readonly real: boolean;
}

/** A checked Venice attestation. */
export interface VeniceAttestationResult {
  /** The steps. */
  readonly verdict: Verdict;
  /** The attested model key, when no step failed. */
  readonly key: AttestedVeniceKey | undefined;
  /** The nonce sent. */
  readonly nonce: string;
  /** When it was checked (ms since the epoch). */
  readonly checkedAt: number;
}

const REPORT_CODES = new Set([
  'ERR_ATTESTATION_MALFORMED_RESPONSE',
  'ERR_ATTESTATION_MISSING_REQUIRED_FIELD',
  'ERR_ATTESTATION_UPSTREAM_NOT_VERIFIED',
  'ERR_ATTESTATION_MODEL_MISMATCH',
]);

function decodeQuote(value: unknown): Bytes | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  try {
    return hexToBytes(value.trim(), { allowPrefix: true });
  } catch {
    try {
      return base64ToBytes(value.trim());
    } catch {
      return undefined;
    }
  }
}

/**
 * Verifies a Venice model attestation for the client itself (venice-e2ee.md §4.8, D1, D2): fetches
 * `{baseUrl}/tee/attestation?model=&nonce=` with a fresh 32-byte nonce, runs venice-e2ee's checks (`verified`,
 * nonce, model, key forms, `signing_address` = Keccak address of the key, REPORTDATA = address ‖ 12 zero bytes ‖
 * nonce, debug flags; both response shapes), then verifies the quote's chain, TCB status and measurements and
 * the NVIDIA evidence like the other services. The verdict is what the Venice proxy face checks for itself,
 * exposed to the client.
 *
 * @example
 * ```ts
 * const { verdict, key } = await verifyVeniceAttestation({
 *   baseUrl: 'https://api.venice.ai/api/v1', apiKey, model: 'e2ee-qwen3-6-27b', policy,
 * });
 * ```
 * @throws TypeError for a malformed `nonce` or an empty `model`.
 */
export async function verifyVeniceAttestation(
  options: VeniceAttestationOptions,
): Promise<VeniceAttestationResult> {
  if (typeof options.model !== 'string' || options.model === '')
    throw new TypeError('model must be a non-empty string');
  if (options.nonce !== undefined && !/^[0-9a-fA-F]{64}$/.test(options.nonce)) {
    throw new TypeError('nonce must be 32 bytes as 64 hex characters');
  }
  const policy = resolvePolicy(options.policy);
  const nonce = options.nonce?.toLowerCase() ?? randomNonceHex(32);
  const builder = new VerdictBuilder('venice', VENICE_ATTESTATION_STEPS, policy);
  const finish = (key: AttestedVeniceKey | undefined): VeniceAttestationResult => {
    const verdict = builder.finish();
    return { verdict, key: verdict.ok ? key : undefined, nonce, checkedAt: Date.now() };
  };
  const url = new URL(joinUrl(options.baseUrl, 'tee/attestation'));
  url.searchParams.set('model', options.model);
  url.searchParams.set('nonce', nonce);
  const text = await fetchAttestationReport(builder, url, 'model attestation', options);
  if (text === undefined) return finish(undefined);
  const report = parseJsonObject(text);
  const reportEvidence = { model: options.model, nonce };
  if (!report) {
    builder.fail(
      'attestation-report',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      'The attestation is not a JSON object.',
      reportEvidence,
    );
    return finish(undefined);
  }
  if (typeof report.nonce !== 'string' || report.nonce.toLowerCase() !== nonce) {
    builder.fail(
      'attestation-report',
      'ERR_VERIFY_NONCE_MISMATCH',
      'The attestation answers another nonce than the one sent.',
      reportEvidence,
    );
    return finish(undefined);
  }
  let attested: Awaited<ReturnType<typeof verifyAttestation>>;
  try {
    attested = await verifyAttestation(report, {
      model: options.model,
      nonce,
      allowDebug: policy.allowDebug,
    });
  } catch (error) {
    const code = VeniceE2eeError.isInstance(error) ? error.code : 'ERR_UNKNOWN';
    const evidence = { ...reportEvidence, veniceCode: code };
    if (REPORT_CODES.has(code))
      builder.fail(
        'attestation-report',
        'ERR_VERIFY_EVIDENCE_MALFORMED',
        "The attestation fails venice-e2ee's structure checks.",
        evidence,
      );
    else {
      builder.pass(
        'attestation-report',
        "Attestation fetched for this client's fresh nonce and model.",
        reportEvidence,
      );
      if (code === 'ERR_ATTESTATION_DEBUG_MODE_DETECTED')
        builder.fail('tdx-quote', 'ERR_VERIFY_DEBUG_MODE', 'The TEE reports debug mode.', evidence);
      else if (
        code === 'ERR_ATTESTATION_MISSING_TDX_EVIDENCE' ||
        code === 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE'
      ) {
        builder.fail(
          'tdx-quote',
          'ERR_VERIFY_TDX_QUOTE',
          'The TDX evidence is missing, malformed or inconsistent.',
          evidence,
        );
      } else if (code === 'ERR_ATTESTATION_NONCE_MISMATCH') {
        builder.fail(
          'key-binding',
          'ERR_VERIFY_NONCE_MISMATCH',
          "REPORTDATA[32:64] is not this client's nonce.",
          evidence,
        );
      } else
        builder.fail(
          'key-binding',
          'ERR_VERIFY_KEY_BINDING',
          "The model key is not bound to the quote's REPORTDATA.",
          evidence,
        );
    }
    return finish(undefined);
  }
  builder.pass(
    'attestation-report',
    "Attestation fetched for this client's fresh nonce and model; Venice marks it verified.",
    {
      ...reportEvidence,
      shape: attested.shape,
      teeProvider: attested.teeProvider ?? null,
    },
  );
  const evidence =
    isPlainObject(report.attestation) && isPlainObject(report.attestation.evidence)
      ? report.attestation.evidence
      : undefined;
  const quote = decodeQuote(evidence?.quote) ?? decodeQuote(report.intel_quote);
  if (!quote) {
    builder.fail('tdx-quote', 'ERR_VERIFY_TDX_QUOTE', 'The attestation carries no decodable TDX quote.');
    return finish(undefined);
  }
  const outcome = await checkTdxQuote(
    builder,
    quote,
    { quote: 'tdx-quote', tcb: 'tcb-status', measurements: 'measurements' },
    policy,
  );
  if (!outcome.trusted) return finish(undefined);
  passOrSimulate(
    builder,
    outcome.real,
    'key-binding',
    `REPORTDATA binds the model key's address ${attested.signingAddress} and the nonce.`,
    {
      signingAddress: attested.signingAddress,
      modelPublicKey: attested.publicKeyHex,
      reportData: bytesToHex(attested.reportData),
    },
  );
  await checkNvidiaPayload(builder, 'venice', report.nvidia_payload, nonce, policy);
  return finish({
    publicKeyHex: attested.publicKeyHex,
    signingAddress: attested.signingAddress,
    real: outcome.real,
  });
}

/**
 * The answer steps of a Venice face: `encryption-key` (the key the proxy says it encrypted this answer to, header
 * {@link VENICE_MODEL_KEY_HEADER}, is the model key this client attested with its own nonce) and
 * `response-signature` (skipped: Venice answers carry no signature, so their content is not checkable).
 * @param headers - The answer's response headers (the proxy's `x-venice-proxy-*` claims go into the evidence).
 * @param claimed - The key named by the answer, lowercase hex, if any.
 * @param key - The attested key, or undefined when the attestation failed (the step is then not run).
 */
export function veniceAnswerSteps(
  headers: Headers,
  claimed: string | undefined,
  key: AttestedVeniceKey | undefined,
  policy: ResolvedPolicy,
): Verdict {
  const builder = new VerdictBuilder('venice', VENICE_ANSWER_STEPS, policy);
  const proxyHeaders: Record<string, string> = {};
  for (const [name, value] of headers) if (name.startsWith('x-venice-proxy-')) proxyHeaders[name] = value;
  if (key) {
    const evidence = {
      claimedModelPublicKey: claimed ?? null,
      attestedModelPublicKey: key.publicKeyHex,
      attestedAddress: key.signingAddress,
    };
    if (claimed === undefined || claimed === '') {
      builder.fail(
        'encryption-key',
        'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
        `The answer does not name the model key it was encrypted to (${VENICE_MODEL_KEY_HEADER}).`,
        evidence,
      );
    } else if (claimed !== key.publicKeyHex.toLowerCase()) {
      builder.fail(
        'encryption-key',
        'ERR_VERIFY_KEY_BINDING',
        "The proxy encrypted this answer's request to another key than the model key this client attested.",
        evidence,
      );
    } else {
      passOrSimulate(
        builder,
        key.real,
        'encryption-key',
        `The proxy encrypted to the model key ${key.signingAddress}, which this client attested with its own nonce.`,
        evidence,
      );
    }
  }
  builder.skip(
    'response-signature',
    'Not checkable: Venice answers carry no signature; the content is as trustworthy as the proxy that decrypted it.',
    proxyHeaders,
  );
  return builder.finish();
}
