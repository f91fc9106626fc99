import type { RimInput } from '@confidential-ai/nvidia-attestation';
import type { TdxCollateralJson } from '@confidential-ai/tdx-attestation';
import type { GpuEvidenceVerifier } from './gpu.js';
import { createNvidiaGpuVerifier } from './nvidia.js';

/** Expected TDX measurements (lowercase or uppercase hex, 48 bytes each); only the given ones are compared. */
export interface TdxMeasurementPolicy {
  /** MRTD (the initial TD image). */
  mrTd?: string;
  /** MRCONFIGID (dstack: `01` ‖ SHA-256 of the app compose, zero padded). */
  mrConfigId?: string;
  /** RTMR0. */
  rtmr0?: string;
  /** RTMR1. */
  rtmr1?: string;
  /** RTMR2. */
  rtmr2?: string;
  /** RTMR3. */
  rtmr3?: string;
}

/** Expected Nitro PCRs: index → hex (48 bytes for SHA-384), e.g. from {@link parseNitroMeasurements}. */
export type NitroPcrPolicy = Readonly<Record<number, string>>;

/** What the TDX checks know about the quote when they ask for collateral. */
export interface TdxCollateralRequest {
  /** FMSPC of the PCK certificate, lowercase hex. */
  fmspc: string;
  /** The SHA-256 fingerprint of the root the quote chains to, lowercase hex. */
  rootSha256: string;
}

/** DCAP collateral: a document, a list tried in order (one per FMSPC), or a function that fetches it. */
export type TdxCollateralSource =
  | TdxCollateralJson
  | readonly TdxCollateralJson[]
  | ((request: TdxCollateralRequest) => Promise<TdxCollateralJson | undefined>);

/**
 * Verification policy. Every field is explicit and the defaults are strict: real vendor roots only, no debug
 * TEEs, TCB status `UpToDate` from collateral, measurements compared with expected values. Relax a rule only by
 * naming it (`measurements: 'any'`, `requireTcbStatus: false`, `acceptSimulated: true`).
 */
export interface VerificationPolicy {
  /**
   * Accept simulated evidence (a server outside a TEE that says so) and evidence that verifies only against a
   * TEST root; such steps are reported as `simulated`, never `passed`. For demos. Default false.
   */
  acceptSimulated?: boolean;
  /**
   * TEST roots (DER bytes or PEM) whose TDX quotes, Nitro documents and GPU evidence are reported as "verified
   * against the TEST root" (`simulated`, and only with `acceptSimulated`). With none given and `acceptSimulated`, a
   * TDX quote's own embedded root (or the root at the end of the GPU evidence's chain) is used and named instead.
   * `nvidiaRim` is a TEST root for the RIMs of `nvidiaRims` (the first one is used). The pinned Intel, AWS and
   * NVIDIA roots are always the only real anchors.
   */
  testRoots?: {
    tdx?: readonly (Uint8Array | string)[];
    nitro?: readonly (Uint8Array | string)[];
    nvidia?: readonly (Uint8Array | string)[];
    nvidiaRim?: readonly (Uint8Array | string)[];
  };
  /**
   * Roots (DER bytes or PEM) trusted like the pinned vendor roots, besides them: evidence that chains to one is
   * `passed` (not `simulated`) and can make a verdict `verified`; every step names the root (`trustAnchor:
   * 'policy-root'`, its subject and SHA-256). For a root the vendor has not published yet in this package, or for
   * tests of the verified path against a test PKI. Independent of `acceptSimulated`. Never pin a TEST root where
   * real hardware is expected: it makes TEST evidence count as real. `nvidia` anchors GPU device chains,
   * `nvidiaRim` the RIMs of `nvidiaRims` (the first one is used).
   */
  trustAnchors?: {
    tdx?: readonly (Uint8Array | string)[];
    nitro?: readonly (Uint8Array | string)[];
    nvidia?: readonly (Uint8Array | string)[];
    nvidiaRim?: readonly (Uint8Array | string)[];
  };
  /** Accept debug-mode TEEs. Default false. */
  allowDebug?: boolean;
  /** TCB statuses accepted. Default `['UpToDate']`. */
  allowedTcbStatuses?: readonly string[];
  /**
   * Fail when the TCB status cannot be evaluated (no collateral). Default true; false reports the step as
   * `skipped`.
   */
  requireTcbStatus?: boolean;
  /** DCAP collateral for TDX quotes (needed for the TCB status). */
  tdxCollateral?: TdxCollateralSource;
  /**
   * Expected TDX measurements of the attested service, or `'any'` to accept any (the step is then `skipped`).
   * Default: none given, which fails the measurements step with `ERR_VERIFY_POLICY_MISSING`.
   */
  tdxMeasurements?: TdxMeasurementPolicy | 'any';
  /**
   * Expected Nitro PCRs (e.g. PCR0–2 of the enclave build), or `'any'`. Default: none given, which fails the
   * measurements step with `ERR_VERIFY_POLICY_MISSING`.
   */
  nitroPcrs?: NitroPcrPolicy | 'any';
  /**
   * GPU evidence verifier. Default: the built-in NVIDIA verifier ({@link createNvidiaGpuVerifier} with this
   * policy's `acceptSimulated`, `testRoots.nvidia`, `testRoots.nvidiaRim`, `nvidiaRims`, `requireGpuMeasurements`
   * and `now`): NVIDIA's root only unless TEST evidence is accepted. `false` turns GPU verification off (the step
   * is `skipped`, "not checked").
   */
  gpuVerifier?: GpuEvidenceVerifier | false;
  /** Fail when GPU evidence cannot be verified (verification off, no evidence). Default false. */
  requireGpu?: boolean;
  /**
   * NVIDIA RIMs (signed SWID XML) as collateral for the default GPU verifier: the GPUs' measurements are compared
   * with the RIMs of their driver and VBIOS versions. Without them the GPU step says "measurements not compared".
   */
  nvidiaRims?: readonly RimInput[];
  /** Fail the GPU step (`ERR_VERIFY_POLICY_MISSING`) when the measurements were not compared. Default false. */
  requireGpuMeasurements?: boolean;
  /** How long a verified attestation is reused for answers signed by the same key, in ms. Default 600 000. */
  attestationMaxAgeMs?: number;
  /** Verification time. Default: the current time. */
  now?: () => Date;
}

