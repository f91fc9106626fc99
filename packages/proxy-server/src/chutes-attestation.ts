import { base64ToBytes, bytesToHex } from '@confidential-ai/bytes';
import { isPlainObject } from '@confidential-ai/server-kit';
import {
  chutesReportDataPrefix,
  parseTdxQuote,
  TdxAttestationError,
  type TdxCollateralJson,
  type TdxQuote,
  verifyTdxQuote,
} from '@confidential-ai/tdx-attestation';
import { pythonJsonDumps } from '@confidential-ai/tee-signing';
import {
  type ChutesGpuSummary,
  checkGpuTokenClaims,
  type NvidiaMaterial,
  verifyChutesGpuEvidence,
} from './chutes-gpu-evidence.js';
import { readRootFile, readSettingFile } from './config-files.js';
import { ConfigError } from './errors.js';

/** The `verification_policy` of proxy-mode receipts (version C of the reference). */
export const CHUTES_VERIFICATION_POLICY = 'chutes-v1';

/** Size of a Chutes instance `e2e_pubkey` (ML-KEM-768 encapsulation key) in bytes. */
export const CHUTES_E2E_PUBKEY_BYTES = 1184;

const MAX_CANONICAL_DEPTH = 64;

/**
 * One instance of a Chutes attestation bundle, with the reference's (version C) field names: the discovery key
 * joined with that instance's evidence entry.
 */
export interface ChutesAttestationEntry {
  /** Relay instance id. */
  instance_id: string;
  /** The request nonce (64 lowercase hex characters). */
  nonce: string;
  /** The instance's ML-KEM-768 public key, standard base64, exactly as discovery returned it. */
  e2e_pubkey: string;
  /** The TDX quote, standard base64, as the evidence endpoint returned it (`quote`). */
  intel_quote: unknown;
  /**
   * The instance's GPU evidence, passed through: the nvtrust SDK evidence list, one
   * `{certificate: base64(PEM chain), evidence: base64(SPDM report), arch}` per GPU, bound to
   * SHA-256(nonce ‖ e2e_pubkey).
   */
  gpu_evidence: unknown;
  /**
   * Chutes' NVIDIA attestation tokens (`{tokens: [["JWT", <platform token>], {...}], error?}`), passed through; an
   * additional, unverified signal.
   */
  gpu_tokens: unknown;
  /** Chutes' own TDX verification result (`{result: {status}}`), passed through. */
  tdx_verification: unknown;
  /** The instance's TLS certificate (base64 DER), passed through. */
  certificate: unknown;
}

/** The upstream bundle of `GET /v1/attestation/chain` (reference field names). */
export interface ChutesAttestationBundle {
  /** Always `chutes`. */
  attestation_type: 'chutes';
  /** The request nonce. */
  nonce: string;
  /** The resolved chute id. */
  chute_id: string;
  /** One entry per evidence entry whose instance discovery also returned. */
  all_attestations: ChutesAttestationEntry[];
}

/** Offline DCAP material configured by the operator (`chutes.tdx_root_file`, `chutes.tdx_collateral_file`). */
export interface DcapMaterial {
  /** Trust anchor replacing the pinned Intel SGX Root CA (DER bytes or PEM text); undefined: Intel's root. */
  readonly root: Uint8Array | string | undefined;
  /** Collateral documents, tried in order (one per FMSPC); empty: signature chain only, no TCB status. */
  readonly collaterals: readonly TdxCollateralJson[];
}

/** Options of {@link verifyChutesAttestation}. */
export interface ChutesVerificationOptions {
  /** The request nonce, 64 lowercase hex characters. */
  nonce: string;
  /** Offline DCAP material; undefined: rely on Chutes' reported `tdx_verification` status. */
  dcap?: DcapMaterial | undefined;
  /** Require verified GPU evidence from every instance (`chutes.attestation_require_gpu`). */
  requireGpu: boolean;
  /**
   * GPU trust anchors and RIMs; undefined: NVIDIA's pinned Device Identity CA and CoRIM root, no RIMs (measurements
   * not compared).
   */
  nvidia?: NvidiaMaterial | undefined;
  /** Verification time for DCAP certificates and collateral. Default now. */
  now?: Date | number;
}

/** Per-check outcome of one instance (`not_checked` when an earlier failure made the check impossible). */
export type CheckOutcome = 'pass' | 'fail' | 'not_checked' | 'absent';

