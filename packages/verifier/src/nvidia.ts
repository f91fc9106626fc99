import { bytesToHex } from '@confidential-ai/bytes';
import {
  type GpuEvidenceSet,
  type GpuEvidenceVerification,
  NVIDIA_DEVICE_IDENTITY_ROOT_SHA256,
  NvidiaAttestationError,
  type GpuEvidenceInput as NvidiaEvidenceInput,
  parseGpuEvidence,
  type RimInput,
  verifyGpuEvidence,
} from '@confidential-ai/nvidia-attestation';
import { sha256 } from '@confidential-ai/tee-signing';
import { certificateDer, describeCertificate, isSelfIssued, type RootDescription } from './certificates.js';
import type { VerifierErrorCode } from './errors.js';
import type { GpuEvidenceInput, GpuEvidenceResult, GpuEvidenceVerifier } from './gpu.js';
import { isPlainObject } from './http.js';

/** Which anchor verified the GPU device chains. */
export type GpuTrustAnchor = 'nvidia-device-identity-ca' | 'policy-root' | 'test-root' | 'embedded-test-root';

/** Options of {@link createNvidiaGpuVerifier}. */
export interface NvidiaGpuVerifierOptions {
  /**
   * Accept GPU evidence that chains to a TEST root (reported `simulated`, never `passed`). Without `testRoots`, the
   * root at the end of the evidence's own chain is used and named. Default false: NVIDIA's root only.
   */
  acceptSimulated?: boolean;
  /** TEST device roots (DER or PEM) to accept under `acceptSimulated`; when given, only these. */
  testRoots?: readonly (Uint8Array | string)[];
  /** TEST RIM root (DER or PEM) replacing NVIDIA's CoRIM root for TEST RIMs, under `acceptSimulated`. */
  rimTestRoot?: Uint8Array | string | undefined;
  /**
   * Device roots (DER or PEM) trusted like NVIDIA's (`policy.trustAnchors.nvidia`): evidence chaining to one is
   * `passed`, its root named (`trustAnchor: 'policy-root'`). Independent of `acceptSimulated`.
   */
  trustAnchors?: readonly (Uint8Array | string)[];
  /** RIM root (DER or PEM) trusted like NVIDIA's CoRIM root (`policy.trustAnchors.nvidiaRim`). */
  rimTrustAnchor?: Uint8Array | string | undefined;
  /**
   * NVIDIA RIMs (signed SWID XML) as collateral: every GPU's measurements are compared with the RIMs of its driver
   * and VBIOS versions. Without RIMs the measurements are reported as "not compared".
   */
  rims?: readonly RimInput[];
  /** Fail (`ERR_VERIFY_POLICY_MISSING`) when the measurements were not compared. Default false. */
  requireMeasurements?: boolean;
  /** Verification time. Default now. */
  now?: () => Date;
}

const CODES: Readonly<Record<string, VerifierErrorCode>> = {
  ERR_NVIDIA_NONCE_MISMATCH: 'ERR_VERIFY_NONCE_MISMATCH',
  ERR_NVIDIA_MEASUREMENT_MISMATCH: 'ERR_VERIFY_MEASUREMENTS',
};

function failed(
  code: VerifierErrorCode,
  message: string,
  evidence: Record<string, unknown>,
): GpuEvidenceResult {
  return { status: 'failed', code, message, evidence };
}

/** The evidence the GPU step receives: an `nvidia_payload`, or a Chutes instance's `{gpu_evidence, gpu_tokens}`. */
function evidenceOf(input: GpuEvidenceInput): unknown {
  const { evidence } = input;
  if (input.service === 'chutes' && isPlainObject(evidence) && 'gpu_evidence' in evidence)
    return evidence.gpu_evidence;
  return evidence;
}

/** The last certificate of each GPU's chain (the root the evidence names), deduplicated by fingerprint. */
function chainEnds(set: GpuEvidenceSet): Map<string, Uint8Array> {
  const ends = new Map<string, Uint8Array>();
  for (const gpu of set.gpus) {
    const last = gpu.certificateChain[gpu.certificateChain.length - 1]!;
    ends.set(bytesToHex(sha256(last)), last);
  }
  return ends;
}

