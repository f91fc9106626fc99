import { createTestTdxPlatform, type TestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolvePolicy, type VerificationPolicy } from '../src/policy.js';
import { checkTdxQuote } from '../src/tdx.js';
import { type Verdict, VerdictBuilder } from '../src/verdict.js';
import { fixture, flipped, REAL_MRTD, realCollateral, TDX_FIXTURE_TIME } from './helpers.js';

const STEPS = { quote: 'tdx-quote', tcb: 'tcb-status', measurements: 'measurements' } as const;

async function verdictOf(quote: Uint8Array, policy: VerificationPolicy): Promise<Verdict> {
  const resolved = resolvePolicy(policy);
  const builder = new VerdictBuilder('vllm-proxy', ['tdx-quote', 'tcb-status', 'measurements'], resolved);
  await checkTdxQuote(builder, quote, STEPS, resolved);
  return builder.finish();
}

function step(verdict: Verdict, name: string) {
  return verdict.steps.find((entry) => entry.name === name)!;
}

const atFixtureTime = () => TDX_FIXTURE_TIME;

describe('TDX steps on the real dcap-qvl quote (Intel root)', () => {
  it('verifies as real: chain to the Intel SGX Root CA, TCB UpToDate from collateral, MRTD matches', async () => {
    const verdict = await verdictOf(fixture('tdx_quote.bin'), {
      now: atFixtureTime,
      tdxCollateral: realCollateral(),
      tdxMeasurements: { mrTd: REAL_MRTD },
    });
    expect(verdict.status).toBe('verified');
    expect(step(verdict, 'tdx-quote')).toMatchObject({
      status: 'passed',
      evidence: {
        trustAnchor: 'intel-sgx-root-ca',
        rootSubject: expect.stringContaining('Intel SGX Root CA'),
      },
    });
    expect(step(verdict, 'tcb-status')).toMatchObject({
      status: 'passed',
      evidence: { tcbStatus: 'UpToDate' },
    });
    expect(step(verdict, 'measurements')).toMatchObject({ status: 'passed', evidence: { mrTd: REAL_MRTD } });
  });

  it('is strict by default: no collateral and no measurements fail with ERR_VERIFY_POLICY_MISSING', async () => {
    const verdict = await verdictOf(fixture('tdx_quote.bin'), { now: atFixtureTime });
    expect(step(verdict, 'tdx-quote').status).toBe('passed');
    expect(step(verdict, 'tcb-status')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_POLICY_MISSING',
    });
    expect(step(verdict, 'measurements')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_POLICY_MISSING',
    });
    expect(verdict.failedStep?.name).toBe('tcb-status');
  });

  it("asks a collateral function for the quote's FMSPC, and fails the TCB step when it fails", async () => {
    const asked: string[] = [];
    const verdict = await verdictOf(fixture('tdx_quote.bin'), {
      now: atFixtureTime,
      tdxMeasurements: 'any',
      tdxCollateral: async ({ fmspc }) => {
        asked.push(fmspc);
        return fmspc === 'b0c06f000000' ? realCollateral() : undefined;
      },
    });
    expect(asked).toEqual(['b0c06f000000']);
    expect(step(verdict, 'tcb-status')).toMatchObject({
      status: 'passed',
      evidence: { tcbStatus: 'UpToDate' },
    });
    const broken = await verdictOf(fixture('tdx_quote.bin'), {
      now: atFixtureTime,
      tdxMeasurements: 'any',
      tdxCollateral: async () => {
        throw new Error('PCS unreachable');
      },
    });
    expect(step(broken, 'tcb-status')).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_TCB_STATUS' });
  });

  it('skips what the policy waives by name', async () => {
    const verdict = await verdictOf(fixture('tdx_quote.bin'), {
      now: atFixtureTime,
      requireTcbStatus: false,
      tdxMeasurements: 'any',
    });
    expect(verdict.status).toBe('verified');
    expect(step(verdict, 'tcb-status').status).toBe('skipped');
    expect(step(verdict, 'measurements')).toMatchObject({ status: 'skipped', evidence: { mrTd: REAL_MRTD } });
  });

  it('fails a wrong MRTD, a disallowed TCB status, expired collateral and a flipped quote byte', async () => {
    const wrongMrTd = await verdictOf(fixture('tdx_quote.bin'), {
      now: atFixtureTime,
      tdxCollateral: realCollateral(),
      tdxMeasurements: { mrTd: '00'.repeat(48) },
    });
    expect(step(wrongMrTd, 'measurements')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_MEASUREMENTS',
    });

    const strictStatus = await verdictOf(fixture('tdx_quote.bin'), {
      now: atFixtureTime,
      tdxCollateral: realCollateral(),
      allowedTcbStatuses: ['OutOfDate'],
      tdxMeasurements: 'any',
    });
    expect(step(strictStatus, 'tcb-status')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_TCB_STATUS',
    });

    const expired = await verdictOf(fixture('tdx_quote.bin'), {
      now: () => new Date('2026-01-01T00:00:00Z'),
      tdxCollateral: realCollateral(),
      tdxMeasurements: 'any',
    });
    expect(step(expired, 'tdx-quote').status).toBe('passed');
    expect(step(expired, 'tcb-status')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_TCB_STATUS',
      evidence: { tdxCode: 'ERR_TDX_COLLATERAL_EXPIRED' },
    });

    // Byte 600 lies in REPORTDATA, inside the signed header+body: the quote signature must fail.
    const tampered = await verdictOf(flipped(fixture('tdx_quote.bin'), 600), {
      now: atFixtureTime,
      tdxMeasurements: 'any',
    });
    expect(step(tampered, 'tdx-quote')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_TDX_QUOTE',
      evidence: { tdxCode: 'ERR_TDX_QUOTE_SIGNATURE' },
    });
  });
});

