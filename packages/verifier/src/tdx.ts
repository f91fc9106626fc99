import { bytesToHex, equalBytes } from '@confidential-ai/bytes';
import {
  INTEL_SGX_ROOT_CA_SHA256,
  parseTdxQuote,
  TdxAttestationError,
  type TdxCollateralJson,
  type TdxQuote,
  type TdxVerificationResult,
  verifyTdxQuote,
} from '@confidential-ai/tdx-attestation';
import { sha256 } from '@confidential-ai/tee-signing';
import { certificateDer, describeCertificate, type RootDescription } from './certificates.js';
import type { ResolvedPolicy, TdxMeasurementPolicy } from './policy.js';
import type { StepName, VerdictBuilder } from './verdict.js';

/** Which anchor a quote was verified against. */
export type TdxTrustAnchor = 'intel-sgx-root-ca' | 'policy-root' | 'test-root' | 'embedded-test-root';

/** The steps the TDX checks record into. */
export interface TdxStepNames {
  /** Quote structure, signatures and PCK chain (and the debug bit). */
  readonly quote: StepName;
  /** TCB status from collateral. */
  readonly tcb: StepName;
  /** Measurements against the policy; omitted: not judged here. */
  readonly measurements?: StepName;
}

/** The outcome of {@link checkTdxQuote}, for the caller's own binding checks. */
export interface TdxCheckOutcome {
  /** The parsed quote, when it parsed. */
  readonly quote: TdxQuote | undefined;
  /**
   * True when the chain was verified against the Intel root or a root pinned by `policy.trustAnchors` (steps
   * `passed`, not `simulated`).
   */
  readonly real: boolean;
  /** True when the quote step passed or was simulated (its REPORTDATA may be relied on). */
  readonly trusted: boolean;
  /** The anchor used. */
  readonly anchor: TdxTrustAnchor | undefined;
  /** The root used. */
  readonly root: RootDescription | undefined;
}

const QUOTE_CODES = new Set([
  'ERR_TDX_QUOTE_MALFORMED',
  'ERR_TDX_QUOTE_UNSUPPORTED',
  'ERR_TDX_QUOTE_SIGNATURE',
  'ERR_TDX_QE_REPORT_SIGNATURE',
  'ERR_TDX_ATTESTATION_KEY_BINDING',
  'ERR_TDX_CERT_CHAIN',
  'ERR_TDX_CERT_EXPIRED',
  'ERR_TDX_CERT_REVOKED',
]);

function codeOf(error: unknown): string {
  return TdxAttestationError.isInstance(error) ? error.code : 'ERR_TDX_UNKNOWN';
}

/** Records a step that holds on real evidence as `passed`, on test evidence as `simulated`. */
export function passOrSimulate(
  builder: VerdictBuilder,
  real: boolean,
  step: StepName,
  message: string,
  evidence: Record<string, unknown>,
): void {
  if (real) builder.pass(step, message, evidence);
  else
    builder.simulate(
      step,
      `${message.replace(/\.$/, '')} (on simulated or TEST evidence, not real hardware).`,
      evidence,
    );
}

async function resolveCollateral(
  policy: ResolvedPolicy,
  fmspc: string,
  rootSha256: string,
): Promise<readonly TdxCollateralJson[]> {
  const source = policy.tdxCollateral;
  if (source === undefined) return [];
  if (typeof source === 'function') {
    const found = await source({ fmspc, rootSha256 });
    return found === undefined ? [] : [found];
  }
  return Array.isArray(source) ? source : [source as TdxCollateralJson];
}

function measurementEvidence(quote: TdxQuote): Record<string, string> {
  const body = quote.body;
  return {
    mrTd: bytesToHex(body.mrTd),
    mrConfigId: bytesToHex(body.mrConfigId),
    rtmr0: bytesToHex(body.rtmrs[0]),
    rtmr1: bytesToHex(body.rtmrs[1]),
    rtmr2: bytesToHex(body.rtmrs[2]),
    rtmr3: bytesToHex(body.rtmrs[3]),
  };
}

