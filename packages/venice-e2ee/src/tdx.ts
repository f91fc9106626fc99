import { type Bytes, toBytes } from '@confidential-ai/bytes';
import { parseTdxQuote, TdxAttestationError, verifyTdxQuote } from '@confidential-ai/tdx-attestation';

/** What the attestation verifier needs from a parsed TDX quote. */
export interface TdxQuoteSummary {
  /** REPORTDATA of the TD report body (64 bytes, absolute quote offset 568). */
  reportData: Bytes;
  /** TD_ATTRIBUTES bit 0 (DEBUG). */
  debug: boolean;
  /** MRTD, RTMR0..3 and MRCONFIGID as lowercase hex, for reporting. */
  measurements: Record<string, Uint8Array>;
}

/** Result of a full (`require_tdx`) quote verification. */
export interface TdxVerificationSummary {
  /** TCB status from collateral (e.g. `UpToDate`), when collateral was supplied. */
  tcbStatus?: string;
}

/** Options passed to the full quote verification. */
export interface TdxVerifyOptions {
  /** DCAP collateral JSON (PCCS / dcap-qvl shape); optional. */
  collateral?: unknown;
  /** Verification time; default now. */
  now?: Date;
  /** DER of a trust anchor replacing the pinned Intel SGX Root CA (tests only). */
  trustedRootCa?: Uint8Array;
  /** REPORTDATA the quote must carry (already checked by the caller; passed for defence in depth). */
  expectedReportData?: Uint8Array;
  /** Accept a debug TD (the caller already applied its debug policy). */
  allowDebug?: boolean;
}

/**
 * The TDX back end of the attestation verifier: structural parsing (always) and full DCAP verification
 * (`require_tdx`). The default, {@link defaultTdxBackend}, uses `@confidential-ai/tdx-attestation`.
 */
export interface TdxBackend {
  /**
   * Parses a quote.
   * @throws any error for a malformed or unsupported quote (mapped to `ERR_ATTESTATION_INVALID_TDX_EVIDENCE`).
   */
  parse(quote: Uint8Array): TdxQuoteSummary;
  /**
   * Verifies the quote signature, QE report signature, attestation-key binding and PCK chain (plus TCB,
   * QE identity and CRLs when collateral is given).
   * @throws any error when verification fails (mapped to `ERR_ATTESTATION_INVALID_TDX_EVIDENCE`).
   */
  verify(quote: Uint8Array, options: TdxVerifyOptions): Promise<TdxVerificationSummary>;
}

/** The default TDX back end, backed by `@confidential-ai/tdx-attestation`. */
export const defaultTdxBackend: TdxBackend = {
  parse(quote) {
    const parsed = parseTdxQuote(quote);
    return {
      reportData: toBytes(parsed.body.reportData),
      debug: parsed.body.tdAttributes.debug,
      measurements: {
        mrTd: parsed.body.mrTd,
        mrConfigId: parsed.body.mrConfigId,
        rtmr0: parsed.body.rtmrs[0],
        rtmr1: parsed.body.rtmrs[1],
        rtmr2: parsed.body.rtmrs[2],
        rtmr3: parsed.body.rtmrs[3],
      },
    };
  },
  async verify(quote, options) {
    const result = await verifyTdxQuote(quote, {
      ...(options.collateral === undefined
        ? { chainOnly: true }
        : { collateral: options.collateral as Record<string, unknown> }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.expectedReportData === undefined ? {} : { expectedReportData: options.expectedReportData }),
      ...(options.trustedRootCa === undefined ? {} : { root: options.trustedRootCa }),
      ...(options.allowDebug ? { allowDebug: true } : {}),
    });
    return result.tcbStatus === null ? {} : { tcbStatus: result.tcbStatus };
  },
};

/** True when an error comes from `@confidential-ai/tdx-attestation`. */
export function isTdxAttestationError(error: unknown): boolean {
  return TdxAttestationError.isInstance(error);
}
