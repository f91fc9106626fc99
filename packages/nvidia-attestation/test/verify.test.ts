import { base64ToBytes, bytesToBase64, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  NVIDIA_DEVICE_IDENTITY_ROOT_SHA256,
  NVIDIA_RIM_ROOT_SHA256,
  nvidiaDeviceIdentityRootDer,
  nvidiaRimRootDer,
  type VerifyGpuEvidenceOptions,
  verifyGpuEvidence,
} from '../src/index.js';
import { codeOf } from './code-of.js';
import { hgx, hopper545, hopper550, hopper580 } from './vectors.js';

const raw545 = { report: hopper545.report, certificateChain: hopper545.certificateChain };
const rims545 = [hopper545.driverRim, hopper545.vbiosRim];

describe('real GPU evidence verifies with its chain and RIMs', () => {
  it('H100, driver 545.00 / VBIOS 96.00.5E.00.01: signature, chain to the pinned NVIDIA root, nonce, 33 reference values', async () => {
    const result = await verifyGpuEvidence(raw545, {
      nonce: hopper545.nonce,
      at: hopper545.at,
      rims: rims545,
    });
    expect(result).toMatchObject({
      format: 'raw-report',
      nonce: hopper545.nonce,
      measurements: 'matched',
      revocation: 'not-checked',
      trust: {
        deviceRoot: { sha256: NVIDIA_DEVICE_IDENTITY_ROOT_SHA256, nvidia: true },
        rimRoot: { sha256: NVIDIA_RIM_ROOT_SHA256, nvidia: true },
      },
      verifiedAt: hopper545.at.replace('Z', '.000Z'),
    });
    const [gpu] = result.gpus;
    expect(gpu).toMatchObject({
      arch: 'HOPPER',
      hwmodel: 'GH100 A01 GSP BROM',
      ueid: '50948c723fc935c7bd14b7c22833dfbe1dfd1145',
      driverVersion: '545.00',
      vbiosVersion: '96.00.5E.00.01',
      board: { project: '1010', projectSku: '0200', chipSku: '882' },
      fwid: null,
      measurements: { status: 'matched', compared: 33, driverRim: '545.00', vbiosRim: '96.00.5E.00.01' },
    });
    expect(gpu!.certificateChain.map((certificate) => certificate.subject)).toEqual([
      'CN=GH100 A01 GSP FMC LF,O=NVIDIA Corporation,C=US,serialNumber=50948C723FC935C7BD14B7C22833DFBE1DFD1145',
      'CN=GH100 A01 GSP BROM,O=NVIDIA Corporation,C=US,serialNumber=41FFEEB20009E0BE49',
      'C=US,O=NVIDIA Corporation,CN=NVIDIA GH100 Provisioner ICA 1',
      'O=NVIDIA Corporation,CN=NVIDIA GH100 Identity',
      'O=NVIDIA,CN=NVIDIA Device Identity CA',
    ]);
    expect(result.rims.map((rim) => [rim.version, rim.signer])).toEqual([
      ['545.00', 'CN=HCC RIM L4 Signer,O=NVIDIA Corporation,L=Santa Clara,ST=CA,C=US'],
      ['96.00.5E.00.01', 'CN=HCC RIM L4 Signer,O=NVIDIA Corporation,L=Santa Clara,ST=CA,C=US'],
    ]);
  });

  it('without RIMs the verdict says the measurements were not compared', async () => {
    const result = await verifyGpuEvidence(raw545, { nonce: hopper545.nonce });
    expect(result.measurements).toBe('not-compared');
    expect(result.gpus[0]!.measurements).toEqual({
      status: 'not-compared',
      compared: 0,
      driverRim: null,
      vbiosRim: null,
    });
    expect(result.trust.rimRoot).toBeNull();
    // A RIM root without RIMs anchors nothing, so the result does not name it.
    const withRoot = await verifyGpuEvidence(raw545, { nonce: hopper545.nonce, rimRoot: nvidiaRimRootDer() });
    expect(withRoot.trust.rimRoot).toBeNull();
  });

  it('H100, driver 550.90.07: FWID in the report equals the attestation certificate’s', async () => {
    const result = await verifyGpuEvidence(
      { report: hopper550.report, certificateChain: hopper550.certificateChain },
      { nonce: hopper550.nonce },
    );
    expect(result.gpus[0]).toMatchObject({ driverVersion: '550.90.07', vbiosVersion: '96.00.9F.00.01' });
    expect(result.gpus[0]!.fwid).toMatch(/^f5c384ae/);
  });

  it('H100, driver 580.95.05 (Confidential Containers capture with one zero byte after the signature)', async () => {
    const result = await verifyGpuEvidence(
      { report: hexToBytes(hopper580.report), certificateChain: hopper580.certificateChain },
      { nonce: hopper580.nonce },
    );
    expect(result.gpus[0]!.report.trailingBytes).toBe(1);
    expect(result.gpus[0]!.driverVersion).toBe('580.95.05');
  });

  it('8-GPU HGX system, SDK evidence list and the same as an nvidia_payload string', async () => {
    const list = await verifyGpuEvidence(hgx.evidenceList, { nonce: hgx.nonce, expectedGpuCount: 8 });
    expect(list.gpus).toHaveLength(8);
    expect(new Set(list.gpus.map((gpu) => gpu.ueid)).size).toBe(8);
    expect(
      list.gpus.every((gpu) => gpu.state.featureFlag === 'PPCIE' && gpu.driverVersion === '590.12'),
    ).toBe(true);
    const payload = JSON.stringify({ nonce: hgx.nonce, arch: 'HOPPER', evidence_list: hgx.evidenceList });
    const embedded = await verifyGpuEvidence(payload, { nonce: hexToBytes(hgx.nonce) });
    expect(embedded.format).toBe('nvidia-payload');
    expect(embedded.gpus.map((gpu) => gpu.ueid)).toEqual(list.gpus.map((gpu) => gpu.ueid));
  });

  it('with nonce: null the binding is skipped and the result says so', async () => {
    const result = await verifyGpuEvidence(raw545, { nonce: null });
    expect(result.nonce).toBeNull();
  });
});

