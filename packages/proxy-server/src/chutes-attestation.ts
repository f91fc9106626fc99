import { readFileSync } from 'node:fs';
import { base64ToBytes, base64UrlToBytes, bytesToHex, bytesToUtf8 } from '@confidential-ai/bytes';
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
import { ConfigError } from './errors.js';

/** The `verification_policy` of proxy-mode receipts (version C of the reference). */
export const CHUTES_VERIFICATION_POLICY = 'chutes-v1';

/** Size of a Chutes instance `e2e_pubkey` (ML-KEM-768 encapsulation key) in bytes. */
export const CHUTES_E2E_PUBKEY_BYTES = 1184;

const MAX_CANONICAL_DEPTH = 64;
const MAX_JWT_CHARS = 64 * 1024;

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
  /** Raw NVIDIA evidence list (passed through). */
  gpu_evidence: unknown;
  /** NVIDIA attestation tokens (`{tokens: [["JWT", <platform token>], {...}], error?}`), passed through. */
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
  /** Require a valid GPU platform token per instance. */
  requireGpu: boolean;
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
    /** GPU platform token: overall result true and `eat_nonce` == the binding digest (signature NOT verified). */
    gpu_platform_token: CheckOutcome;
  };
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

/**
 * Decodes the claims of a compact JWS/JWT WITHOUT verifying its signature (as the reference does for NVIDIA
 * tokens): three dot-separated parts, strict base64url payload, strict UTF-8, a JSON object.
 *
 * @throws {TypeError} when the token is not of that shape.
 */
export function decodeJwtClaimsUnverified(token: unknown): Record<string, unknown> {
  if (typeof token !== 'string' || token.length > MAX_JWT_CHARS) throw new TypeError('token is not a string');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) throw new TypeError('not a compact JWT');
  const claims: unknown = JSON.parse(bytesToUtf8(base64UrlToBytes(parts[1]!)));
  if (!isPlainObject(claims)) throw new TypeError('JWT claims are not an object');
  return claims;
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

function checkGpuToken(gpuTokens: unknown, digestHex: string, requireGpu: boolean): string[] {
  if (gpuTokens === undefined || gpuTokens === null) return requireGpu ? ['gpu_tokens_missing'] : [];
  if (!isPlainObject(gpuTokens)) return ['gpu_tokens_parse_failed'];
  const errors: string[] = [];
  if (gpuTokens.error !== undefined && gpuTokens.error !== null && gpuTokens.error !== false) {
    errors.push('gpu_tokens_error');
  }
  const tokens = gpuTokens.tokens;
  if (!Array.isArray(tokens) || tokens.length === 0) {
    if (requireGpu && errors.length === 0) errors.push('gpu_tokens_missing');
    return errors;
  }
  const platform = tokens[0];
  if (!Array.isArray(platform) || platform.length < 2) {
    errors.push('gpu_platform_token_format_invalid');
    return errors;
  }
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwtClaimsUnverified(platform[1]);
  } catch {
    errors.push('gpu_tokens_parse_failed');
    return errors;
  }
  if (claims['x-nvidia-overall-att-result'] !== true) errors.push('gpu_overall_attestation_failed');
  if (claims.eat_nonce !== digestHex) errors.push('gpu_eat_nonce_mismatch');
  return errors;
}

/**
 * Verifies one bundle entry fail-closed. Checks, each reported separately: `e2e_pubkey` is 1184 bytes of strict
 * base64; the quote is strict base64 of a well-formed TDX v4 quote (tdx-attestation's parser); REPORTDATA[0:32]
 * == SHA-256(nonce ‖ e2e_pubkey text); TD_ATTRIBUTES debug bit (bit 0 of byte 0, little-endian) clear; with
 * DCAP material the quote's signature chain (and, with collateral, its TCB status) verified offline, otherwise
 * Chutes' reported `tdx_verification.result.status`; the TCB status must be `UpToDate`; the GPU platform token
 * (decoded, signature NOT verified) has `x-nvidia-overall-att-result: true` and `eat_nonce` == the digest.
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
    gpu_platform_token: 'not_checked',
  };
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
    const gpuErrors = checkGpuToken(entry.gpu_tokens, digestHex, options.requireGpu);
    const absent = entry.gpu_tokens === undefined || entry.gpu_tokens === null;
    checks.gpu_platform_token = gpuErrors.length > 0 ? 'fail' : absent ? 'absent' : 'pass';
    errors.push(...gpuErrors);
  }

  return {
    instance_id: instanceId,
    result: errors.length === 0 ? 'pass' : 'fail',
    errors,
    checks,
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
  const read = (path: string, tomlKey: string, envVar: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError([{ tomlKey, envVar, message: `cannot read ${path}: ${reason}` }], {
        cause: error,
      });
    }
  };
  let root: Uint8Array | string | undefined;
  if (settings.tdxRootFile !== undefined) {
    const bytes = read(settings.tdxRootFile, 'chutes.tdx_root_file', 'CHUTES_TDX_ROOT_FILE');
    const text = bytes.toString('latin1');
    root = text.trimStart().startsWith('-----BEGIN') ? text : new Uint8Array(bytes);
  }
  const collaterals: TdxCollateralJson[] = [];
  if (settings.tdxCollateralFile !== undefined) {
    const bytes = read(
      settings.tdxCollateralFile,
      'chutes.tdx_collateral_file',
      'CHUTES_TDX_COLLATERAL_FILE',
    );
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