function checkMeasurements(
  builder: VerdictBuilder,
  step: StepName,
  quote: TdxQuote,
  expected: TdxMeasurementPolicy | 'any' | undefined,
  real: boolean,
): void {
  const actual = measurementEvidence(quote);
  if (expected === 'any') {
    builder.skip(step, 'Not judged: the policy accepts any measurements.', actual);
    return;
  }
  if (expected === undefined) {
    builder.fail(
      step,
      'ERR_VERIFY_POLICY_MISSING',
      'No expected measurements were given (policy.tdxMeasurements); pass them, or "any" to accept any.',
      actual,
    );
    return;
  }
  const names = Object.keys(expected).filter(
    (name) => (expected as Record<string, unknown>)[name] !== undefined,
  );
  if (names.length === 0) {
    builder.fail(step, 'ERR_VERIFY_POLICY_MISSING', 'policy.tdxMeasurements names no measurement.', actual);
    return;
  }
  for (const name of names) {
    const want = String((expected as Record<string, unknown>)[name])
      .replace(/^0x/, '')
      .toLowerCase();
    const have = actual[name];
    if (have === undefined) {
      builder.fail(
        step,
        'ERR_VERIFY_POLICY_MISSING',
        `policy.tdxMeasurements has an unknown field "${name}".`,
        actual,
      );
      return;
    }
    if (have !== want) {
      builder.fail(step, 'ERR_VERIFY_MEASUREMENTS', `${name} differs from the expected value.`, {
        ...actual,
        mismatch: name,
        expected: want,
      });
      return;
    }
  }
  passOrSimulate(builder, real, step, `${names.join(', ')} match the expected values.`, actual);
}

function selectAnchor(
  quote: TdxQuote,
  policy: ResolvedPolicy,
):
  | { anchor: TdxTrustAnchor; root: Uint8Array | undefined; description: RootDescription }
  | { anchor: undefined; description: RootDescription } {
  const embedded = quote.pckCertChain[quote.pckCertChain.length - 1]!;
  const description = describeCertificate(embedded);
  if (description.sha256 === INTEL_SGX_ROOT_CA_SHA256)
    return { anchor: 'intel-sgx-root-ca', root: undefined, description };
  for (const candidate of policy.trustAnchors.tdx) {
    const der = certificateDer(candidate);
    if (der && equalBytes(sha256(der), sha256(embedded)))
      return { anchor: 'policy-root', root: der, description };
  }
  for (const candidate of policy.testRoots.tdx) {
    const der = certificateDer(candidate);
    if (der && equalBytes(sha256(der), sha256(embedded)))
      return { anchor: 'test-root', root: der, description };
  }
  if (policy.testRoots.tdx.length === 0 && policy.acceptSimulated) {
    return { anchor: 'embedded-test-root', root: embedded, description };
  }
  return { anchor: undefined, description };
}

/**
 * Verifies one TDX quote into verdict steps: structure, quote signature, QE report, PCK chain to the pinned Intel
 * SGX Root CA (or, as `simulated`, to a TEST root), the debug bit, the TCB status from collateral against the
 * allowed statuses, and the measurements against the policy. REPORTDATA binding is left to the caller, which
 * knows what must be bound; it may rely on `outcome.quote.body.reportData` when `outcome.trusted`.
 */
