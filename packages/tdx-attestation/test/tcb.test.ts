import { readFileSync } from 'node:fs';
import { bytesToHex } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  combineTcbStatuses,
  decodeCollateral,
  evaluatePlatformTcb,
  evaluateQeIdentity,
  evaluateTdxModule,
  parseTcbInfo,
  parseTdxQuote,
  readPckExtensions,
  sortTcbLevels,
  type TcbStatus,
  TdxAttestationError,
} from '../src/index.js';
import { realCollateral, realQuote } from './helpers.js';

const quote = parseTdxQuote(realQuote());
const decoded = decodeCollateral(realCollateral());
const pck = readPckExtensions(quote.pckCertChain[0]!);

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'OK';
  } catch (error) {
    if (TdxAttestationError.isInstance(error)) return error.code;
    throw error;
  }
}

describe('PCK certificate SGX extensions', () => {
  it('reads FMSPC, PCE-ID, PCESVN and the TCB components (checked against openssl asn1parse of the leaf)', () => {
    expect(Buffer.from(pck.fmspc).toString('hex')).toBe('b0c06f000000');
    expect(Buffer.from(pck.pceId).toString('hex')).toBe('0000');
    expect(pck.pceSvn).toBe(11);
    expect(pck.sgxTcbComponents).toEqual([3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Buffer.from(pck.cpuSvn).toString('hex')).toBe('03030202040100050000000000000000');
    expect(pck.sgxType).toBe(1);
  });
});

describe('platform TCB level matching on the real TCB info', () => {
  const body = quote.body;
  it('gives UpToDate for the real platform', () => {
    expect(evaluatePlatformTcb(decoded.tcbInfo, pck, body)).toMatchObject({
      status: 'UpToDate',
      advisoryIds: [],
    });
  });

  it('falls to the OutOfDate level (with its advisories) when PCESVN is below 11', () => {
    for (const pceSvn of [5, 10]) {
      const result = evaluatePlatformTcb(decoded.tcbInfo, { ...pck, pceSvn }, body);
      expect(result.status).toBe('OutOfDate');
      expect(result.advisoryIds).toContain('INTEL-SA-00837');
      expect(result.tcbDate).toBe('2018-01-04T00:00:00Z');
    }
  });

  it('is unrecognized below every level (PCESVN 4, or an SGX component below)', () => {
    expect(codeOf(() => evaluatePlatformTcb(decoded.tcbInfo, { ...pck, pceSvn: 4 }, body))).toBe(
      'ERR_TDX_TCB_UNRECOGNIZED',
    );
    const low = [...pck.sgxTcbComponents];
    low[7] = 4;
    expect(codeOf(() => evaluatePlatformTcb(decoded.tcbInfo, { ...pck, sgxTcbComponents: low }, body))).toBe(
      'ERR_TDX_TCB_UNRECOGNIZED',
    );
  });

  it('compares TEE_TCB_SVN against tdxtcbcomponents', () => {
    const teeTcbSvn = body.teeTcbSvn.slice();
    teeTcbSvn[2] = 1; // level requires 2 (TDX late microcode update)
    expect(codeOf(() => evaluatePlatformTcb(decoded.tcbInfo, pck, { ...body, teeTcbSvn }))).toBe(
      'ERR_TDX_TCB_UNRECOGNIZED',
    );
  });

  it('checks FMSPC and PCE-ID', () => {
    const fmspc = pck.fmspc.slice();
    fmspc[5] = 1;
    expect(codeOf(() => evaluatePlatformTcb(decoded.tcbInfo, { ...pck, fmspc }, body))).toBe(
      'ERR_TDX_COLLATERAL_MISMATCH',
    );
    expect(
      codeOf(() => evaluatePlatformTcb(decoded.tcbInfo, { ...pck, pceId: Uint8Array.of(0, 1) }, body)),
    ).toBe('ERR_TDX_COLLATERAL_MISMATCH');
    expect(codeOf(() => evaluatePlatformTcb({ ...decoded.tcbInfo, id: 'SGX' }, pck, body))).toBe(
      'ERR_TDX_COLLATERAL_MISMATCH',
    );
  });

  it('sorts levels the way Intel does, whatever the JSON order', () => {
    const reversed = { ...decoded.tcbInfo, tcbLevels: [...decoded.tcbInfo.tcbLevels].reverse() };
    expect(sortTcbLevels(reversed.tcbLevels).map((level) => level.pceSvn)).toEqual([11, 5]);
    expect(evaluatePlatformTcb(reversed, pck, body).status).toBe('UpToDate');
  });

  it('returns Revoked when the SGX level that matches is revoked', () => {
    const levels = decoded.tcbInfo.tcbLevels.map((level, index) =>
      index === 0 ? { ...level, tcbStatus: 'Revoked' as const } : level,
    );
    expect(evaluatePlatformTcb({ ...decoded.tcbInfo, tcbLevels: levels }, pck, body).status).toBe('Revoked');
  });
});

describe('TDX module identity', () => {
  it('selects TDX_01 from TEE_TCB_SVN[1] and rates it by TEE_TCB_SVN[0]', () => {
    expect(evaluateTdxModule(decoded.tcbInfo, quote.body)).toMatchObject({
      id: 'TDX_01',
      status: 'UpToDate',
    });
    const teeTcbSvn = quote.body.teeTcbSvn.slice();
    teeTcbSvn[0] = 3;
    expect(evaluateTdxModule(decoded.tcbInfo, { ...quote.body, teeTcbSvn })?.status).toBe('OutOfDate');
    teeTcbSvn[0] = 1;
    expect(codeOf(() => evaluateTdxModule(decoded.tcbInfo, { ...quote.body, teeTcbSvn }))).toBe(
      'ERR_TDX_TCB_UNRECOGNIZED',
    );
    teeTcbSvn[1] = 2;
    expect(codeOf(() => evaluateTdxModule(decoded.tcbInfo, { ...quote.body, teeTcbSvn }))).toBe(
      'ERR_TDX_TCB_UNRECOGNIZED',
    );
    teeTcbSvn[1] = 0;
    expect(evaluateTdxModule(decoded.tcbInfo, { ...quote.body, teeTcbSvn })).toBeUndefined();
  });

  it('checks MRSIGNERSEAM and SEAM attributes', () => {
    const mrSignerSeam = quote.body.mrSignerSeam.slice();
    mrSignerSeam[0] = 1;
    expect(codeOf(() => evaluateTdxModule(decoded.tcbInfo, { ...quote.body, mrSignerSeam }))).toBe(
      'ERR_TDX_COLLATERAL_MISMATCH',
    );
    const seamAttributes = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1);
    expect(codeOf(() => evaluateTdxModule(decoded.tcbInfo, { ...quote.body, seamAttributes }))).toBe(
      'ERR_TDX_COLLATERAL_MISMATCH',
    );
  });
});

