import { derToPem, pemCertificatesToDer } from '../src/pem.js';

/** Rewrites the certificates of a PEM chain, keeping the text length (DER lengths must not change). */
export function rewritePemChain(text: string, mutate: (chain: Uint8Array[]) => void): string {
  const chain = pemCertificatesToDer(text);
  if (!chain) throw new Error('not a PEM chain');
  const before = chain.map((der) => der.length);
  mutate(chain);
  if (chain.some((der, index) => der.length !== before[index])) throw new Error('DER length changed');
  const out = chain.map((der) => derToPem(der)).join('');
  return out;
}

/** Replaces the PCK chain text inside a quote with a rewritten one of the same length. */
export function mutateQuotePckChain(quote: Uint8Array, mutate: (chain: Uint8Array[]) => void): Uint8Array {
  const text = new TextDecoder('latin1').decode(quote);
  const start = text.indexOf('-----BEGIN CERTIFICATE-----');
  const endMarker = '-----END CERTIFICATE-----\n';
  const end = text.lastIndexOf(endMarker) + endMarker.length;
  const original = text.slice(start, end);
  const replaced = rewritePemChain(original, mutate);
  if (replaced.length !== original.length) throw new Error('PEM length changed');
  const out = quote.slice();
  out.set(new TextEncoder().encode(replaced), start);
  return out;
}

/** Flips one bit of a copy. */
export function flip(bytes: Uint8Array, offset: number, mask = 1): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = copy[offset]! ^ mask;
  return copy;
}

/** Flips one bit of a hex string (at byte `offset`, negative counts from the end). */
export function flipHex(hex: string, offset: number): string {
  const index = offset < 0 ? hex.length / 2 + offset : offset;
  const value = (Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16) ^ 1).toString(16).padStart(2, '0');
  return hex.slice(0, index * 2) + value + hex.slice(index * 2 + 2);
}
