import { type Bytes, bytesToHex, concatBytes, equalBytes, hexToBytes, isBytes } from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import {
  type DecodedCollateral,
  decodeCollateral,
  type TcbStatus,
  type TdxCollateralJson,
} from './collateral.js';
import { TdxAttestationError } from './errors.js';
import { INTEL_SGX_ROOT_CA_SHA256, intelSgxRootCaDer } from './intel-root.js';
import { pemCertificatesToDer } from './pem.js';
import { parseTdxQuote, type TdxQuote } from './quote.js';
import { type PckExtensions, readPckExtensions } from './sgx-extensions.js';
import { evaluateTcb, type TcbEvaluation } from './tcb.js';
import { checkTdPolicy } from './td-policy.js';
import {
  checkNotRevoked,
  type ParsedCertificate,
  type ParsedCrl,
  parseCrl,
  verifyCertificateChain,
  verifyCrl,
  verifyP256,
  verifyWithCertificate,
} from './x509.js';

/** Options of {@link verifyTdxQuote}. */
export interface VerifyTdxQuoteOptions {
  /**
   * DCAP collateral (object or JSON text, dcap-qvl / PCCS shape): TCB info, QE identity and CRLs are verified
   * and the TCB status is computed. Required unless `chainOnly` is true (`ERR_TDX_COLLATERAL_REQUIRED`).
   */
  collateral?: TdxCollateralJson | Record<string, unknown> | string;
  /**
   * Verify the signature chain only (quote and QE report signatures, attestation-key binding, PCK chain to
   * the root, TD attributes, REPORTDATA), without collateral: the TCB status stays unknown (`tcbStatus:
   * null`), so a platform with revoked or outdated firmware passes. Default false: without collateral the
   * verification fails with `ERR_TDX_COLLATERAL_REQUIRED`. Cannot be combined with `collateral`.
   */
  chainOnly?: boolean;
  /** Verification time for certificate, CRL and collateral validity. Default: the current time. */
  now?: Date | number | string;
  /**
   * Expected REPORTDATA: 64 bytes (whole field) or 32 bytes (first half only, e.g. the Chutes binding), as
   * bytes or hex. Mismatch fails with `ERR_TDX_REPORT_DATA_MISMATCH`.
   */
  expectedReportData?: Uint8Array | string;
  /** Trust anchor (DER bytes or PEM) replacing the pinned Intel SGX Root CA, e.g. a test root. */
  root?: Uint8Array | string;
  /** Accept a TD whose TD_ATTRIBUTES debug bit is set. Default false (`ERR_TDX_DEBUG`). */
  allowDebug?: boolean;
  /**
   * Accept a TD report 1.5 whose MR_SERVICETD is non-zero (a service TD is bound to the TD). Default false
   * (`ERR_TDX_SERVICE_TD`), as in dcap-qvl.
   */
  allowServiceTd?: boolean;
  /**
   * TCB statuses accepted when collateral is given. Default: every status except `Revoked` (which always
   * fails with `ERR_TDX_TCB_REVOKED`). A status outside the list fails with `ERR_TDX_TCB_STATUS`.
   */
  acceptedTcbStatuses?: readonly TcbStatus[];
}

/** Which checks passed. */
export interface TdxVerifiedChecks {
  /** The quote signature over header and TD report body verified with the attestation key. */
  quoteSignature: true;
  /** The QE report signature verified with the PCK leaf key. */
  qeReportSignature: true;
  /** QE report REPORTDATA = SHA-256(attestation key || QE auth data) || 32 zero bytes. */
  attestationKeyBinding: true;
  /** PCK chain verified to the trust anchor, valid at the verification time. */
  pckCertificateChain: true;
  /** True when the trust anchor is the pinned Intel SGX Root CA (false when `root` replaced it). */
  intelRoot: boolean;
  /** TCB info, QE identity and CRLs verified and TCB status computed. */
  collateral: boolean;
  /** REPORTDATA compared with `expectedReportData`. */
  reportData: boolean;
}

