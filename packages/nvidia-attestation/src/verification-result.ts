import type { GpuEvidenceSet } from './evidence.js';
import type { CertificateRevocationStatus } from './revocation.js';
import type { GpuAttestationReport } from './spdm.js';
import type { TrustSummary } from './trust.js';

// The result types of `verifyGpuEvidence`: JSON-serialisable apart from each GPU's parsed `report`.

/** A certificate of a verified chain. */
export interface VerifiedCertificate {
  /** Subject (RFC 4514). */
  readonly subject: string;
  /** Serial number, lowercase hex. */
  readonly serialNumber: string;
  /** Validity start, ISO 8601. */
  readonly notBefore: string;
  /** Validity end, ISO 8601. */
  readonly notAfter: string;
  /** SHA-256 of the DER, lowercase hex. */
  readonly sha256: string;
}

/** What was established for one GPU. */
export interface GpuReportVerification {
  /** Position in the evidence list. */
  readonly index: number;
  /** Architecture. */
  readonly arch: string;
  /** Hardware model: the common name of the certificate that issued the attestation key (e.g. `GH100 A01 GSP BROM`). */
  readonly hwmodel: string;
  /** Unique entity id: serial number of the attestation key certificate, lowercase hex. */
  readonly ueid: string;
  /** Driver version from the signed opaque data. */
  readonly driverVersion: string | null;
  /** VBIOS version from the signed opaque data. */
  readonly vbiosVersion: string | null;
  /** Project, project SKU and chip SKU (the VBIOS RIM id parts). */
  readonly board: {
    readonly project: string | null;
    readonly projectSku: string | null;
    readonly chipSku: string | null;
  };
  /** Firmware ID of the report, hex, or null when the report carries none. */
  readonly fwid: string | null;
  /** NVDEC0 status byte (0xAA enabled, 0x55 disabled), protected PCIe status byte, feature flag. */
  readonly state: {
    readonly nvdec0Status: number | null;
    readonly protectedPcieStatus: number | null;
    readonly featureFlag: string | null;
  };
  /** Measurement comparison. */
  readonly measurements: {
    /** `matched` (every active reference value matched) or `not-compared` (no RIMs given). */
    readonly status: 'matched' | 'not-compared';
    /** Number of reference indices compared. */
    readonly compared: number;
    /** Version of the driver RIM used. */
    readonly driverRim: string | null;
    /** Version of the VBIOS RIM used. */
    readonly vbiosRim: string | null;
  };
  /** Runtime measurements by SPDM block index (1-based), lowercase hex. */
  readonly runtimeMeasurements: Readonly<Record<number, string>>;
  /** The device chain, leaf first, anchor last. */
  readonly certificateChain: readonly VerifiedCertificate[];
  /** Revocation status of each certificate of the chain (the anchor excluded). */
  readonly revocation: readonly CertificateRevocationStatus[];
  /** The parsed report. */
  readonly report: GpuAttestationReport;
}

/** A RIM that was verified. */
export interface VerifiedRim {
  /** Position in `options.rims`. */
  readonly index: number;
  /** `Meta/@colloquialVersion`. */
  readonly version: string;
  /** SWID tagId. */
  readonly tagId: string;
  /** Subject of the signer certificate. */
  readonly signer: string;
  /** Signer chain, leaf first. */
  readonly certificateChain: readonly VerifiedCertificate[];
  /** Revocation status of the signer chain. */
  readonly revocation: readonly CertificateRevocationStatus[];
}

/** The result of {@link verifyGpuEvidence}. */
export interface GpuEvidenceVerification {
  /** Which container was decoded. */
  readonly format: GpuEvidenceSet['format'];
  /** The nonce every report is bound to (hex), or null when the binding was skipped (`nonce: null`). */
  readonly nonce: string | null;
  /** One entry per GPU, in evidence order. */
  readonly gpus: readonly GpuReportVerification[];
  /** `matched` when every GPU's measurements matched its RIMs, `not-compared` when no RIMs were given. */
  readonly measurements: 'matched' | 'not-compared';
  /** `complete` when revocation data covered every certificate that needs it, `partial` or `not-checked`. */
  readonly revocation: 'complete' | 'partial' | 'not-checked';
  /** The RIMs verified. */
  readonly rims: readonly VerifiedRim[];
  /** Which anchors verified the chains; `nvidia: false` means a caller-supplied (e.g. test) root. */
  readonly trust: { readonly deviceRoot: TrustSummary; readonly rimRoot: TrustSummary | null };
  /** Verification time, ISO 8601. */
  readonly verifiedAt: string;
}
