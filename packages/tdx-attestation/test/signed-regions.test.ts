// A bit flip anywhere in a signed region of a quote (v4, v5 with either body type, real and synthetic) must be
// rejected with a typed code. The regions are what the checks cover: header (and v5 body descriptor) and body
// (quote signature), the quote signature and attestation key (quote signature, QE report binding), the QE report
// and its signature (PCK leaf), the QE auth data (QE report binding), and the DER of each PCK chain certificate
// (certificate signatures, pinned root); plus the length fields that frame them.

import { readFileSync } from 'node:fs';
import { fc, test } from '@fast-check/vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  parseTdxQuote,
  TdxAttestationError,
  type VerifyTdxQuoteOptions,
  verifyTdxQuote,
} from '../src/index.js';
import { createTestTdxPlatform } from '../src/testing.js';
import { FIXTURE_TIME, realQuote } from './helpers.js';
import { flip, mutateQuotePckChain } from './mutate.js';

interface Subject {
  name: string;
  quote: Uint8Array;
  options: VerifyTdxQuoteOptions;
}

interface Region {
  name: string;
  start: number;
  length: number;
}

/** The byte ranges of a quote that some check covers. */
function regionsOf(quote: Uint8Array): Region[] {
  const parsed = parseTdxQuote(quote);
  const signed = parsed.signedData.length;
  const sig = signed + 4;
  const qeReport = sig + 64 + 64 + 6;
  const auth = qeReport + 384 + 64;
  const regions: Region[] = [
    { name: 'header', start: 0, length: 48 },
    { name: 'body', start: parsed.bodyOffset, length: signed - parsed.bodyOffset },
    { name: 'signature data length', start: signed, length: 4 },
    { name: 'quote signature', start: sig, length: 64 },
    { name: 'attestation key', start: sig + 64, length: 64 },
    { name: 'certification data type and size', start: sig + 128, length: 6 },
    { name: 'QE report', start: qeReport, length: 384 },
    { name: 'QE report signature', start: qeReport + 384, length: 64 },
    { name: 'QE auth data (length and bytes)', start: auth, length: 2 + parsed.qeAuthData.length },
    { name: 'PCK certification data type and size', start: auth + 2 + parsed.qeAuthData.length, length: 6 },
  ];
  if (parsed.header.version === 5) regions.push({ name: 'body descriptor', start: 48, length: 6 });
  return regions;
}

async function verdict(quote: Uint8Array, options: VerifyTdxQuoteOptions): Promise<string> {
  try {
    await verifyTdxQuote(quote, options);
    return 'OK';
  } catch (error) {
    if (TdxAttestationError.isInstance(error)) return error.code;
    throw error;
  }
}

const outdatedV5 = new Uint8Array(
  readFileSync(new URL('./vectors/quotes/dcap-qvl-tdx_quote_outdated.bin', import.meta.url)),
);
const subjects: Subject[] = [
  { name: 'real v4', quote: realQuote(), options: { now: FIXTURE_TIME, chainOnly: true } },
  {
    name: 'real v5 (TD report 1.5)',
    quote: outdatedV5,
    options: { now: '2026-03-01T00:00:00Z', chainOnly: true },
  },
];

beforeAll(async () => {
  const platform = await createTestTdxPlatform();
  const options = { root: platform.root, now: '2026-01-01T00:00:00Z', chainOnly: true } as const;
  subjects.push(
    { name: 'synthetic v4', quote: await platform.createQuote(), options },
    {
      name: 'synthetic v5 (TD report 1.0)',
      quote: await platform.createQuote({ version: 5, bodyType: 2 }),
      options,
    },
    {
      name: 'synthetic v5 (TD report 1.5)',
      quote: await platform.createQuote({ version: 5, bodyType: 3 }),
      options,
    },
  );
});

describe('bit flips in signed regions are rejected with a typed code', () => {
  it('the subjects verify unmodified', async () => {
    expect(subjects).toHaveLength(5);
    for (const subject of subjects)
      expect(await verdict(subject.quote, subject.options), subject.name).toBe('OK');
  });

  it('every region: first, middle and last byte, every bit', async () => {
    for (const subject of subjects) {
      for (const region of regionsOf(subject.quote)) {
        for (const offset of new Set([0, region.length >> 1, region.length - 1])) {
          for (let bit = 0; bit < 8; bit++) {
            const code = await verdict(flip(subject.quote, region.start + offset, 1 << bit), subject.options);
            expect(code, `${subject.name}: ${region.name} +${offset} bit ${bit}`).not.toBe('OK');
          }
        }
      }
    }
  });

  test.prop([fc.nat(), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 })], { numRuns: 400 })(
    'a random bit of a random region of a random subject',
    async (which, regionIndex, offsetSeed, bit) => {
      const subject = subjects[which % subjects.length]!;
      const regions = regionsOf(subject.quote);
      const region = regions[regionIndex % regions.length]!;
      const offset = region.start + (offsetSeed % region.length);
      expect(await verdict(flip(subject.quote, offset, 1 << bit), subject.options)).not.toBe('OK');
    },
  );

  test.prop([fc.nat(), fc.nat(2), fc.nat(), fc.integer({ min: 0, max: 7 })], { numRuns: 200 })(
    'a random bit of the DER of a PCK chain certificate',
    async (which, certificate, offsetSeed, bit) => {
      const subject = subjects[which % subjects.length]!;
      const mutated = mutateQuotePckChain(subject.quote, (chain) => {
        const der = chain[certificate]!;
        der[offsetSeed % der.length]! ^= 1 << bit;
      });
      expect(await verdict(mutated, subject.options)).not.toBe('OK');
    },
  );
});
