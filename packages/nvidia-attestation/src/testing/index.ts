import { type Bytes, bytesToBase64, bytesToHex, utf8ToBytes } from '@confidential-ai/bytes';
import { sha384 } from '@noble/hashes/sha2.js';
import type { GpuEvidenceListEntry, NvidiaPayload } from '../evidence.js';
import { derToPem } from '../pem.js';
import {
  createTestCrl,
  createTestOcspResponse,
  type IssuedCertificate,
  issueCertificate,
  type TestCrlOptions,
  type TestOcspOptions,
  type Validity,
} from './pki.js';
import { createReport, encodeVbiosVersion } from './report.js';
import { createSignedRim, type TestRimContents, type TestRimEntry } from './rim.js';

export type { IssuedCertificate, TestCrlOptions, TestOcspOptions, TestOcspStatus, Validity } from './pki.js';
export type { TestRimContents, TestRimEntry } from './rim.js';
export { encodeVbiosVersion };

/** RIM indices whose reference values the driver RIM holds (the layout of NVIDIA's Hopper RIMs). */
export const TEST_DRIVER_INDICES: readonly number[] = [
  7,
  ...Array.from({ length: 20 }, (_, offset) => 21 + offset),
];
/** RIM indices whose reference values the VBIOS RIM holds. */
export const TEST_VBIOS_INDICES: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12];
/** Number of measurement blocks a Hopper report carries. */
export const TEST_MEASUREMENT_COUNT = 64;

/** Options of {@link createTestNvidiaPlatform}. */
export interface TestNvidiaPlatformOptions {
  /** Validity of the device chains. Default 2020-01-01 to 9999-12-31, like NVIDIA's. */
  deviceValidity?: Validity;
  /** Validity of the RIM signer chain. Default 2024-01-01 to 2099-12-31. */
  rimValidity?: Validity;
  /** Driver version the GPUs report. Default `570.86.15`. */
  driverVersion?: string;
  /** VBIOS version the GPUs report. Default `96.00.9F.00.01`. */
  vbiosVersion?: string;
}

/** Options of {@link TestGpu.createReport}. */
export interface TestReportOptions {
  /** The requester nonce the report answers (32 bytes). */
  nonce: Uint8Array;
  /** Measurement values of blocks 1..n (default {@link TestNvidiaPlatform.measurements}). */
  measurements?: readonly Uint8Array[];
  /** Driver version (default the platform's). */
  driverVersion?: string;
  /** VBIOS version (default the platform's). */
  vbiosVersion?: string;
  /** FWID in the opaque data: default the one in the GPU's certificate; `null` omits the field. */
  fwid?: Uint8Array | null;
  /** Zero bytes appended after the signature. Default 0. */
  trailingBytes?: number;
}

/** A simulated GPU: its device chain and attestation key. */
export interface TestGpu {
  /** Position on the platform. */
  readonly index: number;
  /** DER certificates, leaf (attestation key) first, test root last. */
  readonly certificateChain: readonly Bytes[];
  /** The same chain as PEM text. */
  readonly certificateChainPem: string;
  /** The firmware ID in the attestation certificate. */
  readonly fwid: Bytes;
  /** The attestation key certificate. */
  readonly leaf: IssuedCertificate;
  /** The per-GPU CA that issued it. */
  readonly brom: IssuedCertificate;
  /** Builds a report answering `options.nonce`, signed by the attestation key. */
  createReport(options: TestReportOptions): Promise<Bytes>;
}

/** Options of {@link TestNvidiaPlatform.createEvidence}. */
export interface TestEvidenceOptions extends Omit<TestReportOptions, 'nonce'> {
  /** The nonce every report answers. */
  nonce: Uint8Array;
  /** Number of GPUs (default 1). */
  gpuCount?: number;
}

/** Options of {@link TestNvidiaPlatform.createRevocation}. */
export interface TestRevocationOptions {
  /** `ocsp` (one response per certificate) or `crl` (one CRL per issuing CA). */
  mode: 'ocsp' | 'crl';
  /** thisUpdate. */
  thisUpdate: Date;
  /** nextUpdate. */
  nextUpdate: Date;
  /** Number of GPUs whose chains are covered (default 1). */
  gpuCount?: number;
  /** DER of certificates to report as revoked. */
  revoked?: readonly Uint8Array[];
  /** CRL reason for revoked certificates (6 = certificateHold). */
  reason?: number;
}