/** TD measurements, lowercase hex. */
export interface TdxMeasurements {
  /** MRTD. */
  mrTd: string;
  /** MRCONFIGID. */
  mrConfigId: string;
  /** MROWNER. */
  mrOwner: string;
  /** MROWNERCONFIG. */
  mrOwnerConfig: string;
  /** RTMR0. */
  rtmr0: string;
  /** RTMR1. */
  rtmr1: string;
  /** RTMR2. */
  rtmr2: string;
  /** RTMR3. */
  rtmr3: string;
  /** MRSEAM. */
  mrSeam: string;
  /** MRSIGNERSEAM. */
  mrSignerSeam: string;
  /** SEAM_ATTRIBUTES. */
  seamAttributes: string;
  /** XFAM. */
  xfam: string;
  /** TEE_TCB_SVN. */
  teeTcbSvn: string;
  /** TEE_TCB_SVN_2 (TD report 1.5 only). */
  teeTcbSvn2?: string;
  /** MR_SERVICETD (TD report 1.5 only). */
  mrServiceTd?: string;
}

/** The result of {@link verifyTdxQuote}: JSON-serialisable apart from `quote`. */
export interface TdxVerificationResult {
  /** Combined TCB status, or `null` for a signature-chain-only verification (`chainOnly`). */
  tcbStatus: TcbStatus | null;
  /** True when the caller asked for a signature-chain-only verification: the TCB status was not checked. */
  chainOnly: boolean;
  /** Quote format version (4 or 5). */
  quoteVersion: number;
  /** Body type: 2 (TD report 1.0) or 3 (TD report 1.5). */
  bodyType: number;
  /** Advisory ids of the combined status (empty without collateral). */
  advisoryIds: string[];
  /** Details of the TCB evaluation, when collateral was given. */
  tcb?: TcbEvaluation;
  /** REPORTDATA, lowercase hex (128 characters). */
  reportData: string;
  /** TD_ATTRIBUTES. */
  tdAttributes: {
    /** Raw 8 bytes, hex. */
    hex: string;
    /** DEBUG bit. */
    debug: boolean;
    /** SEPT_VE_DISABLE bit. */
    septVeDisable: boolean;
    /** PKS bit. */
    protectionKeys: boolean;
    /** KL bit. */
    keyLocker: boolean;
    /** PERFMON bit. */
    perfmon: boolean;
  };
  /** Measurements. */
  measurements: TdxMeasurements;
  /** PCK certificate facts. */
  pck: {
    /** FMSPC, hex. */
    fmspc: string;
    /** PCE-ID, hex. */
    pceId: string;
    /** PCESVN. */
    pceSvn: number;
    /** SGX TCB component SVNs. */
    sgxTcbComponents: number[];
  };
  /** QE report facts. */
  qe: {
    /** MRSIGNER, hex. */
    mrSigner: string;
    /** ISVPRODID. */
    isvProdId: number;
    /** ISVSVN. */
    isvSvn: number;
  };
  /** What was verified. */
  verified: TdxVerifiedChecks;
  /** Verification time, ISO 8601. */
  verifiedAt: string;
  /** The parsed quote. */
  quote: TdxQuote;
}

function resolveNow(now: VerifyTdxQuoteOptions['now']): Date {
  if (now === undefined) return new Date();
  const value = now instanceof Date ? new Date(now.getTime()) : new Date(now);
  if (Number.isNaN(value.getTime())) throw new RangeError('options.now is not a valid time');
  return value;
}

function resolveRoot(root: VerifyTdxQuoteOptions['root']): { der: Bytes; intel: boolean } {
  if (root === undefined) {
    const der = intelSgxRootCaDer();
    if (bytesToHex(sha256(der)) !== INTEL_SGX_ROOT_CA_SHA256) {
      throw new TdxAttestationError(
        'ERR_TDX_CERT_CHAIN',
        'built-in Intel SGX Root CA does not match its pinned fingerprint',
      );
    }
    return { der, intel: true };
  }
  let der: Bytes;
  if (typeof root === 'string') {
    const list = pemCertificatesToDer(root);
    if (list === undefined || list.length !== 1)
      throw new TypeError('options.root must be one PEM certificate or DER bytes');
    der = list[0]!;
  } else if (isBytes(root)) {
    der = new Uint8Array(root);
  } else {
    throw new TypeError('options.root must be one PEM certificate or DER bytes');
  }
  return { der, intel: bytesToHex(sha256(der)) === INTEL_SGX_ROOT_CA_SHA256 };
}

