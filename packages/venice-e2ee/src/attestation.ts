import {
  type Bytes,
  base64ToBytes,
  bytesToHex,
  concatBytes,
  equalBytes,
  hexToBytes,
  isBytes,
  toBytes,
} from '@confidential-ai/bytes';
import { signingAddressBytes } from './address.js';
import { VeniceE2eeError, type VeniceE2eeErrorCode } from './errors.js';
import { normalizeSecp256k1PublicKey } from './key-agreement.js';
import {
  type NvidiaPolicy,
  type NvidiaStatus,
  type NvidiaVerificationOptions,
  nvidiaGate,
} from './nvidia.js';
import { createEnvProxyFetch } from './outbound-proxy.js';
import { defaultTdxBackend, type TdxBackend } from './tdx.js';

/** Attestation policy (the `[attestation]` section of the proxy configuration). */
export interface AttestationPolicy {
  /** Accept a debug TD (root `debug`/`tdx_debug` or TD_ATTRIBUTES bit 0). Default false. */
  allowDebug?: boolean;
  /**
   * Verify the quote's signature chain offline (quote signature, QE report signature, attestation-key
   * binding, PCK chain to the pinned Intel SGX Root CA) and, with `tdxCollateral`, TCB info, QE identity and
   * CRLs. Default false. Synthetic quotes from the fake server cannot pass this with the Intel root.
   */
  requireTdx?: boolean;
  /**
   * NVIDIA gate. Default `never`. `when_present` / `required` verify the GPU evidence offline (spec D2): each
   * report bound to the nonce, chained to the pinned NVIDIA Device Identity CA, its SPDM signature valid.
   */
  requireNvidia?: NvidiaPolicy;
  /** Replaces the pinned NVIDIA Device Identity CA (DER) for the NVIDIA gate (tests and the embedded fake only). */
  nvidiaRoot?: Uint8Array;
  /** RIMs, revocation data and stricter policy for the GPU evidence (`@confidential-ai/nvidia-attestation`). */
  nvidia?: NvidiaVerificationOptions;
  /** DCAP collateral JSON used by `requireTdx` (optional). */
  tdxCollateral?: unknown;
  /** Verification time for certificates and collateral; default now. */
  now?: () => Date;
  /** Replaces the pinned Intel SGX Root CA (DER) for `requireTdx` (tests only). */
  trustedRootCa?: Uint8Array;
  /** Replaces the TDX back end (parsing and verification). Default: `@confidential-ai/tdx-attestation`. */
  tdxBackend?: TdxBackend;
}

/** Options of {@link verifyAttestation}. */
export interface VerifyAttestationOptions extends AttestationPolicy {
  /** The model id that was requested. */
  model: string;
  /** The 32-byte nonce sent with the request (bytes or 64 hex characters). */
  nonce: Uint8Array | string;
}

/** Which response layout was parsed. */
export type AttestationShape = 'flat' | 'aci';

/** A verified model key, ready to encrypt for. */
export interface AttestedModelKey {
  /** The attested model id. */
  model: string;
  /** The model's secp256k1 public key, 65-byte uncompressed. */
  publicKey: Bytes;
  /** The same key as 130 lowercase hex characters (the `X-Venice-TEE-Model-Pub-Key` value). */
  publicKeyHex: string;
  /** `0x` + 40 lowercase hex characters, derived from the key. */
  signingAddress: string;
  /** `tee_provider` when given. */
  teeProvider: string | undefined;
  /** Response layout. */
  shape: AttestationShape;
  /** Whether the TD reports debug mode (only true when `allowDebug`). */
  debug: boolean;
  /** REPORTDATA of the quote (64 bytes), checked against address ‖ zeros ‖ nonce. */
  reportData: Bytes;
  /** True when the quote chain was verified (`requireTdx`). */
  tdxVerified: boolean;
  /** TCB status when collateral was used. */
  tcbStatus: string | undefined;
  /** Result of the NVIDIA gate. */
  nvidia: NvidiaStatus;
  /** What the GPU evidence check established, when the gate verified it. */
  nvidiaEvidence:
    | {
        /** Number of GPUs verified. */
        gpus: number;
        /** `matched` when RIMs were given and every measurement matched, else `not-compared`. */
        measurements: 'matched' | 'not-compared';
        /** True when NVIDIA's pinned root anchored the chains (false for a test root). */
        nvidiaRoot: boolean;
      }
    | undefined;
  /** The nonce used, lowercase hex. */
  nonce: string;
  /** When the verification finished. */
  verifiedAt: Date;
}

