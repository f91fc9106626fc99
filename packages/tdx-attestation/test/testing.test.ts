import { X509Certificate } from 'node:crypto';
import { bytesToHex } from '@confidential-ai/bytes';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  chutesReportDataPrefix,
  compareVeniceReportData,
  matchesChutesReportData,
  parseTdxQuote,
  TdxAttestationError,
  type TdxAttestationErrorCode,
  type VerifyTdxQuoteOptions,
  veniceReportData,
  verifyTdxQuote,
} from '../src/index.js';
import { createTestTdxPlatform, lazyTestTdxPlatform, type TestTdxPlatform } from '../src/testing.js';

const NOW = new Date('2026-01-01T00:00:00Z');

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

describe('synthetic platform (./testing)', () => {
  let platform: TestTdxPlatform;
  let quote: Uint8Array;
  beforeAll(async () => {
    platform = await createTestTdxPlatform();
    quote = await platform.createQuote({ reportData: new Uint8Array(64).fill(7) });
  });

  it('lazyTestTdxPlatform returns the given platform, or one made on first use and kept', async () => {
    expect(await lazyTestTdxPlatform(platform)()).toBe(platform);
    const lazy = lazyTestTdxPlatform();
    const [first, second] = await Promise.all([lazy(), lazy()]);
    expect(first).toBe(second);
    expect(await lazy()).toBe(first);
    expect(first.root).not.toEqual(platform.root);
  });

  it('produces certificates that OpenSSL accepts as a chain', () => {
    const chain = parseTdxQuote(quote).pckCertChain.map((der) => new X509Certificate(der));
    expect(chain[0]!.verify(chain[1]!.publicKey)).toBe(true);
    expect(chain[1]!.verify(chain[2]!.publicKey)).toBe(true);
    expect(chain[2]!.raw.equals(Buffer.from(platform.root))).toBe(true);
  });

  it('verifies offline and with collateral against its own root, not against Intel', async () => {
    const offline = await verifyTdxQuote(quote, { root: platform.root, now: NOW, chainOnly: true });
    expect(offline.chainOnly).toBe(true);
    expect(await codeOf(quote, { root: platform.root, now: NOW })).toBe('ERR_TDX_COLLATERAL_REQUIRED');
    expect(offline.verified.intelRoot).toBe(false);
    expect(offline.reportData).toBe('07'.repeat(64));
    const collateral = await platform.createCollateral();
    const full = await verifyTdxQuote(quote, { root: platform.rootPem, collateral, now: NOW });
    expect(full.tcbStatus).toBe('UpToDate');
    expect(await codeOf(quote, { now: NOW })).toBe('ERR_TDX_CERT_CHAIN');
  });

  it('rejects a debug TD unless allowed', async () => {
    const debug = await platform.createQuote({ debug: true });
    expect(await codeOf(debug, { root: platform.root, now: NOW, chainOnly: true })).toBe('ERR_TDX_DEBUG');
    const result = await verifyTdxQuote(debug, {
      root: platform.root,
      now: NOW,
      chainOnly: true,
      allowDebug: true,
    });
    expect(result.tdAttributes.debug).toBe(true);
  });

  it('computes TCB statuses and advisories from collateral', async () => {
    const cases: [Parameters<TestTdxPlatform['createCollateral']>[0], string][] = [
      [{ platformStatus: 'SWHardeningNeeded', platformAdvisoryIds: ['INTEL-SA-00615'] }, 'SWHardeningNeeded'],
      [{ platformStatus: 'ConfigurationNeeded' }, 'ConfigurationNeeded'],
      [{ platformStatus: 'ConfigurationAndSWHardeningNeeded' }, 'ConfigurationAndSWHardeningNeeded'],
      [{ platformStatus: 'OutOfDate' }, 'OutOfDate'],
      [{ qeStatus: 'OutOfDate' }, 'OutOfDate'],
      [{ tdxModuleStatus: 'OutOfDate' }, 'OutOfDate'],
      [{ platformStatus: 'ConfigurationNeeded', qeStatus: 'OutOfDate' }, 'OutOfDateConfigurationNeeded'],
    ];
    for (const [options, expected] of cases) {
      const result = await verifyTdxQuote(quote, {
        root: platform.root,
        now: NOW,
        collateral: await platform.createCollateral(options),
      });
      expect(result.tcbStatus, JSON.stringify(options)).toBe(expected);
    }
    const advisories = await verifyTdxQuote(quote, {
      root: platform.root,
      now: NOW,
      collateral: await platform.createCollateral({
        platformStatus: 'SWHardeningNeeded',
        platformAdvisoryIds: ['INTEL-SA-00615'],
      }),
    });
    expect(advisories.advisoryIds).toEqual(['INTEL-SA-00615']);
  });

  it('falls to a lower TCB level with its advisories when the quote TCB is lower', async () => {
    const older = await platform.createQuote({
      teeTcbSvn: Uint8Array.of(6, 1, 1, ...new Array<number>(13).fill(0)),
    });
    const result = await verifyTdxQuote(older, {
      root: platform.root,
      now: NOW,
      collateral: await platform.createCollateral(),
    });
    expect(result.tcbStatus).toBe('OutOfDate');
    expect(result.advisoryIds).toEqual(['INTEL-SA-00000']);
  });

  it('fails on revoked TCB levels and revoked certificates', async () => {
    const base = { root: platform.root, now: NOW };
    expect(
      await codeOf(quote, {
        ...base,
        collateral: await platform.createCollateral({ platformStatus: 'Revoked' }),
      }),
    ).toBe('ERR_TDX_TCB_REVOKED');
    expect(
      await codeOf(quote, { ...base, collateral: await platform.createCollateral({ qeStatus: 'Revoked' }) }),
    ).toBe('ERR_TDX_TCB_REVOKED');
    expect(
      await codeOf(quote, {
        ...base,
        collateral: await platform.createCollateral({ revokePckCertificate: true }),
      }),
    ).toBe('ERR_TDX_CERT_REVOKED');
    expect(
      await codeOf(quote, {
        ...base,
        collateral: await platform.createCollateral({ revokePckPlatformCa: true }),
      }),
    ).toBe('ERR_TDX_CERT_REVOKED');
    expect(
      await codeOf(quote, {
        ...base,
        collateral: await platform.createCollateral({ revokeTcbSigningCertificate: true }),
      }),
    ).toBe('ERR_TDX_CERT_REVOKED');
    expect(await codeOf(quote, { ...base, collateral: await platform.createCollateral() })).toBe('OK');
  });

  it('fails on a QE below every QE identity level', async () => {
    const oldQe = await platform.createQuote({ qeIsvSvn: 3 });
    expect(
      await codeOf(oldQe, { root: platform.root, now: NOW, collateral: await platform.createCollateral() }),
    ).toBe('ERR_TDX_TCB_UNRECOGNIZED');
  });

  it('rejects collateral of another platform', async () => {
    const other = await createTestTdxPlatform({ fmspc: Uint8Array.of(1, 2, 3, 4, 5, 6) });
    expect(
      await codeOf(quote, { root: platform.root, now: NOW, collateral: await other.createCollateral() }),
    ).toBe('ERR_TDX_CERT_CHAIN');
  });

  it('checks certificate validity windows', async () => {
    const short = await createTestTdxPlatform({ notAfter: new Date('2025-12-31T00:00:00Z') });
    const shortQuote = await short.createQuote();
    expect(await codeOf(shortQuote, { root: short.root, now: NOW })).toBe('ERR_TDX_CERT_EXPIRED');
    expect(
      await codeOf(shortQuote, { root: short.root, now: new Date('2025-06-01T00:00:00Z'), chainOnly: true }),
    ).toBe('OK');
  });

  it('binds the Venice and Chutes REPORTDATA layouts end to end', async () => {
    const address = Uint8Array.from({ length: 20 }, (_, index) => index + 1);
    const nonce = Uint8Array.from({ length: 32 }, (_, index) => 200 - index);
    const reportData = veniceReportData(address, nonce);
    const venice = await platform.createQuote({ reportData, trailingBytes: 70 });
    const result = await verifyTdxQuote(venice, {
      root: platform.root,
      now: NOW,
      chainOnly: true,
      expectedReportData: reportData,
    });
    expect(result.reportData).toBe(bytesToHex(reportData));
    const parsed = parseTdxQuote(venice).body.reportData;
    expect(compareVeniceReportData(parsed, address, nonce)).toBeUndefined();
    expect(compareVeniceReportData(parsed, nonce.slice(0, 20), nonce)).toBe('address');
    expect(compareVeniceReportData(parsed, address, new Uint8Array(32))).toBe('nonce');
    const padded = parsed.slice();
    padded[25] = 1;
    expect(compareVeniceReportData(padded, address, nonce)).toBe('padding');

    const nonceHex = 'ab'.repeat(32);
    const publicKey = 'cHVibGljLWtleQ==';
    const prefix = chutesReportDataPrefix(nonceHex, publicKey);
    const chutes = await platform.createQuote({
      reportData: new Uint8Array([...prefix, ...new Uint8Array(32).fill(9)]),
    });
    await expect(
      verifyTdxQuote(chutes, { root: platform.root, now: NOW, chainOnly: true, expectedReportData: prefix }),
    ).resolves.toBeTruthy();
    expect(matchesChutesReportData(parseTdxQuote(chutes).body.reportData, nonceHex, publicKey)).toBe(true);
    expect(matchesChutesReportData(parseTdxQuote(chutes).body.reportData, nonceHex, 'x')).toBe(false);
  });
});

