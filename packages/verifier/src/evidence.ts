import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { checkNitroDocument } from './nitro.js';
import { resolvePolicy, type VerificationPolicy } from './policy.js';
import { checkTdxQuote, passOrSimulate } from './tdx.js';
import { type ServiceKind, type Verdict, VerdictBuilder } from './verdict.js';

/** Options of {@link verifyTdxEvidence}. */
export interface TdxEvidenceOptions {
  /** Verification policy. */
  policy?: VerificationPolicy | undefined;
  /** REPORTDATA the quote must carry: 64 bytes, or 32 for the first half only (bytes or hex). Omitted: not judged. */
  expectedReportData?: Uint8Array | string | undefined;
  /** Service named in the verdict. Default `vllm-proxy`. */
  service?: ServiceKind | undefined;
}

/**
 * Verifies a TDX quote you already hold into a verdict: steps `tdx-quote` (structure, signatures, PCK chain to the
 * Intel SGX Root CA or, as `simulated`, a TEST root; debug bit), `tcb-status`, `measurements` and, with
 * `expectedReportData`, `key-binding`.
 *
 * @example
 * ```ts
 * const verdict = await verifyTdxEvidence(quoteBytes, { policy: { tdxCollateral, tdxMeasurements: { mrTd } } });
 * ```
 */
export async function verifyTdxEvidence(
  quote: Uint8Array,
  options: TdxEvidenceOptions = {},
): Promise<Verdict> {
  const policy = resolvePolicy(options.policy);
  const builder = new VerdictBuilder(
    options.service ?? 'vllm-proxy',
    ['tdx-quote', 'tcb-status', 'measurements', 'key-binding'],
    policy,
  );
  const outcome = await checkTdxQuote(
    builder,
    quote,
    { quote: 'tdx-quote', tcb: 'tcb-status', measurements: 'measurements' },
    policy,
  );
  if (options.expectedReportData === undefined) {
    builder.skip('key-binding', 'Not judged: no expected REPORTDATA was given.');
  } else if (outcome.trusted && outcome.quote) {
    const expected =
      typeof options.expectedReportData === 'string'
        ? hexToBytes(options.expectedReportData, { allowPrefix: true })
        : options.expectedReportData;
    if (expected.length !== 64 && expected.length !== 32)
      throw new RangeError('expectedReportData must be 64 or 32 bytes');
    const actual = outcome.quote.body.reportData.subarray(0, expected.length);
    const evidence = {
      reportData: bytesToHex(outcome.quote.body.reportData),
      expected: bytesToHex(expected),
    };
    if (bytesToHex(actual) !== bytesToHex(expected)) {
      builder.fail(
        'key-binding',
        'ERR_VERIFY_KEY_BINDING',
        'REPORTDATA differs from the expected value.',
        evidence,
      );
    } else
      passOrSimulate(builder, outcome.real, 'key-binding', 'REPORTDATA equals the expected value.', evidence);
  }
  return builder.finish();
}

/** Options of {@link verifyNitroEvidence}. */
export interface NitroEvidenceOptions {
  /** The nonce that was requested (hex). */
  nonce: string;
  /** The application signing key (SPKI PEM) nitriding's `user_data` must bind. */
  signingKeyPem: string;
  /** Verification policy (`nitroPcrs` required unless `'any'`). */
  policy?: VerificationPolicy | undefined;
}

/**
 * Verifies a Nitro attestation document you already hold (binary, base64 or hex) into a verdict: steps
 * `attestation-document`, `measurements` (PCRs) and `key-binding` (nitriding `user_data`).
 *
 * @example
 * ```ts
 * const verdict = await verifyNitroEvidence(documentBase64, { nonce, signingKeyPem, policy: { nitroPcrs } });
 * ```
 */
export async function verifyNitroEvidence(
  document: string | Uint8Array,
  options: NitroEvidenceOptions,
): Promise<Verdict> {
  const policy = resolvePolicy(options.policy);
  const builder = new VerdictBuilder(
    'tee-gateway',
    ['attestation-document', 'measurements', 'key-binding'],
    policy,
  );
  await checkNitroDocument(builder, document, {
    nonce: options.nonce.toLowerCase(),
    signingKeyPem: options.signingKeyPem,
    policy,
  });
  return builder.finish();
}