/** The verification result of one instance, as it appears in the receipt's `instance_results`. */
export interface ChutesInstanceResult {
  /** Relay instance id (sanitized). */
  instance_id: string;
  /** `pass` when `errors` is empty. */
  result: 'pass' | 'fail';
  /** Stable failure codes (reference names where the reference has one), empty on success. */
  errors: string[];
  /** Per-check outcomes. */
  checks: {
    /** `e2e_pubkey` is strict base64 of 1184 bytes. */
    e2e_pubkey: CheckOutcome;
    /** The quote is strict base64 of a well-formed TDX v4 quote. */
    tdx_quote: CheckOutcome;
    /** REPORTDATA[0:32] == SHA-256(nonce ‖ e2e_pubkey). */
    report_data_binding: CheckOutcome;
    /** TD_ATTRIBUTES debug bit (bit 0 of byte 0) clear. */
    td_debug_disabled: CheckOutcome;
    /** Quote signature chain verified offline (DCAP) — `not_checked` without operator DCAP material. */
    tdx_quote_signature: CheckOutcome;
    /** TCB status is `UpToDate` (from DCAP collateral or Chutes' report, see `tdx_status_source`). */
    tdx_status: CheckOutcome;
    /**
     * GPU evidence verified offline (nvidia-attestation): every SPDM report bound to the binding digest, its
     * certificate chain to the GPU trust anchor (see `gpu.trust_anchor`), its signature, the measurements against
     * the configured RIMs; `absent` when there is none and none is required.
     */
    gpu_evidence: CheckOutcome;
    /**
     * ADDITIONAL SIGNAL ONLY, never a verification: Chutes' GPU platform token claims an overall success and
     * `eat_nonce` == the binding digest (its signature is NOT verified). A present token that claims otherwise fails
     * the instance; an absent one does not.
     */
    gpu_platform_token: CheckOutcome;
  };
  /** What the verified GPU evidence established (GPUs, the anchor that verified them, measurements). */
  gpu: ChutesGpuSummary | null;
  /** The TCB status that was judged, when known. */
  tdx_status: string | null;
  /** Where `tdx_status` came from. */
  tdx_status_source: 'dcap-collateral' | 'chutes-reported';
}

/** An upstream-controlled token made safe for receipts, messages and logs. */
export function safeToken(value: unknown, maxLength = 64): string {
  if (typeof value !== 'string' || value.length === 0) return 'missing';
  return value.length <= maxLength && /^[A-Za-z0-9._:-]+$/.test(value) ? value : 'invalid';
}

/**
 * Canonical JSON as Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))` writes it for the value a
 * Python client gets from `json.loads` of this server's JSON response (keys sorted by code point, ASCII-only
 * strings, Python float `repr` for non-integral numbers and for integral ones JavaScript prints with an exponent).
 * The reference hashes and signs this text for `upstream_attestation_sha256`, `binding_proof` and
 * `verification_receipt`. One serializer serves both schemes: tee-signing's `pythonJsonDumps`, here with
 * compact separators.
 *
 * @example
 * ```ts
 * canonicalJsonCompact({ b: 1, a: 'é' }); // '{"a":"\\u00e9","b":1}'
 * ```
 * @throws TeeSigningError `ERR_CANONICAL_JSON` for values JSON cannot carry (functions, cycles) or nesting
 * deeper than 64 levels.
 */
export function canonicalJsonCompact(value: unknown): string {
  return pythonJsonDumps(value, {
    sortKeys: true,
    separators: [',', ':'],
    unsafeIntegers: 'as-json',
    maxDepth: MAX_CANONICAL_DEPTH,
  });
}

function tdxErrorCode(error: unknown): string {
  return TdxAttestationError.isInstance(error) ? error.code : 'ERR_TDX_UNKNOWN';
}