describe('QE identity', () => {
  it('rates the real QE UpToDate (ISVSVN 6 >= 4)', () => {
    expect(evaluateQeIdentity(decoded.qeIdentity, quote.qeReport)).toMatchObject({ status: 'UpToDate' });
  });

  it('rejects other MRSIGNER, ISVPRODID, MISCSELECT, ATTRIBUTES', () => {
    const report = quote.qeReport;
    const mrSigner = report.mrSigner.slice();
    mrSigner[3] = mrSigner[3]! ^ 1;
    expect(codeOf(() => evaluateQeIdentity(decoded.qeIdentity, { ...report, mrSigner }))).toBe(
      'ERR_TDX_QE_IDENTITY_MISMATCH',
    );
    expect(codeOf(() => evaluateQeIdentity(decoded.qeIdentity, { ...report, isvProdId: 1 }))).toBe(
      'ERR_TDX_QE_IDENTITY_MISMATCH',
    );
    expect(codeOf(() => evaluateQeIdentity(decoded.qeIdentity, { ...report, miscSelect: 1 }))).toBe(
      'ERR_TDX_QE_IDENTITY_MISMATCH',
    );
    const attributes = report.attributes.slice();
    attributes[0] = attributes[0]! ^ 0x01;
    expect(codeOf(() => evaluateQeIdentity(decoded.qeIdentity, { ...report, attributes }))).toBe(
      'ERR_TDX_QE_IDENTITY_MISMATCH',
    );
    // Bit 2 of byte 0 is outside the mask (FB): changing it is accepted.
    const masked = report.attributes.slice();
    masked[0] = masked[0]! ^ 0x04;
    expect(codeOf(() => evaluateQeIdentity(decoded.qeIdentity, { ...report, attributes: masked }))).toBe(
      'OK',
    );
  });

  it('is unrecognized below the lowest ISVSVN level and rejects a non-TD_QE identity', () => {
    expect(codeOf(() => evaluateQeIdentity(decoded.qeIdentity, { ...quote.qeReport, isvSvn: 3 }))).toBe(
      'ERR_TDX_TCB_UNRECOGNIZED',
    );
    expect(codeOf(() => evaluateQeIdentity({ ...decoded.qeIdentity, id: 'QE' }, quote.qeReport))).toBe(
      'ERR_TDX_COLLATERAL_MISMATCH',
    );
  });
});

