import { type Bytes, bytesToHex, equalBytes } from '@confidential-ai/bytes';
import type { CertificateInfo } from './certificate.js';
import { type SignatureMemo, type TrustAnchor, verifyCertificateChain } from './chain.js';
import { type EcdsaBackend, verifyP384 } from './ecdsa.js';
import { NvidiaAttestationError, type NvidiaAttestationErrorCode } from './errors.js';
import { type GpuEvidenceInput, type GpuEvidenceItem, parseGpuEvidence } from './evidence.js';
import { compareMeasurements } from './measurements.js';
import {
  type CertificateRevocationStatus,
  checkRevocation,
  parseRevocationCollateral,
  type RevocationContext,
} from './revocation.js';
import { type ReferenceIntegrityManifest, type RimInput, verifyRim } from './rim.js';
import { type GpuAttestationReport, parseGpuAttestationReport } from './spdm.js';
import { resolveAnchor, resolveNonce, resolveTime, summarizeAnchor } from './trust.js';
import type {
  GpuEvidenceVerification,
  GpuReportVerification,
  VerifiedCertificate,
} from './verification-result.js';

/** GPU architectures whose evidence this package verifies. */
export const SUPPORTED_ARCHITECTURES: readonly string[] = ['HOPPER'];

/** Options of {@link verifyGpuEvidence}. */
export interface VerifyGpuEvidenceOptions {
  /**
   * The nonce every report must be bound to (32 bytes or 64 hex characters): the SPDM request nonce of each GPU,
   * and the container's nonce claims when present. `null` skips the binding explicitly (the result says so).
   */
  nonce: Uint8Array | string | null;
  /** Verification time for certificate, RIM and revocation validity. Default: now. */
  at?: Date | number | string;
  /** Device trust anchor (DER or PEM) replacing the pinned NVIDIA Device Identity CA, e.g. a test root. */
  root?: Uint8Array | string;
  /** RIM trust anchor (DER or PEM) replacing the pinned NVIDIA CoRIM signing Root CA. */
  rimRoot?: Uint8Array | string;
  /**
   * Driver and VBIOS RIMs (signed SWID XML) as collateral. Each GPU takes the RIM whose version equals its
   * driver version and the one whose version equals its VBIOS version. Without RIMs the measurements are not
   * compared and the result says so; with RIMs every GPU must find both.
   */
  rims?: readonly RimInput[];
  /** OCSP responses (DER, PEM or base64) as collateral; never fetched. */
  ocsp?: readonly (Uint8Array | string)[];
  /** CRLs (DER or PEM) as collateral; never fetched. */
  crls?: readonly (Uint8Array | string)[];
  /** Fail (`ERR_NVIDIA_POLICY`) unless the measurements were compared with RIMs. Default false. */
  requireMeasurements?: boolean;
  /**
   * Fail (`ERR_NVIDIA_REVOCATION_MISSING`) unless current OCSP responses or CRLs cover every certificate of the
   * device chains (their per-boot leaf excepted, as NVIDIA's verifier does) and of the RIM chains. Default false.
   */
  requireRevocation?: boolean;
  /** Accept certificates revoked with reason certificateHold. Default false. */
  allowCertificateHold?: boolean;
  /** Fail (`ERR_NVIDIA_POLICY`) unless the evidence holds exactly this many GPUs. */
  expectedGpuCount?: number;
  /** ECDSA implementation (tests): `auto` (default) uses `node:crypto` when present, else WebCrypto. */
  ecdsa?: EcdsaBackend;
  /**
   * Reuse certificate signatures this process verified before (a bounded set of positive results, keyed by both
   * certificates' SHA-256): repeated attestations of the same GPUs skip re-checking their unchanged chains. Names,
   * constraints, validity and every report and RIM signature are checked each time. Default true.
   */
  reuseCertificateChecks?: boolean;
}

interface Context {
  readonly at: Date;
  readonly nonce: Bytes | null;
  readonly device: TrustAnchor;
  readonly memo: SignatureMemo;
  readonly revocation: RevocationContext;
  readonly options: VerifyGpuEvidenceOptions;
}

function fail(code: NvidiaAttestationErrorCode, message: string, gpuIndex?: number): never {
  throw new NvidiaAttestationError(code, message, gpuIndex === undefined ? {} : { gpuIndex });
}

function describe(chain: readonly CertificateInfo[]): VerifiedCertificate[] {
  return chain.map((certificate) => ({
    subject: certificate.subject,
    serialNumber: certificate.serialNumber,
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    sha256: certificate.fingerprint,
  }));
}

