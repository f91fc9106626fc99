import { base64ToBytes, bytesToHex, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  formatVbiosVersion,
  NvidiaAttestationError,
  parseGpuAttestationReport,
  parseGpuEvidence,
  parseOpaqueData,
} from '../src/index.js';
import { hgx, hopper545, hopper550, hopper580, vector } from './vectors.js';

interface ParsedByPython {
  name: string;
  requestNonce: string;
  slotId: number;
  responderNonce: string;
  blockCount: number;
  blocks: Record<string, string>;
  valueTypes: number[];
  opaqueFields: Record<string, string>;
  driverVersion: string;
  vbiosVersion: string;
  signature: string;
  signedLength: number;
  trailingBytes: number;
  leafSerial: string;
  leafFwid: string | null;
}

const python = vector<{ reports: ParsedByPython[] }>('spdm-parsed-python.json').reports;

function reportsByName(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>([
    ['hopper-545-go-nvtrust', hexToBytes(hopper545.report)],
    ['hopper-550-nvtrust', hexToBytes(hopper550.report)],
    ['hopper-580-trustee', hexToBytes(hopper580.report)],
  ]);
  hgx.evidenceList.forEach((entry, index) => {
    out.set(`hgx-8gpu-ppcie-nvtrust[${index}]`, base64ToBytes(entry.evidence));
  });
  return out;
}

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'OK';
  } catch (error) {
    if (NvidiaAttestationError.isInstance(error)) return error.code;
    throw error;
  }
}

describe('parseGpuAttestationReport on real reports, against an independent parser (pyca/cryptography script)', () => {
  const reports = reportsByName();
  it('covers every report of the vectors', () => {
    expect(python.map((entry) => entry.name).sort()).toEqual([...reports.keys()].sort());
  });
  for (const expected of python) {
    it(expected.name, () => {
      const report = parseGpuAttestationReport(reports.get(expected.name)!);
      expect(bytesToHex(report.request.nonce)).toBe(expected.requestNonce);
      expect(report.request.slotId).toBe(expected.slotId);
      expect(bytesToHex(report.response.responderNonce)).toBe(expected.responderNonce);
      expect(report.response.blocks).toHaveLength(expected.blockCount);
      expect(
        Object.fromEntries(
          report.response.blocks.map((block) => [String(block.index), bytesToHex(block.value)]),
        ),
      ).toEqual(expected.blocks);
      expect([...new Set(report.response.blocks.map((block) => block.valueType))].sort()).toEqual(
        expected.valueTypes,
      );
      expect(
        Object.fromEntries(
          report.opaque.fields.map((field) => [String(field.type), bytesToHex(field.value)]),
        ),
      ).toEqual(expected.opaqueFields);
      expect(report.opaque.driverVersion).toBe(expected.driverVersion);
      expect(report.opaque.vbiosVersion).toBe(expected.vbiosVersion);
      expect(bytesToHex(report.response.signature)).toBe(expected.signature);
      expect(report.signedData.length).toBe(expected.signedLength);
      expect(report.trailingBytes).toBe(expected.trailingBytes);
      expect(report.opaque.fwid === undefined ? null : bytesToHex(report.opaque.fwid)).toBe(
        expected.opaqueFields['20'] ?? null,
      );
    });
  }

  it('decodes the fields NVIDIA documents (HGX PPCIE report)', () => {
    const report = parseGpuAttestationReport(reports.get('hgx-8gpu-ppcie-nvtrust[0]')!);
    expect(report.opaque).toMatchObject({
      driverVersion: '590.12',
      vbiosVersion: '96.00.A5.00.01',
      project: 'G520',
      projectSku: '0200',
      chipSku: '885',
      nvdec0Status: 0x55,
      protectedPcieStatus: 0xaa,
      featureFlag: 'PPCIE',
      opaqueDataVersion: 1,
    });
    expect(report.opaque.measurementCounts).toHaveLength(64);
  });
});

