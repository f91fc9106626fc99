import { createHash, createPublicKey, verify as nodeVerify, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bytesToHex, concatBytes } from '@confidential-ai/bytes';
import { thrownCode } from '@confidential-ai/test-kit';
import { describe, expect, it } from 'vitest';
import {
  decodeTdAttributes,
  INTEL_SGX_ROOT_CA_SHA256,
  intelSgxRootCaDer,
  parseTdxQuote,
  TDX_BODY_TYPE_TD_REPORT15,
  TDX_REPORT_DATA_OFFSET,
  TDX_TD_REPORT15_BODY_SIZE,
  TDX_V5_REPORT_DATA_OFFSET,
  TdxAttestationError,
} from '../src/index.js';
import { realQuote } from './helpers.js';

const vector = JSON.parse(
  readFileSync(new URL('./vectors/dcap-qvl-parsed-tdx-quote.json', import.meta.url), 'utf8'),
) as {
  header: Record<string, number>;
  fields: Record<string, string>;
};

const codeOf = (run: () => unknown): string | undefined => thrownCode(run, TdxAttestationError);

function setU16(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = value & 0xff;
  copy[offset + 1] = value >> 8;
  return copy;
}

function setU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value, true);
  return copy;
}

describe('parseTdxQuote on the real quote', () => {
  const quote = parseTdxQuote(realQuote());

  it('matches every field that dcap-qvl decodes', () => {
    const f = vector.fields;
    expect(quote.header.version).toBe(vector.header.version);
    expect(quote.header.attestationKeyType).toBe(vector.header.attestation_key_type);
    expect(quote.header.teeType).toBe(vector.header.tee_type);
    expect(quote.header.qeSvn).toBe(vector.header.qe_svn);
    expect(quote.header.pceSvn).toBe(vector.header.pce_svn);
    expect(bytesToHex(quote.header.qeVendorId)).toBe(f.qe_vendor_id);
    expect(bytesToHex(quote.header.userData)).toBe(f.user_data);
    const body = quote.body;
    expect(bytesToHex(body.teeTcbSvn)).toBe(f.tee_tcb_svn);
    expect(bytesToHex(body.mrSeam)).toBe(f.mr_seam);
    expect(bytesToHex(body.mrSignerSeam)).toBe(f.mr_signer_seam);
    expect(bytesToHex(body.seamAttributes)).toBe(f.seam_attributes);
    expect(bytesToHex(body.tdAttributes.raw)).toBe(f.td_attributes);
    expect(bytesToHex(body.xfam)).toBe(f.xfam);
    expect(bytesToHex(body.mrTd)).toBe(f.mr_td);
    expect(bytesToHex(body.mrConfigId)).toBe(f.mr_config_id);
    expect(bytesToHex(body.mrOwner)).toBe(f.mr_owner);
    expect(bytesToHex(body.mrOwnerConfig)).toBe(f.mr_owner_config);
    expect(body.rtmrs.map(bytesToHex)).toEqual([f.rt_mr0, f.rt_mr1, f.rt_mr2, f.rt_mr3]);
    expect(bytesToHex(body.reportData)).toBe(f.report_data);
    expect(bytesToHex(quote.signature)).toBe(f.ecdsa_signature);
    expect(bytesToHex(quote.attestationKey)).toBe(f.ecdsa_attestation_key);
    expect(bytesToHex(quote.qeReport.raw)).toBe(f.qe_report);
    expect(bytesToHex(quote.qeReportSignature)).toBe(f.qe_report_signature);
    expect(bytesToHex(quote.qeAuthData)).toBe(f.data);
  });

  it('places REPORTDATA at absolute offset 568 and decodes TD attributes', () => {
    expect(bytesToHex(realQuote().subarray(TDX_REPORT_DATA_OFFSET, TDX_REPORT_DATA_OFFSET + 64))).toBe(
      bytesToHex(quote.body.reportData),
    );
    expect(quote.body.tdAttributes.debug).toBe(false);
    expect(quote.body.tdAttributes.septVeDisable).toBe(true);
    expect(quote.body.tdAttributes.value).toBe(0x10000000n);
    expect(quote.trailingBytes).toBe(70); // like the Venice capture, 70 bytes follow the signature data
    expect(quote.pckCertChain).toHaveLength(3);
  });

  it('agrees with node:crypto (OpenSSL) on the quote and QE report signatures and the PCK chain', () => {
    const attestationKey = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.from(quote.attestationKey.subarray(0, 32)).toString('base64url'),
        y: Buffer.from(quote.attestationKey.subarray(32)).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(
      nodeVerify(
        'sha256',
        quote.signedData,
        { key: attestationKey, dsaEncoding: 'ieee-p1363' },
        quote.signature,
      ),
    ).toBe(true);
    const [leaf, platformCa, root] = quote.pckCertChain.map((der) => new X509Certificate(der));
    expect(
      nodeVerify(
        'sha256',
        quote.qeReport.raw,
        { key: leaf!.publicKey, dsaEncoding: 'ieee-p1363' },
        quote.qeReportSignature,
      ),
    ).toBe(true);
    expect(leaf!.verify(platformCa!.publicKey)).toBe(true);
    expect(platformCa!.verify(root!.publicKey)).toBe(true);
    expect(createHash('sha256').update(root!.raw).digest('hex')).toBe(INTEL_SGX_ROOT_CA_SHA256);
    const binding = createHash('sha256')
      .update(concatBytes(quote.attestationKey, quote.qeAuthData))
      .digest('hex');
    expect(bytesToHex(quote.qeReport.reportData)).toBe(binding + '00'.repeat(32));
  });

  it('ships the pinned Intel SGX Root CA', () => {
    const der = intelSgxRootCaDer();
    expect(createHash('sha256').update(der).digest('hex')).toBe(INTEL_SGX_ROOT_CA_SHA256);
    expect(new X509Certificate(der).subject).toContain('CN=Intel SGX Root CA');
  });

  it('accepts trailing bytes after the signature data', () => {
    const longer = parseTdxQuote(concatBytes(realQuote(), new Uint8Array(70)));
    expect(longer.trailingBytes).toBe(140);
    expect(bytesToHex(longer.body.reportData)).toBe(bytesToHex(quote.body.reportData));
  });
});