/** A synthetic NVIDIA-like attestation platform: test device root, RIM signer chain and simulated GPUs. */
export interface TestNvidiaPlatform {
  /** DER of the test device root; pass it as `root` to `verifyGpuEvidence`. Never NVIDIA's. */
  readonly deviceRoot: Bytes;
  /** The same root as PEM. */
  readonly deviceRootPem: string;
  /** DER of the test RIM root; pass it as `rimRoot`. */
  readonly rimRoot: Bytes;
  /** The same root as PEM. */
  readonly rimRootPem: string;
  /** The shared device CAs: root, identity CA, provisioner ICA (leaf-most last). */
  readonly deviceCas: readonly IssuedCertificate[];
  /** The RIM signer chain, signer first, root last. */
  readonly rimChain: readonly IssuedCertificate[];
  /** Driver version the GPUs report. */
  readonly driverVersion: string;
  /** VBIOS version the GPUs report. */
  readonly vbiosVersion: string;
  /** The measurement values (blocks 1..64) the GPUs report by default and the RIMs accept. */
  readonly measurements: readonly Bytes[];
  /** The GPU at `index` (created on first use, then the same one). */
  gpu(index: number): Promise<TestGpu>;
  /** Evidence of `gpuCount` GPUs answering one nonce, as `nvidia_payload` object and as SDK evidence list. */
  createEvidence(
    options: TestEvidenceOptions,
  ): Promise<{ payload: NvidiaPayload; evidenceList: GpuEvidenceListEntry[] }>;
  /** A driver and a VBIOS RIM accepting {@link TestNvidiaPlatform.measurements}, signed by the test RIM chain. */
  createRims(options?: {
    driverVersion?: string;
    vbiosVersion?: string;
    measurements?: readonly Uint8Array[];
  }): Promise<{
    driver: string;
    vbios: string;
  }>;
  /** A RIM with arbitrary entries, signed by the test RIM chain. */
  createRim(contents: TestRimContents): Promise<string>;
  /** OCSP responses or CRLs covering the device chains of `gpuCount` GPUs and the RIM chain. */
  createRevocation(options: TestRevocationOptions): Promise<{ ocsp: Bytes[]; crls: Bytes[] }>;
  /** An OCSP response about `subject` from `issuer` (or its delegated responder). */
  createOcspResponse(
    subject: Uint8Array,
    issuer: IssuedCertificate,
    options: TestOcspOptions,
  ): Promise<Bytes>;
  /** A CRL from `issuer`. */
  createCrl(issuer: IssuedCertificate, options: TestCrlOptions): Promise<Bytes>;
  /** A delegated OCSP responder certificate issued by `issuer`. */
  createOcspResponder(issuer: IssuedCertificate): Promise<IssuedCertificate>;
}

function measurementValue(index: number): Bytes {
  return sha384(utf8ToBytes(`test-gpu-measurement:${index}`));
}

/**
 * Creates a synthetic NVIDIA-like platform whose evidence, RIMs and revocation data are really signed (ECDSA
 * P-384) and shaped like NVIDIA's, so that fakes can serve GPU evidence. Every certificate says "TEST ONLY - not
 * NVIDIA"; `verifyGpuEvidence` accepts it only with the test roots passed as `root` / `rimRoot`, and its result
 * then reports `trust.deviceRoot.nvidia: false`.
 *
 * @example Imported from the `/testing` subpath:
 * ```ts
 * const platform = await createTestNvidiaPlatform();
 * const { payload } = await platform.createEvidence({ nonce, gpuCount: 8 });
 * const rims = await platform.createRims();
 * await verifyGpuEvidence(payload, { nonce, root: platform.deviceRoot, rimRoot: platform.rimRoot, rims: [rims.driver, rims.vbios] });
 * ```
 */