/** Runs verifyTdxQuote with each collateral until one matches the platform (FMSPC / module identity). */
async function verifyWithDcap(
  quote: Uint8Array,
  dcap: DcapMaterial,
  now: Date | number | undefined,
): Promise<{ tcbStatus: string | null }> {
  const base = {
    ...(dcap.root !== undefined ? { root: dcap.root } : {}),
    ...(now !== undefined ? { now } : {}),
    // Debug and REPORTDATA are judged separately (one failure code each); this call is the signature chain
    // and, with collateral, the TCB status.
    allowDebug: true,
  };
  if (dcap.collaterals.length === 0) {
    const result = await verifyTdxQuote(quote, { ...base, chainOnly: true });
    return { tcbStatus: result.tcbStatus };
  }
  let last: unknown;
  for (const collateral of dcap.collaterals) {
    try {
      const result = await verifyTdxQuote(quote, { ...base, collateral });
      return { tcbStatus: result.tcbStatus };
    } catch (error) {
      last = error;
      if (!(TdxAttestationError.isInstance(error) && error.code === 'ERR_TDX_COLLATERAL_MISMATCH'))
        throw error;
    }
  }
  throw last;
}

/**
 * Verifies one bundle entry fail-closed. Checks, each reported separately: `e2e_pubkey` is 1184 bytes of strict
 * base64; the quote is strict base64 of a well-formed TDX v4 quote (tdx-attestation's parser); REPORTDATA[0:32]
 * == SHA-256(nonce ‖ e2e_pubkey text); TD_ATTRIBUTES debug bit (bit 0 of byte 0, little-endian) clear; with
 * DCAP material the quote's signature chain (and, with collateral, its TCB status) verified offline, otherwise
 * Chutes' reported `tdx_verification.result.status`; the TCB status must be `UpToDate`; the GPU evidence verified
 * offline with nvidia-attestation, bound to the same digest (required unless `requireGpu` is false); and, as an
 * additional signal only, the GPU platform token's claims (decoded, signature NOT verified) when present.
 */
export async function verifyChutesInstance(
  entry: ChutesAttestationEntry,
  options: ChutesVerificationOptions,
): Promise<ChutesInstanceResult> {
  const errors: string[] = [];
  const statusSource =
    options.dcap && options.dcap.collaterals.length > 0 ? 'dcap-collateral' : 'chutes-reported';
  const checks: ChutesInstanceResult['checks'] = {
    e2e_pubkey: 'not_checked',
    tdx_quote: 'not_checked',
    report_data_binding: 'not_checked',
    td_debug_disabled: 'not_checked',
    tdx_quote_signature: 'not_checked',
    tdx_status: 'not_checked',
    gpu_evidence: 'not_checked',
    gpu_platform_token: 'not_checked',
  };
  let gpu: ChutesGpuSummary | null = null;
  let tdxStatus: string | null = null;
  const instanceId = safeToken(entry.instance_id);

  const pubkey = entry.e2e_pubkey;
  if (typeof pubkey !== 'string' || pubkey.length === 0) {
    errors.push('missing_e2e_pubkey');
  } else {
    try {
      checks.e2e_pubkey = base64ToBytes(pubkey).length === CHUTES_E2E_PUBKEY_BYTES ? 'pass' : 'fail';
    } catch {
      checks.e2e_pubkey = 'fail';
    }
    if (checks.e2e_pubkey === 'fail') errors.push('e2e_pubkey_invalid');
  }
  const digest = typeof pubkey === 'string' ? chutesReportDataPrefix(options.nonce, pubkey) : undefined;
  const digestHex = digest ? bytesToHex(digest) : '';

  let quoteBytes: Uint8Array | undefined;
  let quote: TdxQuote | undefined;
  if (typeof entry.intel_quote !== 'string' || entry.intel_quote.length === 0) {
    errors.push('missing_intel_quote');
    checks.tdx_quote = 'fail';
  } else {
    try {
      quoteBytes = base64ToBytes(entry.intel_quote);
    } catch {
      errors.push('invalid_quote_base64');
      checks.tdx_quote = 'fail';
    }
    if (quoteBytes) {
      try {
        quote = parseTdxQuote(quoteBytes);
        checks.tdx_quote = 'pass';
      } catch (error) {
        errors.push(`tdx_quote_malformed:${tdxErrorCode(error)}`);
        checks.tdx_quote = 'fail';
      }
    }
  }

  if (quote && digest) {
    const bound = quote.body.reportData.subarray(0, 32);
    checks.report_data_binding = bytesToHex(bound) === digestHex ? 'pass' : 'fail';
    if (checks.report_data_binding === 'fail') errors.push('report_data_binding_mismatch');
  }
  if (quote) {
    checks.td_debug_disabled = quote.body.tdAttributes.debug ? 'fail' : 'pass';
    if (quote.body.tdAttributes.debug) errors.push('tdx_debug_mode_enabled');
  }

  let dcapStatus: string | null | undefined;
  if (options.dcap && quoteBytes && quote) {
    try {
      dcapStatus = (await verifyWithDcap(quoteBytes, options.dcap, options.now)).tcbStatus;
      checks.tdx_quote_signature = 'pass';
    } catch (error) {
      checks.tdx_quote_signature = 'fail';
      errors.push(`tdx_dcap_failed:${tdxErrorCode(error)}`);
    }
  }
  if (statusSource === 'dcap-collateral') {
    if (checks.tdx_quote_signature === 'pass') {
      tdxStatus = dcapStatus ?? null;
      checks.tdx_status = tdxStatus === 'UpToDate' ? 'pass' : 'fail';
      if (checks.tdx_status === 'fail') errors.push(`tdx_status_not_uptodate:${safeToken(tdxStatus)}`);
    }
  } else {
    const reported = isPlainObject(entry.tdx_verification) ? entry.tdx_verification.result : undefined;
    const status = isPlainObject(reported) ? reported.status : undefined;
    tdxStatus = typeof status === 'string' ? safeToken(status) : null;
    checks.tdx_status = status === 'UpToDate' ? 'pass' : 'fail';
    if (checks.tdx_status === 'fail') errors.push(`tdx_status_not_uptodate:${safeToken(status)}`);
  }

  if (digest) {
    const evidence = await verifyChutesGpuEvidence(entry.gpu_evidence, digest, {
      material: options.nvidia ?? {
        root: undefined,
        rootSource: 'nvidia-device-identity-ca',
        rims: [],
        rimRoot: undefined,
      },
      required: options.requireGpu,
      now: options.now,
    });
    checks.gpu_evidence = evidence.outcome;
    gpu = evidence.summary;
    errors.push(...evidence.errors);
    const token = checkGpuTokenClaims(entry.gpu_tokens, digestHex);
    checks.gpu_platform_token = token.outcome;
    errors.push(...token.errors);
  }

  return {
    instance_id: instanceId,
    result: errors.length === 0 ? 'pass' : 'fail',
    errors,
    checks,
    gpu,
    tdx_status: tdxStatus,
    tdx_status_source: statusSource,
  };
}