describe('parseTdxQuote rejects malformed quotes with typed codes', () => {
  const raw = realQuote();
  const signatureLength = new DataView(raw.buffer).getUint32(632, true);

  it('rejects non-bytes with TypeError', () => {
    expect(() => parseTdxQuote('00' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('rejects every truncation', () => {
    for (const length of [
      0,
      1,
      47,
      48,
      631,
      632,
      635,
      636,
      700,
      636 + 134,
      636 + 134 + 384,
      636 + signatureLength - 1,
    ]) {
      expect(codeOf(() => parseTdxQuote(raw.subarray(0, length)))).toBe('ERR_TDX_QUOTE_MALFORMED');
    }
  });

  it('rejects another version, key type, TEE type, vendor or certification type as unsupported', () => {
    expect(codeOf(() => parseTdxQuote(setU16(raw, 0, 3)))).toBe('ERR_TDX_QUOTE_UNSUPPORTED');
    expect(codeOf(() => parseTdxQuote(setU16(raw, 0, 5)))).toBe('ERR_TDX_QUOTE_UNSUPPORTED');
    expect(codeOf(() => parseTdxQuote(setU16(raw, 2, 3)))).toBe('ERR_TDX_QUOTE_UNSUPPORTED');
    expect(codeOf(() => parseTdxQuote(setU32(raw, 4, 0)))).toBe('ERR_TDX_QUOTE_UNSUPPORTED');
    const vendor = raw.slice();
    vendor[12] = vendor[12]! ^ 1;
    expect(codeOf(() => parseTdxQuote(vendor))).toBe('ERR_TDX_QUOTE_UNSUPPORTED');
    expect(codeOf(() => parseTdxQuote(setU16(raw, 636 + 128, 5)))).toBe('ERR_TDX_QUOTE_UNSUPPORTED');
  });

  it('rejects inconsistent lengths', () => {
    expect(codeOf(() => parseTdxQuote(setU32(raw, 632, signatureLength + 1)))).toBe(
      'ERR_TDX_QUOTE_MALFORMED',
    );
    expect(codeOf(() => parseTdxQuote(setU32(raw, 632, 0xffffffff)))).toBe('ERR_TDX_QUOTE_MALFORMED');
    expect(codeOf(() => parseTdxQuote(setU32(raw, 632, signatureLength - 1)))).toBe(
      'ERR_TDX_QUOTE_MALFORMED',
    );
    const certificationSize = 636 + 130;
    expect(codeOf(() => parseTdxQuote(setU32(raw, certificationSize, 100)))).toBe('ERR_TDX_QUOTE_MALFORMED');
    const authLength = 636 + 134 + 384 + 64;
    expect(codeOf(() => parseTdxQuote(setU16(raw, authLength, 0xffff)))).toBe('ERR_TDX_QUOTE_MALFORMED');
  });

  it('rejects a PCK chain that is not PEM', () => {
    const text = new TextDecoder('latin1').decode(raw);
    const at = text.indexOf('-----BEGIN CERTIFICATE-----');
    const broken = raw.slice();
    broken[at + 40] = 0x21; // '!' inside base64
    expect(codeOf(() => parseTdxQuote(broken))).toBe('ERR_TDX_QUOTE_MALFORMED');
    const binary = raw.slice();
    binary[at + 40] = 0xff;
    expect(codeOf(() => parseTdxQuote(binary))).toBe('ERR_TDX_QUOTE_MALFORMED');
  });
});

describe('decodeTdAttributes', () => {
  it('reads the bits as a little-endian u64', () => {
    const attributes = decodeTdAttributes(Uint8Array.from([1, 0, 0, 0xd0, 0, 0, 0, 0x80]));
    expect(attributes).toMatchObject({
      debug: true,
      septVeDisable: true,
      protectionKeys: true,
      keyLocker: true,
      perfmon: true,
    });
    expect(decodeTdAttributes(new Uint8Array(8)).debug).toBe(false);
    expect(() => decodeTdAttributes(new Uint8Array(7))).toThrow(RangeError);
  });
});

describe('parseTdxQuote agrees with dcap-qvl on every public sample (v4 and v5)', () => {
  const require = createRequire(import.meta.url);
  const dcapQvl = require('@phala/dcap-qvl') as {
    Quote: { parse(bytes: Uint8Array): DcapQvlQuote };
  };
  const directory = new URL('./vectors/quotes/', import.meta.url);
  const files = readdirSync(directory).filter((name) => name.endsWith('.bin'));
  const hex = (bytes: Uint8Array) => bytesToHex(bytes);

  it('reads a v5 TD report 1.5 quote at the v5 offsets', () => {
    const raw = new Uint8Array(readFileSync(new URL('dcap-qvl-tdx_quote_outdated.bin', directory)));
    const quote = parseTdxQuote(raw);
    expect(quote.header.version).toBe(5);
    expect(quote.bodyType).toBe(TDX_BODY_TYPE_TD_REPORT15);
    expect(quote.bodyOffset).toBe(54);
    expect(quote.signedData).toHaveLength(48 + 6 + TDX_TD_REPORT15_BODY_SIZE);
    expect(hex(raw.subarray(TDX_V5_REPORT_DATA_OFFSET, TDX_V5_REPORT_DATA_OFFSET + 64))).toBe(
      hex(quote.body.reportData),
    );
    expect(hex(quote.body.teeTcbSvn)).toBe('07010300000000000000000000000000');
    expect(hex(quote.body.teeTcbSvn2!)).toBe('0d010300000000000000000000000000');
    expect(quote.body.mrServiceTd).toEqual(new Uint8Array(48));
  });

  for (const name of files) {
    it(name, () => {
      const raw = new Uint8Array(readFileSync(new URL(name, directory)));
      const ours = parseTdxQuote(raw);
      const theirs = dcapQvl.Quote.parse(raw);
      expect(ours.header.version).toBe(theirs.header.version);
      expect(ours.header.teeType).toBe(theirs.header.teeType);
      expect(hex(ours.header.userData)).toBe(hex(theirs.header.userData));
      const td =
        theirs.report.type === 'td15' ? theirs.report.data.base! : (theirs.report.data as DcapQvlTd10);
      expect(ours.bodyType).toBe(theirs.report.type === 'td15' ? 3 : 2);
      const body = ours.body;
      expect(
        [
          body.teeTcbSvn,
          body.mrSeam,
          body.mrSignerSeam,
          body.seamAttributes,
          body.tdAttributes.raw,
          body.xfam,
          body.mrTd,
          body.mrConfigId,
          body.mrOwner,
          body.mrOwnerConfig,
          ...body.rtmrs,
          body.reportData,
        ].map(hex),
      ).toEqual(
        [
          td.teeTcbSvn,
          td.mrSeam,
          td.mrSignerSeam,
          td.seamAttributes,
          td.tdAttributes,
          td.xfam,
          td.mrTd,
          td.mrConfigId,
          td.mrOwner,
          td.mrOwnerConfig,
          td.rtMr0,
          td.rtMr1,
          td.rtMr2,
          td.rtMr3,
          td.reportData,
        ].map(hex),
      );
      if (theirs.report.type === 'td15') {
        expect(hex(body.teeTcbSvn2!)).toBe(hex(theirs.report.data.teeTcbSvn2!));
        expect(hex(body.mrServiceTd!)).toBe(hex(theirs.report.data.mrServiceTd!));
      } else {
        expect(body.teeTcbSvn2).toBeUndefined();
      }
      const auth = theirs.authData.intoV3();
      expect(hex(ours.signature)).toBe(hex(auth.ecdsaSignature));
      expect(hex(ours.attestationKey)).toBe(hex(auth.ecdsaAttestationKey));
      expect(hex(ours.qeReport.raw)).toBe(hex(auth.qeReport));
      expect(hex(ours.qeReportSignature)).toBe(hex(auth.qeReportSignature));
      expect(hex(ours.qeAuthData)).toBe(hex(auth.qeAuthData));
      // The signed length, computed independently: what dcap-qvl hands to the signature check.
      expect(ours.signedData).toHaveLength(theirs.signedLength());
    });
  }
});

interface DcapQvlTd10 {
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtMr0: Uint8Array;
  rtMr1: Uint8Array;
  rtMr2: Uint8Array;
  rtMr3: Uint8Array;
  reportData: Uint8Array;
}

interface DcapQvlQuote {
  signedLength(): number;
  header: { version: number; teeType: number; userData: Uint8Array };
  report: {
    type: 'td10' | 'td15' | 'sgx';
    data: DcapQvlTd10 & { base?: DcapQvlTd10; teeTcbSvn2?: Uint8Array; mrServiceTd?: Uint8Array };
  };
  authData: {
    intoV3(): {
      ecdsaSignature: Uint8Array;
      ecdsaAttestationKey: Uint8Array;
      qeReport: Uint8Array;
      qeReportSignature: Uint8Array;
      qeAuthData: Uint8Array;
    };
  };
}
