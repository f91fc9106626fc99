import { readFileSync } from 'node:fs';

const fixtures = new URL('../samples/', import.meta.url);

/** The real TDX quote fixture (fresh copy). */
export function realQuote(): Uint8Array {
  return new Uint8Array(readFileSync(new URL('tdx_quote.bin', fixtures)));
}

/** The real collateral as an object (fresh copy). */
export function realCollateral(): Record<string, string> {
  return JSON.parse(readFileSync(new URL('tdx_quote_collateral.json', fixtures), 'utf8')) as Record<
    string,
    string
  >;
}

/** A time inside the fixture collateral's validity window. */
export const FIXTURE_TIME = new Date('2025-07-01T00:00:00Z');

/** Path of a fixture file. */
export function fixturePath(name: string): string {
  return new URL(name, fixtures).pathname;
}
