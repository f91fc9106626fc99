import { readFileSync } from 'node:fs';
import { base64ToBytes, bytesToBase64, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import {
  createTestNvidiaPlatform,
  type TestNvidiaPlatform,
} from '@confidential-ai/nvidia-attestation/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuEvidenceInput, GpuEvidenceResult } from '../src/gpu.js';
import { createNvidiaGpuVerifier, type NvidiaGpuVerifierOptions } from '../src/nvidia.js';
import { resolvePolicy } from '../src/policy.js';

// The default GPU step: nvidia-attestation on every shape the services send, strict by default (NVIDIA's root
// only), TEST roots only under acceptSimulated and reported as such, RIMs as policy input.

// Real NVIDIA evidence and RIMs, as nvidia-attestation publishes them with provenance
// (packages/nvidia-attestation/test/vectors/README.md).
const vectors = new URL(
  'test/vectors/',
  import.meta.resolve('@confidential-ai/nvidia-attestation/package.json'),
);
const read = (name: string) => JSON.parse(readFileSync(new URL(name, vectors), 'utf8'));
const hgx = read('hgx-8gpu-ppcie-nvtrust.json') as { nonce: string; evidenceList: unknown[] };
const h545 = read('hopper-545-go-nvtrust.json') as {
  nonce: string;
  report: string;
  certificateChain: string;
  driverRim: string;
  vbiosRim: string;
  productionVbiosRim: string;
};

/** hopper-545 as a vllm-proxy / Venice `nvidia_payload`. */
const payload545 = {
  nonce: h545.nonce,
  arch: 'HOPPER',
  evidence_list: [
    {
      certificate: bytesToBase64(utf8ToBytes(h545.certificateChain)),
      evidence: bytesToBase64(hexToBytes(h545.report)),
      arch: 'HOPPER',
    },
  ],
};
const AT_545 = () => new Date('2024-06-01T00:00:00Z');

async function run(options: NvidiaGpuVerifierOptions, input: GpuEvidenceInput): Promise<GpuEvidenceResult> {
  return createNvidiaGpuVerifier(options).verify(input);
}

describe('real NVIDIA evidence verifies as real', () => {
  it('a Chutes instance’s 8-GPU evidence list: passed, NVIDIA root, measurements "not compared" reported', async () => {
    const input = {
      service: 'chutes',
      evidence: { gpu_evidence: hgx.evidenceList, gpu_tokens: null },
      nonce: hgx.nonce,
    } as const;
    const result = await run({}, input);
    expect(result).toMatchObject({
      status: 'passed',
      evidence: {
        gpuCount: 8,
        trustAnchor: 'nvidia-device-identity-ca',
        deviceRoot: { nvidia: true },
        measurements: 'not-compared',
      },
    });
    expect(result.message).toContain("verified to NVIDIA's Device Identity CA");
    expect(result.message).toContain('measurements not compared');
    // TEST evidence being accepted changes nothing for real evidence.
    expect((await run({ acceptSimulated: true }, input)).status).toBe('passed');
    // Strict measurements without RIMs: a policy failure, after the evidence verified.
    expect(await run({ requireMeasurements: true }, input)).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_POLICY_MISSING',
    });
    expect(await run({}, { ...input, nonce: 'ab'.repeat(32) })).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_NONCE_MISMATCH',
      evidence: { nvidiaCode: 'ERR_NVIDIA_NONCE_MISMATCH' },
    });
  });

  it("an nvidia_payload with NVIDIA's RIMs: measurements matched; another VBIOS RIM: ERR_VERIFY_MEASUREMENTS", async () => {
    const input = { service: 'venice', evidence: payload545, nonce: h545.nonce } as const;
    const matched = await run(
      { rims: [h545.driverRim, h545.vbiosRim], requireMeasurements: true, now: AT_545 },
      input,
    );
    expect(matched).toMatchObject({
      status: 'passed',
      evidence: { measurements: 'matched', rimRoot: { nvidia: true }, driverVersions: ['545.00'] },
    });
    expect(matched.message).toContain('measurements match the RIMs');
    const production = await run({ rims: [h545.driverRim, h545.productionVbiosRim], now: AT_545 }, input);
    expect(production).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_MEASUREMENTS' });
    // The same bytes as a JSON string (how the vllm-proxy report embeds it) and through the policy's default.
    const policy = resolvePolicy({ nvidiaRims: [h545.driverRim, h545.vbiosRim], now: AT_545 });
    expect((await policy.gpuVerifier!.verify({ ...input, service: 'vllm-proxy' })).status).toBe('passed');
  });

  it('a flipped bit of the real report fails', async () => {
    const report = hexToBytes(h545.report);
    report[60]! ^= 0x01;
    const evidence = {
      ...payload545,
      evidence_list: [{ ...payload545.evidence_list[0]!, evidence: bytesToBase64(report) }],
    };
    expect(await run({}, { service: 'vllm-proxy', evidence, nonce: h545.nonce })).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_GPU_EVIDENCE',
      evidence: { nvidiaCode: 'ERR_NVIDIA_REPORT_SIGNATURE' },
    });
  });
});

