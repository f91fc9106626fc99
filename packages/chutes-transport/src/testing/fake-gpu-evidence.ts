import { base64ToBytes, bytesToBase64, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import type { GpuEvidenceListEntry } from '@confidential-ai/nvidia-attestation';
import {
  createTestNvidiaPlatform,
  lazyTestNvidiaPlatform,
  type TestNvidiaPlatform,
} from '@confidential-ai/nvidia-attestation/testing';

/**
 * How an instance's `gpu_evidence` is broken:
 * - `tampered-report`: one bit of the first GPU's report is flipped inside its signed region.
 * - `wrong-nonce`: every report answers the caller's raw nonce instead of SHA-256(nonce ‖ e2e_pubkey) (what an
 *   instance older than chutes 0.6.0 binds).
 * - `untrusted-root`: the evidence comes from other simulated GPUs whose chain ends at another TEST root.
 * - `missing`: `gpu_evidence` is an empty list.
 * - `malformed`: the first entry's `certificate` is not base64 of a PEM chain.
 */
export type FakeGpuEvidenceVariant =
  | 'tampered-report'
  | 'wrong-nonce'
  | 'untrusted-root'
  | 'missing'
  | 'malformed';

/** The per-GPU evidence of the fake server's instances. */
export interface FakeGpuEvidenceSource {
  /**
   * The `gpu_evidence` list of instance number `instanceIndex` (each instance has its own GPUs): reports bound to
   * `digestHex` (SHA-256(nonce ‖ e2e_pubkey), lowercase hex), with `variant` applied.
   */
  evidence(
    instanceIndex: number,
    digestHex: string,
    callerNonceHex: string,
    variant?: FakeGpuEvidenceVariant,
  ): Promise<GpuEvidenceListEntry[]>;
  /** The simulated NVIDIA-like platform (its device and RIM TEST roots, its RIMs). */
  platform(): Promise<TestNvidiaPlatform>;
}

/**
 * Report offset 60 lies in the value of measurement block 1 (request 37 bytes, response header 8, block header 7),
 * inside the signed region: the report still parses and only its signature fails.
 */
const TAMPERED_OFFSET = 60;
/** GPU indices a test platform offers (0..63). */
const PLATFORM_GPUS = 64;

/**
 * GPU evidence as a Chutes instance serves it in `gpu_evidence`: the nvtrust attestation SDK's remote evidence
 * list (`[{certificate: base64(PEM chain), evidence: base64(SPDM report), arch: "HOPPER"}]`, one entry per GPU),
 * really signed by simulated GPUs under a synthetic NVIDIA-like TEST root.
 */
export function createFakeGpuEvidenceSource(options: {
  platform?: TestNvidiaPlatform | undefined;
  gpusPerInstance: number;
}): FakeGpuEvidenceSource {
  const platform = lazyTestNvidiaPlatform(options.platform);
  let untrusted: Promise<TestNvidiaPlatform> | undefined;
  const count = options.gpusPerInstance;
  return {
    async evidence(instanceIndex, digestHex, callerNonceHex, variant) {
      if (variant === 'missing' || count === 0) return [];
      let source = platform();
      if (variant === 'untrusted-root') {
        untrusted ??= createTestNvidiaPlatform();
        source = untrusted;
      }
      const nonce = hexToBytes(variant === 'wrong-nonce' ? callerNonceHex : digestHex);
      const list: GpuEvidenceListEntry[] = [];
      for (let offset = 0; offset < count; offset++) {
        const gpu = await (await source).gpu((instanceIndex * count + offset) % PLATFORM_GPUS);
        const report = await gpu.createReport({ nonce });
        list.push({
          certificate: bytesToBase64(utf8ToBytes(gpu.certificateChainPem)),
          evidence: bytesToBase64(report),
          arch: 'HOPPER',
        });
      }
      if (variant === 'tampered-report') {
        const report = base64ToBytes(list[0]!.evidence);
        report[TAMPERED_OFFSET]! ^= 0x01;
        list[0] = { ...list[0]!, evidence: bytesToBase64(report) };
      }
      if (variant === 'malformed') list[0] = { ...list[0]!, certificate: 'not base64 of a PEM chain!' };
      return list;
    },
    platform,
  };
}