/** A {@link VerificationPolicy} with every default filled in. */
export interface ResolvedPolicy {
  readonly acceptSimulated: boolean;
  readonly testRoots: {
    readonly tdx: readonly (Uint8Array | string)[];
    readonly nitro: readonly (Uint8Array | string)[];
    readonly nvidia: readonly (Uint8Array | string)[];
    readonly nvidiaRim: readonly (Uint8Array | string)[];
  };
  readonly trustAnchors: {
    readonly tdx: readonly (Uint8Array | string)[];
    readonly nitro: readonly (Uint8Array | string)[];
    readonly nvidia: readonly (Uint8Array | string)[];
    readonly nvidiaRim: readonly (Uint8Array | string)[];
  };
  readonly allowDebug: boolean;
  readonly allowedTcbStatuses: readonly string[];
  readonly requireTcbStatus: boolean;
  readonly tdxCollateral: TdxCollateralSource | undefined;
  readonly tdxMeasurements: TdxMeasurementPolicy | 'any' | undefined;
  readonly nitroPcrs: NitroPcrPolicy | 'any' | undefined;
  /** The GPU verifier; undefined when GPU verification is turned off (`gpuVerifier: false`). */
  readonly gpuVerifier: GpuEvidenceVerifier | undefined;
  readonly requireGpu: boolean;
  readonly nvidiaRims: readonly RimInput[];
  readonly requireGpuMeasurements: boolean;
  readonly attestationMaxAgeMs: number;
  readonly now: () => Date;
}

/** Default cache validity of a verified attestation: 10 minutes. */
export const DEFAULT_ATTESTATION_MAX_AGE_MS = 600_000;

/**
 * Fills in the defaults of a policy.
 * @throws TypeError / RangeError for option values of the wrong type or range.
 */
export function resolvePolicy(policy: VerificationPolicy = {}): ResolvedPolicy {
  if (typeof policy !== 'object' || policy === null) throw new TypeError('policy must be an object');
  const maxAge = policy.attestationMaxAgeMs ?? DEFAULT_ATTESTATION_MAX_AGE_MS;
  if (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0) {
    throw new RangeError('policy.attestationMaxAgeMs must be a non-negative number of milliseconds');
  }
  const statuses = policy.allowedTcbStatuses ?? ['UpToDate'];
  if (!Array.isArray(statuses) || statuses.some((status) => typeof status !== 'string')) {
    throw new TypeError('policy.allowedTcbStatuses must be an array of strings');
  }
  if (policy.now !== undefined && typeof policy.now !== 'function')
    throw new TypeError('policy.now must be a function');
  const rims = policy.nvidiaRims ?? [];
  if (!Array.isArray(rims) || rims.some((rim) => typeof rim !== 'string' && !(rim instanceof Uint8Array)))
    throw new TypeError('policy.nvidiaRims must be an array of RIM documents (strings or bytes)');
  const gpuVerifier = policy.gpuVerifier;
  if (
    gpuVerifier !== undefined &&
    gpuVerifier !== false &&
    (typeof gpuVerifier !== 'object' || gpuVerifier === null || typeof gpuVerifier.verify !== 'function')
  )
    throw new TypeError('policy.gpuVerifier must be a GpuEvidenceVerifier or false');
  const now = policy.now ?? (() => new Date());
  const testRoots = {
    tdx: policy.testRoots?.tdx ?? [],
    nitro: policy.testRoots?.nitro ?? [],
    nvidia: policy.testRoots?.nvidia ?? [],
    nvidiaRim: policy.testRoots?.nvidiaRim ?? [],
  };
  const trustAnchors = {
    tdx: policy.trustAnchors?.tdx ?? [],
    nitro: policy.trustAnchors?.nitro ?? [],
    nvidia: policy.trustAnchors?.nvidia ?? [],
    nvidiaRim: policy.trustAnchors?.nvidiaRim ?? [],
  };
  return Object.freeze({
    acceptSimulated: policy.acceptSimulated === true,
    testRoots,
    trustAnchors,
    allowDebug: policy.allowDebug === true,
    allowedTcbStatuses: [...statuses],
    requireTcbStatus: policy.requireTcbStatus !== false,
    tdxCollateral: policy.tdxCollateral,
    tdxMeasurements: policy.tdxMeasurements,
    nitroPcrs: policy.nitroPcrs,
    gpuVerifier:
      gpuVerifier === false
        ? undefined
        : (gpuVerifier ??
          createNvidiaGpuVerifier({
            acceptSimulated: policy.acceptSimulated === true,
            testRoots: testRoots.nvidia,
            rimTestRoot: testRoots.nvidiaRim[0],
            trustAnchors: trustAnchors.nvidia,
            rimTrustAnchor: trustAnchors.nvidiaRim[0],
            rims,
            requireMeasurements: policy.requireGpuMeasurements === true,
            now,
          })),
    requireGpu: policy.requireGpu === true,
    nvidiaRims: [...rims],
    requireGpuMeasurements: policy.requireGpuMeasurements === true,
    attestationMaxAgeMs: maxAge,
    now,
  });
}
