import { readFileSync } from 'node:fs';
import { bytesToHex, concatBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { decodeCollateral, parseTdxQuote, TdxAttestationError, verifyTdxQuote } from '../src/index.js';
import { FIXTURE_TIME, realCollateral, realQuote } from './helpers.js';

const quote = realQuote();
const collateral = realCollateral();
const quoteV5 = new Uint8Array(
  readFileSync(new URL('./vectors/quotes/dcap-qvl-tdx_quote_outdated.bin', import.meta.url)),
);
/** A v5 header (version 5, ECDSA-P256, TDX, Intel QE vendor) from the real v5 quote. */
const v5Header = quoteV5.slice(0, 48);

function typedOnly(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!TdxAttestationError.isInstance(error)) throw error;
  }
}

async function typedOnlyAsync(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'OK';
  } catch (error) {
    if (!TdxAttestationError.isInstance(error)) throw error;
    return error.code;
  }
}

describe('parser fuzzing: only TdxAttestationError escapes', () => {
  test.prop([fc.uint8Array({ maxLength: 6000 })], { numRuns: 300 })('random bytes', (bytes) => {
    typedOnly(() => parseTdxQuote(bytes));
  });

  test.prop(
    [
      fc.integer({ min: 0, max: quote.length }),
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc.nat(quote.length),
    ],
    {
      numRuns: 300,
    },
  )('the real quote truncated and with bytes overwritten', (length, patch, at) => {
    const mutated = quote.slice(0, length);
    mutated.set(patch.subarray(0, Math.max(0, mutated.length - at)), Math.min(at, mutated.length));
    typedOnly(() => parseTdxQuote(mutated));
  });

  test.prop([fc.uint8Array({ maxLength: 6000 })], { numRuns: 300 })(
    'random bytes after a valid v5 header',
    (bytes) => {
      typedOnly(() => parseTdxQuote(concatBytes(v5Header, bytes)));
    },
  );

  test.prop(
    [
      fc.constantFrom(2, 3, 1, 0, 4, 0xffff),
      fc.oneof(fc.constantFrom(584, 648, 384, 0), fc.nat()),
      fc.uint8Array({ maxLength: 6000 }),
    ],
    { numRuns: 300 },
  )('a v5 body descriptor of any type and size, then random bytes', (type, size, rest) => {
    const descriptor = new Uint8Array(6);
    new DataView(descriptor.buffer).setUint16(0, type, true);
    new DataView(descriptor.buffer).setUint32(2, size >>> 0, true);
    typedOnly(() => parseTdxQuote(concatBytes(v5Header, descriptor, rest)));
  });

  test.prop(
    [
      fc.integer({ min: 0, max: quoteV5.length }),
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc.nat(quoteV5.length),
    ],
    { numRuns: 300 },
  )('the real v5 quote truncated and with bytes overwritten', (length, patch, at) => {
    const mutated = quoteV5.slice(0, length);
    mutated.set(patch.subarray(0, Math.max(0, mutated.length - at)), Math.min(at, mutated.length));
    typedOnly(() => parseTdxQuote(mutated));
  });

  test.prop([fc.nat(quoteV5.length - 1), fc.integer({ min: 1, max: 255 })], { numRuns: 100 })(
    'a v5 quote with one byte changed verifies only if what it says is unchanged',
    async (offset, mask) => {
      const mutated = quoteV5.slice();
      mutated[offset] = mutated[offset]! ^ mask;
      const code = await typedOnlyAsync(() =>
        verifyTdxQuote(mutated, { now: '2026-03-01T00:00:00Z', chainOnly: true }),
      );
      if (code === 'OK') {
        const before = parseTdxQuote(quoteV5);
        const after = parseTdxQuote(mutated);
        expect(bytesToHex(after.signedData)).toBe(bytesToHex(before.signedData));
        expect(after.pckCertChain.map(bytesToHex)).toEqual(before.pckCertChain.map(bytesToHex));
        expect(bytesToHex(after.qeReport.raw) + bytesToHex(after.qeAuthData)).toBe(
          bytesToHex(before.qeReport.raw) + bytesToHex(before.qeAuthData),
        );
      }
    },
  );

  test.prop([fc.nat(quote.length - 1), fc.integer({ min: 1, max: 255 })], { numRuns: 150 })(
    'a quote with one byte changed verifies only if what it says is unchanged (PEM whitespace, trailing bytes)',
    async (offset, mask) => {
      const mutated = quote.slice();
      mutated[offset] = mutated[offset]! ^ mask;
      const code = await typedOnlyAsync(() =>
        verifyTdxQuote(mutated, { now: FIXTURE_TIME, chainOnly: true }),
      );
      if (code === 'OK') {
        const before = parseTdxQuote(quote);
        const after = parseTdxQuote(mutated);
        expect(bytesToHex(after.signedData)).toBe(bytesToHex(before.signedData));
        expect(bytesToHex(after.signature) + bytesToHex(after.attestationKey)).toBe(
          bytesToHex(before.signature) + bytesToHex(before.attestationKey),
        );
        expect(
          bytesToHex(after.qeReport.raw) + bytesToHex(after.qeReportSignature) + bytesToHex(after.qeAuthData),
        ).toBe(
          bytesToHex(before.qeReport.raw) +
            bytesToHex(before.qeReportSignature) +
            bytesToHex(before.qeAuthData),
        );
        expect(after.pckCertChain.map(bytesToHex)).toEqual(before.pckCertChain.map(bytesToHex));
      }
    },
  );

  test.prop(
    [
      fc.constantFrom(...Object.keys(collateral)),
      fc.oneof(fc.string({ maxLength: 200 }), fc.constant(''), fc.constant('-----BEGIN CERTIFICATE-----\n')),
    ],
    { numRuns: 200 },
  )('collateral with one field replaced by junk', (key, value) => {
    typedOnly(() => decodeCollateral({ ...collateral, [key]: value }));
  });

  test.prop([fc.json({ maxDepth: 3 })], { numRuns: 150 })('TCB info replaced by random JSON', (json) => {
    typedOnly(() => decodeCollateral({ ...collateral, tcb_info: json, qe_identity: json }));
  });
});
