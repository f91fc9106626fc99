import { X509Certificate } from 'node:crypto';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import * as pkijs from 'pkijs';
import { describe, expect, it } from 'vitest';
import { DerError, decodeTime, ecdsaDerToRaw, readRoot, readTlv } from '../src/der.js';
import { TdxAttestationError } from '../src/errors.js';
import { pemCertificatesToDer } from '../src/pem.js';
import { parseTdxQuote } from '../src/quote.js';
import { parseCertificate, parseCrl } from '../src/x509.js';
import { realCollateral, realQuote } from './helpers.js';

const collateral = realCollateral();
const certificates = [
  ...parseTdxQuote(realQuote()).pckCertChain,
  ...pemCertificatesToDer(collateral.tcb_info_issuer_chain!)!,
  ...pemCertificatesToDer(collateral.pck_crl_issuer_chain!)!,
];
const crls = [hexToBytes(collateral.pck_crl!), hexToBytes(collateral.root_ca_crl!)];

describe('DER reader', () => {
  it('rejects indefinite, non-minimal and overlong lengths and trailing bytes', () => {
    expect(() => readRoot(Uint8Array.of(0x30, 0x80, 0, 0))).toThrow(DerError);
    expect(() => readRoot(Uint8Array.of(0x04, 0x81, 0x01, 0x00))).toThrow(DerError);
    expect(() => readRoot(Uint8Array.of(0x04, 0x82, 0x00, 0x80, ...new Uint8Array(128)))).toThrow(DerError);
    expect(() => readRoot(Uint8Array.of(0x04, 0x05, 0x00))).toThrow(DerError);
    expect(() => readRoot(Uint8Array.of(0x04, 0x00, 0x00))).toThrow(DerError);
    expect(() => readRoot(Uint8Array.of(0x1f, 0x01, 0x00))).toThrow(DerError);
    expect(readTlv(Uint8Array.of(0x04, 0x81, 0x80, ...new Uint8Array(128)), 0).end).toBe(131);
  });

  it('decodes UTCTime and GeneralizedTime strictly', () => {
    const time = (tag: number, text: string) =>
      decodeTime(readRoot(Uint8Array.of(tag, text.length, ...new TextEncoder().encode(text))));
    expect(time(0x17, '490101000000Z').toISOString()).toBe('2049-01-01T00:00:00.000Z');
    expect(time(0x17, '500101000000Z').toISOString()).toBe('1950-01-01T00:00:00.000Z');
    expect(time(0x18, '20991231235959Z').toISOString()).toBe('2099-12-31T23:59:59.000Z');
    expect(() => time(0x17, '250230000000Z')).toThrow(DerError);
    expect(() => time(0x17, '2502010000Z')).toThrow(DerError);
    expect(() => time(0x18, '20250201000000+0100')).toThrow(DerError);
  });

  it('converts ECDSA signatures and rejects malformed ones', () => {
    const raw = ecdsaDerToRaw(hexToBytes('3007020101020200ff'));
    expect(bytesToHex(raw)).toBe(`${'00'.repeat(31)}01${'00'.repeat(31)}ff`);
    expect(() => ecdsaDerToRaw(hexToBytes('3006020181020101'))).toThrow(DerError); // negative r
    expect(() => ecdsaDerToRaw(hexToBytes('300702020001020101'))).toThrow(DerError); // non-minimal
    expect(() => ecdsaDerToRaw(hexToBytes(`3026022100${'91'.repeat(32)}020101`))).not.toThrow();
    expect(() => ecdsaDerToRaw(hexToBytes(`3026022101${'11'.repeat(32)}020101`))).toThrow(DerError);
  });
});

describe('certificate and CRL parsing agree with independent parsers', () => {
  it('matches node:crypto X509Certificate on serial, validity, names and key', () => {
    for (const der of certificates) {
      const mine = parseCertificate(der, 'cert', 'ERR_TDX_CERT_CHAIN');
      const node = new X509Certificate(der);
      expect(bytesToHex(mine.serialNumber).replace(/^00/, '')).toBe(node.serialNumber.toLowerCase());
      expect(mine.notBefore.getTime()).toBe(new Date(node.validFrom).getTime());
      expect(mine.notAfter.getTime()).toBe(new Date(node.validTo).getTime());
      expect(node.subject).toContain(`CN=${mine.label}`);
      expect(mine.isCa).toBe(node.ca);
      const jwk = node.publicKey.export({ format: 'jwk' });
      expect(Buffer.from(mine.publicKey!.subarray(1, 33)).toString('base64url')).toBe(jwk.x);
    }
  });

  it('matches pkijs on the CRLs', () => {
    for (const der of crls) {
      const mine = parseCrl(der, 'crl');
      const theirs = pkijs.CertificateRevocationList.fromBER(der);
      expect(mine.thisUpdate.getTime()).toBe(theirs.thisUpdate.value.getTime());
      expect(mine.nextUpdate?.getTime()).toBe(theirs.nextUpdate?.value.getTime());
      const serials = new Set(
        (theirs.revokedCertificates ?? []).map((entry) =>
          bytesToHex(entry.userCertificate.valueBlock.valueHexView),
        ),
      );
      expect(mine.revokedSerials).toEqual(serials);
    }
    expect(parseCrl(crls[0]!, 'crl').revokedSerials.size).toBeGreaterThan(10);
  });

  test.prop([fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(certificates.length + crls.length - 1)], {
    numRuns: 300,
  })(
    'a flipped byte in a certificate or CRL gives a parse result or a typed error',
    (offset, mask, which) => {
      const source = [...certificates, ...crls][which]!;
      const mutated = source.slice();
      mutated[offset % mutated.length] = mutated[offset % mutated.length]! ^ mask;
      try {
        if (which < certificates.length) parseCertificate(mutated, 'cert', 'ERR_TDX_CERT_CHAIN');
        else parseCrl(mutated, 'crl');
      } catch (error) {
        expect(TdxAttestationError.isInstance(error)).toBe(true);
      }
    },
  );
});
