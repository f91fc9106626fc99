import { assertBytes, type Bytes } from '@confidential-ai/bytes';
import { deflateRaw } from 'pako';
import { createPureInflater, joinChunks, malformed, tooLarge } from './inflate.js';
import { nodeBufferMaxLength, nodeZlib, plainBytes, useNative } from './native.js';
import { type CryptoOptions, maxPlaintextBytes } from './options.js';

// gzip (RFC 1952). gunzip's verdict is node:zlib's `gunzipSync` on every input, on both backends: the native
// backend is `gunzipSync` itself (with an output limit); the pure backend parses the container as zlib streams
// it (header, DEFLATE until its final block, trailer, then the next member or padding) and inflates with
// pako's port of zlib's inflate (inflate.ts). test/gzip.test.ts holds the two to node:zlib's verdict on fixed
// and property-generated containers.

let crcTable: Uint32Array | undefined;

function table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

/** CRC-32 (ISO-HDLC, the gzip/zlib checksum) of `data`. */
export function crc32(data: Uint8Array, options?: CryptoOptions): number {
  assertBytes(data, 'data');
  const zlib = options?.backend !== 'js' ? nodeZlib() : undefined;
  if (typeof zlib?.crc32 === 'function' && useNative('gzip', options?.backend)) return zlib.crc32(data) >>> 0;
  const lookup = table();
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = lookup[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const FLAG_HCRC = 2;
const FLAG_EXTRA = 4;
const FLAG_NAME = 8;
const FLAG_COMMENT = 16;
const FLAGS_RESERVED = 0xe0;
const FIXED_HEADER_LENGTH = 10;
const TRAILER_LENGTH = 8;

/** Offset just past the zero byte that ends the string starting at `offset` (FNAME, FCOMMENT). */
function endOfString(data: Uint8Array, offset: number): number {
  const zero = data.indexOf(0, offset);
  if (zero < 0) throw malformed('truncated header (unterminated name or comment)');
  return zero + 1;
}

/** Parses the member header at `start` and returns the offset of its DEFLATE data. */
function parseHeader(data: Uint8Array, start: number, options: CryptoOptions | undefined): number {
  if (data.length - start < FIXED_HEADER_LENGTH) throw malformed('truncated header');
  if (data[start] !== 0x1f || data[start + 1] !== 0x8b) throw malformed('bad magic bytes');
  if (data[start + 2] !== 8) throw malformed('unsupported compression method');
  const flags = data[start + 3]!;
  if (flags & FLAGS_RESERVED) throw malformed('reserved header flags are set');
  // MTIME, XFL and OS are informative; FTEXT (bit 0) is a hint with no effect on decompression.
  let offset = start + FIXED_HEADER_LENGTH;
  if (flags & FLAG_EXTRA) {
    if (data.length - offset < 2) throw malformed('truncated header (FEXTRA length)');
    offset += 2 + (data[offset]! | (data[offset + 1]! << 8));
    if (offset > data.length) throw malformed('truncated header (FEXTRA field)');
  }
  if (flags & FLAG_NAME) offset = endOfString(data, offset);
  if (flags & FLAG_COMMENT) offset = endOfString(data, offset);
  if (flags & FLAG_HCRC) {
    if (data.length - offset < 2) throw malformed('truncated header (FHCRC)');
    const expected = data[offset]! | (data[offset + 1]! << 8);
    if ((crc32(data.subarray(start, offset), options) & 0xffff) !== expected) {
      throw malformed('header CRC mismatch');
    }
    offset += 2;
  }
  return offset;
}

/**
 * Decompresses a gzip container (RFC 1952) with a size limit, reaching the same verdict as node:zlib's
 * `gunzipSync` on every input.
 *
 * Every member is checked in full: magic bytes, CM = 8, no reserved flag, FEXTRA / FNAME / FCOMMENT present
 * in full, FHCRC (when set) verified, a complete DEFLATE stream, then its CRC-32 and ISIZE. Several members in
 * a row decompress to the concatenation of their outputs (RFC 1952 section 2.2). After a member, input that
 * starts with a zero byte is padding and is ignored, whatever follows it; any other input must be a further
 * member.
 *
 * @param data - The gzip bytes.
 * @param options - `maxPlaintextBytes` (default 64 MiB; counts the output of all members) and backend.
 * @returns The decompressed bytes.
 * @throws ChutesCryptoError `ERR_DECOMPRESS_FAILED` for a bad or truncated header, bad or truncated DEFLATE
 * data, a CRC-32 or length mismatch, or data after a member that is not a valid member;
 * `ERR_PAYLOAD_TOO_LARGE` when the output would exceed the limit.
 */
export function gunzip(data: Uint8Array, options?: CryptoOptions): Bytes {
  assertBytes(data, 'data');
  const limit = maxPlaintextBytes(options);
  const zlib = useNative('gzip', options?.backend) ? nodeZlib() : undefined;
  return zlib ? gunzipNative(zlib, data, limit) : gunzipPure(data, limit, options);
}

function gunzipNative(
  zlib: NonNullable<ReturnType<typeof nodeZlib>>,
  data: Uint8Array,
  limit: number,
): Bytes {
  let out: Uint8Array;
  try {
    // node:zlib takes 1 .. buffer.constants.MAX_LENGTH here; no output can be longer than that anyway.
    out = zlib.gunzipSync(data, { maxOutputLength: Math.min(Math.max(1, limit), nodeBufferMaxLength()) });
  } catch (cause) {
    if ((cause as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    const message = (cause as { message?: unknown } | null)?.message;
    throw malformed(typeof message === 'string' ? message : 'invalid data', cause);
  }
  if (out.length > limit) throw tooLarge(limit);
  // Large outputs come in a buffer of their own and are handed out without a copy.
  return plainBytes(out);
}

function gunzipPure(data: Uint8Array, limit: number, options: CryptoOptions | undefined): Bytes {
  const inflater = createPureInflater();
  const outputs: Uint8Array[] = [];
  let total = 0;
  let offset = 0;
  do {
    const body = parseHeader(data, offset, options);
    const { output, consumed } = inflater.inflate(data.subarray(body), limit - total);
    offset = body + consumed;
    if (data.length - offset < TRAILER_LENGTH) throw malformed('truncated trailer');
    const trailer = new DataView(data.buffer, data.byteOffset + offset, TRAILER_LENGTH);
    if (trailer.getUint32(0, true) !== crc32(output, options)) throw malformed('CRC-32 mismatch');
    if (trailer.getUint32(4, true) !== output.length >>> 0) throw malformed('length mismatch (ISIZE)');
    offset += TRAILER_LENGTH;
    outputs.push(output);
    total += output.length;
  } while (offset < data.length && data[offset] !== 0);
  return joinChunks(outputs, total);
}

/**
 * Compresses `data` as a single gzip member (RFC 1952; MTIME 0, OS 255, DEFLATE level 6).
 *
 * @param data - Bytes to compress.
 * @param options - Backend.
 * @returns The gzip bytes.
 */
export function gzip(data: Uint8Array, options?: CryptoOptions): Bytes {
  assertBytes(data, 'data');
  const zlib = useNative('gzip', options?.backend) ? nodeZlib() : undefined;
  const deflated: Uint8Array = zlib
    ? zlib.deflateRawSync(data, { level: 6 })
    : deflateRaw(data, { level: 6 });
  const out = new Uint8Array(10 + deflated.length + TRAILER_LENGTH);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], 0);
  out.set(deflated, 10);
  const view = new DataView(out.buffer, 10 + deflated.length, TRAILER_LENGTH);
  view.setUint32(0, crc32(data, options), true);
  view.setUint32(4, data.length >>> 0, true);
  return out;
}
