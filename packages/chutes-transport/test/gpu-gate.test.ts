import { createHash, verify as nodeVerify, X509Certificate } from 'node:crypto';
import {
  type GpuEvidenceListEntry,
  NvidiaAttestationError,
  verifyGpuEvidence,
} from '@confidential-ai/nvidia-attestation';
import {
  createTestNvidiaPlatform,
  type TestNvidiaPlatform,
} from '@confidential-ai/nvidia-attestation/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ChutesTransportError,
  createTdxEvidenceFilter,
  type GpuEvidenceGateOptions,
  type InstanceGateResult,
} from '../src/index.js';
import type { FakeGpuEvidenceVariant } from '../src/testing/index.js';
import { API_KEY, type Harness, MODEL, startHarness } from './helpers.js';

// The attestation gate's GPU step: each Chutes instance's `gpu_evidence` (an nvtrust SDK evidence list) verified
// with nvidia-attestation, bound to SHA-256(nonce_hex ‖ e2e_pubkey), through the real OpenAI SDK over loopback.

let harness: Harness | undefined;
let platform: TestNvidiaPlatform;

beforeAll(async () => {
  platform = await createTestNvidiaPlatform();
});

afterEach(async () => {
  await harness?.server.close();
  harness = undefined;
});

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

interface EvidenceAnswer {
  evidence: Array<{
    instance_id: string;
    quote: string;
    gpu_evidence: GpuEvidenceListEntry[];
    gpu_tokens: unknown;
  }>;
}