describe('synthetic platform: quote v5 (TD report 1.0 and 1.5)', () => {
  let platform: TestTdxPlatform;
  beforeAll(async () => {
    platform = await createTestTdxPlatform();
  });
  const svn = (...values: number[]) =>
    Uint8Array.from([...values, ...new Array<number>(16 - values.length).fill(0)]);

  it('verifies v4, v5 body type 2 and v5 body type 3 end to end with collateral', async () => {
    const collateral = await platform.createCollateral();
    const reportData = Uint8Array.from({ length: 64 }, (_, index) => index);
    for (const [options, version, bodyType] of [
      [{}, 4, 2],
      [{ version: 5, bodyType: 2 }, 5, 2],
      [{ version: 5, bodyType: 3 }, 5, 3],
      [{ version: 5 }, 5, 3],
    ] as const) {
      const quote = await platform.createQuote({ ...options, reportData });
      const result = await verifyTdxQuote(quote, {
        root: platform.root,
        now: NOW,
        collateral,
        expectedReportData: reportData,
      });
      expect(result).toMatchObject({
        tcbStatus: 'UpToDate',
        quoteVersion: version,
        bodyType,
        chainOnly: false,
      });
      expect(result.reportData).toBe(bytesToHex(reportData));
      expect(result.measurements.teeTcbSvn2 === undefined).toBe(bodyType === 2);
      expect(parseTdxQuote(quote).signedData).toHaveLength(version === 4 ? 632 : bodyType === 2 ? 638 : 702);
    }
  });

  it('binds the Venice and Chutes REPORTDATA layouts in v5 quotes', async () => {
    const reportData = veniceReportData(new Uint8Array(20).fill(1), new Uint8Array(32).fill(2));
    const quote = await platform.createQuote({ version: 5, reportData, trailingBytes: 70 });
    await expect(
      verifyTdxQuote(quote, {
        root: platform.root,
        now: NOW,
        chainOnly: true,
        expectedReportData: reportData,
      }),
    ).resolves.toMatchObject({ quoteVersion: 5 });
    const prefix = chutesReportDataPrefix('cd'.repeat(32), 'a2V5');
    const chutes = await platform.createQuote({
      version: 5,
      bodyType: 2,
      reportData: new Uint8Array([...prefix, ...new Uint8Array(32)]),
    });
    expect(
      await codeOf(chutes, { root: platform.root, now: NOW, chainOnly: true, expectedReportData: prefix }),
    ).toBe('OK');
    expect(
      await codeOf(chutes, {
        root: platform.root,
        now: NOW,
        chainOnly: true,
        expectedReportData: new Uint8Array(32),
      }),
    ).toBe('ERR_TDX_REPORT_DATA_MISMATCH');
  });

  it('rejects a bound service TD (MR_SERVICETD) unless allowed, as dcap-qvl does', async () => {
    const quote = await platform.createQuote({ version: 5, mrServiceTd: new Uint8Array(48).fill(9) });
    const base = { root: platform.root, now: NOW, chainOnly: true } as const;
    expect(await codeOf(quote, base)).toBe('ERR_TDX_SERVICE_TD');
    expect(await codeOf(quote, { ...base, allowServiceTd: true })).toBe('OK');
  });

  it('rejects reserved TD_ATTRIBUTES bits and a clear SEPT_VE_DISABLE, accepts PKS, KL and PERFMON', async () => {
    const base = { root: platform.root, now: NOW, chainOnly: true } as const;
    const attributes = (...bytes: number[]) => Uint8Array.from(bytes);
    for (const version of [4, 5] as const) {
      const make = (tdAttributes: Uint8Array) => platform.createQuote({ version, tdAttributes });
      expect(await codeOf(await make(attributes(0, 0, 0, 0, 0, 0, 0, 0)), base)).toBe(
        'ERR_TDX_TD_ATTRIBUTES',
      );
      expect(await codeOf(await make(attributes(2, 0, 0, 0x10, 0, 0, 0, 0)), base)).toBe(
        'ERR_TDX_TD_ATTRIBUTES',
      );
      expect(await codeOf(await make(attributes(0, 1, 0, 0x10, 0, 0, 0, 0)), base)).toBe(
        'ERR_TDX_TD_ATTRIBUTES',
      );
      expect(await codeOf(await make(attributes(0, 0, 0, 0x30, 0, 0, 0, 0)), base)).toBe(
        'ERR_TDX_TD_ATTRIBUTES',
      );
      expect(await codeOf(await make(attributes(0, 0, 0, 0x10, 1, 0, 0, 0)), base)).toBe(
        'ERR_TDX_TD_ATTRIBUTES',
      );
      expect(await codeOf(await make(attributes(0, 0, 0, 0xd0, 0, 0, 0, 0x80)), base)).toBe('OK');
      // A debug TD with a reserved bit is reported for the reserved bit even when debug is allowed.
      expect(
        await codeOf(await make(attributes(3, 0, 0, 0x10, 0, 0, 0, 0)), { ...base, allowDebug: true }),
      ).toBe('ERR_TDX_TD_ATTRIBUTES');
    }
  });

  it('advises a TD relaunch (Intel QVL) when only the module the TD was launched under is out of date', async () => {
    const collateral = await platform.createCollateral();
    const base = { root: platform.root, now: NOW, collateral };
    // Launched under module ISVSVN 3 (TDX_01 level 2: OutOfDate); the platform now runs ISVSVN 6.
    const relaunch = await verifyTdxQuote(
      await platform.createQuote({ version: 5, teeTcbSvn: svn(3, 1, 3), teeTcbSvn2: svn(6, 1, 3) }),
      base,
    );
    expect(relaunch.tcbStatus).toBe('OutOfDate');
    expect(relaunch.advisoryIds).toEqual(['INTEL-SA-00000', 'INTEL-SA-00001']);
    expect(relaunch.tcb?.tdRelaunchAdvised).toBe(true);
    expect(relaunch.tcb?.tdxModule).toMatchObject({ id: 'TDX_01', status: 'OutOfDate' });
    for (const options of [
      { version: 5, teeTcbSvn: svn(3, 1, 3), teeTcbSvn2: svn(3, 1, 3) },
      { version: 5, teeTcbSvn: svn(3, 1, 3), teeTcbSvn2: svn(6, 1, 1) },
      { version: 5, teeTcbSvn: svn(3, 1, 3), teeTcbSvn2: svn(6, 2, 3) },
      { version: 5, bodyType: 2, teeTcbSvn: svn(3, 1, 3) },
      { version: 4, teeTcbSvn: svn(3, 1, 3) },
    ] as const) {
      const result = await verifyTdxQuote(await platform.createQuote(options), base);
      expect(result.tcbStatus, JSON.stringify(options)).toBe('OutOfDate');
      expect(result.tcb?.tdRelaunchAdvised, JSON.stringify(options)).toBe(false);
    }
    const upToDate = await verifyTdxQuote(await platform.createQuote({ version: 5 }), base);
    expect(upToDate.tcb?.tdRelaunchAdvised).toBe(false);
  });

  it('rates the TDX module by TEE_TCB_SVN (not TEE_TCB_SVN_2) and converges it with the platform as Intel does', async () => {
    const base = { root: platform.root, now: NOW };
    const quote = await platform.createQuote({ version: 5, teeTcbSvn2: svn(1, 1, 3) });
    expect(
      (await verifyTdxQuote(quote, { ...base, collateral: await platform.createCollateral() })).tcbStatus,
    ).toBe('UpToDate');
    const result = await verifyTdxQuote(quote, {
      ...base,
      collateral: await platform.createCollateral({
        platformStatus: 'ConfigurationNeeded',
        tdxModuleStatus: 'OutOfDate',
        tdxModuleAdvisoryIds: ['INTEL-SA-01036'],
      }),
    });
    // Intel QVL: OutOfDateConfigurationNeeded (dcap-qvl's severity merge would say OutOfDate).
    expect(result.tcbStatus).toBe('OutOfDateConfigurationNeeded');
    expect(result.advisoryIds).toEqual(['INTEL-SA-01036']);
  });

  it('gives a platform below every TCB level a typed TCB verdict after its signature chain was checked', async () => {
    const collateral = await platform.createCollateral({ includeBaselineLevel: false });
    const base = { root: platform.root, now: NOW, collateral };
    for (const version of [4, 5] as const) {
      const quote = await platform.createQuote({ version, teeTcbSvn: svn(6, 1, 1) });
      expect(await codeOf(quote, base)).toBe('ERR_TDX_TCB_UNRECOGNIZED');
      const forged = quote.slice();
      forged[200]! ^= 1;
      expect(await codeOf(forged, base)).toBe('ERR_TDX_QUOTE_SIGNATURE');
    }
    expect(await codeOf(await platform.createQuote({ version: 5 }), base)).toBe('OK');
  });
});