function sameVersion(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** The reference values of a RIM as one string, to tell a repeated RIM from a conflicting one. */
function referenceValues(rim: ReferenceIntegrityManifest): string {
  return rim.measurements
    .map(
      (entry) =>
        `${entry.index}:${entry.active}:${entry.size}:${entry.alternatives.map((value) => bytesToHex(value)).join('/')}`,
    )
    .join(',');
}

interface CheckedGpu {
  readonly item: GpuEvidenceItem;
  readonly report: GpuAttestationReport;
  readonly chain: CertificateInfo[];
  readonly revocation: CertificateRevocationStatus[];
}

async function verifyGpu(item: GpuEvidenceItem, context: Context): Promise<CheckedGpu> {
  const gpu = item.index;
  const what = `GPU ${gpu}`;
  const backend = context.options.ecdsa;
  if (!SUPPORTED_ARCHITECTURES.includes(item.arch)) {
    fail('ERR_NVIDIA_EVIDENCE_UNSUPPORTED', `${what}: architecture ${item.arch} is not supported`, gpu);
  }
  let report: GpuAttestationReport;
  try {
    report = parseGpuAttestationReport(item.report);
  } catch (cause) {
    if (NvidiaAttestationError.isInstance(cause)) {
      throw new NvidiaAttestationError(cause.code, `${what}: ${cause.message}`, { cause, gpuIndex: gpu });
    }
    throw cause;
  }
  const claims = item.claims;
  if (claims.driverVersion !== undefined && claims.driverVersion !== report.opaque.driverVersion) {
    fail('ERR_NVIDIA_EVIDENCE_MALFORMED', `${what}: driver_version contradicts the signed report`, gpu);
  }
  if (claims.vbiosVersion !== undefined && !sameVersion(claims.vbiosVersion, report.opaque.vbiosVersion)) {
    fail('ERR_NVIDIA_EVIDENCE_MALFORMED', `${what}: vbios_version contradicts the signed report`, gpu);
  }
  if (claims.nonce !== undefined && claims.nonce.toLowerCase() !== bytesToHex(report.request.nonce)) {
    fail('ERR_NVIDIA_NONCE_MISMATCH', `${what}: the entry's nonce is not the nonce of its report`, gpu);
  }
  if (context.nonce !== null && !equalBytes(report.request.nonce, context.nonce)) {
    fail('ERR_NVIDIA_NONCE_MISMATCH', `${what}: the report is bound to another nonce`, gpu);
  }
  const chain = await verifyCertificateChain(item.certificateChain, {
    anchor: context.device,
    at: context.at,
    what: `${what} certificate chain`,
    code: 'ERR_NVIDIA_CERT_CHAIN',
    memo: context.memo,
    gpuIndex: gpu,
    reuse: context.options.reuseCertificateChecks !== false,
    ...(backend === undefined ? {} : { backend }),
  });
  const leaf = chain[0]!;
  if (
    report.opaque.fwid !== undefined &&
    (leaf.fwid === undefined || !equalBytes(leaf.fwid, report.opaque.fwid))
  ) {
    fail(
      'ERR_NVIDIA_FWID_MISMATCH',
      `${what}: the report's FWID differs from the attestation certificate's`,
      gpu,
    );
  }
  if (!(await verifyP384(leaf.spki, report.response.signature, report.signedData, backend))) {
    fail(
      'ERR_NVIDIA_REPORT_SIGNATURE',
      `${what}: the report signature does not verify with "${leaf.label}"`,
      gpu,
    );
  }
  const revocation = await checkRevocation(chain, context.revocation, {
    at: context.at,
    what: `${what} certificate chain`,
    requireFrom: 1,
    require: context.options.requireRevocation === true,
    allowCertificateHold: context.options.allowCertificateHold === true,
    memo: context.memo,
    gpuIndex: gpu,
    ...(backend === undefined ? {} : { backend }),
  });
  return { item, report, chain, revocation };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs checks concurrently and reports the first failure in list order, so errors are deterministic. */
async function inOrder<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.all(
    promises.map((promise) =>
      promise.then(
        (value): Settled<T> => ({ ok: true, value }),
        (error: unknown): Settled<T> => ({ ok: false, error }),
      ),
    ),
  );
  return settled.map((result) => {
    if (!result.ok) throw result.error;
    return result.value;
  });
}

async function verifyRims(
  inputs: readonly RimInput[],
  context: Context,
  anchor: TrustAnchor,
): Promise<Array<{ rim: ReferenceIntegrityManifest; revocation: CertificateRevocationStatus[] }>> {
  const backend = context.options.ecdsa;
  return inOrder(
    inputs.map(async (input, index) => {
      const rim = await verifyRim(input, {
        anchor,
        at: context.at,
        what: `RIM ${index}`,
        memo: context.memo,
        reuse: context.options.reuseCertificateChecks !== false,
        ...(backend === undefined ? {} : { backend }),
      });
      const revocation = await checkRevocation(rim.signerChain, context.revocation, {
        at: context.at,
        what: `RIM ${index} signer chain`,
        requireFrom: 0,
        require: context.options.requireRevocation === true,
        allowCertificateHold: context.options.allowCertificateHold === true,
        memo: context.memo,
        ...(backend === undefined ? {} : { backend }),
      });
      return { rim, revocation };
    }),
  );
}

function checkOptions(options: VerifyGpuEvidenceOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.rims !== undefined && !Array.isArray(options.rims))
    throw new TypeError('options.rims must be an array');
  const count = options.expectedGpuCount;
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 1)) {
    throw new RangeError('options.expectedGpuCount must be a positive integer');
  }
}

