import { hexToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import { parseCertificate } from '../src/certificate.js';
import { verifyP384 } from '../src/ecdsa.js';
import { nativeEcdsaAvailable, parseGpuAttestationReport } from '../src/index.js';
import { pemCertificatesToDer } from '../src/pem.js';
import { hopper545, hopper550 } from './vectors.js';

describe('node:crypto and WebCrypto agree on real signatures', () => {
  it('is running with the node:crypto fast path', () => expect(nativeEcdsaAvailable()).toBe(true));
  for (const vector of [hopper545, hopper550]) {
    it(`report ${vector.nonce.slice(0, 8)}…: valid, and every single-bit change of the signature invalid`, async () => {
      const report = parseGpuAttestationReport(hexToBytes(vector.report));
      const leaf = parseCertificate(
        pemCertificatesToDer(vector.certificateChain)![0]!,
        'leaf',
        'ERR_NVIDIA_CERT_CHAIN',
      );
      for (const backend of ['native', 'webcrypto'] as const) {
        expect(await verifyP384(leaf.spki, report.response.signature, report.signedData, backend)).toBe(true);
      }
      for (let bit = 0; bit < 96 * 8; bit += 37) {
        const signature = report.response.signature.slice();
        signature[bit >> 3]! ^= 1 << (bit & 7);
        const results = await Promise.all(
          (['native', 'webcrypto'] as const).map((backend) =>
            verifyP384(leaf.spki, signature, report.signedData, backend),
          ),
        );
        expect(results).toEqual([false, false]);
      }
    });
  }
  it('bad keys and signature sizes give false, never a throw', async () => {
    for (const backend of ['native', 'webcrypto'] as const) {
      expect(await verifyP384(new Uint8Array(10), new Uint8Array(96), new Uint8Array(1), backend)).toBe(
        false,
      );
      expect(await verifyP384(new Uint8Array(10), new Uint8Array(64), new Uint8Array(1), backend)).toBe(
        false,
      );
    }
  });
});