function resolveExpected(expected: VerifyTdxQuoteOptions['expectedReportData']): Bytes | undefined {
  if (expected === undefined) return undefined;
  let bytes: Bytes;
  if (typeof expected === 'string') {
    try {
      bytes = hexToBytes(expected, { allowPrefix: true });
    } catch (cause) {
      throw new TypeError('options.expectedReportData is not hex', { cause });
    }
  } else if (isBytes(expected)) {
    bytes = new Uint8Array(expected);
  } else {
    throw new TypeError('options.expectedReportData must be bytes or hex');
  }
  if (bytes.length !== 64 && bytes.length !== 32) {
    throw new RangeError(`options.expectedReportData must be 64 or 32 bytes, got ${bytes.length}`);
  }
  return bytes;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Turns a promise into one that never rejects, so that several checks can run before any is judged. */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function unwrap<T>(result: Settled<T>): T {
  if (result.ok) return result.value;
  throw result.error;
}

/** Verifies the collateral's signatures, issuer chains, CRLs and dates, and that no PCK chain certificate is revoked. */
async function verifyCollateral(
  collateral: DecodedCollateral,
  pckChain: readonly ParsedCertificate[],
  root: Bytes,
  now: Date,
  verified: Map<string, Promise<boolean>>,
): Promise<void> {
  const expired = (what: string, issueDate: Date, nextUpdate: Date) => {
    if (now < issueDate || now > nextUpdate) {
      throw new TdxAttestationError(
        'ERR_TDX_COLLATERAL_EXPIRED',
        `${what} is not current at ${now.toISOString()} (issued ${issueDate.toISOString()}, next update ${nextUpdate.toISOString()})`,
      );
    }
  };
  // The three issuer chains are checked concurrently; failures are still reported in a fixed order.
  const chain = (der: Bytes[], what: string) =>
    settle(verifyCertificateChain(der, { root, now, what, verified }));
  const crlChainResult = chain(collateral.pckCrlIssuerChain, 'PCK CRL issuer chain');
  const tcbChainResult = chain(collateral.tcbInfoIssuerChain, 'TCB info issuer chain');
  const qeChainResult = chain(collateral.qeIdentityIssuerChain, 'QE identity issuer chain');
  // CRLs: the root CA CRL is signed by the root, the PCK CRL by the PCK CA of its issuer chain.
  const crlChain = unwrap(await crlChainResult);
  const rootCertificate = crlChain[crlChain.length - 1]!;
  const rootCrl: ParsedCrl = parseCrl(collateral.rootCaCrl, 'root CA CRL');
  await verifyCrl(rootCrl, rootCertificate, now, 'root CA CRL');
  const pckCrl: ParsedCrl = parseCrl(collateral.pckCrl, 'PCK CRL');
  // The PCK CRL must come from the CA that issued the PCK leaf, or the leaf's revocation would go unchecked.
  if (!equalBytes(pckCrl.issuer, pckChain[0]!.issuer)) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_MISMATCH',
      'PCK CRL is not issued by the CA of the PCK certificate',
    );
  }
  await verifyCrl(pckCrl, crlChain[0]!, now, 'PCK CRL');
  const crls = [rootCrl, pckCrl];
  checkNotRevoked(crlChain, crls, 'PCK CRL issuer chain');

  const tcbChain = unwrap(await tcbChainResult);
  checkNotRevoked(tcbChain, crls, 'TCB info issuer chain');
  if (!(await verifyWithCertificate(tcbChain[0]!, collateral.tcbInfoSignature, collateral.tcbInfoBytes))) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_SIGNATURE',
      'TCB info signature does not verify with its signing certificate',
    );
  }
  expired('TCB info', collateral.tcbInfo.issueDate, collateral.tcbInfo.nextUpdate);

  const qeChain = unwrap(await qeChainResult);
  checkNotRevoked(qeChain, crls, 'QE identity issuer chain');
  if (
    !(await verifyWithCertificate(qeChain[0]!, collateral.qeIdentitySignature, collateral.qeIdentityBytes))
  ) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_SIGNATURE',
      'QE identity signature does not verify with its signing certificate',
    );
  }
  expired('QE identity', collateral.qeIdentity.issueDate, collateral.qeIdentity.nextUpdate);

  checkNotRevoked(pckChain, crls, 'PCK certificate chain');
}