describe('TEST evidence (nvidia-attestation/testing)', () => {
  let platform: TestNvidiaPlatform;
  let other: TestNvidiaPlatform;
  const nonce = 'cd'.repeat(32);
  let input: GpuEvidenceInput;

  beforeAll(async () => {
    platform = await createTestNvidiaPlatform();
    other = await createTestNvidiaPlatform();
    const { payload } = await platform.createEvidence({ nonce: hexToBytes(nonce), gpuCount: 2 });
    input = { service: 'vllm-proxy', evidence: payload, nonce };
  });

  it('is refused by default, naming its root (ERR_VERIFY_UNTRUSTED_ROOT)', async () => {
    const result = await run({}, input);
    expect(result).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_UNTRUSTED_ROOT' });
    expect(result.message).toContain('TEST NVIDIA Device Identity CA');
    expect(result.message).toContain('only with acceptSimulated');
  });

  it('is "verified against the TEST root" (simulated, never passed) with acceptSimulated', async () => {
    const embedded = await run({ acceptSimulated: true }, input);
    expect(embedded).toMatchObject({
      status: 'simulated',
      evidence: { trustAnchor: 'embedded-test-root', deviceRoot: { nvidia: false }, gpuCount: 2 },
    });
    expect(embedded.message).toMatch(
      /verified against the evidence's own TEST root "CN=TEST NVIDIA Device Identity CA.*not NVIDIA's/,
    );
    const pinned = await run({ acceptSimulated: true, testRoots: [platform.deviceRootPem] }, input);
    expect(pinned).toMatchObject({ status: 'simulated', evidence: { trustAnchor: 'test-root' } });
    expect(pinned.message).toContain('verified against the TEST root');
    // Once TEST roots are named, only those.
    expect(await run({ acceptSimulated: true, testRoots: [other.deviceRoot] }, input)).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_UNTRUSTED_ROOT',
    });
    // Named but not accepted: still refused.
    expect(await run({ testRoots: [platform.deviceRoot] }, input)).toMatchObject({
      code: 'ERR_VERIFY_UNTRUSTED_ROOT',
    });
  });

  it('compares TEST measurements with TEST RIMs under their TEST RIM root', async () => {
    const rims = await platform.createRims();
    const options = {
      acceptSimulated: true,
      testRoots: [platform.deviceRoot],
      rims: [rims.driver, rims.vbios],
      rimTestRoot: platform.rimRoot,
    };
    expect(await run(options, input)).toMatchObject({
      status: 'simulated',
      evidence: { measurements: 'matched', rimRoot: { nvidia: false } },
    });
    // The TEST RIMs against NVIDIA's RIM root: refused.
    expect(await run({ ...options, rimTestRoot: undefined }, input)).toMatchObject({
      status: 'failed',
      evidence: { nvidiaCode: 'ERR_NVIDIA_RIM_CERT_CHAIN' },
    });
  });

  it('fails tampered, rebound, truncated and malformed evidence with typed codes', async () => {
    const accepted = { acceptSimulated: true, testRoots: [platform.deviceRoot] };
    const { evidenceList } = await platform.createEvidence({ nonce: hexToBytes(nonce) });
    const tampered = base64ToBytes(evidenceList[0]!.evidence);
    tampered[60]! ^= 0x80;
    const cases: Array<[unknown, string, string | undefined]> = [
      [
        [{ ...evidenceList[0]!, evidence: bytesToBase64(tampered) }],
        'ERR_VERIFY_GPU_EVIDENCE',
        'ERR_NVIDIA_REPORT_SIGNATURE',
      ],
      [
        (await platform.createEvidence({ nonce: hexToBytes('ef'.repeat(32)) })).evidenceList,
        'ERR_VERIFY_NONCE_MISMATCH',
        'ERR_NVIDIA_NONCE_MISMATCH',
      ],
      [[{ evidence: 'x' }], 'ERR_VERIFY_GPU_EVIDENCE', 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
      ['not json', 'ERR_VERIFY_GPU_EVIDENCE', 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ];
    for (const [evidence, code, nvidiaCode] of cases) {
      const result = await run(accepted, { service: 'chutes', evidence: { gpu_evidence: evidence }, nonce });
      expect(result, String(code)).toMatchObject({ status: 'failed', code, evidence: { nvidiaCode } });
    }
  });

  it('builds the default from the policy, and turns off only by name', () => {
    expect(resolvePolicy().gpuVerifier?.name).toBe('nvidia-attestation');
    expect(resolvePolicy({ gpuVerifier: false }).gpuVerifier).toBeUndefined();
    expect(() => resolvePolicy({ gpuVerifier: 'nvidia' as never })).toThrow(TypeError);
    expect(() => resolvePolicy({ nvidiaRims: [42 as never] })).toThrow(TypeError);
  });
});