export async function checkTdxQuote(
  builder: VerdictBuilder,
  bytes: Uint8Array,
  steps: TdxStepNames,
  policy: ResolvedPolicy,
): Promise<TdxCheckOutcome> {
  const none = { quote: undefined, real: false, trusted: false, anchor: undefined, root: undefined } as const;
  let quote: TdxQuote;
  try {
    quote = parseTdxQuote(bytes);
  } catch (error) {
    builder.fail(
      steps.quote,
      'ERR_VERIFY_TDX_QUOTE',
      'The TDX quote is malformed or of an unsupported kind.',
      {
        tdxCode: codeOf(error),
        quoteBytes: bytes.length,
      },
    );
    return none;
  }
  const selected = selectAnchor(quote, policy);
  const rootEvidence = { rootSubject: selected.description.subject, rootSha256: selected.description.sha256 };
  if (selected.anchor === undefined) {
    builder.fail(
      steps.quote,
      'ERR_VERIFY_UNTRUSTED_ROOT',
      policy.acceptSimulated
        ? `The quote chains to "${selected.description.subject}", which is neither Intel's root nor a TEST root the policy names.`
        : `The quote chains to "${selected.description.subject}", not to the Intel SGX Root CA (TEST evidence is accepted only with acceptSimulated).`,
      rootEvidence,
    );
    return { ...none, quote };
  }
  const real = selected.anchor === 'intel-sgx-root-ca' || selected.anchor === 'policy-root';
  const now = policy.now();
  let chain: TdxVerificationResult;
  try {
    // The signature chain only: the TCB status is the next step's, from the policy's collateral.
    chain = await verifyTdxQuote(bytes, {
      now,
      allowDebug: true,
      chainOnly: true,
      ...(selected.root ? { root: selected.root } : {}),
    });
  } catch (error) {
    const code = codeOf(error);
    builder.fail(
      steps.quote,
      'ERR_VERIFY_TDX_QUOTE',
      'The quote signature, QE report or PCK chain does not verify.',
      {
        ...rootEvidence,
        trustAnchor: selected.anchor,
        tdxCode: QUOTE_CODES.has(code) ? code : 'ERR_TDX_UNKNOWN',
      },
    );
    return { ...none, quote };
  }
  const quoteEvidence = {
    trustAnchor: selected.anchor,
    ...rootEvidence,
    fmspc: chain.pck.fmspc,
    tdAttributes: chain.tdAttributes.hex,
    debug: chain.tdAttributes.debug,
    reportData: chain.reportData,
  };
  if (chain.tdAttributes.debug && !policy.allowDebug) {
    builder.fail(
      steps.quote,
      'ERR_VERIFY_DEBUG_MODE',
      'The TD runs in debug mode (TD_ATTRIBUTES bit 0).',
      quoteEvidence,
    );
    return { ...none, quote };
  }
  const anchorText =
    selected.anchor === 'intel-sgx-root-ca'
      ? 'verified to the Intel SGX Root CA'
      : selected.anchor === 'policy-root'
        ? `verified to the root pinned by policy.trustAnchors "${selected.description.subject}" (sha256 ${selected.description.sha256.slice(0, 16)}…)`
        : selected.anchor === 'test-root'
          ? `verified against the TEST root "${selected.description.subject}" (sha256 ${selected.description.sha256.slice(0, 16)}…), not Intel's`
          : `verified against the quote's own embedded root "${selected.description.subject}" (sha256 ${selected.description.sha256.slice(0, 16)}…), not Intel's: TEST evidence`;
  if (real)
    builder.pass(steps.quote, `Quote signature, QE report and PCK chain ${anchorText}.`, quoteEvidence);
  else
    builder.simulate(steps.quote, `Quote signature, QE report and PCK chain ${anchorText}.`, quoteEvidence);

  await checkTcb(
    builder,
    steps.tcb,
    bytes,
    selected.root,
    chain.pck.fmspc,
    selected.description.sha256,
    real,
    policy,
    now,
  );
  if (steps.measurements) checkMeasurements(builder, steps.measurements, quote, policy.tdxMeasurements, real);
  return { quote, real, trusted: true, anchor: selected.anchor, root: selected.description };
}

async function checkTcb(
  builder: VerdictBuilder,
  step: StepName,
  bytes: Uint8Array,
  root: Uint8Array | undefined,
  fmspc: string,
  rootSha256: string,
  real: boolean,
  policy: ResolvedPolicy,
  now: Date,
): Promise<void> {
  let collaterals: readonly TdxCollateralJson[];
  try {
    collaterals = await resolveCollateral(policy, fmspc, rootSha256);
  } catch {
    builder.fail(step, 'ERR_VERIFY_TCB_STATUS', 'The collateral source failed.', { fmspc });
    return;
  }
  if (collaterals.length === 0) {
    if (!real) builder.simulate(step, 'Not evaluated: TEST platform without collateral.', { fmspc });
    else if (policy.requireTcbStatus) {
      builder.fail(
        step,
        'ERR_VERIFY_POLICY_MISSING',
        'The TCB status cannot be evaluated without DCAP collateral (policy.tdxCollateral); set requireTcbStatus: false to skip it.',
        { fmspc },
      );
    } else builder.skip(step, 'Not evaluated: no DCAP collateral was given.', { fmspc });
    return;
  }
  let last: unknown;
  for (const collateral of collaterals) {
    try {
      const result = await verifyTdxQuote(bytes, {
        now,
        allowDebug: true,
        collateral,
        ...(root ? { root } : {}),
      });
      const status = result.tcbStatus ?? 'unknown';
      const evidence = { fmspc, tcbStatus: status, advisoryIds: result.advisoryIds };
      if (!policy.allowedTcbStatuses.includes(status)) {
        builder.fail(step, 'ERR_VERIFY_TCB_STATUS', `TCB status ${status} is not allowed by the policy.`, {
          ...evidence,
          allowed: policy.allowedTcbStatuses,
        });
      } else {
        passOrSimulate(builder, real, step, `TCB status ${status} from verified collateral.`, evidence);
      }
      return;
    } catch (error) {
      last = error;
      if (codeOf(error) !== 'ERR_TDX_COLLATERAL_MISMATCH') break;
    }
  }
  builder.fail(
    step,
    'ERR_VERIFY_TCB_STATUS',
    'The collateral does not verify for this quote, or the TCB is revoked.',
    {
      fmspc,
      tdxCode: codeOf(last),
    },
  );
}