/**
 * Verifies a TDX quote (version 4, or version 5 with a TD report 1.0 or 1.5 body) offline: the quote signature
 * with the attestation key, the QE report signature with the PCK leaf key, the attestation-key binding in the
 * QE report, the PCK certificate chain to the pinned Intel SGX Root CA at `now`, and with `collateral` TCB info
 * and QE identity (signatures, issuer chains, validity), the root CA and PCK CRLs (signatures, validity,
 * revocation of every chain certificate), FMSPC / PCE-ID, and the TCB status (platform level, TDX module
 * identity, QE identity) with the verdict of Phala's dcap-qvl. Then the TD attributes (debug, reserved bits,
 * SEPT_VE_DISABLE, MR_SERVICETD) and, optionally, REPORTDATA. No network access.
 *
 * Without collateral the TCB status is unknown and the verification fails (`ERR_TDX_COLLATERAL_REQUIRED`,
 * after the signature chain was checked) unless `chainOnly: true` asks for a signature-chain-only verdict.
 *
 * @param quote the quote bytes (binary)
 * @param options collateral (or `chainOnly`), verification time, expected REPORTDATA, trust anchor, policy
 * @returns what was verified, the TCB status, REPORTDATA, TD attributes and measurements
 * @throws TypeError / RangeError for bad arguments
 * @throws TdxAttestationError with a stable `code` for every verification failure
 * @example Imported from the package root:
 * ```ts
 * const result = await verifyTdxQuote(quoteBytes, { collateral, now: new Date('2025-07-01T00:00:00Z') });
 * console.log(result.tcbStatus, result.reportData);
 * ```
 */
