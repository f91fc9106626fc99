import { X509Certificate } from 'node:crypto';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  chutesReportDataPrefix,
  intelSgxRootCaDer,
  parseTdxQuote,
  TdxAttestationError,
  type TdxAttestationErrorCode,
  type VerifyTdxQuoteOptions,
  verifyTdxQuote,
} from '../src/index.js';
import { FIXTURE_TIME, realCollateral, realQuote } from './helpers.js';
import { flip, flipHex, mutateQuotePckChain, rewritePemChain } from './mutate.js';

async function codeOf(
  quote: Uint8Array,
  options: VerifyTdxQuoteOptions,
): Promise<TdxAttestationErrorCode | 'OK'> {
  try {
    await verifyTdxQuote(quote, options);
    return 'OK';
  } catch (error) {
    if (TdxAttestationError.isInstance(error)) return error.code;
    throw error;
  }
}

const QE_REPORT = 636 + 134;
const withCollateral = (collateral: Record<string, string> = realCollateral()): VerifyTdxQuoteOptions => ({
  collateral,
  now: FIXTURE_TIME,
});

describe('verifyTdxQuote on the real quote', () => {
  it('fails without collateral unless chainOnly asks for a signature-chain-only verdict', async () => {
    // Regression (issue 15): without collateral the verdict used to be "ok" with tcbStatus null.
    expect(await codeOf(realQuote(), { now: FIXTURE_TIME })).toBe('ERR_TDX_COLLATERAL_REQUIRED');
    expect(await codeOf(realQuote(), { now: FIXTURE_TIME, chainOnly: false })).toBe(
      'ERR_TDX_COLLATERAL_REQUIRED',
    );
    // The signature chain is checked first: a forged quote is reported as forged, not as lacking collateral.
    expect(await codeOf(flip(realQuote(), 200), { now: FIXTURE_TIME })).toBe('ERR_TDX_QUOTE_SIGNATURE');
    await expect(
      verifyTdxQuote(realQuote(), { now: FIXTURE_TIME, chainOnly: true, collateral: realCollateral() }),
    ).rejects.toThrow(TypeError);
    await expect(
      verifyTdxQuote(realQuote(), { now: FIXTURE_TIME, chainOnly: 'yes' as unknown as boolean }),
    ).rejects.toThrow(TypeError);
    const full = await verifyTdxQuote(realQuote(), withCollateral());
    expect(full.chainOnly).toBe(false);
  });

  it('verifies the signature chain only (chainOnly) at the fixture time', async () => {
    const result = await verifyTdxQuote(realQuote(), { now: FIXTURE_TIME, chainOnly: true });
    expect(result.tcbStatus).toBeNull();
    expect(result.chainOnly).toBe(true);
    expect(result.quoteVersion).toBe(4);
    expect(result.bodyType).toBe(2);
    expect(result.verified).toEqual({
      quoteSignature: true,
      qeReportSignature: true,
      attestationKeyBinding: true,
      pckCertificateChain: true,
      intelRoot: true,
      collateral: false,
      reportData: false,
    });
    expect(result.reportData).toBe(bytesToHex(parseTdxQuote(realQuote()).body.reportData));
    expect(result.tdAttributes.debug).toBe(false);
    expect(result.pck.fmspc).toBe('b0c06f000000');
    expect(result.verifiedAt).toBe('2025-07-01T00:00:00.000Z');
  });

  it('verifies with collateral as UpToDate with no advisories (dcap-qvl expected result)', async () => {
    const result = await verifyTdxQuote(realQuote(), withCollateral());
    expect(result.tcbStatus).toBe('UpToDate');
    expect(result.advisoryIds).toEqual([]);
    expect(result.verified.collateral).toBe(true);
    expect(result.tcb?.platform.status).toBe('UpToDate');
    expect(result.tcb?.qe.status).toBe('UpToDate');
    expect(result.tcb?.tdxModule).toMatchObject({ id: 'TDX_01', status: 'UpToDate' });
  });

  it('accepts collateral as JSON text, at both ends of the validity window, and the root as PEM', async () => {
    const text = JSON.stringify(realCollateral());
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(intelSgxRootCaDer()).toString('base64')}\n-----END CERTIFICATE-----\n`;
    for (const now of ['2025-06-19T10:32:27Z', '2025-07-19T10:00:35Z']) {
      const result = await verifyTdxQuote(realQuote(), { collateral: text, now, root: pem });
      expect(result.tcbStatus).toBe('UpToDate');
      expect(result.verified.intelRoot).toBe(true);
    }
  });

  it('checks expected REPORTDATA (64 bytes, 32-byte prefix, bytes or hex)', async () => {
    const reportData = parseTdxQuote(realQuote()).body.reportData;
    for (const expected of [
      reportData,
      bytesToHex(reportData),
      reportData.slice(0, 32),
      `0x${bytesToHex(reportData)}`,
    ]) {
      const result = await verifyTdxQuote(realQuote(), {
        now: FIXTURE_TIME,
        chainOnly: true,
        expectedReportData: expected,
      });
      expect(result.verified.reportData).toBe(true);
    }
    expect(
      await codeOf(realQuote(), {
        now: FIXTURE_TIME,
        chainOnly: true,
        expectedReportData: flip(reportData, 63),
      }),
    ).toBe('ERR_TDX_REPORT_DATA_MISMATCH');
    expect(
      await codeOf(realQuote(), {
        now: FIXTURE_TIME,
        chainOnly: true,
        expectedReportData: flip(reportData, 0).slice(0, 32),
      }),
    ).toBe('ERR_TDX_REPORT_DATA_MISMATCH');
    const chutes = chutesReportDataPrefix('00'.repeat(32), 'AAAA');
    expect(
      await codeOf(realQuote(), { now: FIXTURE_TIME, chainOnly: true, expectedReportData: chutes }),
    ).toBe('ERR_TDX_REPORT_DATA_MISMATCH');
  });

  it('rejects bad arguments with TypeError/RangeError', async () => {
    await expect(verifyTdxQuote(realQuote(), { now: 'not a time' })).rejects.toThrow(RangeError);
    await expect(verifyTdxQuote(realQuote(), { expectedReportData: new Uint8Array(20) })).rejects.toThrow(
      RangeError,
    );
    await expect(verifyTdxQuote(realQuote(), { expectedReportData: 'zz' })).rejects.toThrow(TypeError);
    await expect(verifyTdxQuote(realQuote(), { root: 'not pem' })).rejects.toThrow(TypeError);
    await expect(verifyTdxQuote('quote' as unknown as Uint8Array)).rejects.toThrow(TypeError);
  });

  it('applies acceptedTcbStatuses', async () => {
    const options = { ...withCollateral(), acceptedTcbStatuses: ['OutOfDate' as const] };
    expect(await codeOf(realQuote(), options)).toBe('ERR_TDX_TCB_STATUS');
    expect(await codeOf(realQuote(), { ...withCollateral(), acceptedTcbStatuses: ['UpToDate'] })).toBe('OK');
  });
});

describe('verifyTdxQuote rejects mutated quotes', () => {
  const quote = realQuote();
  const cases: [string, Uint8Array, TdxAttestationErrorCode][] = [
    ['a header byte (user data)', flip(quote, 30), 'ERR_TDX_QUOTE_SIGNATURE'],
    ['a TD report body byte (MRTD)', flip(quote, 48 + 136), 'ERR_TDX_QUOTE_SIGNATURE'],
    ['the TD debug bit', flip(quote, 48 + 120), 'ERR_TDX_QUOTE_SIGNATURE'],
    ['a REPORTDATA byte', flip(quote, 568 + 5), 'ERR_TDX_QUOTE_SIGNATURE'],
    ['the quote signature', flip(quote, 636 + 10), 'ERR_TDX_QUOTE_SIGNATURE'],
    ['the attestation key', flip(quote, 636 + 64 + 5), 'ERR_TDX_QUOTE_SIGNATURE'],
    ['a QE report byte', flip(quote, QE_REPORT + 300), 'ERR_TDX_QE_REPORT_SIGNATURE'],
    ['the QE report data', flip(quote, QE_REPORT + 320), 'ERR_TDX_QE_REPORT_SIGNATURE'],
    ['the QE report signature', flip(quote, QE_REPORT + 384 + 3), 'ERR_TDX_QE_REPORT_SIGNATURE'],
    ['the QE auth data', flip(quote, QE_REPORT + 384 + 64 + 2 + 1), 'ERR_TDX_ATTESTATION_KEY_BINDING'],
    [
      'the PCK leaf signature',
      mutateQuotePckChain(quote, (chain) => {
        chain[0]![chain[0]!.length - 1]! ^= 1;
      }),
      'ERR_TDX_CERT_CHAIN',
    ],
    [
      'the PCK leaf serial number',
      mutateQuotePckChain(quote, (chain) => {
        chain[0]![15]! ^= 1;
      }),
      'ERR_TDX_CERT_CHAIN',
    ],
    [
      'the PCK Platform CA signature',
      mutateQuotePckChain(quote, (chain) => {
        chain[1]![chain[1]!.length - 1]! ^= 1;
      }),
      'ERR_TDX_CERT_CHAIN',
    ],
    [
      'the root certificate in the chain',
      mutateQuotePckChain(quote, (chain) => {
        chain[2]![chain[2]!.length - 1]! ^= 1;
      }),
      'ERR_TDX_CERT_CHAIN',
    ],
  ];
  for (const [name, mutated, code] of cases) {
    it(`flipped ${name} → ${code}`, async () => {
      expect(await codeOf(mutated, { now: FIXTURE_TIME })).toBe(code);
      expect(await codeOf(mutated, withCollateral())).toBe(code);
    });
  }

  it('rejects a chain anchored at another root', async () => {
    // Any other self-signed certificate: the TCB signing chain's root is Intel's, so use a leaf as "root".
    const other = realCollateral().tcb_info_issuer_chain!;
    const leaf = rewritePemChain(other, () => {});
    const options = {
      now: FIXTURE_TIME,
      root: leaf.slice(0, leaf.indexOf('-----END CERTIFICATE-----') + 26),
    };
    expect(await codeOf(quote, options)).toBe('ERR_TDX_CERT_CHAIN');
  });

  it('rejects truncated quotes and garbage with typed codes', async () => {
    expect(await codeOf(quote.subarray(0, 1000), { now: FIXTURE_TIME })).toBe('ERR_TDX_QUOTE_MALFORMED');
    expect(await codeOf(new Uint8Array(0), { now: FIXTURE_TIME })).toBe('ERR_TDX_QUOTE_MALFORMED');
    expect(await codeOf(utf8ToBytes('garbage garbage garbage'), { now: FIXTURE_TIME })).toBe(
      'ERR_TDX_QUOTE_MALFORMED',
    );
    expect(await codeOf(new Uint8Array(5000).fill(0x41), { now: FIXTURE_TIME })).toBe(
      'ERR_TDX_QUOTE_UNSUPPORTED',
    );
  });
});

describe('verifyTdxQuote checks validity at the verification time', () => {
  it('fails with ERR_TDX_CERT_EXPIRED outside the PCK leaf validity (offline)', async () => {
    expect(await codeOf(realQuote(), { now: new Date('2032-02-07T00:00:00Z') })).toBe('ERR_TDX_CERT_EXPIRED');
    expect(await codeOf(realQuote(), { now: new Date('2025-02-06T00:00:00Z') })).toBe('ERR_TDX_CERT_EXPIRED');
    expect(await codeOf(realQuote(), { now: new Date('2032-02-06T00:00:00Z'), chainOnly: true })).toBe('OK');
  });

  it('fails with ERR_TDX_COLLATERAL_EXPIRED after nextUpdate or before issue', async () => {
    const collateral = realCollateral();
    for (const now of [
      '2025-07-19T10:00:36Z',
      '2025-08-01T00:00:00Z',
      '2025-06-19T10:32:26Z',
      '2025-06-01T00:00:00Z',
    ]) {
      expect(await codeOf(realQuote(), { collateral, now })).toBe('ERR_TDX_COLLATERAL_EXPIRED');
    }
  });
});

describe('verifyTdxQuote rejects mutated collateral', () => {
  type Mutation = [string, (collateral: Record<string, string>) => void, TdxAttestationErrorCode];
  const mutations: Mutation[] = [
    [
      'TCB info text (pcesvn)',
      (c) => {
        c.tcb_info = c.tcb_info!.replace('"pcesvn":11', '"pcesvn":10');
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'TCB info text (status)',
      (c) => {
        c.tcb_info = c.tcb_info!.replace('"OutOfDate"', '"UpToDate"');
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'TCB info signature',
      (c) => {
        c.tcb_info_signature = flipHex(c.tcb_info_signature!, 40);
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'QE identity text (isvprodid)',
      (c) => {
        c.qe_identity = c.qe_identity!.replace('"isvprodid":2', '"isvprodid":3');
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'QE identity signature',
      (c) => {
        c.qe_identity_signature = flipHex(c.qe_identity_signature!, 7);
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'PCK CRL signature',
      (c) => {
        c.pck_crl = flipHex(c.pck_crl!, -1);
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'root CA CRL signature',
      (c) => {
        c.root_ca_crl = flipHex(c.root_ca_crl!, -1);
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'PCK CRL body (thisUpdate digit)',
      (c) => {
        c.pck_crl = flipHex(c.pck_crl!, 150);
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    [
      'TCB signing certificate',
      (c) => {
        c.tcb_info_issuer_chain = rewritePemChain(c.tcb_info_issuer_chain!, (chain) => {
          chain[0]![chain[0]!.length - 1]! ^= 1;
        });
      },
      'ERR_TDX_CERT_CHAIN',
    ],
    [
      'QE identity signing certificate',
      (c) => {
        c.qe_identity_issuer_chain = rewritePemChain(c.qe_identity_issuer_chain!, (chain) => {
          chain[0]![20]! ^= 1;
        });
      },
      'ERR_TDX_CERT_CHAIN',
    ],
    [
      'PCK CRL issuer certificate',
      (c) => {
        c.pck_crl_issuer_chain = rewritePemChain(c.pck_crl_issuer_chain!, (chain) => {
          chain[0]![chain[0]!.length - 2]! ^= 1;
        });
      },
      'ERR_TDX_CERT_CHAIN',
    ],
    [
      'TCB info swapped for QE identity',
      (c) => {
        [c.tcb_info, c.qe_identity] = [c.qe_identity!, c.tcb_info!];
      },
      'ERR_TDX_COLLATERAL_MALFORMED',
    ],
    [
      'CRLs swapped',
      (c) => {
        [c.pck_crl, c.root_ca_crl] = [c.root_ca_crl!, c.pck_crl!];
      },
      'ERR_TDX_COLLATERAL_SIGNATURE',
    ],
    ['a missing field', (c) => void delete c.qe_identity_signature, 'ERR_TDX_COLLATERAL_MALFORMED'],
    [
      'a CRL that is not hex',
      (c) => {
        c.pck_crl = 'zz';
      },
      'ERR_TDX_COLLATERAL_MALFORMED',
    ],
    [
      'a CRL that is not DER',
      (c) => {
        c.pck_crl = '3003020101';
      },
      'ERR_TDX_COLLATERAL_MALFORMED',
    ],
    [
      'TCB info that is not JSON',
      (c) => {
        c.tcb_info = '{';
      },
      'ERR_TDX_COLLATERAL_MALFORMED',
    ],
    [
      'an issuer chain that is not PEM',
      (c) => {
        c.tcb_info_issuer_chain = 'xyz';
      },
      'ERR_TDX_COLLATERAL_MALFORMED',
    ],
  ];
  for (const [name, mutate, code] of mutations) {
    it(`${name} → ${code}`, async () => {
      const collateral = realCollateral();
      const before = JSON.stringify(collateral);
      mutate(collateral);
      expect(JSON.stringify(collateral)).not.toBe(before);
      expect(await codeOf(realQuote(), withCollateral(collateral))).toBe(code);
    });
  }

  it('rejects a PCK CRL from another CA than the PCK leaf issuer', async () => {
    const collateral = realCollateral();
    const chain = collateral.pck_crl_issuer_chain!;
    collateral.pck_crl = collateral.root_ca_crl!;
    collateral.pck_crl_issuer_chain = chain.slice(chain.indexOf('-----END CERTIFICATE-----') + 26);
    expect(await codeOf(realQuote(), withCollateral(collateral))).toBe('ERR_TDX_COLLATERAL_MISMATCH');
  });

  it('rejects collateral that is not JSON or not an object', async () => {
    expect(await codeOf(realQuote(), { collateral: '{', now: FIXTURE_TIME })).toBe(
      'ERR_TDX_COLLATERAL_MALFORMED',
    );
    expect(await codeOf(realQuote(), { collateral: '[]', now: FIXTURE_TIME })).toBe(
      'ERR_TDX_COLLATERAL_MALFORMED',
    );
  });

  it('the fixture CRLs are what the tests think they are', () => {
    const collateral = realCollateral();
    // Sanity for the CRL mutation offsets: both are DER SEQUENCEs issued by Intel CAs.
    expect(collateral.pck_crl!.startsWith('30')).toBe(true);
    expect(hexToBytes(collateral.root_ca_crl!).length).toBeGreaterThan(200);
    const issuer = new X509Certificate(
      rewritePemChain(collateral.pck_crl_issuer_chain!, () => {}).split('-----END CERTIFICATE-----')[0] +
        '-----END CERTIFICATE-----\n',
    );
    expect(issuer.subject).toContain('Intel SGX PCK Platform CA');
  });
});