describe('SPDM structure checks', () => {
  const real = hexToBytes(hopper545.report);
  const cases: Array<[string, (bytes: Uint8Array) => Uint8Array, string]> = [
    ['request SPDM version 1.2', (b) => set(b, 0, 0x12), 'ERR_NVIDIA_EVIDENCE_UNSUPPORTED'],
    ['not a GET_MEASUREMENTS request', (b) => set(b, 1, 0xe1), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['no signature requested', (b) => set(b, 2, 0x00), 'ERR_NVIDIA_EVIDENCE_UNSUPPORTED'],
    ['one measurement only', (b) => set(b, 3, 0x01), 'ERR_NVIDIA_EVIDENCE_UNSUPPORTED'],
    ['response version 1.0', (b) => set(b, 37, 0x10), 'ERR_NVIDIA_EVIDENCE_UNSUPPORTED'],
    ['an ERROR response', (b) => set(b, 38, 0x7f), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['slot mismatch', (b) => set(b, 40, 0x01), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['NumberOfBlocks off by one', (b) => set(b, 41, 63), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['record length too long', (b) => set(b, 44, 0x7f), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['non-DMTF block', (b) => set(b, 46, 0x02), 'ERR_NVIDIA_EVIDENCE_UNSUPPORTED'],
    ['block value size disagrees', (b) => set(b, 50, 0x2f), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['duplicated block index', (b) => set(b, 45 + 55, 0x01), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['truncated signature', (b) => b.slice(0, b.length - 1), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['non-zero byte after the signature', (b) => concat(b, [0x01]), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['too short', (b) => b.slice(0, 40), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['empty', () => new Uint8Array(0), 'ERR_NVIDIA_EVIDENCE_MALFORMED'],
  ];
  for (const [name, mutate, code] of cases) {
    it(name, () => expect(codeOf(() => parseGpuAttestationReport(mutate(real)))).toBe(code));
  }
  it('accepts zero padding after the signature and reports it', () => {
    expect(parseGpuAttestationReport(concat(real, [0, 0, 0])).trailingBytes).toBe(3);
  });
  it('refuses a non-Uint8Array', () => {
    expect(() => parseGpuAttestationReport('11e0' as never)).toThrow(TypeError);
  });
});

describe('opaque data', () => {
  it('formats the VBIOS version as NVIDIA does', () => {
    expect(formatVbiosVersion(Uint8Array.of(0x00, 0x5e, 0x00, 0x96, 0x01, 0, 0, 0))).toBe('96.00.5E.00.01');
    expect(formatVbiosVersion(Uint8Array.of(0x00, 0x74, 0x00, 0x96, 0x1a, 0, 0, 0))).toBe('96.00.74.00.1A');
    expect(codeOf(() => formatVbiosVersion(new Uint8Array(7)))).toBe('ERR_NVIDIA_EVIDENCE_MALFORMED');
  });
  const tlv = (type: number, value: number[]) => [
    type & 0xff,
    type >> 8,
    value.length & 0xff,
    value.length >> 8,
    ...value,
  ];
  it('keeps unknown fields raw and rejects repeated or truncated ones', () => {
    const data = parseOpaqueData(Uint8Array.from([...tlv(3, [0x35, 0x35, 0x30, 0]), ...tlv(200, [1, 2, 3])]));
    expect(data.driverVersion).toBe('550');
    expect(data.fields.map((field) => field.type)).toEqual([3, 200]);
    expect(codeOf(() => parseOpaqueData(Uint8Array.from([...tlv(3, [0x35]), ...tlv(3, [0x36])])))).toBe(
      'ERR_NVIDIA_EVIDENCE_MALFORMED',
    );
    expect(codeOf(() => parseOpaqueData(Uint8Array.of(3, 0, 9, 0, 1)))).toBe('ERR_NVIDIA_EVIDENCE_MALFORMED');
    expect(codeOf(() => parseOpaqueData(Uint8Array.of(3, 0)))).toBe('ERR_NVIDIA_EVIDENCE_MALFORMED');
    expect(codeOf(() => parseOpaqueData(Uint8Array.from(tlv(3, [0x35, 0, 0x36]))))).toBe(
      'ERR_NVIDIA_EVIDENCE_MALFORMED',
    );
    expect(codeOf(() => parseOpaqueData(Uint8Array.from(tlv(3, [0x07]))))).toBe(
      'ERR_NVIDIA_EVIDENCE_MALFORMED',
    );
    expect(codeOf(() => parseOpaqueData(Uint8Array.from(tlv(11, [1, 2]))))).toBe(
      'ERR_NVIDIA_EVIDENCE_MALFORMED',
    );
    expect(codeOf(() => parseOpaqueData(Uint8Array.from(tlv(12, [1, 2, 3]))))).toBe(
      'ERR_NVIDIA_EVIDENCE_MALFORMED',
    );
  });
});

describe('parseGpuEvidence: the shapes providers serve', () => {
  const entry = hgx.evidenceList[0]!;
  it('reads an SDK evidence list (array, JSON text, UTF-8 bytes) with its claims', () => {
    for (const input of [
      hgx.evidenceList,
      JSON.stringify(hgx.evidenceList),
      utf8ToBytes(JSON.stringify(hgx.evidenceList)),
    ]) {
      const set = parseGpuEvidence(input as never);
      expect(set.format).toBe('evidence-list');
      expect(set.gpus).toHaveLength(8);
      expect(set.gpus[0]!.certificateChain).toHaveLength(5);
      expect(set.gpus[0]!.claims).toEqual({
        nonce: hgx.nonce,
        driverVersion: '590.12',
        vbiosVersion: '96.00.A5.00.01',
      });
    }
  });
  it('reads an nvidia_payload (object or JSON string as vllm-proxy and Venice embed it)', () => {
    const payload = {
      nonce: hgx.nonce.toUpperCase(),
      arch: 'HOPPER',
      evidence_list: [{ certificate: entry.certificate, evidence: entry.evidence }],
    };
    for (const input of [payload, JSON.stringify(payload)]) {
      const set = parseGpuEvidence(input);
      expect(set).toMatchObject({ format: 'nvidia-payload', nonce: hgx.nonce });
      expect(set.gpus[0]!.arch).toBe('HOPPER');
    }
  });
  it('reads a raw report with a PEM chain or DER list', () => {
    const set = parseGpuEvidence({ report: hopper545.report, certificateChain: hopper545.certificateChain });
    expect(set.format).toBe('raw-report');
    const der = set.gpus[0]!.certificateChain;
    expect(
      parseGpuEvidence({ report: hexToBytes(hopper545.report), certificateChain: der }).gpus[0]!
        .certificateChain,
    ).toEqual(der);
  });
  it('accepts a PEM chain in place of base64 PEM', () => {
    const pem = new TextDecoder().decode(base64ToBytes(entry.certificate));
    expect(parseGpuEvidence([{ ...entry, certificate: pem }]).gpus[0]!.certificateChain).toHaveLength(5);
  });
  const bad: Array<[string, unknown]> = [
    ['not JSON', '{not json'],
    ['a number', 42],
    ['empty list', []],
    ['empty evidence_list', { nonce: hgx.nonce, evidence_list: [] }],
    ['evidence_list not an array', { evidence_list: 'x' }],
    ['entry not an object', [7]],
    ['evidence not base64', [{ ...entry, evidence: '%%%' }]],
    ['certificate not PEM', [{ ...entry, certificate: 'aGVsbG8=' }]],
    ['certificate missing', [{ evidence: entry.evidence }]],
    ['nonce not hex', { nonce: 'zz', evidence_list: [entry] }],
    ['driver_version not a string', [{ ...entry, driver_version: 5 }]],
    ['arch empty', [{ ...entry, arch: '' }]],
    ['raw report not hex', { report: 'xyz', certificateChain: hopper545.certificateChain }],
    ['raw chain empty', { report: hopper545.report, certificateChain: [] }],
    ['neither shape', { something: 1 }],
    ['not UTF-8', Uint8Array.of(0xff, 0xfe)],
    ['too many GPUs', Array.from({ length: 65 }, () => entry)],
  ];
  for (const [name, input] of bad) {
    it(`rejects ${name}`, () =>
      expect(codeOf(() => parseGpuEvidence(input as never))).toBe('ERR_NVIDIA_EVIDENCE_MALFORMED'));
  }
});

function set(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = value;
  return copy;
}

function concat(bytes: Uint8Array, extra: number[]): Uint8Array {
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes);
  out.set(extra, bytes.length);
  return out;
}
