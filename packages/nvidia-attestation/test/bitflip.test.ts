import { hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import { parseGpuAttestationReport, verifyGpuEvidence } from '../src/index.js';
import { derToPem, pemCertificatesToDer } from '../src/pem.js';
import { codeOf } from './code-of.js';
import { hopper545, hopper550 } from './vectors.js';

// "A bit flip anywhere in the signed region of a report, in a certificate, or in a RIM is rejected with a typed
// code": every byte of a real report's signed region and signature (and every 7th of a second report), every 5th
// byte of each certificate of the device chain, and the bytes of real RIMs (every byte of SignedInfo and
// SignatureValue, every 31st elsewhere). The bit flipped cycles with the offset. (A one-off run over every byte of
// the five certificates with two bits each, and every byte of both RIMs, found no accepted flip either.)

function flip(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset]! ^= 1 << (offset % 8);
  return copy;
}

function tally(codes: Map<string, number>, code: string): void {
  codes.set(code, (codes.get(code) ?? 0) + 1);
}

describe('bit flips in real evidence', () => {
  const cases: Array<[string, typeof hopper545 | typeof hopper550, number]> = [
    ['every byte of a real report (driver 545.00)', hopper545, 1],
    ['every 7th byte of another real report (driver 550.90.07, with FWID)', hopper550, 7],
  ];
  for (const [name, vector, stride] of cases) {
    it(name, async () => {
      const report = hexToBytes(vector.report);
      const end = parseGpuAttestationReport(report).signedData.length + 96;
      expect(end).toBe(report.length);
      const codes = new Map<string, number>();
      for (let offset = 0; offset < end; offset += stride) {
        const code = await codeOf(() =>
          verifyGpuEvidence(
            { report: flip(report, offset), certificateChain: vector.certificateChain },
            { nonce: vector.nonce },
          ),
        );
        expect(code, `offset ${offset}`).not.toBe('OK');
        tally(codes, code);
      }
      expect(codes.get('ERR_NVIDIA_REPORT_SIGNATURE')).toBeGreaterThan(end / stride / 2);
    }, 300_000);
  }

  it('every 5th byte of each certificate of the device chain', async () => {
    const chain = pemCertificatesToDer(hopper545.certificateChain)!;
    const codes = new Map<string, number>();
    for (const [position, der] of chain.entries()) {
      for (let offset = position; offset < der.length; offset += 5) {
        const mutated = chain.map((certificate, index) =>
          index === position ? flip(certificate, offset) : certificate,
        );
        const code = await codeOf(() =>
          verifyGpuEvidence(
            { report: hopper545.report, certificateChain: mutated.map((item) => derToPem(item)).join('') },
            { nonce: hopper545.nonce },
          ),
        );
        expect(code, `certificate ${position} offset ${offset}`).not.toBe('OK');
        tally(codes, code);
      }
    }
    expect([...codes.keys()]).toEqual(['ERR_NVIDIA_CERT_CHAIN']);
  }, 300_000);

  it('bytes of the real driver and VBIOS RIMs', async () => {
    const codes = new Map<string, number>();
    for (const [kind, text] of [
      ['driver', hopper545.driverRim],
      ['vbios', hopper545.vbiosRim],
    ] as const) {
      const bytes = utf8ToBytes(text);
      const signatureStart = text.indexOf('<ds:Signature ');
      const keyInfo = text.indexOf('<ds:KeyInfo>');
      for (
        let offset = 0;
        offset < bytes.length;
        offset += offset >= signatureStart && offset < keyInfo ? 1 : 31
      ) {
        const rims =
          kind === 'driver'
            ? [flip(bytes, offset), hopper545.vbiosRim]
            : [hopper545.driverRim, flip(bytes, offset)];
        const code = await codeOf(() =>
          verifyGpuEvidence(
            { report: hopper545.report, certificateChain: hopper545.certificateChain },
            { nonce: hopper545.nonce, at: hopper545.at, rims },
          ),
        );
        expect(code, `${kind} RIM offset ${offset}`).not.toBe('OK');
        tally(codes, code);
      }
    }
    expect(codes.get('ERR_NVIDIA_RIM_SIGNATURE')).toBeGreaterThan(0);
    expect(codes.get('ERR_NVIDIA_RIM_MALFORMED')).toBeGreaterThan(0);
  }, 300_000);
});
