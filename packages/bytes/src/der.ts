import type { Bytes } from './bytes.js';

/** A DER tag-length header read by {@link readDerHeader}. */
export interface DerHeader {
  /** The identifier octet. */
  readonly tag: number;
  /** Offset of the contents. */
  readonly contentStart: number;
  /** Length of the contents. */
  readonly contentLength: number;
  /** Offset just after the contents (`contentStart + contentLength`). */
  readonly end: number;
}

/**
 * Why {@link readDerHeader} found no header: `truncated-header` (fewer than two bytes before the limit),
 * `indefinite-length` (BER's 0x80), `length-too-long` (more than three length octets), `truncated-length`,
 * `non-minimal-length` (a leading zero octet, or the long form for a length below 128), `exceeds-limit` (the
 * contents run past the limit).
 */
export type DerHeaderFault =
  | 'truncated-header'
  | 'indefinite-length'
  | 'length-too-long'
  | 'truncated-length'
  | 'non-minimal-length'
  | 'exceeds-limit';

/**
 * Reads the strict-DER header (identifier octet, definite minimal length of at most three octets) of the
 * element at `offset`, whose contents must end by `limit` (default: the end of `bytes`). Returns the header, or
 * the fault as a string so that the caller raises its own typed error. The identifier octet is returned as it
 * is: callers that do not accept the high-tag-number form check `(tag & 0x1f) === 0x1f` themselves.
 */
export function readDerHeader(
  bytes: Uint8Array,
  offset: number,
  limit: number = bytes.length,
): DerHeader | DerHeaderFault {
  if (offset + 2 > limit) return 'truncated-header';
  const tag = bytes[offset]!;
  let length = bytes[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) return 'indefinite-length';
    if (count > 3) return 'length-too-long';
    if (contentStart + count > limit) return 'truncated-length';
    if (bytes[contentStart] === 0) return 'non-minimal-length';
    length = 0;
    for (let index = 0; index < count; index++) length = length * 256 + bytes[contentStart + index]!;
    if (length < 0x80) return 'non-minimal-length';
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) return 'exceeds-limit';
  return { tag, contentStart, contentLength: length, end };
}

/** Reads one DER header at `offset`; null when malformed, truncated or running past the end of `bytes`. */
function readHeader(bytes: Uint8Array, offset: number): DerHeader | null {
  const header = readDerHeader(bytes, offset);
  return typeof header === 'string' ? null : header;
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