interface Anchor {
  readonly kind: GpuTrustAnchor;
  readonly root: Uint8Array | undefined;
  readonly description: RootDescription;
}

/**
 * Picks the device anchor: NVIDIA's pinned root when the evidence names it (or does not end at a self-chosen root);
 * a TEST root only under `acceptSimulated`. Returns the unaccepted root when the evidence ends at another root.
 */
function selectAnchor(set: GpuEvidenceSet, options: NvidiaGpuVerifierOptions): Anchor | RootDescription {
  const ends = chainEnds(set);
  const nvidia: Anchor = {
    kind: 'nvidia-device-identity-ca',
    root: undefined,
    description: { subject: 'NVIDIA Device Identity CA', sha256: NVIDIA_DEVICE_IDENTITY_ROOT_SHA256 },
  };
  if (ends.size !== 1 || ends.has(NVIDIA_DEVICE_IDENTITY_ROOT_SHA256)) return nvidia;
  const [[fingerprint, end]] = [...ends] as [[string, Uint8Array]];
  const description = describeCertificate(end);
  for (const candidate of options.trustAnchors ?? []) {
    const der = certificateDer(candidate);
    if (der && bytesToHex(sha256(der)) === fingerprint)
      return { kind: 'policy-root', root: der, description };
  }
  if (options.acceptSimulated === true) {
    const testRoots = options.testRoots ?? [];
    for (const candidate of testRoots) {
      const der = certificateDer(candidate);
      if (der && bytesToHex(sha256(der)) === fingerprint)
        return { kind: 'test-root', root: der, description };
    }
    if (testRoots.length === 0) return { kind: 'embedded-test-root', root: end, description };
  }
  // A chain that stops below its root is verified against NVIDIA's; one that ends at another root is refused.
  return isSelfIssued(end) ? description : nvidia;
}

function anchorText(anchor: Anchor): string {
  if (anchor.kind === 'nvidia-device-identity-ca') return "verified to NVIDIA's Device Identity CA";
  if (anchor.kind === 'policy-root')
    return `verified to the root pinned by policy.trustAnchors "${anchor.description.subject}" (sha256 ${anchor.description.sha256.slice(0, 16)}…)`;
  const which = anchor.kind === 'test-root' ? 'the TEST root' : "the evidence's own TEST root";
  return `verified against ${which} "${anchor.description.subject}" (sha256 ${anchor.description.sha256.slice(0, 16)}…), not NVIDIA's`;
}

function summarize(result: GpuEvidenceVerification, anchor: Anchor): Record<string, unknown> {
  return {
    gpuCount: result.gpus.length,
    format: result.format,
    trustAnchor: anchor.kind,
    deviceRoot: result.trust.deviceRoot,
    rimRoot: result.trust.rimRoot,
    measurements: result.measurements,
    driverVersions: [...new Set(result.gpus.map((gpu) => gpu.driverVersion))],
    vbiosVersions: [...new Set(result.gpus.map((gpu) => gpu.vbiosVersion))],
    boundNonce: result.nonce,
  };
}

/**
 * The built-in GPU verifier (the default of `policy.gpuVerifier`): NVIDIA evidence in any shape the services send
 * (a vllm-proxy or Venice `nvidia_payload`, a Chutes instance's `gpu_evidence` evidence list) verified offline with
 * `@confidential-ai/nvidia-attestation`: every SPDM report bound to the nonce the step gives (the client's nonce, or
 * for Chutes SHA-256(nonce ‖ e2e_pubkey)), its certificate chain to NVIDIA's pinned Device Identity CA, its
 * signature, and, with RIMs, the measurements. Strict by default: evidence chaining to any other root fails with
 * `ERR_VERIFY_UNTRUSTED_ROOT`, naming the root; a root in `trustAnchors` counts like NVIDIA's (`passed`, named);
 * with `acceptSimulated` a TEST root is accepted and reported as "verified against the TEST root" (`simulated`,
 * never `passed`). Measurements "not compared" (no RIMs) is a
 * reported state, a failure only with `requireMeasurements`.
 *
 * @example
 * ```ts
 * const gpuVerifier = createNvidiaGpuVerifier({ rims: [driverRim, vbiosRim], requireMeasurements: true });
 * const fetch = createVerifiedFetch({ service: 'vllm-proxy', policy: { gpuVerifier, tdxMeasurements } });
 * ```
 */
