import { base64ToBytes, hexToBytes } from '@confidential-ai/bytes';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseGpuAttestationReport, verifyGpuEvidence } from '../src/index.js';
import { verifyRim } from '../src/rim.js';
import {
  createTestNvidiaPlatform,
  encodeVbiosVersion,
  lazyTestNvidiaPlatform,
  TEST_DRIVER_INDICES,
  type TestNvidiaPlatform,
} from '../src/testing/index.js';
import { resolveAnchor } from '../src/trust.js';
import { codeOf } from './code-of.js';
import { vector } from './vectors.js';

let platform: TestNvidiaPlatform;
const nonce = hexToBytes('5a'.repeat(32));
beforeAll(async () => {
  platform = await createTestNvidiaPlatform();
});

describe('the synthetic NVIDIA-like platform (never presented as real)', () => {
  it('serves real-shaped, really signed evidence that verifies only with its test roots, and says so', async () => {
    const { payload, evidenceList } = await platform.createEvidence({ nonce, gpuCount: 3 });
    expect(payload).toMatchObject({ nonce: '5a'.repeat(32), arch: 'HOPPER' });
    expect(evidenceList).toHaveLength(3);
    const rims = await platform.createRims();
    const result = await verifyGpuEvidence(JSON.stringify(payload), {
      nonce,
      root: platform.deviceRootPem,
      rimRoot: platform.rimRoot,
      rims: [rims.driver, rims.vbios],
    });
    expect(result.trust.deviceRoot).toMatchObject({
      nvidia: false,
      subject: 'O=TEST ONLY - not NVIDIA,CN=TEST NVIDIA Device Identity CA',
    });
    expect(result.trust.rimRoot).toMatchObject({ nvidia: false });
    expect(result.measurements).toBe('matched');
    expect(result.gpus.map((gpu) => gpu.measurements.compared)).toEqual([33, 33, 33]);
    expect(result.gpus[0]!.certificateChain).toHaveLength(5);
    expect(result.gpus[0]!.fwid).not.toBeNull();
    expect(await codeOf(() => verifyGpuEvidence(payload, { nonce }))).toBe('ERR_NVIDIA_CERT_CHAIN');
    expect(
      await codeOf(() =>
        verifyGpuEvidence(payload, { nonce, root: platform.deviceRoot, rims: [rims.driver, rims.vbios] }),
      ),
    ).toBe('ERR_NVIDIA_RIM_CERT_CHAIN');
  });

  it('reports have the Hopper layout', async () => {
    const gpu = await platform.gpu(0);
    const report = parseGpuAttestationReport(await gpu.createReport({ nonce, trailingBytes: 2 }));
    expect(report.response.blocks).toHaveLength(64);
    expect(report.opaque).toMatchObject({
      driverVersion: '570.86.15',
      vbiosVersion: '96.00.9F.00.01',
      project: '1010',
    });
    expect(report.trailingBytes).toBe(2);
    expect(report.opaque.fwid).toEqual(gpu.fwid);
    expect(
      parseGpuAttestationReport(await gpu.createReport({ nonce, fwid: null })).opaque.fwid,
    ).toBeUndefined();
    expect(await platform.gpu(0)).toBe(gpu);
    expect(() => platform.gpu(64)).toThrow(RangeError);
  });

  it('a changed measurement, another FWID, another nonce are refused', async () => {
    const gpu = await platform.gpu(0);
    const rims = await platform.createRims();
    const options = {
      nonce,
      root: platform.deviceRoot,
      rimRoot: platform.rimRoot,
      rims: [rims.driver, rims.vbios],
    };
    const changed = platform.measurements.map((value, index) =>
      index === TEST_DRIVER_INDICES[3] ? new Uint8Array(48).fill(1) : value,
    );
    const cases: Array<[Uint8Array, string]> = [
      [await gpu.createReport({ nonce, measurements: changed }), 'ERR_NVIDIA_MEASUREMENT_MISMATCH'],
      [await gpu.createReport({ nonce, fwid: new Uint8Array(48) }), 'ERR_NVIDIA_FWID_MISMATCH'],
      [await gpu.createReport({ nonce: new Uint8Array(32) }), 'ERR_NVIDIA_NONCE_MISMATCH'],
      [await gpu.createReport({ nonce, driverVersion: '570.86.16' }), 'ERR_NVIDIA_RIM_MISSING'],
    ];
    for (const [report, code] of cases) {
      expect(
        await codeOf(() => verifyGpuEvidence({ report, certificateChain: gpu.certificateChainPem }, options)),
      ).toBe(code);
    }
  });

  it('RIMs with conflicting or unknown entries', async () => {
    const rims = await platform.createRims();
    const conflicting = await platform.createRim({
      version: platform.vbiosVersion,
      entries: [
        {
          index: TEST_DRIVER_INDICES[0]!,
          active: true,
          values: [platform.measurements[TEST_DRIVER_INDICES[0]!]!],
        },
      ],
    });
    const { payload } = await platform.createEvidence({ nonce });
    const options = { nonce, root: platform.deviceRoot, rimRoot: platform.rimRoot };
    expect(
      await codeOf(() => verifyGpuEvidence(payload, { ...options, rims: [rims.driver, conflicting] })),
    ).toBe('ERR_NVIDIA_RIM_CONFLICT');
    const alternatives = await platform.createRim({
      version: platform.vbiosVersion,
      entries: [{ index: 0, active: true, values: [new Uint8Array(48).fill(7), platform.measurements[0]!] }],
    });
    const result = await verifyGpuEvidence(payload, { ...options, rims: [rims.driver, alternatives] });
    expect(result.gpus[0]!.measurements.compared).toBe(22);
  });

  it('RIM validity is checked at the verification time', async () => {
    const expiring = await createTestNvidiaPlatform({
      rimValidity: {
        notBefore: new Date('2024-01-01T00:00:00Z'),
        notAfter: new Date('2025-01-01T00:00:00Z'),
      },
    });
    const rims = await expiring.createRims();
    const { payload } = await expiring.createEvidence({ nonce });
    const options = {
      nonce,
      root: expiring.deviceRoot,
      rimRoot: expiring.rimRoot,
      rims: [rims.driver, rims.vbios],
    };
    expect((await verifyGpuEvidence(payload, { ...options, at: '2024-06-01T00:00:00Z' })).measurements).toBe(
      'matched',
    );
    expect(await codeOf(() => verifyGpuEvidence(payload, { ...options, at: '2025-06-01T00:00:00Z' }))).toBe(
      'ERR_NVIDIA_CERT_EXPIRED',
    );
  });

  it('encodes VBIOS versions as NVIDIA formats them', () => {
    expect(encodeVbiosVersion('96.00.5E.00.01')).toEqual(
      Uint8Array.of(0x00, 0x5e, 0x00, 0x96, 0x01, 0, 0, 0),
    );
    expect(() => encodeVbiosVersion('96.00')).toThrow(RangeError);
  });

  it('lazyTestNvidiaPlatform creates one platform on first use', async () => {
    const get = lazyTestNvidiaPlatform();
    expect(await get()).toBe(await get());
    expect(await lazyTestNvidiaPlatform(platform)()).toBe(platform);
  });

  it('the evidence list entries are base64 of the PEM chain and of the report', async () => {
    const { evidenceList } = await platform.createEvidence({ nonce });
    const pem = new TextDecoder().decode(base64ToBytes(evidenceList[0]!.certificate));
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(5);
    expect(base64ToBytes(evidenceList[0]!.evidence)[1]).toBe(0xe0);
  });
});

describe('the test platform signs RIMs byte-compatibly with xmlsec1', () => {
  it('verifies the very bytes xmlsec1 verified', async () => {
    const sample = vector<{ rimRoot: string; rim: string }>('synthetic-rim-xmlsec1.json');
    const anchor = resolveAnchor(sample.rimRoot, 'rim', 'root');
    const rim = await verifyRim(sample.rim, {
      anchor,
      at: new Date('2030-01-01T00:00:00Z'),
      what: 'RIM',
      memo: new Map(),
    });
    expect(rim.version).toBe('570.86.15');
    const changed = sample.rim.replace('active="False"', 'active="True"');
    expect(changed).not.toBe(sample.rim);
    expect(
      await codeOf(() =>
        verifyRim(changed, { anchor, at: new Date('2030-01-01T00:00:00Z'), what: 'RIM', memo: new Map() }),
      ),
    ).toBe('ERR_NVIDIA_RIM_SIGNATURE');
  });
});
