import type { Bytes } from './bytes.js';

/** A DER tag-length header: where the contents start and how long they are. */
interface Header {
  readonly tag: number;
  readonly contentStart: number;
  readonly contentLength: number;
}

/** Reads one DER header with definite, minimal length at `offset`; null when malformed or truncated. */
function readHeader(bytes: Uint8Array, offset: number): Header | null {
  if (offset + 2 > bytes.length) return null;
  const tag = bytes[offset]!;
  const first = bytes[offset + 1]!;
  if (first < 0x80) return { tag, contentStart: offset + 2, contentLength: first };
  const count = first & 0x7f;
  if (count === 0 || count > 3 || offset + 2 + count > bytes.length) return null;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i]!;
  if (bytes[offset + 2]! === 0 || length < 0x80) return null; // non-minimal length encoding
  return { tag, contentStart: offset + 2 + count, contentLength: length };
}

/** True when `bytes` is exactly one DER SEQUENCE with nothing after it. */
export function isSingleDerSequence(bytes: Uint8Array): boolean {
  const header = readHeader(bytes, 0);
  return (
    header !== null && header.tag === 0x30 && header.contentStart + header.contentLength === bytes.length
  );
}

function readInteger(bytes: Uint8Array, offset: number, size: number): { value: Bytes; next: number } | null {
  const header = readHeader(bytes, offset);
  if (header?.tag !== 0x02 || header.contentLength === 0) return null;
  const end = header.contentStart + header.contentLength;
  if (end > bytes.length) return null;
  let content = bytes.subarray(header.contentStart, end);
  if (content[0]! & 0x80) return null; // negative
  if (content.length > 1 && content[0] === 0 && !(content[1]! & 0x80)) return null; // non-minimal
  if (content[0] === 0 && content.length > 1) content = content.subarray(1);
  if (content.length > size) return null;
  const value = new Uint8Array(size);
  value.set(content, size - content.length);
  return { value, next: end };
}

/**
 * Converts a DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` into the raw fixed-width r‖s form
 * WebCrypto expects (`size` bytes per integer, 48 for P-384). Returns null for anything that is not strict DER.
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Bytes | null {
  const sequence = readHeader(der, 0);
  if (sequence?.tag !== 0x30 || sequence.contentStart + sequence.contentLength !== der.length) return null;
  const r = readInteger(der, sequence.contentStart, size);
  if (!r) return null;
  const s = readInteger(der, r.next, size);
  if (!s || s.next !== der.length) return null;
  const raw = new Uint8Array(size * 2);
  raw.set(r.value, 0);
  raw.set(s.value, size);
  return raw;
}