/**
 * Loads the operator's offline DCAP material from `chutes.tdx_root_file` (PEM or DER) and
 * `chutes.tdx_collateral_file` (one collateral JSON object or an array of them). Returns undefined when neither
 * is configured.
 *
 * @throws {ConfigError} `ERR_CONFIG_INVALID` when a file cannot be read or the collateral is not JSON objects.
 */
export function loadDcapMaterial(settings: {
  readonly tdxRootFile: string | undefined;
  readonly tdxCollateralFile: string | undefined;
}): DcapMaterial | undefined {
  if (settings.tdxRootFile === undefined && settings.tdxCollateralFile === undefined) return undefined;
  let root: Uint8Array | string | undefined;
  if (settings.tdxRootFile !== undefined) {
    root = readRootFile(settings.tdxRootFile, {
      tomlKey: 'chutes.tdx_root_file',
      envVar: 'CHUTES_TDX_ROOT_FILE',
    });
  }
  const collaterals: TdxCollateralJson[] = [];
  if (settings.tdxCollateralFile !== undefined) {
    const bytes = readSettingFile(settings.tdxCollateralFile, {
      tomlKey: 'chutes.tdx_collateral_file',
      envVar: 'CHUTES_TDX_COLLATERAL_FILE',
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new ConfigError(
        [
          {
            tomlKey: 'chutes.tdx_collateral_file',
            envVar: 'CHUTES_TDX_COLLATERAL_FILE',
            message: 'collateral file is not JSON',
          },
        ],
        { cause: error },
      );
    }
    const list = Array.isArray(parsed) ? parsed : [parsed];
    if (list.length === 0 || !list.every(isPlainObject)) {
      throw new ConfigError([
        {
          tomlKey: 'chutes.tdx_collateral_file',
          envVar: 'CHUTES_TDX_COLLATERAL_FILE',
          message: 'expected a collateral object or a non-empty array of them',
        },
      ]);
    }
    collaterals.push(...(list as unknown as TdxCollateralJson[]));
  }
  return { root, collaterals };
}
