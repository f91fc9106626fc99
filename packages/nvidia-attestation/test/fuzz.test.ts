import { equalBytes, hexToBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import {
  NvidiaAttestationError,
  parseGpuAttestationReport,
  parseGpuEvidence,
  parseOpaqueData,
  verifyGpuEvidence,
} from '../src/index.js';
import { verifyRim } from '../src/rim.js';
import { resolveAnchor } from '../src/trust.js';
import { parseXml, XmlParseError } from '../src/xml-parser.js';
import { hgx, hopper545 } from './vectors.js';

const report = hexToBytes(hopper545.report);

function typedOnly(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!NvidiaAttestationError.isInstance(error)) throw error;
  }
}

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'OK';
  } catch (error) {
    if (!NvidiaAttestationError.isInstance(error)) throw error;
    return error.code;
  }
}

describe('parsers: only NvidiaAttestationError escapes', () => {
  test.prop([fc.uint8Array({ maxLength: 5000 })], { numRuns: 300 })('random report bytes', (bytes) => {
    typedOnly(() => parseGpuAttestationReport(bytes));
  });

  test.prop([fc.nat(report.length), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.nat(report.length)], {
    numRuns: 300,
  })('the real report truncated and overwritten', (length, patch, at) => {
    const mutated = report.slice(0, length);
    mutated.set(patch.subarray(0, Math.max(0, mutated.length - at)), Math.min(at, mutated.length));
    typedOnly(() => parseGpuAttestationReport(mutated));
  });

  test.prop([fc.uint8Array({ maxLength: 600 })], { numRuns: 300 })('random opaque data', (bytes) => {
    typedOnly(() => parseOpaqueData(bytes));
  });

  test.prop([fc.jsonValue({ maxDepth: 4 })], { numRuns: 300 })('random JSON as evidence', (value) => {
    typedOnly(() => parseGpuEvidence(value as never));
    typedOnly(() => parseGpuEvidence(JSON.stringify(value)));
  });

  test.prop(
    [
      fc.record({
        certificate: fc.oneof(fc.string(), fc.base64String(), fc.constant(hgx.evidenceList[0]!.certificate)),
        evidence: fc.oneof(fc.string(), fc.base64String(), fc.constant(hgx.evidenceList[0]!.evidence)),
        arch: fc.option(fc.string(), { nil: undefined }),
        nonce: fc.option(fc.oneof(fc.string(), fc.constant(hgx.nonce)), { nil: undefined }),
      }),
    ],
    { numRuns: 200 },
  )('evidence-list entries with arbitrary fields', (entry) => {
    typedOnly(() => parseGpuEvidence([entry] as never));
  });
});

describe('XML parser: only XmlParseError escapes', () => {
  test.prop([fc.string({ maxLength: 300 })], { numRuns: 500 })('random text', (text) => {
    try {
      parseXml(text);
    } catch (error) {
      if (!(error instanceof XmlParseError)) throw error;
    }
  });

  const markup = fc.constantFrom(
    '<',
    '>',
    '/',
    '=',
    '"',
    "'",
    '&',
    ';',
    ':',
    'a',
    'b',
    'xmlns',
    ' ',
    '\n',
    '<!--',
    '-->',
    '<![CDATA[',
    ']]>',
    '&#x',
    '&amp;',
    '<?',
    '?>',
  );
  test.prop([fc.array(markup, { maxLength: 60 })], { numRuns: 500 })('markup soup', (parts) => {
    try {
      parseXml(`<r>${parts.join('')}</r>`);
    } catch (error) {
      if (!(error instanceof XmlParseError)) throw error;
    }
  });
});

describe('verification of mutated real evidence and RIMs: typed codes only, never a pass with changed bytes', () => {
  test.prop([fc.nat(report.length - 1), fc.integer({ min: 1, max: 255 })], { numRuns: 100 })(
    'a report with one byte changed',
    async (offset, mask) => {
      const mutated = report.slice();
      mutated[offset]! ^= mask;
      const code = await outcome(() =>
        verifyGpuEvidence(
          { report: mutated, certificateChain: hopper545.certificateChain },
          { nonce: hopper545.nonce },
        ),
      );
      expect(code).not.toBe('OK');
    },
  );

  const anchor = resolveAnchor(undefined, 'rim', 'root');
  const rimText = hopper545.vbiosRim;
  test.prop([fc.nat(rimText.length - 1), fc.string({ minLength: 1, maxLength: 3 })], { numRuns: 100 })(
    'a RIM with characters replaced',
    async (offset, replacement) => {
      const mutated = rimText.slice(0, offset) + replacement + rimText.slice(offset + replacement.length);
      const code = await outcome(() =>
        verifyRim(mutated, { anchor, at: new Date(hopper545.at), what: 'RIM', memo: new Map() }),
      );
      if (code === 'OK') {
        // Only changes outside what is signed can pass: white space between the signature's own elements.
        const original = new TextEncoder().encode(rimText);
        expect(equalBytes(new TextEncoder().encode(mutated), original) || /^\s+$/.test(replacement)).toBe(
          true,
        );
      }
    },
  );
});