describe('real evidence, refused', () => {
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    [
      'another nonce',
      () => verifyGpuEvidence(raw545, { nonce: hopper550.nonce }),
      'ERR_NVIDIA_NONCE_MISMATCH',
    ],
    [
      'nvidia_payload.nonce differs from the expected nonce',
      () =>
        verifyGpuEvidence({ nonce: hopper550.nonce, evidence_list: hgx.evidenceList } as never, {
          nonce: hgx.nonce,
        }),
      'ERR_NVIDIA_NONCE_MISMATCH',
    ],
    [
      'an evidence-list entry claims another nonce than its report',
      () =>
        verifyGpuEvidence([{ ...hgx.evidenceList[0]!, nonce: hopper545.nonce }] as never, { nonce: null }),
      'ERR_NVIDIA_NONCE_MISMATCH',
    ],
    [
      'an entry claims another driver version than its report',
      () =>
        verifyGpuEvidence([{ ...hgx.evidenceList[0]!, driver_version: '590.13' }] as never, {
          nonce: hgx.nonce,
        }),
      'ERR_NVIDIA_EVIDENCE_MALFORMED',
    ],
    [
      'the same GPU listed twice',
      () => verifyGpuEvidence([hgx.evidenceList[0]!, hgx.evidenceList[0]!] as never, { nonce: hgx.nonce }),
      'ERR_NVIDIA_POLICY',
    ],
    [
      'another GPU count than expected',
      () => verifyGpuEvidence(hgx.evidenceList, { nonce: hgx.nonce, expectedGpuCount: 4 }),
      'ERR_NVIDIA_POLICY',
    ],
    [
      'an unsupported architecture',
      () =>
        verifyGpuEvidence([{ ...hgx.evidenceList[0]!, arch: 'BLACKWELL' }] as never, { nonce: hgx.nonce }),
      'ERR_NVIDIA_EVIDENCE_UNSUPPORTED',
    ],
    [
      'a chain with a missing link (go-nvtrust invalidCertChain)',
      () =>
        verifyGpuEvidence(
          { ...raw545, certificateChain: hopper545.invalidCertificateChain },
          { nonce: hopper545.nonce },
        ),
      'ERR_NVIDIA_CERT_CHAIN',
    ],
    ...Object.entries(hopper550.truncatedChains).map(
      ([name, chain]): [string, () => Promise<unknown>, string] => [
        `a truncated chain (trustee ${name})`,
        () =>
          verifyGpuEvidence(
            { report: hopper550.report, certificateChain: chain },
            { nonce: hopper550.nonce },
          ),
        'ERR_NVIDIA_CERT_CHAIN',
      ],
    ),
    [
      'another GPU’s chain',
      () =>
        verifyGpuEvidence(
          { report: hopper545.report, certificateChain: hopper550.certificateChain },
          { nonce: hopper545.nonce },
        ),
      'ERR_NVIDIA_REPORT_SIGNATURE',
    ],
    [
      'a chain whose FWID differs from the report’s',
      () =>
        verifyGpuEvidence(
          { report: hopper550.report, certificateChain: hopper580.certificateChain },
          { nonce: hopper550.nonce },
        ),
      'ERR_NVIDIA_FWID_MISMATCH',
    ],
    [
      'a trust anchor that is not NVIDIA’s',
      () => verifyGpuEvidence(raw545, { nonce: hopper545.nonce, root: otherRoot() }),
      'ERR_NVIDIA_CERT_CHAIN',
    ],
    [
      'RIMs outside their validity (today)',
      () => verifyGpuEvidence(raw545, { nonce: hopper545.nonce, at: '2026-12-01T00:00:00Z', rims: rims545 }),
      'ERR_NVIDIA_CERT_EXPIRED',
    ],
    [
      'RIMs before their validity',
      () => verifyGpuEvidence(raw545, { nonce: hopper545.nonce, at: '2023-01-01T00:00:00Z', rims: rims545 }),
      'ERR_NVIDIA_CERT_EXPIRED',
    ],
    [
      'device certificates before their validity',
      () => verifyGpuEvidence(raw545, { nonce: hopper545.nonce, at: '2021-01-01T00:00:00Z' }),
      'ERR_NVIDIA_CERT_EXPIRED',
    ],
    [
      'the production VBIOS RIM of the same version (different FSP values)',
      () =>
        verifyGpuEvidence(raw545, {
          nonce: hopper545.nonce,
          at: hopper545.at,
          rims: [hopper545.driverRim, hopper545.productionVbiosRim],
        }),
      'ERR_NVIDIA_MEASUREMENT_MISMATCH',
    ],
    [
      'RIMs for other versions',
      () =>
        verifyGpuEvidence(
          { report: hopper550.report, certificateChain: hopper550.certificateChain },
          { nonce: hopper550.nonce, at: hopper545.at, rims: rims545 },
        ),
      'ERR_NVIDIA_RIM_MISSING',
    ],
    [
      'a driver RIM only',
      () =>
        verifyGpuEvidence(raw545, { nonce: hopper545.nonce, at: hopper545.at, rims: [hopper545.driverRim] }),
      'ERR_NVIDIA_RIM_MISSING',
    ],
    [
      'two different RIMs of one version',
      () =>
        verifyGpuEvidence(raw545, {
          nonce: hopper545.nonce,
          at: hopper545.at,
          rims: [...rims545, hopper545.productionVbiosRim],
        }),
      'ERR_NVIDIA_RIM_CONFLICT',
    ],
    [
      'a RIM trust anchor that is not NVIDIA’s',
      () =>
        verifyGpuEvidence(raw545, {
          nonce: hopper545.nonce,
          at: hopper545.at,
          rims: rims545,
          rimRoot: nvidiaDeviceIdentityRootDer(),
        }),
      'ERR_NVIDIA_RIM_CERT_CHAIN',
    ],
    [
      'measurements required but no RIMs',
      () => verifyGpuEvidence(raw545, { nonce: hopper545.nonce, requireMeasurements: true }),
      'ERR_NVIDIA_POLICY',
    ],
    [
      'revocation required but no OCSP response or CRL',
      () => verifyGpuEvidence(raw545, { nonce: hopper545.nonce, requireRevocation: true }),
      'ERR_NVIDIA_REVOCATION_MISSING',
    ],
  ];
  for (const [name, run, code] of cases) it(name, async () => expect(await codeOf(run)).toBe(code));

  it('names the GPU that failed', async () => {
    const list = [...hgx.evidenceList];
    const report = base64ToBytes(list[5]!.evidence);
    report[report.length - 10]! ^= 1;
    list[5] = { ...list[5]!, evidence: bytesToBase64(report) };
    const error = await verifyGpuEvidence(list as never, { nonce: hgx.nonce }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'ERR_NVIDIA_REPORT_SIGNATURE', gpuIndex: 5 });
    expect((error as Error).message).toMatch(/^GPU 5: /);
  });
});

