import { readFileSync } from 'node:fs';
import type { TdxCollateralJson } from '@confidential-ai/tdx-attestation';

/** Bytes of a file in test/fixtures. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
}

/** The real quote's collateral. */
export function realCollateral(): TdxCollateralJson {
  return JSON.parse(readFileSync(new URL('./fixtures/tdx_quote_collateral.json', import.meta.url), 'utf8'));
}

/** A time inside the real collateral's validity window. */
export const TDX_FIXTURE_TIME = new Date('2025-07-01T00:00:00Z');

/** The real quote's MRTD (dcap-qvl's parsed snapshot). */
export const REAL_MRTD =
  '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7';

/** A copy of `bytes` with one bit of byte `index` flipped. */
export function flipped(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index]! ^= mask;
  return copy;
}