/**
 * Verifies NVIDIA GPU evidence offline. For every GPU: the SPDM 1.1 GET_MEASUREMENTS report is parsed; its
 * request nonce must be `options.nonce` (and so must any nonce the container claims); the certificate chain must
 * verify to the pinned NVIDIA Device Identity CA (or `options.root`) at `options.at`; the report's FWID must be the
 * attestation certificate's; the ECDSA P-384 signature over request ‖ response-without-signature must verify with
 * the attestation key. With RIMs, each RIM's XML signature and signer chain are verified to the NVIDIA RIM root
 * (or `options.rimRoot`) and every active reference value is compared; without, the result says the
 * measurements were not compared. OCSP responses and CRLs given as collateral are checked; nothing is fetched.
 *
 * @param evidence an `nvidia_payload` (object or JSON text), an SDK evidence list, or one raw report with its chain
 * @param options nonce, time, trust anchors, collateral and policy
 * @returns per-GPU facts, and which checks and anchors the verdict rests on
 * @throws TypeError / RangeError for bad arguments
 * @throws NvidiaAttestationError with a stable `code` for every verification failure
 * @example
 * ```ts
 * const result = await verifyGpuEvidence(attestation.nvidia_payload, { nonce, rims: [driverRim, vbiosRim] });
 * console.log(result.gpus.length, result.measurements); // 8 'matched'
 * ```
 */