describe('TDX steps on TEST evidence (tdx-attestation/testing)', () => {
  let platform: TestTdxPlatform;
  let quote: Uint8Array;
  beforeAll(async () => {
    platform = await createTestTdxPlatform();
    quote = await platform.createQuote({ reportData: new Uint8Array(64).fill(7) });
  });

  it('refuses a test root by default (ERR_VERIFY_UNTRUSTED_ROOT, root named)', async () => {
    const verdict = await verdictOf(quote, { tdxMeasurements: 'any' });
    expect(step(verdict, 'tdx-quote')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_UNTRUSTED_ROOT',
      evidence: { rootSubject: 'CN=Test SGX Root CA, O=Test Corporation' },
    });
  });

  it('reports "verified against the TEST root" as simulated, never passed, with acceptSimulated', async () => {
    const embedded = await verdictOf(quote, { acceptSimulated: true, tdxMeasurements: 'any' });
    expect(embedded.status).toBe('simulated');
    expect(step(embedded, 'tdx-quote')).toMatchObject({
      status: 'simulated',
      evidence: { trustAnchor: 'embedded-test-root' },
    });
    expect(step(embedded, 'tdx-quote').message).toContain('Test SGX Root CA');
    expect(step(embedded, 'tcb-status').status).toBe('simulated');

    const pinned = await verdictOf(quote, {
      acceptSimulated: true,
      testRoots: { tdx: [platform.rootPem] },
      tdxCollateral: await platform.createCollateral(),
      tdxMeasurements: { mrTd: '11'.repeat(48) },
    });
    expect(pinned.status).toBe('simulated');
    expect(step(pinned, 'tdx-quote')).toMatchObject({
      status: 'simulated',
      evidence: { trustAnchor: 'test-root' },
    });
    expect(step(pinned, 'tdx-quote').message).toContain('TEST root');
    expect(step(pinned, 'tcb-status')).toMatchObject({
      status: 'simulated',
      evidence: { tcbStatus: 'UpToDate' },
    });
    expect(step(pinned, 'measurements').status).toBe('simulated');
    expect(pinned.steps.some((entry) => entry.status === 'passed')).toBe(false);
  });

  it('accepts only the pinned test roots once some are named', async () => {
    const other = await createTestTdxPlatform();
    const verdict = await verdictOf(quote, {
      acceptSimulated: true,
      testRoots: { tdx: [other.root] },
      tdxMeasurements: 'any',
    });
    expect(step(verdict, 'tdx-quote')).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_UNTRUSTED_ROOT' });
  });

  it('verifies as real against a root pinned by trustAnchors (named), and only that root', async () => {
    const mrTd = step(
      await verdictOf(quote, { acceptSimulated: true, tdxMeasurements: 'any' }),
      'measurements',
    ).evidence.mrTd as string;
    const verdict = await verdictOf(quote, {
      trustAnchors: { tdx: [platform.rootPem] },
      tdxCollateral: await platform.createCollateral(),
      tdxMeasurements: { mrTd },
    });
    expect(verdict.status).toBe('verified');
    expect(step(verdict, 'tdx-quote')).toMatchObject({
      status: 'passed',
      evidence: { trustAnchor: 'policy-root', rootSubject: 'CN=Test SGX Root CA, O=Test Corporation' },
    });
    expect(step(verdict, 'tdx-quote').message).toContain(
      'root pinned by policy.trustAnchors "CN=Test SGX Root CA',
    );
    expect(step(verdict, 'tcb-status')).toMatchObject({
      status: 'passed',
      evidence: { tcbStatus: 'UpToDate' },
    });
    expect(step(verdict, 'measurements').status).toBe('passed');
    // Another root pinned: this quote's root is still untrusted, with or without acceptSimulated.
    const other = await createTestTdxPlatform();
    for (const acceptSimulated of [false, true]) {
      const refused = await verdictOf(quote, {
        acceptSimulated,
        trustAnchors: { tdx: [other.rootPem] },
        testRoots: { tdx: [other.rootPem] },
        tdxMeasurements: 'any',
      });
      expect(step(refused, 'tdx-quote')).toMatchObject({
        status: 'failed',
        code: 'ERR_VERIFY_UNTRUSTED_ROOT',
      });
    }
  });

  it('fails a debug TD unless allowDebug', async () => {
    const debug = await platform.createQuote({ debug: true });
    const refused = await verdictOf(debug, { acceptSimulated: true, tdxMeasurements: 'any' });
    expect(step(refused, 'tdx-quote')).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_DEBUG_MODE' });
    const allowed = await verdictOf(debug, {
      acceptSimulated: true,
      allowDebug: true,
      tdxMeasurements: 'any',
    });
    expect(step(allowed, 'tdx-quote').status).toBe('simulated');
  });

  it('fails truncated bytes as a malformed quote', async () => {
    const verdict = await verdictOf(quote.subarray(0, 700), { acceptSimulated: true });
    expect(step(verdict, 'tdx-quote')).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_TDX_QUOTE' });
  });
});