export function createNvidiaGpuVerifier(options: NvidiaGpuVerifierOptions = {}): GpuEvidenceVerifier {
  const rims = options.rims ?? [];
  return {
    name: 'nvidia-attestation',
    async verify(input) {
      const evidence = evidenceOf(input);
      let set: GpuEvidenceSet;
      try {
        set = parseGpuEvidence(evidence as NvidiaEvidenceInput);
      } catch (error) {
        const code = NvidiaAttestationError.isInstance(error) ? error.code : 'unknown';
        return failed('ERR_VERIFY_GPU_EVIDENCE', 'The GPU evidence is malformed.', { nvidiaCode: code });
      }
      const selected = selectAnchor(set, options);
      if (!('kind' in selected)) {
        return failed(
          'ERR_VERIFY_UNTRUSTED_ROOT',
          options.acceptSimulated === true
            ? `The GPU evidence chains to "${selected.subject}", which is neither NVIDIA's root nor a TEST root the policy names.`
            : `The GPU evidence chains to "${selected.subject}", not to NVIDIA's Device Identity CA (TEST evidence is accepted only with acceptSimulated).`,
          { rootSubject: selected.subject, rootSha256: selected.sha256, gpuCount: set.gpus.length },
        );
      }
      const rimRoot =
        options.rimTrustAnchor ??
        (options.acceptSimulated === true && options.rimTestRoot !== undefined
          ? options.rimTestRoot
          : undefined);
      let result: GpuEvidenceVerification;
      try {
        result = await verifyGpuEvidence(evidence as NvidiaEvidenceInput, {
          nonce: input.nonce,
          at: (options.now ?? (() => new Date()))(),
          ...(selected.root === undefined ? {} : { root: selected.root }),
          ...(rims.length === 0 ? {} : { rims }),
          ...(rimRoot === undefined ? {} : { rimRoot }),
        });
      } catch (error) {
        if (!NvidiaAttestationError.isInstance(error)) throw error;
        const detail = {
          nvidiaCode: error.code,
          ...(error.gpuIndex === undefined ? {} : { gpuIndex: error.gpuIndex }),
          trustAnchor: selected.kind,
          rootSubject: selected.description.subject,
          gpuCount: set.gpus.length,
        };
        if (error.code === 'ERR_NVIDIA_CERT_CHAIN' && selected.kind === 'nvidia-device-identity-ca')
          return failed(
            'ERR_VERIFY_UNTRUSTED_ROOT',
            "The GPU certificate chain does not verify to NVIDIA's Device Identity CA.",
            detail,
          );
        return failed(
          CODES[error.code] ?? 'ERR_VERIFY_GPU_EVIDENCE',
          `The GPU evidence does not verify (${error.code}).`,
          detail,
        );
      }
      const evidenceSummary = summarize(result, selected);
      const count = `${result.gpus.length} GPU report${result.gpus.length === 1 ? '' : 's'}`;
      const measured =
        result.measurements === 'matched'
          ? 'measurements match the RIMs'
          : 'measurements not compared (no RIMs in the policy)';
      if (result.measurements !== 'matched' && options.requireMeasurements === true) {
        return failed(
          'ERR_VERIFY_POLICY_MISSING',
          `${count} verified, but the measurements were not compared: the policy requires RIMs (nvidiaRims).`,
          evidenceSummary,
        );
      }
      // Real: NVIDIA's roots, or roots the policy trusts like them; a TEST root (or TEST RIM root) is simulated.
      const rimReal =
        result.trust.rimRoot === null ||
        result.trust.rimRoot.nvidia ||
        (options.rimTrustAnchor !== undefined && rimRoot === options.rimTrustAnchor);
      const real = (result.trust.deviceRoot.nvidia || selected.kind === 'policy-root') && rimReal;
      const message = `${count} bound to the nonce, signatures and chain ${anchorText(selected)}; ${measured}.`;
      return { status: real ? 'passed' : 'simulated', message, evidence: evidenceSummary };
    },
  };
}