describe('arguments', () => {
  const bad: Array<[string, VerifyGpuEvidenceOptions | undefined, ErrorConstructor]> = [
    ['options missing', undefined, TypeError],
    ['nonce missing', {} as VerifyGpuEvidenceOptions, TypeError],
    ['nonce not hex', { nonce: 'xyz' }, TypeError],
    ['nonce of 16 bytes', { nonce: new Uint8Array(16) }, RangeError],
    ['nonce of another type', { nonce: 5 as never }, TypeError],
    ['invalid time', { nonce: null, at: 'yesterday' }, RangeError],
    ['root that is not a certificate', { nonce: null, root: 'not pem' }, TypeError],
    ['root of another type', { nonce: null, root: 7 as never }, TypeError],
    ['rims not an array', { nonce: null, rims: 'x' as never }, TypeError],
    ['GPU count zero', { nonce: null, expectedGpuCount: 0 }, RangeError],
    ['ocsp not an array', { nonce: null, ocsp: 'x' as never }, TypeError],
  ];
  for (const [name, options, type] of bad) {
    it(name, async () => {
      await expect(verifyGpuEvidence(raw545, options as VerifyGpuEvidenceOptions)).rejects.toThrow(type);
    });
  }
  it('accepts a PEM root and times as numbers', async () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${bytesToBase64(nvidiaDeviceIdentityRootDer())}\n-----END CERTIFICATE-----\n`;
    const result = await verifyGpuEvidence(raw545, {
      nonce: hopper545.nonce,
      root: pem,
      at: Date.parse(hopper545.at),
    });
    expect(result.trust.deviceRoot.nvidia).toBe(true);
    await verifyGpuEvidence(raw545, {
      nonce: hopper545.nonce,
      rims: [utf8ToBytes(hopper545.driverRim), hopper545.vbiosRim],
      at: hopper545.at,
    });
  });
});

/** A real CA certificate that is not the pinned anchor: the chain's GH100 Identity CA. */
function otherRoot(): Uint8Array {
  const chain = hopper545.certificateChain.match(
    /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g,
  )!;
  return base64ToBytes(chain[3]!.replace(/-----[A-Z ]+-----|\s/g, ''));
}