async function evidenceFor(server: Harness['server'], nonce: string): Promise<EvidenceAnswer> {
  const response = await fetch(`${server.url}/chutes/${server.chutes[0]!.chuteId}/evidence?nonce=${nonce}`, {
    headers: { authorization: `Bearer ${API_KEY}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as EvidenceAnswer;
}

/** Starts the fake and a gated client; returns the gate's verdicts of every discovery. */
async function gated(
  gpu: GpuEvidenceGateOptions,
  serverOptions: { gpusPerInstance?: number } = {},
): Promise<{ results: InstanceGateResult[] }> {
  const results: InstanceGateResult[] = [];
  harness = await startHarness(
    { instancesPerChute: 2, nvidiaPlatform: platform, ...serverOptions },
    { instanceFilter: createTdxEvidenceFilter({ gpu, onResult: (result) => results.push(result) }) },
  );
  return { results };
}

async function ask(content: string): Promise<string> {
  const reply = await harness!.client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content }],
  });
  return reply.choices[0]?.message.content ?? '';
}

describe('the fake server serves real-shaped GPU evidence', () => {
  it('one nvtrust SDK entry per GPU, each report signed and bound to SHA-256(nonce ‖ e2e_pubkey)', async () => {
    harness = await startHarness({ instancesPerChute: 2, nvidiaPlatform: platform, gpusPerInstance: 2 });
    const nonce = 'a1'.repeat(32);
    const answer = await evidenceFor(harness.server, nonce);
    expect(answer.evidence).toHaveLength(2);
    const certificates = new Set<string>();
    for (const entry of answer.evidence) {
      const instance = harness.server.chutes[0]!.instances.find(
        (item) => item.instanceId === entry.instance_id,
      )!;
      const digest = sha256Hex(nonce + instance.e2ePubkey);
      expect(entry.gpu_evidence).toHaveLength(2);
      for (const gpu of entry.gpu_evidence) {
        // The keys chutes-nvattest insists on, and nothing else.
        expect(Object.keys(gpu).sort()).toEqual(['arch', 'certificate', 'evidence']);
        expect(gpu.arch).toBe('HOPPER');
        certificates.add(gpu.certificate!);
        // Independently of nvidia-attestation, with node:crypto: the SPDM request nonce (bytes 4..36 of
        // GET_MEASUREMENTS) is the digest, the chain links verify, and the leaf key signed request ‖ response.
        const report = Buffer.from(gpu.evidence!, 'base64');
        expect(report.subarray(4, 36).toString('hex')).toBe(digest);
        const pem = Buffer.from(gpu.certificate!, 'base64').toString('utf8');
        const chain = pem
          .split(/(?<=-----END CERTIFICATE-----\n?)/)
          .filter((part) => part.includes('BEGIN'))
          .map((part) => new X509Certificate(part));
        expect(chain).toHaveLength(5);
        for (let index = 0; index + 1 < chain.length; index++)
          expect(chain[index]!.verify(chain[index + 1]!.publicKey)).toBe(true);
        expect(chain[4]!.subject).toContain('TEST');
        const signed = report.subarray(0, report.length - 96);
        const signature = report.subarray(report.length - 96);
        expect(
          nodeVerify('sha384', signed, { key: chain[0]!.publicKey, dsaEncoding: 'ieee-p1363' }, signature),
        ).toBe(true);
      }
      const verification = await verifyGpuEvidence(entry.gpu_evidence, {
        nonce: digest,
        root: await harness.server.nvidiaRoot(),
      });
      expect(verification.format).toBe('evidence-list');
      expect(verification.trust.deviceRoot.nvidia).toBe(false);
      // NVIDIA's pinned root does not anchor it.
      await expect(verifyGpuEvidence(entry.gpu_evidence, { nonce: digest })).rejects.toSatisfy(
        (error: unknown) =>
          NvidiaAttestationError.isInstance(error) && error.code === 'ERR_NVIDIA_CERT_CHAIN',
      );
    }
    // Every instance has its own GPUs.
    expect(certificates.size).toBe(4);
    expect(Buffer.from(await harness.server.nvidiaRoot())).toEqual(Buffer.from(platform.deviceRoot));
  });
});

describe('attestation gate with GPU evidence (gpu option)', () => {
  it('keeps instances whose GPU evidence verifies against the explicitly trusted TEST root', async () => {
    const { results } = await gated({ root: platform.deviceRoot }, { gpusPerInstance: 2 });
    expect(await ask('gpu attested')).toContain('gpu attested');
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result).toMatchObject({
        kept: true,
        gpu: {
          status: 'verified',
          gpuCount: 2,
          measurements: 'not-compared',
          deviceRoot: {
            nvidia: false,
            sha256: createHash('sha256').update(platform.deviceRoot).digest('hex'),
          },
        },
      });
      expect(result.gpu?.deviceRoot?.subject).toContain('TEST NVIDIA Device Identity CA');
    }
  });

  it('drops every instance with the default NVIDIA root (the TEST root is never trusted implicitly)', async () => {
    const { results } = await gated({});
    await expect(
      harness!.fetch(`${harness!.server.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      }),
    ).rejects.toSatisfy(
      (error: unknown) =>
        ChutesTransportError.isInstance(error) && error.code === 'ERR_INSTANCE_FILTER_EMPTY',
    );
    expect(results.map((result) => [result.kept, result.code, result.cause])).toEqual([
      [false, 'ERR_GATE_GPU_EVIDENCE', 'ERR_NVIDIA_CERT_CHAIN'],
      [false, 'ERR_GATE_GPU_EVIDENCE', 'ERR_NVIDIA_CERT_CHAIN'],
    ]);
    expect(harness!.server.nonceLog).toHaveLength(0);
  });

  it.each([
    ['tampered-report', 'ERR_GATE_GPU_EVIDENCE', 'ERR_NVIDIA_REPORT_SIGNATURE'],
    ['wrong-nonce', 'ERR_GATE_GPU_EVIDENCE', 'ERR_NVIDIA_NONCE_MISMATCH'],
    ['untrusted-root', 'ERR_GATE_GPU_EVIDENCE', 'ERR_NVIDIA_CERT_CHAIN'],
    ['malformed', 'ERR_GATE_GPU_EVIDENCE', 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['missing', 'ERR_GATE_GPU_EVIDENCE_MISSING', undefined],
  ] as const)(
    'drops the instance whose evidence is %s (%s %s) and keeps the honest one',
    async (variant, code, cause) => {
      const { results } = await gated({ root: platform.deviceRoot });
      const [honest, victim] = harness!.server.chutes[0]!.instances;
      harness!.server.inject({
        type: 'gpu-evidence-bad',
        variant: variant as FakeGpuEvidenceVariant,
        instanceId: victim!.instanceId,
      });
      for (let index = 0; index < 3; index++) expect(await ask(`q${index}`)).toContain(`q${index}`);
      expect(harness!.server.faults).toHaveLength(0);
      const byId = new Map(results.map((result) => [result.instanceId, result]));
      expect(byId.get(honest!.instanceId)).toMatchObject({ kept: true, gpu: { status: 'verified' } });
      expect(byId.get(victim!.instanceId)).toMatchObject({ kept: false, code, ...(cause ? { cause } : {}) });
      // The bad instance's GPU tokens still claimed success: the gate did not consult them.
      expect(harness!.server.nonceLog.every((entry) => entry.instanceId === honest!.instanceId)).toBe(true);
    },
  );

  it('keeps an instance without GPU evidence only when GPU evidence is not required', async () => {
    const { results } = await gated({ root: platform.deviceRoot, required: false }, { gpusPerInstance: 0 });
    expect(await ask('no gpu')).toContain('no gpu');
    expect(results.every((result) => result.kept && result.gpu?.status === 'absent')).toBe(true);
  });

  it('compares the measurements with RIMs given as collateral, and fails a policy that requires them', async () => {
    const rims = await platform.createRims();
    const { results } = await gated({
      root: platform.deviceRoot,
      rimRoot: platform.rimRoot,
      rims: [rims.driver, rims.vbios],
      requireMeasurements: true,
    });
    await ask('measured');
    expect(results.every((result) => result.kept && result.gpu?.measurements === 'matched')).toBe(true);
    await harness!.server.close();

    const other = await gated({ root: platform.deviceRoot, requireMeasurements: true });
    await expect(ask('unmeasured')).rejects.toThrow();
    expect(other.results.map((result) => result.cause)).toEqual(['ERR_NVIDIA_POLICY', 'ERR_NVIDIA_POLICY']);
    await harness!.server.close();

    // A RIM whose reference values differ from what the GPUs report.
    const wrong = await platform.createRims({
      measurements: platform.measurements.map(() => new Uint8Array(48)),
    });
    const mismatch = await gated({
      root: platform.deviceRoot,
      rimRoot: platform.rimRoot,
      rims: [wrong.driver, wrong.vbios],
    });
    await expect(ask('mismatch')).rejects.toThrow();
    expect(mismatch.results.map((result) => result.cause)).toEqual([
      'ERR_NVIDIA_MEASUREMENT_MISMATCH',
      'ERR_NVIDIA_MEASUREMENT_MISMATCH',
    ]);
  });

  it('reports every dropped instance when the evidence call fails', async () => {
    const results: InstanceGateResult[] = [];
    harness = await startHarness(
      { instancesPerChute: 2 },
      {
        instanceFilter: createTdxEvidenceFilter({ gpu: {}, onResult: (result) => results.push(result) }),
      },
    );
    harness.server.inject({ type: 'rate-limit', path: 'evidence' });
    await expect(ask('x')).rejects.toThrow();
    expect(results.map((result) => result.code)).toEqual([
      'ERR_GATE_EVIDENCE_UNAVAILABLE',
      'ERR_GATE_EVIDENCE_UNAVAILABLE',
    ]);
  });
});