export async function verifyTdxQuote(
  quote: Uint8Array,
  options: VerifyTdxQuoteOptions = {},
): Promise<TdxVerificationResult> {
  const now = resolveNow(options.now);
  const root = resolveRoot(options.root);
  const expected = resolveExpected(options.expectedReportData);
  if (options.acceptedTcbStatuses !== undefined && !Array.isArray(options.acceptedTcbStatuses)) {
    throw new TypeError('options.acceptedTcbStatuses must be an array');
  }
  if (options.chainOnly !== undefined && typeof options.chainOnly !== 'boolean') {
    throw new TypeError('options.chainOnly must be a boolean');
  }
  const chainOnly = options.chainOnly === true;
  if (chainOnly && options.collateral !== undefined) {
    throw new TypeError('options.chainOnly and options.collateral exclude each other');
  }
  const parsed = parseTdxQuote(quote);
  const collateral = options.collateral === undefined ? undefined : decodeCollateral(options.collateral);

  // (a) quote signature and (d) PCK chain run concurrently; failures are reported in this order.
  const quoteSignature = verifyP256(parsed.attestationKey, parsed.signature, parsed.signedData);
  const verified = new Map<string, Promise<boolean>>();
  const pckChainResult = settle(
    verifyCertificateChain(parsed.pckCertChain, {
      root: root.der,
      now,
      what: 'PCK certificate chain',
      verified,
    }),
  );
  if (!(await quoteSignature)) {
    throw new TdxAttestationError(
      'ERR_TDX_QUOTE_SIGNATURE',
      'quote signature does not verify with the attestation key',
    );
  }
  const pckChain = unwrap(await pckChainResult);
  const pckLeaf = pckChain[0]!;
  // (b) QE report signature by the PCK leaf.
  if (!(await verifyWithCertificate(pckLeaf, parsed.qeReportSignature, parsed.qeReport.raw))) {
    throw new TdxAttestationError(
      'ERR_TDX_QE_REPORT_SIGNATURE',
      'QE report signature does not verify with the PCK certificate',
    );
  }
  // (c) attestation key binding.
  const binding = concatBytes(
    sha256(concatBytes(parsed.attestationKey, parsed.qeAuthData)),
    new Uint8Array(32),
  );
  if (!equalBytes(binding, parsed.qeReport.reportData)) {
    throw new TdxAttestationError(
      'ERR_TDX_ATTESTATION_KEY_BINDING',
      'QE report data is not SHA-256(attestation key || QE auth data) || 32 zero bytes',
    );
  }
  if ((parsed.qeReport.attributes[0]! & 0x02) !== 0) {
    throw new TdxAttestationError('ERR_TDX_DEBUG', 'the quoting enclave runs in debug mode');
  }
  const pck: PckExtensions = readPckExtensions(pckLeaf);

  let tcb: TcbEvaluation | undefined;
  if (collateral !== undefined) {
    await verifyCollateral(collateral, pckChain, root.der, now, verified);
    tcb = evaluateTcb(collateral.tcbInfo, collateral.qeIdentity, pck, parsed.body, parsed.qeReport);
    if (tcb.status === 'Revoked') {
      throw new TdxAttestationError(
        'ERR_TDX_TCB_REVOKED',
        'the TCB level of the platform, TDX module or QE is revoked',
      );
    }
    if (options.acceptedTcbStatuses !== undefined && !options.acceptedTcbStatuses.includes(tcb.status)) {
      throw new TdxAttestationError('ERR_TDX_TCB_STATUS', `TCB status ${tcb.status} is not accepted`);
    }
  } else if (!chainOnly) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_REQUIRED',
      'no collateral: the signature chain verifies but the TCB status is unknown (pass collateral, or chainOnly: true / --chain-only for a signature-chain-only verification)',
    );
  }

  const attributes = parsed.body.tdAttributes;
  checkTdPolicy(parsed.body, {
    ...(options.allowDebug === undefined ? {} : { allowDebug: options.allowDebug }),
    ...(options.allowServiceTd === undefined ? {} : { allowServiceTd: options.allowServiceTd }),
  });
  if (expected !== undefined && !equalBytes(parsed.body.reportData.subarray(0, expected.length), expected)) {
    throw new TdxAttestationError(
      'ERR_TDX_REPORT_DATA_MISMATCH',
      expected.length === 32
        ? 'REPORTDATA[0:32] differs from the expected value'
        : 'REPORTDATA differs from the expected value',
    );
  }

  const body = parsed.body;
  const result: TdxVerificationResult = {
    tcbStatus: tcb?.status ?? null,
    chainOnly,
    quoteVersion: parsed.header.version,
    bodyType: parsed.bodyType,
    advisoryIds: tcb?.advisoryIds ?? [],
    reportData: bytesToHex(body.reportData),
    tdAttributes: {
      hex: bytesToHex(attributes.raw),
      debug: attributes.debug,
      septVeDisable: attributes.septVeDisable,
      protectionKeys: attributes.protectionKeys,
      keyLocker: attributes.keyLocker,
      perfmon: attributes.perfmon,
    },
    measurements: {
      mrTd: bytesToHex(body.mrTd),
      mrConfigId: bytesToHex(body.mrConfigId),
      mrOwner: bytesToHex(body.mrOwner),
      mrOwnerConfig: bytesToHex(body.mrOwnerConfig),
      rtmr0: bytesToHex(body.rtmrs[0]),
      rtmr1: bytesToHex(body.rtmrs[1]),
      rtmr2: bytesToHex(body.rtmrs[2]),
      rtmr3: bytesToHex(body.rtmrs[3]),
      mrSeam: bytesToHex(body.mrSeam),
      mrSignerSeam: bytesToHex(body.mrSignerSeam),
      seamAttributes: bytesToHex(body.seamAttributes),
      xfam: bytesToHex(body.xfam),
      teeTcbSvn: bytesToHex(body.teeTcbSvn),
      ...(body.teeTcbSvn2 === undefined ? {} : { teeTcbSvn2: bytesToHex(body.teeTcbSvn2) }),
      ...(body.mrServiceTd === undefined ? {} : { mrServiceTd: bytesToHex(body.mrServiceTd) }),
    },
    pck: {
      fmspc: bytesToHex(pck.fmspc),
      pceId: bytesToHex(pck.pceId),
      pceSvn: pck.pceSvn,
      sgxTcbComponents: pck.sgxTcbComponents,
    },
    qe: {
      mrSigner: bytesToHex(parsed.qeReport.mrSigner),
      isvProdId: parsed.qeReport.isvProdId,
      isvSvn: parsed.qeReport.isvSvn,
    },
    verified: {
      quoteSignature: true,
      qeReportSignature: true,
      attestationKeyBinding: true,
      pckCertificateChain: true,
      intelRoot: root.intel,
      collateral: tcb !== undefined,
      reportData: expected !== undefined,
    },
    verifiedAt: now.toISOString(),
    quote: parsed,
  };
  if (tcb !== undefined) result.tcb = tcb;
  return result;
}
