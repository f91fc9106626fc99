import { verify as nodeVerify, X509Certificate } from 'node:crypto';
import { NvidiaAttestationError, verifyGpuEvidence } from '@confidential-ai/nvidia-attestation';
import { describe, expect, it } from 'vitest';
import { SIMULATED_GPU_EVIDENCE_WARNING, simulatedGpuPlatform } from '../src/attestation.js';
import { AUTH, createTestApp } from './helpers.js';

// The simulated vllm-proxy report (D11) carries real-shaped GPU evidence (§5.4), really signed by simulated GPUs
// under a TEST root and bound to the report's nonce, so that clients run the whole GPU verification.

async function report(nonce?: string): Promise<Record<string, unknown>> {
  const { app } = createTestApp();
  const response = await app.request(`/v1/attestation/report${nonce ? `?nonce=${nonce}` : ''}`, {
    headers: AUTH,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe('the simulated report’s nvidia_payload', () => {
  it('is a JSON string of TEST evidence, clearly marked, bound to the nonce, verifying only against the TEST root', async () => {
    const nonce = 'cd'.repeat(32);
    const body = await report(nonce);
    expect(typeof body.nvidia_payload).toBe('string');
    const payload = JSON.parse(body.nvidia_payload as string) as {
      nonce: string;
      arch: string;
      simulated: boolean;
      warning: string;
      evidence_list: Array<{ certificate: string; evidence: string; arch: string }>;
    };
    expect(payload).toMatchObject({
      nonce,
      arch: 'HOPPER',
      simulated: true,
      warning: SIMULATED_GPU_EVIDENCE_WARNING,
    });
    expect(payload.warning).toContain('TEST');
    expect(String(body.warning)).toContain('TEST root (not NVIDIA)');
    expect(payload.evidence_list).toHaveLength(1);

    // Independently of nvidia-attestation (node:crypto): the SPDM request nonce is the report's nonce, the chain
    // ends at a self-signed TEST root, and the attestation key signed request ‖ response.
    const entry = payload.evidence_list[0]!;
    const spdm = Buffer.from(entry.evidence, 'base64');
    expect(spdm.subarray(4, 36).toString('hex')).toBe(nonce);
    const chain = Buffer.from(entry.certificate, 'base64')
      .toString('utf8')
      .split(/(?<=-----END CERTIFICATE-----\n?)/)
      .filter((part) => part.includes('BEGIN'))
      .map((part) => new X509Certificate(part));
    const root = chain[chain.length - 1]!;
    expect(root.subject).toContain('TEST NVIDIA Device Identity CA');
    expect(root.verify(root.publicKey)).toBe(true);
    expect(
      nodeVerify(
        'sha384',
        spdm.subarray(0, spdm.length - 96),
        { key: chain[0]!.publicKey, dsaEncoding: 'ieee-p1363' },
        spdm.subarray(spdm.length - 96),
      ),
    ).toBe(true);

    const platform = await simulatedGpuPlatform();
    expect(root.raw.equals(Buffer.from(platform.deviceRoot))).toBe(true);
    const result = await verifyGpuEvidence(body.nvidia_payload as string, {
      nonce,
      root: platform.deviceRoot,
    });
    expect(result.format).toBe('nvidia-payload');
    expect(result.trust.deviceRoot.nvidia).toBe(false);
    // Never against NVIDIA's pinned root, and never for another nonce.
    await expect(verifyGpuEvidence(body.nvidia_payload as string, { nonce })).rejects.toSatisfy(
      (error: unknown) => NvidiaAttestationError.isInstance(error) && error.code === 'ERR_NVIDIA_CERT_CHAIN',
    );
    await expect(
      verifyGpuEvidence(body.nvidia_payload as string, { nonce: 'ef'.repeat(32), root: platform.deviceRoot }),
    ).rejects.toSatisfy(
      (error: unknown) =>
        NvidiaAttestationError.isInstance(error) && error.code === 'ERR_NVIDIA_NONCE_MISMATCH',
    );
  });

  it('answers a fresh random nonce when none is given, the same simulated GPU every time', async () => {
    const [first, second] = [await report(), await report()];
    const nonces = [first, second].map((body) => String(body.request_nonce));
    expect(nonces[0]).not.toBe(nonces[1]);
    const platform = await simulatedGpuPlatform();
    const leaves = [];
    for (const [index, body] of [first, second].entries()) {
      const result = await verifyGpuEvidence(body.nvidia_payload as string, {
        nonce: nonces[index]!,
        root: platform.deviceRoot,
      });
      leaves.push(result.gpus[0]!.certificateChain[0]!.sha256);
    }
    expect(leaves[0]).toBe(leaves[1]);
  });
});