describe('combineTcbStatuses (Intel QVL convergence)', () => {
  const s = (status: TcbStatus, ...advisoryIds: string[]) => ({ status, advisoryIds });
  it.each([
    [['UpToDate', 'UpToDate'], 'UpToDate'],
    [['UpToDate', 'OutOfDate'], 'OutOfDate'],
    [['SWHardeningNeeded', 'OutOfDate'], 'OutOfDate'],
    [['ConfigurationNeeded', 'OutOfDate'], 'OutOfDateConfigurationNeeded'],
    [['ConfigurationAndSWHardeningNeeded', 'OutOfDate'], 'OutOfDateConfigurationNeeded'],
    [['ConfigurationNeeded', 'UpToDate'], 'ConfigurationNeeded'],
    [['SWHardeningNeeded', 'UpToDate'], 'SWHardeningNeeded'],
    [['ConfigurationNeeded', 'SWHardeningNeeded'], 'ConfigurationAndSWHardeningNeeded'],
    [['OutOfDateConfigurationNeeded', 'UpToDate'], 'OutOfDateConfigurationNeeded'],
    [['UpToDate', 'Revoked'], 'Revoked'],
    [['Revoked', 'OutOfDate', 'UpToDate'], 'Revoked'],
  ] as [TcbStatus[], TcbStatus][])('%j → %s', (parts, expected) => {
    expect(combineTcbStatuses(...parts.map((status) => s(status))).status).toBe(expected);
  });

  it('merges advisory ids without duplicates', () => {
    expect(
      combineTcbStatuses(s('OutOfDate', 'A', 'B'), s('SWHardeningNeeded', 'B', 'C')).advisoryIds,
    ).toEqual(['A', 'B', 'C']);
  });
});

describe('dcap-qvl parity on real TCB info (FMSPC 00806f050000, 2025-09-29)', () => {
  const vectors = new URL('./vectors/', import.meta.url);
  const response = readFileSync(new URL('collateral/teekit-tcbInfo-tdx-00806f050000.json', vectors), 'utf8');
  const tcbInfo = parseTcbInfo(response.slice('{"tcbInfo":'.length, response.lastIndexOf(',"signature":"')));
  const azure = parseTdxQuote(
    new Uint8Array(readFileSync(new URL('quotes/teekit-tdx-v4-azure.bin', vectors))),
  );
  const azurePck = readPckExtensions(azure.pckCertChain[0]!);

  it('compares all 16 TEE_TCB_SVN bytes, as dcap-qvl does (Intel would skip bytes 0..1 for module version 1)', () => {
    // TEE_TCB_SVN 04 01 07; the UpToDate level asks for 05 00 07: byte 0 (module ISVSVN) is lower.
    expect(bytesToHex(azure.body.teeTcbSvn).slice(0, 6)).toBe('040107');
    const result = evaluatePlatformTcb(tcbInfo, azurePck, azure.body);
    expect(result.status).toBe('OutOfDate');
    expect(result.advisoryIds).toEqual(['INTEL-SA-00960', 'INTEL-SA-00982', 'INTEL-SA-00986']);
    // With byte 0 raised, the UpToDate level matches: only bytes 0..1 made the difference.
    const teeTcbSvn = azure.body.teeTcbSvn.slice();
    teeTcbSvn[0] = 5;
    expect(evaluatePlatformTcb(tcbInfo, azurePck, { ...azure.body, teeTcbSvn }).status).toBe('UpToDate');
    // The module itself is rated by its identity: TDX_01, ISVSVN 4 -> UpToDate.
    expect(evaluateTdxModule(tcbInfo, azure.body)).toMatchObject({ id: 'TDX_01', status: 'UpToDate' });
  });

  it('rejects SEAM attribute bits outside the identity mask, as dcap-qvl does', () => {
    const masked = {
      ...tcbInfo,
      tdxModuleIdentities: tcbInfo.tdxModuleIdentities.map((identity) => ({
        ...identity,
        attributesMask: Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
      })),
    };
    expect(codeOf(() => evaluateTdxModule(masked, azure.body))).toBe('OK');
    const seamAttributes = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0);
    expect(codeOf(() => evaluateTdxModule(masked, { ...azure.body, seamAttributes }))).toBe(
      'ERR_TDX_COLLATERAL_MISMATCH',
    );
  });
});
