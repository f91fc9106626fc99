import { readFileSync } from 'node:fs';
import { bytesToBase64, bytesToHex, concatBytes, hexToBytes } from '@confidential-ai/bytes';
import { createTestNvidiaPlatform } from '@confidential-ai/nvidia-attestation/testing';
import { createTestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import { fc, test as propertyTest } from '@fast-check/vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { signingAddress, signingAddressBytes } from './address.js';
import { type AttestationPolicy, verifyAttestation } from './attestation.js';
import { VeniceE2eeError } from './errors.js';
import { generateFieldKeyPair } from './field-cipher.js';
import { nvidiaGate } from './nvidia.js';
import { defaultTdxBackend, type TdxBackend } from './tdx.js';

const realQuote = new Uint8Array(
  readFileSync(new URL('../test/fixtures/tdx/tdx_quote.bin', import.meta.url)),
);
const collateral = JSON.parse(
  readFileSync(new URL('../test/fixtures/tdx/tdx_quote_collateral.json', import.meta.url), 'utf8'),
);
const FIXTURE_TIME = new Date('2025-07-01T00:00:00Z');

const model = 'e2ee-test-model';

// Quotes are really signed by a synthetic TDX platform (test root CA), as the fake server's are.
const platform = await createTestTdxPlatform();

async function setup(
  mutate?: (reportData: Uint8Array) => void,
  debug = false,
  nonce = globalThis.crypto.getRandomValues(new Uint8Array(32)),
) {
  const key = generateFieldKeyPair();
  const reportData = concatBytes(signingAddressBytes(key.publicKey), new Uint8Array(12), nonce);
  mutate?.(reportData);
  const quote = await platform.createQuote({ reportData, debug, trailingBytes: 70 });
  const flat: Record<string, unknown> = {
    verified: true,
    nonce: bytesToHex(nonce),
    request_nonce: bytesToHex(nonce),
    model,
    tee_provider: 'near-ai',
    signing_key: bytesToHex(key.publicKey),
    signing_public_key: bytesToHex(key.publicKey),
    signing_address: signingAddress(key.publicKey),
    intel_quote: bytesToHex(quote),
  };
  const aci: Record<string, unknown> = {
    api_version: 'aci/1',
    verified: true,
    nonce: bytesToHex(nonce),
    model,
    tee_provider: 'phala',
    debug: false,
    signing_public_key: bytesToHex(key.publicKey),
    signing_address: signingAddress(key.publicKey),
    attestation: {
      tee_type: 'tdx',
      evidence: { quote: bytesToHex(quote), quote_report_data: bytesToHex(reportData) },
    },
  };
  return { key, nonce, reportData, quote, flat, aci };
}

async function codeOf(report: unknown, nonce: Uint8Array, policy: AttestationPolicy = {}): Promise<string> {
  try {
    await verifyAttestation(report, { model, nonce, ...policy });
  } catch (error) {
    if (VeniceE2eeError.isInstance(error)) return error.code;
    throw error;
  }
  return 'ok';
}

describe('verifyAttestation', () => {
  it('accepts Shape A and Shape B with real key binding', async () => {
    const { key, nonce, flat, aci, reportData } = await setup();
    for (const report of [flat, aci]) {
      const result = await verifyAttestation(report, { model, nonce });
      expect(result.publicKeyHex).toBe(bytesToHex(key.publicKey));
      expect(result.signingAddress).toBe(signingAddress(key.publicKey));
      expect(result.reportData).toEqual(reportData);
      expect(result.tdxVerified).toBe(false);
      expect(result.nvidia).toBe('not-present');
    }
    expect((await verifyAttestation(flat, { model, nonce })).shape).toBe('flat');
    expect((await verifyAttestation(aci, { model, nonce: bytesToHex(nonce) })).shape).toBe('aci');
    expect((await verifyAttestation(aci, { model, nonce })).teeProvider).toBe('phala');
  });

  it('normalises compressed, raw 64-byte, 0x-prefixed and upper-case keys', async () => {
    const { key, nonce, flat } = await setup();
    const point = secp256k1.Point.fromBytes(key.publicKey);
    const forms = [
      bytesToHex(point.toBytes(true)),
      bytesToHex(key.publicKey).slice(2),
      `0x${bytesToHex(key.publicKey)}`,
      bytesToHex(key.publicKey).toUpperCase(),
    ];
    for (const form of forms) {
      const result = await verifyAttestation(
        { ...flat, signing_key: form, signing_public_key: undefined },
        { model, nonce },
      );
      expect(result.publicKeyHex).toBe(bytesToHex(key.publicKey));
    }
    // both present in different forms but the same point
    expect(await codeOf({ ...flat, signing_key: forms[0] }, nonce)).toBe('ok');
    expect(
      await codeOf(
        { ...flat, signing_address: signingAddress(key.publicKey).toUpperCase().replace('0X', '0x') },
        nonce,
      ),
    ).toBe('ok');
  });

  it('accepts a base64 intel_quote (10.1 fallback) and a 0x-prefixed hex quote', async () => {
    const { nonce, flat, quote } = await setup();
    expect(await codeOf({ ...flat, intel_quote: bytesToBase64(quote) }, nonce)).toBe('ok');
    expect(await codeOf({ ...flat, intel_quote: `0x${bytesToHex(quote)}` }, nonce)).toBe('ok');
  });

  it('fails each check with its own code', async () => {
    const base = await setup();
    const otherQuote = await platform.createQuote({ reportData: base.reportData, mrTd: new Uint8Array(48) });
    const other = generateFieldKeyPair();
    const cases: Array<[string, unknown, string, AttestationPolicy?]> = [
      ['not an object', [], 'ERR_ATTESTATION_MALFORMED_RESPONSE'],
      ['no verified', { ...base.flat, verified: undefined }, 'ERR_ATTESTATION_MISSING_REQUIRED_FIELD'],
      ['verified null', { ...base.flat, verified: null }, 'ERR_ATTESTATION_UPSTREAM_NOT_VERIFIED'],
      ['verified string', { ...base.flat, verified: 'true' }, 'ERR_ATTESTATION_UPSTREAM_NOT_VERIFIED'],
      ['nonce other', { ...base.flat, nonce: '00'.repeat(32) }, 'ERR_ATTESTATION_NONCE_MISMATCH'],
      ['nonce missing', { ...base.flat, nonce: undefined }, 'ERR_ATTESTATION_NONCE_MISMATCH'],
      ['model', { ...base.flat, model: 'other' }, 'ERR_ATTESTATION_MODEL_MISMATCH'],
      [
        'no key',
        { ...base.flat, signing_key: undefined, signing_public_key: undefined },
        'ERR_ATTESTATION_MISSING_REQUIRED_FIELD',
      ],
      ['key not hex', { ...base.flat, signing_key: 'zz' }, 'ERR_ATTESTATION_INVALID_SIGNING_KEY'],
      ['key number', { ...base.flat, signing_key: 5 }, 'ERR_ATTESTATION_INVALID_SIGNING_KEY'],
      [
        'key off curve',
        { ...base.flat, signing_key: `04${'11'.repeat(64)}` },
        'ERR_ATTESTATION_INVALID_SIGNING_KEY',
      ],
      [
        'keys differ',
        { ...base.flat, signing_key: bytesToHex(other.publicKey) },
        'ERR_ATTESTATION_INVALID_SIGNING_KEY',
      ],
      [
        'address other',
        { ...base.flat, signing_address: signingAddress(other.publicKey) },
        'ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH',
      ],
      [
        'address garbage',
        { ...base.flat, signing_address: '0x1234' },
        'ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH',
      ],
      ['debug root', { ...base.flat, debug: true }, 'ERR_ATTESTATION_DEBUG_MODE_DETECTED'],
      ['tdx_debug root', { ...base.flat, tdx_debug: true }, 'ERR_ATTESTATION_DEBUG_MODE_DETECTED'],
      ['debug not bool', { ...base.flat, debug: 'no' }, 'ERR_ATTESTATION_MALFORMED_RESPONSE'],
      ['no quote', { ...base.flat, intel_quote: undefined }, 'ERR_ATTESTATION_MISSING_TDX_EVIDENCE'],
      ['quote garbage', { ...base.flat, intel_quote: '!!' }, 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE'],
      [
        'quote truncated',
        { ...base.flat, intel_quote: bytesToHex(base.quote.slice(0, 631)) },
        'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
      ],
      [
        'quote not tdx',
        { ...base.flat, intel_quote: bytesToHex(patch(base.quote, 4, 0x00)) },
        'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
      ],
      [
        'quote version',
        { ...base.flat, intel_quote: bytesToHex(patch(base.quote, 0, 3)) },
        'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
      ],
      [
        'quotes differ',
        { ...base.aci, intel_quote: bytesToHex(otherQuote) },
        'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
      ],
      [
        'report data claim',
        {
          ...base.aci,
          attestation: { evidence: { quote: bytesToHex(base.quote), quote_report_data: '00' } },
        },
        'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
      ],
      [
        'nvidia required',
        base.flat,
        'ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE',
        { requireNvidia: 'required' },
      ],
      [
        'nvidia payload without evidence list',
        { ...base.flat, nvidia_payload: '{}' },
        'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
        { requireNvidia: 'when_present' },
      ],
      [
        'nvidia payload not JSON',
        { ...base.flat, nvidia_payload: '{nope' },
        'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
        { requireNvidia: 'required' },
      ],
      [
        'nvidia placeholder (empty evidence list) under required',
        {
          ...base.flat,
          nvidia_payload: JSON.stringify({ nonce: bytesToHex(base.nonce), evidence_list: [] }),
        },
        'ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE',
        { requireNvidia: 'required' },
      ],
      [
        'nvidia bad type',
        { ...base.flat, nvidia_payload: 7 },
        'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
        { requireNvidia: 'required' },
      ],
    ];
    for (const [name, report, code, policy] of cases) {
      expect(`${name}: ${await codeOf(report, base.nonce, policy)}`).toBe(`${name}: ${code}`);
    }
    expect(await codeOf({ ...base.aci, verified: undefined }, base.nonce)).toBe(
      'ERR_ATTESTATION_MISSING_REQUIRED_FIELD',
    );
  });

  it('checks the REPORTDATA parts of the quote itself', async () => {
    const address = await setup((data) => {
      data[3]! ^= 0x80;
    });
    expect(await codeOf(address.flat, address.nonce)).toBe('ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH');
    const padding = await setup((data) => {
      data[31] = 1;
    });
    expect(await codeOf(padding.flat, padding.nonce)).toBe('ERR_ATTESTATION_INVALID_TDX_EVIDENCE');
    const nonce = await setup((data) => {
      data[40]! ^= 1;
    });
    expect(await codeOf(nonce.flat, nonce.nonce)).toBe('ERR_ATTESTATION_NONCE_MISMATCH');
    // a Shape B claim that matches a bad REPORTDATA is still rejected (never trusted on its own)
    const claimed = { ...nonce.aci };
    expect(await codeOf(claimed, nonce.nonce)).toBe('ERR_ATTESTATION_NONCE_MISMATCH');
  });

  it('the quote debug bit wins over debug: false; allowDebug accepts it', async () => {
    const debug = await setup(undefined, true);
    expect(await codeOf(debug.aci, debug.nonce)).toBe('ERR_ATTESTATION_DEBUG_MODE_DETECTED');
    const result = await verifyAttestation(debug.aci, { model, nonce: debug.nonce, allowDebug: true });
    expect(result.debug).toBe(true);
  });

  it('requireTdx passes the binding to the back end and reports its TCB status', async () => {
    const { nonce, flat, key } = await setup();
    const seen: unknown[] = [];
    const backend: TdxBackend = {
      parse: defaultTdxBackend.parse,
      async verify(_quote, options) {
        seen.push(options);
        return { tcbStatus: 'UpToDate' };
      },
    };
    const result = await verifyAttestation(flat, {
      model,
      nonce,
      requireTdx: true,
      tdxBackend: backend,
      now: () => FIXTURE_TIME,
    });
    expect(result.tdxVerified).toBe(true);
    expect(result.tcbStatus).toBe('UpToDate');
    expect(seen[0]).toMatchObject({
      now: FIXTURE_TIME,
      expectedReportData: concatBytes(signingAddressBytes(key.publicKey), new Uint8Array(12), nonce),
    });
    const failing: TdxBackend = {
      parse: defaultTdxBackend.parse,
      verify: () => Promise.reject(new Error('bad chain')),
    };
    expect(await codeOf(flat, nonce, { requireTdx: true, tdxBackend: failing })).toBe(
      'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
    );
  });

  it('nvidiaGate: never ignores, an empty evidence list counts as absent, bad shapes are invalid', async () => {
    const nonce = '11'.repeat(32);
    const empty = JSON.stringify({ nonce, evidence_list: [] });
    expect(await nvidiaGate(undefined, 'never', { nonce })).toEqual({ status: 'not-present' });
    expect(await nvidiaGate('{}', 'never', { nonce })).toEqual({ status: 'ignored' });
    expect(await nvidiaGate('{nope', 'never', { nonce })).toEqual({ status: 'ignored' });
    expect(await nvidiaGate(empty, 'never', { nonce })).toEqual({ status: 'not-present' });
    expect(await nvidiaGate(null, 'when_present', { nonce })).toEqual({ status: 'not-present' });
    expect(await nvidiaGate(empty, 'when_present', { nonce })).toEqual({ status: 'not-present' });
    await expect(nvidiaGate(empty, 'required', { nonce })).rejects.toMatchObject({
      code: 'ERR_ATTESTATION_MISSING_NVIDIA_EVIDENCE',
    });
    await expect(nvidiaGate([], 'required', { nonce })).rejects.toMatchObject({
      code: 'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
    });
    await expect(nvidiaGate(undefined, 'bogus' as never, { nonce })).rejects.toThrow(TypeError);
  });
});

describe('NVIDIA gate with GPU evidence', async () => {
  const gpus = await createTestNvidiaPlatform();

  it('verifies signed evidence bound to the nonce under its root; NVIDIA’s pinned root refuses the test root', async () => {
    const base = await setup();
    const { payload } = await gpus.createEvidence({ nonce: base.nonce, gpuCount: 2 });
    const report = { ...base.flat, nvidia_payload: JSON.stringify(payload) };
    const result = await verifyAttestation(report, {
      model,
      nonce: base.nonce,
      requireNvidia: 'required',
      nvidiaRoot: gpus.deviceRoot,
    });
    expect(result.nvidia).toBe('verified');
    expect(result.nvidiaEvidence).toEqual({ gpus: 2, measurements: 'not-compared', nvidiaRoot: false });
    const aci = await verifyAttestation(
      { ...base.aci, nvidia_payload: payload },
      { model, nonce: base.nonce, requireNvidia: 'when_present', nvidiaRoot: gpus.deviceRoot },
    );
    expect(aci.nvidia).toBe('verified');
    expect(await codeOf(report, base.nonce, { requireNvidia: 'when_present' })).toBe(
      'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
    );
    const ignored = await verifyAttestation(report, { model, nonce: base.nonce });
    expect([ignored.nvidia, ignored.nvidiaEvidence]).toEqual(['ignored', undefined]);
  });

  it('passes RIMs through and compares the measurements', async () => {
    const base = await setup();
    const { payload } = await gpus.createEvidence({ nonce: base.nonce });
    const rims = await gpus.createRims();
    const result = await verifyAttestation(
      { ...base.flat, nvidia_payload: payload },
      {
        model,
        nonce: base.nonce,
        requireNvidia: 'required',
        nvidiaRoot: gpus.deviceRoot,
        nvidia: { rims: [rims.driver, rims.vbios], rimRoot: gpus.rimRoot, requireMeasurements: true },
      },
    );
    expect(result.nvidiaEvidence?.measurements).toBe('matched');
  });

  it('refuses a report bound to another nonce, a payload nonce that differs, and a flipped bit', async () => {
    const base = await setup();
    const policy: AttestationPolicy = { requireNvidia: 'required', nvidiaRoot: gpus.deviceRoot };
    const other = await gpus.createEvidence({ nonce: new Uint8Array(32).fill(3) });
    const wrongReports = { ...other.payload, nonce: bytesToHex(base.nonce) };
    expect(await codeOf({ ...base.flat, nvidia_payload: wrongReports }, base.nonce, policy)).toBe(
      'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
    );
    const good = await gpus.createEvidence({ nonce: base.nonce });
    const wrongClaim = { ...good.payload, nonce: '00'.repeat(32) };
    expect(await codeOf({ ...base.flat, nvidia_payload: wrongClaim }, base.nonce, policy)).toBe(
      'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE',
    );
    const tampered = structuredClone(good.payload);
    const entry = tampered.evidence_list[0]!;
    const bytes = Uint8Array.from(atob(entry.evidence), (character) => character.charCodeAt(0));
    bytes[200]! ^= 1;
    entry.evidence = bytesToBase64(bytes);
    const error = await verifyAttestation(
      { ...base.flat, nvidia_payload: tampered },
      { model, nonce: base.nonce, ...policy },
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_ATTESTATION_INVALID_NVIDIA_EVIDENCE' });
    expect((error as Error).cause).toMatchObject({ code: 'ERR_NVIDIA_REPORT_SIGNATURE', gpuIndex: 0 });
  });

  it('real 8-GPU HGX evidence passes the gate with NVIDIA’s pinned root', async () => {
    const vectors = new URL(
      'test/vectors/',
      import.meta.resolve('@confidential-ai/nvidia-attestation/package.json'),
    );
    const hgx = JSON.parse(readFileSync(new URL('hgx-8gpu-ppcie-nvtrust.json', vectors), 'utf8')) as {
      nonce: string;
      evidenceList: unknown[];
    };
    const base = await setup(undefined, false, hexToBytes(hgx.nonce));
    const payload = JSON.stringify({ nonce: hgx.nonce, arch: 'HOPPER', evidence_list: hgx.evidenceList });
    const result = await verifyAttestation(
      { ...base.flat, nvidia_payload: payload },
      { model, nonce: base.nonce, requireNvidia: 'required' },
    );
    expect(result.nvidia).toBe('verified');
    expect(result.nvidiaEvidence).toEqual({ gpus: 8, measurements: 'not-compared', nvidiaRoot: true });
  });
});

describe('attestation fuzz', async () => {
  const base = await setup();
  const keys = [
    ...new Set([...Object.keys(base.flat), ...Object.keys(base.aci), 'debug', 'tdx_debug', 'nvidia_payload']),
  ];
  propertyTest.prop([fc.boolean(), fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 })], {
    numRuns: 150,
  })(
    'replacing any field with arbitrary JSON either verifies or fails with a typed error',
    async (aci, key, value) => {
      const report = { ...(aci ? base.aci : base.flat), [key]: value };
      try {
        await verifyAttestation(report, { model, nonce: base.nonce, requireNvidia: 'when_present' });
      } catch (error) {
        expect(VeniceE2eeError.isInstance(error)).toBe(true);
      }
    },
  );
});

describe('quote byte fuzz', async () => {
  const base = await setup();
  propertyTest.prop([fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean()], { numRuns: 150 })(
    'flipping or truncating quote bytes never escapes as an untyped error',
    async (position, mask, truncate) => {
      const index = position % base.quote.length;
      const quote = truncate
        ? base.quote.slice(0, index)
        : patch(base.quote, index, base.quote[index]! ^ mask);
      try {
        await verifyAttestation(
          { ...base.flat, intel_quote: bytesToHex(quote) },
          { model, nonce: base.nonce },
        );
        // success is only possible when the change missed every checked byte
        expect(truncate ? index >= base.quote.length - 70 : index < 568 || index >= 632).toBe(true);
      } catch (error) {
        expect(VeniceE2eeError.isInstance(error)).toBe(true);
      }
    },
  );
});

describe('default TDX back end on the real dcap-qvl quote', () => {
  it('parses the quote and verifies its chain and collateral offline (UpToDate)', async () => {
    const summary = defaultTdxBackend.parse(realQuote);
    expect(summary.reportData).toHaveLength(64);
    expect(summary.debug).toBe(false);
    const verified = await defaultTdxBackend.verify(realQuote, { collateral, now: FIXTURE_TIME });
    expect(verified.tcbStatus).toBe('UpToDate');
    const chainOnly = await defaultTdxBackend.verify(realQuote, { now: FIXTURE_TIME });
    expect(chainOnly.tcbStatus).toBeUndefined();
    await expect(
      defaultTdxBackend.verify(patch(realQuote, 100, realQuote[100]! ^ 1), { now: FIXTURE_TIME }),
    ).rejects.toThrow();
    await expect(
      defaultTdxBackend.verify(realQuote, { collateral, now: new Date('2030-01-01T00:00:00Z') }),
    ).rejects.toThrow();
  });

  it('a real quote whose REPORTDATA does not bind the key fails before chain verification', async () => {
    const key = generateFieldKeyPair();
    const summary = defaultTdxBackend.parse(realQuote);
    const nonce = summary.reportData.slice(32, 64);
    const report = {
      verified: true,
      nonce: bytesToHex(nonce),
      model,
      signing_public_key: bytesToHex(key.publicKey),
      intel_quote: bytesToHex(realQuote),
    };
    expect(
      await codeOf(report, nonce, { requireTdx: true, tdxCollateral: collateral, now: () => FIXTURE_TIME }),
    ).toBe('ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH');
  });
});

function patch(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[offset] = value;
  return copy;
}

describe('signing address', () => {
  it('is Keccak-256 (not SHA3-256) of X || Y', () => {
    expect(
      signingAddress(hexToBytes(`02${'79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798'}`)),
    ).toBe('0x7e5f4552091a69125d5dfcb7b8c2659029395bdf');
  });
});