export async function verifyGpuEvidence(
  evidence: GpuEvidenceInput,
  options: VerifyGpuEvidenceOptions,
): Promise<GpuEvidenceVerification> {
  checkOptions(options);
  const nonce = resolveNonce(options.nonce, 'options.nonce');
  const context: Context = {
    at: resolveTime(options.at, 'options.at'),
    nonce,
    device: resolveAnchor(options.root, 'device', 'options.root'),
    memo: new Map(),
    revocation: parseRevocationCollateral({
      ...(options.ocsp === undefined ? {} : { ocsp: options.ocsp }),
      ...(options.crls === undefined ? {} : { crls: options.crls }),
    }),
    options,
  };
  const rimInputs = options.rims ?? [];
  const rimAnchor =
    rimInputs.length > 0 || options.rimRoot !== undefined
      ? resolveAnchor(options.rimRoot, 'rim', 'options.rimRoot')
      : undefined;

  const set = parseGpuEvidence(evidence);
  if (set.nonce !== undefined && nonce !== null && set.nonce !== bytesToHex(nonce)) {
    fail('ERR_NVIDIA_NONCE_MISMATCH', 'nvidia_payload.nonce is not the expected nonce');
  }
  const checked = await inOrder(set.gpus.map((item) => verifyGpu(item, context)));
  const seen = new Map<string, number>();
  for (const gpu of checked) {
    const key = gpu.chain[0]!.fingerprint;
    const previous = seen.get(key);
    if (previous !== undefined)
      fail(
        'ERR_NVIDIA_POLICY',
        `GPU ${gpu.item.index} repeats the evidence of GPU ${previous}`,
        gpu.item.index,
      );
    seen.set(key, gpu.item.index);
  }
  if (options.expectedGpuCount !== undefined && checked.length !== options.expectedGpuCount) {
    fail(
      'ERR_NVIDIA_POLICY',
      `the evidence holds ${checked.length} GPUs, expected ${options.expectedGpuCount}`,
    );
  }

  const rims =
    rimAnchor === undefined || rimInputs.length === 0 ? [] : await verifyRims(rimInputs, context, rimAnchor);
  const byVersion = new Map<string, { rim: ReferenceIntegrityManifest; index: number; values: string }>();
  for (const [index, { rim }] of rims.entries()) {
    const key = rim.version.toLowerCase();
    const values = referenceValues(rim);
    const other = byVersion.get(key);
    // The same RIM given twice is harmless; two RIMs with different reference values for one version are not.
    if (other !== undefined && other.values !== values) {
      fail(
        'ERR_NVIDIA_RIM_CONFLICT',
        `RIMs ${other.index} and ${index} give different reference values for version ${rim.version}`,
      );
    }
    byVersion.set(key, { rim, index, values });
  }
  const gpus: GpuReportVerification[] = checked.map(({ item, report, chain, revocation }) => {
    const opaque = report.opaque;
    let measurements: GpuReportVerification['measurements'] = {
      status: 'not-compared',
      compared: 0,
      driverRim: null,
      vbiosRim: null,
    };
    if (rims.length > 0) {
      const driver =
        opaque.driverVersion === undefined ? undefined : byVersion.get(opaque.driverVersion.toLowerCase());
      const vbios =
        opaque.vbiosVersion === undefined ? undefined : byVersion.get(opaque.vbiosVersion.toLowerCase());
      if (driver === undefined) {
        fail(
          'ERR_NVIDIA_RIM_MISSING',
          `GPU ${item.index}: no RIM for driver version ${opaque.driverVersion ?? '(none)'}`,
          item.index,
        );
      }
      if (vbios === undefined) {
        fail(
          'ERR_NVIDIA_RIM_MISSING',
          `GPU ${item.index}: no RIM for VBIOS version ${opaque.vbiosVersion ?? '(none)'}`,
          item.index,
        );
      }
      const comparison = compareMeasurements(report, driver.rim, vbios.rim, item.index);
      measurements = {
        status: 'matched',
        compared: comparison.compared,
        driverRim: driver.rim.version,
        vbiosRim: vbios.rim.version,
      };
    }
    return {
      index: item.index,
      arch: item.arch,
      hwmodel: chain[1]?.label ?? '',
      ueid: chain[0]!.serialNumber,
      driverVersion: opaque.driverVersion ?? null,
      vbiosVersion: opaque.vbiosVersion ?? null,
      board: {
        project: opaque.project ?? null,
        projectSku: opaque.projectSku ?? null,
        chipSku: opaque.chipSku ?? null,
      },
      fwid: opaque.fwid === undefined ? null : bytesToHex(opaque.fwid),
      state: {
        nvdec0Status: opaque.nvdec0Status ?? null,
        protectedPcieStatus: opaque.protectedPcieStatus ?? null,
        featureFlag: opaque.featureFlag ?? null,
      },
      measurements,
      runtimeMeasurements: Object.fromEntries(
        report.response.blocks.map((block) => [block.index, bytesToHex(block.value)]),
      ),
      certificateChain: describe(chain),
      revocation,
      report,
    };
  });
  if (options.requireMeasurements === true && rims.length === 0) {
    fail('ERR_NVIDIA_POLICY', 'measurements must be compared but no RIMs were given');
  }
  const statuses = [
    ...gpus.flatMap((gpu) => gpu.revocation.slice(1)),
    ...rims.flatMap((entry) => entry.revocation),
  ];
  const covered = statuses.filter((status) => status.status !== 'not-checked').length;
  return {
    format: set.format,
    nonce: nonce === null ? null : bytesToHex(nonce),
    gpus,
    measurements: rims.length > 0 ? 'matched' : 'not-compared',
    revocation: covered === 0 ? 'not-checked' : covered === statuses.length ? 'complete' : 'partial',
    rims: rims.map(({ rim, revocation }, index) => ({
      index,
      version: rim.version,
      tagId: rim.tagId,
      signer: rim.signerChain[0]!.subject,
      certificateChain: describe(rim.signerChain),
      revocation,
    })),
    trust: {
      deviceRoot: summarizeAnchor(context.device),
      rimRoot: rimAnchor === undefined || rims.length === 0 ? null : summarizeAnchor(rimAnchor),
    },
    verifiedAt: context.at.toISOString(),
  };
}
