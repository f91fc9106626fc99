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
    const offline = await verifyTdxQuote(quote, { root: platform.root, now: NOW });
    expect(offline.verified.intelRoot).toBe(false);
    expect(offline.reportData).toBe('07'.repeat(64));
    const collateral = await platform.createCollateral();
    const full = await verifyTdxQuote(quote, { root: platform.rootPem, collateral, now: NOW });
    expect(full.tcbStatus).toBe('UpToDate');
    expect(await codeOf(quote, { now: NOW })).toBe('ERR_TDX_CERT_CHAIN');
  });

  it('rejects a debug TD unless allowed', async () => {
    const debug = await platform.createQuote({ debug: true });
    expect(await codeOf(debug, { root: platform.root, now: NOW })).toBe('ERR_TDX_DEBUG');
    const result = await verifyTdxQuote(debug, { root: platform.root, now: NOW, allowDebug: true });
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
    expect(await codeOf(shortQuote, { root: short.root, now: new Date('2025-06-01T00:00:00Z') })).toBe('OK');
  });

  it('binds the Venice and Chutes REPORTDATA layouts end to end', async () => {
    const address = Uint8Array.from({ length: 20 }, (_, index) => index + 1);
    const nonce = Uint8Array.from({ length: 32 }, (_, index) => 200 - index);
    const reportData = veniceReportData(address, nonce);
    const venice = await platform.createQuote({ reportData, trailingBytes: 70 });
    const result = await verifyTdxQuote(venice, {
      root: platform.root,
      now: NOW,
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
      verifyTdxQuote(chutes, { root: platform.root, now: NOW, expectedReportData: prefix }),
    ).resolves.toBeTruthy();
    expect(matchesChutesReportData(parseTdxQuote(chutes).body.reportData, nonceHex, publicKey)).toBe(true);
    expect(matchesChutesReportData(parseTdxQuote(chutes).body.reportData, nonceHex, 'x')).toBe(false);
  });
});
