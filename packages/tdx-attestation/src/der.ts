import {
  type Bytes,
  type DerHeaderFault,
  ecdsaDerToRaw as ecdsaDerToRawBytes,
  readDerHeader,
} from '@confidential-ai/bytes';

/** Raised by the DER reader; callers map it to a typed `TdxAttestationError`. */
export class DerError extends Error {
  override name = 'DerError';
}

/** One DER element: tag, and where its header, content and end are in `source`. */
export interface Tlv {
  /** The whole buffer the element was read from. */
  source: Uint8Array;
  /** Identifier octet (low-tag-number form only). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the content. */
  contentStart: number;
  /** Offset just after the content. */
  end: number;
}

/** DER universal tags used here. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** This reader's message for each fault of `@confidential-ai/bytes`' header reader. */
const HEADER_FAULT_MESSAGES: Record<DerHeaderFault, string> = {
  'truncated-header': 'truncated element header',
  'indefinite-length': 'indefinite length is not DER',
  'length-too-long': 'element too long',
  'truncated-length': 'truncated length',
  'non-minimal-length': 'non-minimal length',
  'exceeds-limit': 'element exceeds its container',
};

/**
 * Reads one element at `offset`, which must end by `limit`. Strict DER: definite, minimal lengths (the header
 * is read by `@confidential-ai/bytes`' `readDerHeader`); low tag numbers only.
 */
export function readTlv(source: Uint8Array, offset: number, limit: number = source.length): Tlv {
  if (offset + 2 <= limit && (source[offset]! & 0x1f) === 0x1f) {
    throw new DerError('high tag numbers are not supported');
  }
  const header = readDerHeader(source, offset, limit);
  if (typeof header === 'string') throw new DerError(HEADER_FAULT_MESSAGES[header]);
  return { source, tag: header.tag, start: offset, contentStart: header.contentStart, end: header.end };
}

/** Reads a whole buffer as exactly one element. */
export function readRoot(source: Uint8Array): Tlv {
  const tlv = readTlv(source, 0);
  if (tlv.end !== source.length) throw new DerError('trailing bytes after the element');
  return tlv;
}

/** The children of a constructed element. */
export function children(parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('element is not constructed');
  const out: Tlv[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readTlv(parent.source, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** Content bytes of an element (a view). */
export function content(tlv: Tlv): Uint8Array {
  return tlv.source.subarray(tlv.contentStart, tlv.end);
}

/** Whole encoding of an element (a view). */
export function encoded(tlv: Tlv): Uint8Array {
  return tlv.source.subarray(tlv.start, tlv.end);
}

/** Asserts the tag of an element and returns it. */
export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (tlv === undefined || tlv.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return tlv;
}

/** Decodes an OBJECT IDENTIFIER to dotted form. */
export function decodeOid(tlv: Tlv): string {
  const bytes = content(expectTag(tlv, TAG.oid, 'OID'));
  if (bytes.length === 0 || bytes[bytes.length - 1]! & 0x80) throw new DerError('malformed OID');
  const arcs: number[] = [];
  let value = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]!;
    if (value === 0 && byte === 0x80) throw new DerError('non-minimal OID arc');
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    }
  }
  return arcs.join('.');
}

/** Decodes a non-negative INTEGER that fits in a safe integer. */
export function decodeSmallUnsigned(tlv: Tlv, max: number): number {
  const tag = tlv.tag === TAG.enumerated ? TAG.enumerated : TAG.integer;
  const bytes = content(expectTag(tlv, tag, 'INTEGER'));
  if (bytes.length === 0 || bytes[0]! & 0x80) throw new DerError('INTEGER is empty or negative');
  if (bytes.length > 1 && bytes[0] === 0 && (bytes[1]! & 0x80) === 0)
    throw new DerError('non-minimal INTEGER');
  let value = 0;
  for (const byte of bytes) {
    value = value * 256 + byte;
    if (value > max) throw new DerError('INTEGER out of range');
  }
  return value;
}

/** Content of a BIT STRING with no unused bits. */
export function bitStringBytes(tlv: Tlv): Uint8Array {
  const bytes = content(expectTag(tlv, TAG.bitString, 'BIT STRING'));
  if (bytes.length === 0 || bytes[0] !== 0) throw new DerError('BIT STRING with unused bits');
  return bytes.subarray(1);
}

const UTC = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

/** Decodes a UTCTime or GeneralizedTime (RFC 5280 profile: seconds, `Z`). */
export function decodeTime(tlv: Tlv): Date {
  const text = String.fromCharCode(...content(tlv));
  const match =
    tlv.tag === TAG.utcTime
      ? UTC.exec(text)
      : tlv.tag === TAG.generalizedTime
        ? GENERALIZED.exec(text)
        : null;
  if (match === null) throw new DerError('malformed time');
  const first = Number(match[1]);
  // RFC 5280: a two-digit UTCTime year below 50 is 20YY, otherwise 19YY.
  const year = tlv.tag === TAG.generalizedTime ? first : first < 50 ? 2000 + first : 1900 + first;
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const value = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    value.getUTCFullYear() !== year ||
    value.getUTCMonth() !== month - 1 ||
    value.getUTCDate() !== day ||
    value.getUTCHours() !== hour ||
    value.getUTCMinutes() !== minute ||
    value.getUTCSeconds() !== second
  ) {
    throw new DerError('time out of range');
  }
  return value;
}

/**
 * Converts a DER `ECDSA-Sig-Value` into raw `r || s` (32 bytes each), with `@confidential-ai/bytes`' strict
 * reader.
 * @throws DerError when `der` is not one strict-DER SEQUENCE of two positive INTEGERs that fit P-256.
 */
export function ecdsaDerToRaw(der: Uint8Array): Bytes {
  const raw = ecdsaDerToRawBytes(der, 32);
  if (raw === null) throw new DerError('ECDSA signature is not strict DER of two P-256 integers');
  return raw;
}