function fail(code: VeniceE2eeErrorCode, message: string, cause?: unknown): never {
  throw new VeniceE2eeError(code, message, cause === undefined ? {} : { cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonceHex(nonce: Uint8Array | string): string {
  if (typeof nonce === 'string') {
    const bytes = hexToBytes(nonce, { length: 32 });
    return bytesToHex(bytes);
  }
  if (!isBytes(nonce) || nonce.length !== 32) throw new RangeError('nonce must be 32 bytes');
  return bytesToHex(nonce);
}

function decodeQuote(value: unknown, where: string): Bytes {
  if (typeof value !== 'string' || value.length === 0) {
    fail('ERR_ATTESTATION_INVALID_TDX_EVIDENCE', `${where} must be a non-empty hex string`);
  }
  const text = value.trim();
  try {
    return hexToBytes(text, { allowPrefix: true });
  } catch {
    try {
      return base64ToBytes(text);
    } catch (cause) {
      fail('ERR_ATTESTATION_INVALID_TDX_EVIDENCE', `${where} is neither hex nor base64`, cause);
    }
  }
}

function readKey(value: unknown, name: string): Bytes {
  if (typeof value !== 'string') fail('ERR_ATTESTATION_INVALID_SIGNING_KEY', `${name} must be a hex string`);
  try {
    return normalizeSecp256k1PublicKey(value);
  } catch (cause) {
    fail('ERR_ATTESTATION_INVALID_SIGNING_KEY', `${name} is not a valid secp256k1 public key`, cause);
  }
}

function readDebugFlag(report: Record<string, unknown>, key: string): boolean {
  const value = report[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') fail('ERR_ATTESTATION_MALFORMED_RESPONSE', `${key} must be a boolean`);
  return value;
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

/**
 * Verifies a Venice `/tee/attestation` response (Shape A flat, or Shape B ACI) for a nonce and model, and
 * returns the attested model key. Checks, in order: `verified`, `nonce`, `model`, the signing key (both key
 * fields must agree), `signing_address` = Keccak address of the key, root debug flags, presence and structure
 * of the TDX quote, `quote_report_data` = quote REPORTDATA, TD_ATTRIBUTES debug bit, REPORTDATA =
 * address(20) ‖ 12 zero bytes ‖ nonce(32), optional full quote verification (`requireTdx`), and the NVIDIA gate
 * (GPU evidence verified offline when `requireNvidia` is `when_present` or `required`).
 *
 * @throws VeniceE2eeError with one `ERR_ATTESTATION_*` code per failed check.
 * @example
 * ```ts
 * const key = await verifyAttestation(json, { model: 'e2ee-qwen3-6-27b', nonce });
 * encryptField('hi', key.publicKey);
 * ```
 */
export async function verifyAttestation(
  report: unknown,
  options: VerifyAttestationOptions,
): Promise<AttestedModelKey> {
  if (typeof options?.model !== 'string' || options.model.length === 0) {
    throw new TypeError('options.model must be a non-empty string');
  }
  const expectedNonce = nonceHex(options.nonce);
  const backend = options.tdxBackend ?? defaultTdxBackend;
  if (!isObject(report))
    fail('ERR_ATTESTATION_MALFORMED_RESPONSE', 'attestation response is not a JSON object');

  const attestation = isObject(report['attestation']) ? report['attestation'] : undefined;
  const evidence = attestation && isObject(attestation['evidence']) ? attestation['evidence'] : undefined;
  const shape: AttestationShape = attestation ? 'aci' : 'flat';

  if (report['verified'] === undefined)
    fail('ERR_ATTESTATION_MISSING_REQUIRED_FIELD', 'attestation response lacks "verified"');
  if (report['verified'] !== true)
    fail('ERR_ATTESTATION_UPSTREAM_NOT_VERIFIED', 'upstream reports verified != true');

  const nonce = report['nonce'];
  if (typeof nonce !== 'string' || nonce.toLowerCase() !== expectedNonce) {
    fail('ERR_ATTESTATION_NONCE_MISMATCH', 'attestation nonce does not match the nonce sent');
  }
  if (report['model'] !== options.model) {
    fail(
      'ERR_ATTESTATION_MODEL_MISMATCH',
      `attestation is for another model than ${JSON.stringify(options.model)}`,
    );
  }

  const publicKeyField = report['signing_public_key'];
  const keyField = report['signing_key'];
  if (publicKeyField === undefined && keyField === undefined) {
    fail(
      'ERR_ATTESTATION_MISSING_REQUIRED_FIELD',
      'attestation response lacks signing_public_key / signing_key',
    );
  }
  const fromPublicKey =
    publicKeyField === undefined ? undefined : readKey(publicKeyField, 'signing_public_key');
  const fromKey = keyField === undefined ? undefined : readKey(keyField, 'signing_key');
  if (fromPublicKey && fromKey && !equalBytes(fromPublicKey, fromKey)) {
    fail('ERR_ATTESTATION_INVALID_SIGNING_KEY', 'signing_public_key and signing_key denote different points');
  }
  const publicKey = (fromPublicKey ?? fromKey)!;
  const address = signingAddressBytes(publicKey);

  const addressField = report['signing_address'];
  if (addressField !== undefined && addressField !== null) {
    let claimed: Bytes | undefined;
    try {
      if (typeof addressField === 'string')
        claimed = hexToBytes(addressField.trim(), { allowPrefix: true, length: 20 });
    } catch {
      claimed = undefined;
    }
    if (!claimed || !equalBytes(claimed, address)) {
      fail(
        'ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH',
        'signing_address is not the address of the signing key',
      );
    }
  }

  const allowDebug = options.allowDebug === true;
  const rootDebug = readDebugFlag(report, 'debug') || readDebugFlag(report, 'tdx_debug');
  if (rootDebug && !allowDebug)
    fail('ERR_ATTESTATION_DEBUG_MODE_DETECTED', 'attestation reports a debug TEE');

  const evidenceQuote = evidence?.['quote'];
  const rootQuote = report['intel_quote'];
  if (!isPresent(evidenceQuote) && !isPresent(rootQuote)) {
    fail('ERR_ATTESTATION_MISSING_TDX_EVIDENCE', 'attestation response carries no TDX quote');
  }
  const quoteFromEvidence = isPresent(evidenceQuote)
    ? decodeQuote(evidenceQuote, 'attestation.evidence.quote')
    : undefined;
  const quoteFromRoot = isPresent(rootQuote) ? decodeQuote(rootQuote, 'intel_quote') : undefined;
  if (quoteFromEvidence && quoteFromRoot && !equalBytes(quoteFromEvidence, quoteFromRoot)) {
    fail('ERR_ATTESTATION_INVALID_TDX_EVIDENCE', 'intel_quote and attestation.evidence.quote differ');
  }
  const quote = (quoteFromEvidence ?? quoteFromRoot)!;

  let summary: ReturnType<TdxBackend['parse']>;
  try {
    summary = backend.parse(quote);
  } catch (cause) {
    fail('ERR_ATTESTATION_INVALID_TDX_EVIDENCE', 'TDX quote is malformed or unsupported', cause);
  }
  const reportData = toBytes(summary.reportData);

  const claimedReportData = evidence?.['quote_report_data'];
  if (claimedReportData !== undefined && claimedReportData !== null) {
    let claimed: Bytes | undefined;
    try {
      if (typeof claimedReportData === 'string')
        claimed = hexToBytes(claimedReportData.trim(), { allowPrefix: true });
    } catch {
      claimed = undefined;
    }
    if (!claimed || !equalBytes(claimed, reportData)) {
      fail(
        'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
        'quote_report_data differs from the REPORTDATA inside the quote',
      );
    }
  }

  if (summary.debug && !allowDebug) {
    fail('ERR_ATTESTATION_DEBUG_MODE_DETECTED', 'TDX quote has the TD_ATTRIBUTES debug bit set');
  }

  const expectedNonceBytes = hexToBytes(expectedNonce);
  if (reportData.length !== 64) fail('ERR_ATTESTATION_INVALID_TDX_EVIDENCE', 'REPORTDATA is not 64 bytes');
  if (!equalBytes(reportData.subarray(0, 20), address)) {
    fail('ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH', 'REPORTDATA does not bind the signing address');
  }
  if (reportData.subarray(20, 32).some((byte) => byte !== 0)) {
    fail('ERR_ATTESTATION_INVALID_TDX_EVIDENCE', 'REPORTDATA padding bytes 20..32 are not zero');
  }
  if (!equalBytes(reportData.subarray(32, 64), expectedNonceBytes)) {
    fail('ERR_ATTESTATION_NONCE_MISMATCH', 'REPORTDATA does not bind the nonce');
  }

  let tdxVerified = false;
  let tcbStatus: string | undefined;
  if (options.requireTdx === true) {
    try {
      const verified = await backend.verify(quote, {
        ...(options.tdxCollateral === undefined ? {} : { collateral: options.tdxCollateral }),
        ...(options.now ? { now: options.now() } : {}),
        ...(options.trustedRootCa ? { trustedRootCa: options.trustedRootCa } : {}),
        ...(allowDebug ? { allowDebug: true } : {}),
        expectedReportData: concatBytes(address, new Uint8Array(12), expectedNonceBytes),
      });
      tcbStatus = verified.tcbStatus;
      tdxVerified = true;
    } catch (cause) {
      if (VeniceE2eeError.isInstance(cause) && cause.code === 'ERR_ATTESTATION_VERIFIER_UNAVAILABLE')
        throw cause;
      fail('ERR_ATTESTATION_INVALID_TDX_EVIDENCE', 'TDX quote verification failed', cause);
    }
  }

  const nvidia = await nvidiaGate(report['nvidia_payload'], options.requireNvidia ?? 'never', {
    nonce: expectedNonce,
    ...(options.now ? { now: options.now() } : {}),
    ...(options.nvidiaRoot ? { root: options.nvidiaRoot } : {}),
    ...(options.nvidia ? { verification: options.nvidia } : {}),
  });

  const provider = report['tee_provider'];
  return {
    model: options.model,
    publicKey,
    publicKeyHex: bytesToHex(publicKey),
    signingAddress: `0x${bytesToHex(address)}`,
    teeProvider: typeof provider === 'string' ? provider : undefined,
    shape,
    debug: rootDebug || summary.debug,
    reportData,
    tdxVerified,
    tcbStatus,
    nvidia: nvidia.status,
    nvidiaEvidence:
      nvidia.verification === undefined
        ? undefined
        : {
            gpus: nvidia.verification.gpus.length,
            measurements: nvidia.verification.measurements,
            nvidiaRoot: nvidia.verification.trust.deviceRoot.nvidia,
          },
    nonce: expectedNonce,
    verifiedAt: new Date(),
  };
}

/** Options of {@link fetchAttestation} and {@link attestModel}. */
export interface FetchAttestationOptions {
  /** Venice API base, e.g. `https://api.venice.ai/api/v1`. */
  baseUrl: string;
  /** Venice API key (sent as `Authorization: Bearer`); optional for servers that do not need it. */
  apiKey?: string;
  /** The model id. */
  model: string;
  /**
   * Inner fetch; default `globalThis.fetch`, or on Node, when `HTTPS_PROXY` / `HTTP_PROXY` are set, undici's fetch
   * through that proxy (see {@link createEnvProxyFetch}; read at each call). A `fetch` given here is used as it is.
   */
  fetch?: typeof globalThis.fetch;
  /** Fixed 32-byte nonce (tests); default a fresh random nonce. */
  nonce?: Uint8Array;
  /** Abort signal. */
  signal?: AbortSignal;
  /** Whole-request timeout in milliseconds; default 30000. */
  timeoutMs?: number;
}

/** A fetched attestation response and the nonce it was requested with. */
export interface FetchedAttestation {
  /** Parsed JSON body. */
  report: unknown;
  /** The nonce sent, lowercase hex (64 characters). */
  nonce: string;
}

/** Joins a base URL and a relative path with exactly one `/`. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/**
 * Fetches `GET {base}/tee/attestation?model=<id>&nonce=<64 hex>` with a fresh 32-byte nonce.
 * @throws VeniceE2eeError `ERR_ATTESTATION_FETCH_FAILED` (network), `ERR_UPSTREAM_TIMEOUT`,
 *   `ERR_UPSTREAM_AUTHENTICATION_FAILED` (401/403), `ERR_UPSTREAM_STATUS` (other non-2xx),
 *   `ERR_ATTESTATION_MALFORMED_RESPONSE` (not JSON).
 */
export async function fetchAttestation(options: FetchAttestationOptions): Promise<FetchedAttestation> {
  const nonceBytes = options.nonce ?? globalThis.crypto.getRandomValues(new Uint8Array(32));
  if (!isBytes(nonceBytes) || nonceBytes.length !== 32)
    throw new RangeError('options.nonce must be 32 bytes');
  const nonce = bytesToHex(nonceBytes);
  const url = new URL(joinUrl(options.baseUrl, 'tee/attestation'));
  url.searchParams.set('model', options.model);
  url.searchParams.set('nonce', nonce);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.apiKey) headers['authorization'] = `Bearer ${options.apiKey}`;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const fetchFunction = options.fetch ?? createEnvProxyFetch();
  let response: Response;
  let text: string;
  try {
    response = await fetchFunction(url.toString(), { method: 'GET', headers, signal });
    text = await response.text();
  } catch (cause) {
    if (timeout.aborted) fail('ERR_UPSTREAM_TIMEOUT', 'attestation request timed out', cause);
    fail('ERR_ATTESTATION_FETCH_FAILED', 'attestation request failed', cause);
  }
  if (response.status === 401 || response.status === 403) {
    fail('ERR_UPSTREAM_AUTHENTICATION_FAILED', `Venice rejected the API key (status ${response.status})`);
  }
  if (!response.ok) {
    throw new VeniceE2eeError('ERR_UPSTREAM_STATUS', `Venice upstream returned status ${response.status}`, {
      details: { status: response.status },
    });
  }
  try {
    return { report: JSON.parse(text), nonce };
  } catch (cause) {
    fail('ERR_ATTESTATION_MALFORMED_RESPONSE', 'attestation response is not JSON', cause);
  }
}

/**
 * Fetches and verifies the attestation of a model with a fresh nonce.
 * @throws VeniceE2eeError from {@link fetchAttestation} or {@link verifyAttestation}.
 * @example
 * ```ts
 * const key = await attestModel({ baseUrl: 'https://api.venice.ai/api/v1', apiKey, model: 'e2ee-glm-5-1' });
 * ```
 */
export async function attestModel(
  options: FetchAttestationOptions & AttestationPolicy,
): Promise<AttestedModelKey> {
  const fetched = await fetchAttestation(options);
  return verifyAttestation(fetched.report, { ...options, nonce: fetched.nonce });
}