export async function createTestNvidiaPlatform(
  options: TestNvidiaPlatformOptions = {},
): Promise<TestNvidiaPlatform> {
  const deviceValidity = options.deviceValidity ?? {
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('9999-12-31T23:59:59Z'),
  };
  const rimValidity = options.rimValidity ?? {
    notBefore: new Date('2024-01-01T00:00:00Z'),
    notAfter: new Date('2099-12-31T23:59:59Z'),
  };
  const driverVersion = options.driverVersion ?? '570.86.15';
  const vbiosVersion = options.vbiosVersion ?? '96.00.9F.00.01';
  encodeVbiosVersion(vbiosVersion);
  const deviceRoot = await issueCertificate('TEST NVIDIA Device Identity CA', undefined, deviceValidity, {
    kind: 'ca',
  });
  const identity = await issueCertificate('TEST NVIDIA GH100 Identity', deviceRoot, deviceValidity, {
    kind: 'ca',
  });
  const provisioner = await issueCertificate(
    'TEST NVIDIA GH100 Provisioner ICA 1',
    identity,
    deviceValidity,
    {
      kind: 'ca',
    },
  );
  const rimRoot = await issueCertificate('TEST NVIDIA CoRIM signing Root CA', undefined, rimValidity, {
    kind: 'ca',
  });
  const rimCa = await issueCertificate('TEST NVIDIA Reference Value GH100 CA', rimRoot, rimValidity, {
    kind: 'ca',
  });
  const rimL3 = await issueCertificate('TEST NVIDIA Reference Value L3 GH100 001', rimCa, rimValidity, {
    kind: 'ca',
    pathLength: 0,
  });
  const rimSigner = await issueCertificate('TEST HCC RIM L4 Signer', rimL3, rimValidity, {
    kind: 'leaf',
    basicConstraints: true,
  });
  const rimChain = [rimSigner, rimL3, rimCa, rimRoot];
  const active = new Set([...TEST_DRIVER_INDICES, ...TEST_VBIOS_INDICES]);
  const measurements = Array.from({ length: TEST_MEASUREMENT_COUNT }, (_, block) =>
    active.has(block) ? measurementValue(block) : new Uint8Array(48),
  );

  const gpus = new Map<number, Promise<TestGpu>>();
  const makeGpu = async (index: number): Promise<TestGpu> => {
    const brom = await issueCertificate(`TEST GH100 A01 GSP BROM ${index}`, provisioner, deviceValidity, {
      kind: 'ca',
    });
    const fwid = sha384(utf8ToBytes(`test-gpu-fwid:${index}:${bytesToHex(brom.der.subarray(0, 16))}`));
    const leaf = await issueCertificate(`TEST GH100 A01 GSP FMC LF ${index}`, brom, deviceValidity, {
      kind: 'leaf',
      fwid,
    });
    const certificateChain = [leaf.der, brom.der, provisioner.der, identity.der, deviceRoot.der];
    return {
      index,
      certificateChain,
      certificateChainPem: certificateChain.map((der) => derToPem(der)).join(''),
      fwid,
      leaf,
      brom,
      createReport(report) {
        return createReport(
          {
            nonce: report.nonce,
            measurements: report.measurements ?? measurements,
            driverVersion: report.driverVersion ?? driverVersion,
            vbiosVersion: report.vbiosVersion ?? vbiosVersion,
            board: { project: '1010', projectSku: '0200', chipSku: '882' },
            ...(report.fwid === null ? {} : { fwid: report.fwid ?? fwid }),
            ...(report.trailingBytes === undefined ? {} : { trailingBytes: report.trailingBytes }),
          },
          leaf.keys.privateKey,
        );
      },
    };
  };
  const gpu = (index: number): Promise<TestGpu> => {
    if (!Number.isSafeInteger(index) || index < 0 || index > 63)
      throw new RangeError('GPU index must be 0..63');
    let found = gpus.get(index);
    if (found === undefined) {
      found = makeGpu(index);
      gpus.set(index, found);
    }
    return found;
  };
  const createRim = (contents: TestRimContents) => createSignedRim(contents, rimSigner, rimChain);
  const entries = (indices: readonly number[], values: readonly Uint8Array[]): TestRimEntry[] =>
    Array.from({ length: TEST_MEASUREMENT_COUNT }, (_, index) => {
      const isActive = indices.includes(index);
      return {
        index,
        active: isActive,
        values: [isActive ? (values[index] ?? new Uint8Array(48)) : new Uint8Array(48)],
      };
    });
  const createOcspResponder = (issuer: IssuedCertificate) =>
    issueCertificate(`TEST OCSP responder for ${issuer.name}`, issuer, deviceValidity, {
      kind: 'ocsp-responder',
    });

  return {
    deviceRoot: deviceRoot.der,
    deviceRootPem: derToPem(deviceRoot.der),
    rimRoot: rimRoot.der,
    rimRootPem: derToPem(rimRoot.der),
    deviceCas: [deviceRoot, identity, provisioner],
    rimChain,
    driverVersion,
    vbiosVersion,
    measurements,
    gpu,
    async createEvidence(evidenceOptions) {
      const count = evidenceOptions.gpuCount ?? 1;
      if (!Number.isSafeInteger(count) || count < 1 || count > 64)
        throw new RangeError('gpuCount must be 1..64');
      const { gpuCount: _count, ...reportOptions } = evidenceOptions;
      const evidenceList: GpuEvidenceListEntry[] = [];
      for (let index = 0; index < count; index++) {
        const device = await gpu(index);
        const report = await device.createReport(reportOptions);
        evidenceList.push({
          arch: 'HOPPER',
          certificate: bytesToBase64(utf8ToBytes(device.certificateChainPem)),
          evidence: bytesToBase64(report),
        });
      }
      return {
        payload: { nonce: bytesToHex(evidenceOptions.nonce), arch: 'HOPPER', evidence_list: evidenceList },
        evidenceList,
      };
    },
    async createRims(rimOptions = {}) {
      // RIM index n describes block n + 1, whose value is measurements[n].
      const values = rimOptions.measurements ?? measurements;
      return {
        driver: await createRim({
          version: rimOptions.driverVersion ?? driverVersion,
          entries: entries(TEST_DRIVER_INDICES, values),
        }),
        vbios: await createRim({
          version: rimOptions.vbiosVersion ?? vbiosVersion,
          entries: entries(TEST_VBIOS_INDICES, values),
        }),
      };
    },
    createRim,
    async createRevocation(revocation) {
      const revoked = new Set((revocation.revoked ?? []).map((der) => bytesToHex(der)));
      const status = (der: Uint8Array) =>
        (revoked.has(bytesToHex(der)) ? 'revoked' : 'good') as 'revoked' | 'good';
      const pairs: Array<[IssuedCertificate, IssuedCertificate]> = [
        [identity, deviceRoot],
        [provisioner, identity],
        [rimSigner, rimL3],
        [rimL3, rimCa],
        [rimCa, rimRoot],
      ];
      for (let index = 0; index < (revocation.gpuCount ?? 1); index++) {
        const device = await gpu(index);
        pairs.push([device.brom, provisioner], [device.leaf, device.brom]);
      }
      const window = { thisUpdate: revocation.thisUpdate, nextUpdate: revocation.nextUpdate };
      if (revocation.mode === 'ocsp') {
        const ocsp = await Promise.all(
          pairs.map(([subject, issuer]) =>
            createTestOcspResponse(subject.der, issuer, {
              ...window,
              status: status(subject.der),
              ...(revocation.reason === undefined ? {} : { reason: revocation.reason }),
            }),
          ),
        );
        return { ocsp, crls: [] };
      }
      const issuers = new Map<IssuedCertificate, IssuedCertificate[]>();
      for (const [subject, issuer] of pairs) issuers.set(issuer, [...(issuers.get(issuer) ?? []), subject]);
      const crls = await Promise.all(
        [...issuers].map(([issuer, subjects]) =>
          createTestCrl(issuer, {
            ...window,
            revoked: subjects
              .filter((subject) => status(subject.der) === 'revoked')
              .map((subject) => ({
                der: subject.der,
                ...(revocation.reason === undefined ? {} : { reason: revocation.reason }),
              })),
          }),
        ),
      );
      return { ocsp: [], crls };
    },
    createOcspResponse: createTestOcspResponse,
    createCrl: createTestCrl,
    createOcspResponder,
  };
}

/**
 * A getter for one platform per fake server: `given` when there is one, else a platform created on the first
 * call (key generation takes a moment, so servers that never serve GPU evidence never pay for it).
 */
export function lazyTestNvidiaPlatform(given?: TestNvidiaPlatform): () => Promise<TestNvidiaPlatform> {
  let platform: Promise<TestNvidiaPlatform> | undefined = given ? Promise.resolve(given) : undefined;
  return () => {
    platform ??= createTestNvidiaPlatform();
    return platform;
  };
}
