import { readFileSync } from 'node:fs';
import { bytesToHex, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import { NitroAttestationError, parseMeasurements, verifyAttestationDocument } from '../src/index.js';
import { documentInput, fixtureText, prodDoc } from './helpers.js';

const teeGateway = readFileSync(new URL('./vectors/tee-gateway-measurements.txt', import.meta.url), 'utf8');

function hexPcrs(pcrs: ReadonlyMap<number, Uint8Array>): Record<number, string> {
  return Object.fromEntries([...pcrs].map(([index, value]) => [index, bytesToHex(value)]));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (NitroAttestationError.isInstance(error)) return `${error.code} (${error.reason})`;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('parseMeasurements', () => {
  it("reads tee-gateway's own measurements.txt (nitro-cli's layout)", () => {
    const parsed = parseMeasurements(teeGateway);
    const raw = JSON.parse(teeGateway).Measurements;
    expect(parsed.format).toBe('nitro-cli');
    expect(parsed.hashAlgorithm).toBe('Sha384 { ... }');
    expect(hexPcrs(parsed.pcrs)).toEqual({ 0: raw.PCR0, 1: raw.PCR1, 2: raw.PCR2 });
    expect(parseMeasurements(utf8ToBytes(teeGateway))).toEqual(parsed);
    expect(parseMeasurements(JSON.parse(teeGateway))).toEqual(parsed);
  });

  it('the shipped measurements of the production fixture verify that document', async () => {
    const { pcrs } = parseMeasurements(fixtureText('evervault_beta_prod_2022-10-13.measurements.txt'));
    expect([...pcrs.keys()]).toEqual([0, 1, 2, 8]);
    const result = await verifyAttestationDocument(documentInput(prodDoc), {
      at: new Date(prodDoc.verify_at),
      expectedPcrs: pcrs,
    });
    expect(result.checks.pcrs).toEqual([0, 1, 2, 8]);
  });

  it('reads the {"pcrs": …} form with any index and 32/48/64-byte values', () => {
    const parsed = parseMeasurements(
      JSON.stringify({ pcrs: { 0: 'AA'.repeat(48), 4: 'bb'.repeat(32), 31: 'cc'.repeat(64) } }),
    );
    expect(parsed).toMatchObject({ format: 'pcrs', hashAlgorithm: null });
    expect(hexPcrs(parsed.pcrs)).toEqual({ 0: 'aa'.repeat(48), 4: 'bb'.repeat(32), 31: 'cc'.repeat(64) });
  });

  it.each([
    ['not JSON', 'PCR0=abc'],
    ['a JSON array', '[]'],
    ['both forms', JSON.stringify({ Measurements: {}, pcrs: {} })],
    ['another top-level key', JSON.stringify({ measurements: {} })],
    ['a misspelt PCR key', teeGateway.replace('"PCR1"', '"Pcr1"')],
    [
      'PCR2 missing',
      JSON.stringify({
        Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: '00'.repeat(48), PCR1: '00'.repeat(48) },
      }),
    ],
    ['another hash algorithm', teeGateway.replace('Sha384', 'Sha256')],
    [
      'no hash algorithm',
      JSON.stringify({
        Measurements: { PCR0: '00'.repeat(48), PCR1: '00'.repeat(48), PCR2: '00'.repeat(48) },
      }),
    ],
    [
      'a 32-byte PCR in nitro-cli form',
      teeGateway.replace(/"PCR0": "[0-9a-f]+"/, `"PCR0": "${'00'.repeat(32)}"`),
    ],
    ['a PCR that is not hex', teeGateway.replace(/"PCR0": "[0-9a-f]{2}/, '"PCR0": "zz')],
    ['a PCR that is a number', JSON.stringify({ pcrs: { 0: 1 } })],
    ['an empty pcrs map', JSON.stringify({ pcrs: {} })],
    ['index 32', JSON.stringify({ pcrs: { 32: '00'.repeat(48) } })],
    ['a 47-byte value', JSON.stringify({ pcrs: { 0: '00'.repeat(47) } })],
    ['a file over 64 KiB', ' '.repeat(64 * 1024 + 1)],
  ])('refuses %s', (_name, text) => {
    expect(codeOf(() => parseMeasurements(text))).toBe('ERR_NITRO_MEASUREMENTS_INVALID (malformed)');
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(codeOf(() => parseMeasurements(new Uint8Array([0x7b, 0xff, 0x7d])))).toBe(
      'ERR_NITRO_MEASUREMENTS_INVALID (malformed)',
    );
  });
});
