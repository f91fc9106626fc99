import { type Bytes, base64ToBytes, bytesToBase64, hexToBytes } from '@confidential-ai/bytes';
import {
  createTestNvidiaPlatform,
  lazyTestNvidiaPlatform,
  type TestNvidiaPlatform,
} from '@confidential-ai/nvidia-attestation/testing';

/** Options of {@link createFakeGpuEvidence}. */
export interface FakeGpuEvidenceOptions {
  /** The synthetic NVIDIA-like platform; default one created on first use. */
  platform?: TestNvidiaPlatform;
  /** GPUs per payload. */
  gpuCount: number;
}

/** The GPU evidence source of a fake server. */
export interface FakeGpuEvidence {
  /** The `nvidia_payload` object for an attestation nonce (hex), with the active faults applied. */
  payload(nonce: string, faults: ReadonlySet<string>): Promise<Record<string, unknown>>;
  /** DER of the test root anchoring the evidence. */
  root(): Promise<Bytes>;
}

/** Absolute report offset 100 lies in the measurement record, inside the signed region. */
const TAMPERED_OFFSET = 100;

/**
 * GPU evidence as Venice's `nvidia_payload` carries it (`{nonce, arch, evidence_list}`): real-shaped SPDM reports of
 * `gpuCount` simulated GPUs, signed under a test NVIDIA-like root and bound to the attestation nonce.
 */
export function createFakeGpuEvidence(options: FakeGpuEvidenceOptions): FakeGpuEvidence {
  const platform = lazyTestNvidiaPlatform(options.platform);
  let untrusted: Promise<TestNvidiaPlatform> | undefined;
  return {
    async payload(nonce, faults) {
      if (faults.has('nvidia-empty')) return { nonce, arch: 'HOPPER', evidence_list: [] };
      let source = platform();
      if (faults.has('untrusted-nvidia')) {
        untrusted ??= createTestNvidiaPlatform();
        source = untrusted;
      }
      const reportNonce = faults.has('nvidia-wrong-nonce')
        ? globalThis.crypto.getRandomValues(new Uint8Array(32))
        : hexToBytes(nonce);
      const { evidenceList } = await (await source).createEvidence({
        nonce: reportNonce,
        gpuCount: options.gpuCount,
      });
      if (faults.has('tampered-nvidia-report')) {
        const report = base64ToBytes(evidenceList[0]!.evidence);
        report[TAMPERED_OFFSET]! ^= 0x01;
        evidenceList[0] = { ...evidenceList[0]!, evidence: bytesToBase64(report) };
      }
      return { nonce, arch: 'HOPPER', evidence_list: evidenceList };
    },
    async root() {
      return (await platform()).deviceRoot;
    },
  };
}
