import { assertBytes, type Bytes } from '@confidential-ai/bytes';
import { deflateSync, Inflate } from 'fflate';
import { ChutesCryptoError } from './errors.js';
import { nodeZlib, plainBytes, useNative } from './native.js';
import { type CryptoOptions, maxPlaintextBytes } from './options.js';

// gzip (RFC 1952) with a strict container parser shared by both backends: one member, CM = 8, no reserved
// flags, CRC-32 and ISIZE verified. Only the raw DEFLATE step runs natively (node:zlib) or in pure
// JavaScript (fflate), so both backends accept and reject exactly the same containers.

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
const TRAILER_LENGTH = 8;

function malformed(message: string, cause?: unknown): ChutesCryptoError {
  return new ChutesCryptoError('ERR_DECOMPRESS_FAILED', `gzip: ${message}`, { cause });
}

function tooLarge(limit: number): ChutesCryptoError {
  return new ChutesCryptoError('ERR_PAYLOAD_TOO_LARGE', `decompressed payload exceeds ${limit} bytes`);
}

/** Parses a gzip member header and returns the offset of the DEFLATE data. */
function headerLength(data: Uint8Array, options: CryptoOptions | undefined): number {
  if (data.length < 10 + TRAILER_LENGTH) throw malformed('input is too short');
  if (data[0] !== 0x1f || data[1] !== 0x8b) throw malformed('bad magic bytes');
  if (data[2] !== 8) throw malformed('unsupported compression method');
  const flags = data[3]!;
  if (flags & FLAGS_RESERVED) throw malformed('reserved header flags are set');
  let offset = 10;
  if (flags & FLAG_EXTRA) {
    if (offset + 2 > data.length) throw malformed('truncated header');
    offset += 2 + (data[offset]! | (data[offset + 1]! << 8));
  }
  for (const flag of [FLAG_NAME, FLAG_COMMENT]) {
    if (flags & flag) {
      while (offset < data.length && data[offset] !== 0) offset++;
      offset++;
    }
  }
  if (flags & FLAG_HCRC) {
    if (offset + 2 > data.length) throw malformed('truncated header');
    const expected = data[offset]! | (data[offset + 1]! << 8);
    if ((crc32(data.subarray(0, offset), options) & 0xffff) !== expected)
      throw malformed('header CRC mismatch');
    offset += 2;
  }
  if (offset + TRAILER_LENGTH > data.length) throw malformed('truncated header');
  return offset;
}

function join(chunks: Uint8Array[], total: number): Bytes {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

const PUSH_SIZE = 16 * 1024;

function inflatePure(body: Uint8Array, limit: number): Bytes {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let exceeded = false;
  const inflater = new Inflate((chunk) => {
    total += chunk.length;
    if (total > limit) exceeded = true;
    else if (chunk.length > 0) chunks.push(chunk);
  });
  try {
    if (body.length === 0) inflater.push(body, true);
    for (let offset = 0; offset < body.length && !exceeded; offset += PUSH_SIZE) {
      const end = Math.min(body.length, offset + PUSH_SIZE);
      inflater.push(body.subarray(offset, end), end === body.length);
    }
  } catch (cause) {
    if (exceeded) throw tooLarge(limit);
    throw malformed('invalid DEFLATE data', cause);
  }
  if (exceeded) throw tooLarge(limit);
  // fflate keeps the input it did not consume after the final block; anything left means data after the
  // DEFLATE stream (for example a second gzip member), which is rejected. Should that internal field ever
  // be missing, fall back to checking that the stream cannot complete without its last byte.
  // `p` is the unconsumed input and `s.p` the bit offset into its first byte, which still belongs to the
  // stream when non-zero.
  const state = inflater as unknown as { p?: unknown; s?: { p?: unknown } };
  const trailing =
    state.p instanceof Uint8Array && typeof state.s?.p === 'number'
      ? state.p.length - (state.s.p & 7 ? 1 : 0) > 0
      : body.length > 0 && inflatesCompletely(body.subarray(0, -1));
  if (trailing) throw malformed('data after the end of the DEFLATE stream');
  return join(chunks, total);
}

function inflatesCompletely(body: Uint8Array): boolean {
  try {
    const inflater = new Inflate(() => {});
    inflater.push(body, true);
    return true;
  } catch {
    return false;
  }
}

function inflateNative(
  zlib: NonNullable<ReturnType<typeof nodeZlib>>,
  body: Uint8Array,
  limit: number,
): Bytes {
  let out: Uint8Array;
  let consumed: number;
  try {
    const result = zlib.inflateRawSync(body, {
      maxOutputLength: Math.max(1, limit),
      info: true,
    }) as unknown as {
      buffer: Uint8Array;
      engine: { bytesWritten: number };
    };
    out = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (cause) {
    if ((cause as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw malformed('invalid DEFLATE data', cause);
  }
  if (out.length > limit) throw tooLarge(limit);
  if (consumed !== body.length) throw malformed('data after the end of the DEFLATE stream');
  // Large outputs come in a buffer of their own and are handed out without a copy.
  return plainBytes(out);
}

/**
 * Decompresses a single-member gzip container (RFC 1952) with a size limit.
 *
 * @param data - The gzip bytes.
 * @param options - `maxPlaintextBytes` (default 64 MiB) and backend.
 * @returns The decompressed bytes.
 * @throws ChutesCryptoError `ERR_DECOMPRESS_FAILED` for a bad header, bad DEFLATE data, CRC or length
 * mismatch, or trailing members; `ERR_PAYLOAD_TOO_LARGE` when the output would exceed the limit.
 */
export function gunzip(data: Uint8Array, options?: CryptoOptions): Bytes {
  assertBytes(data, 'data');
  const limit = maxPlaintextBytes(options);
  const zlib = useNative('gzip', options?.backend) ? nodeZlib() : undefined;
  const start = headerLength(data, options);
  const body = data.subarray(start, data.length - TRAILER_LENGTH);
  const out = zlib ? inflateNative(zlib, body, limit) : inflatePure(body, limit);
  const trailer = data.subarray(data.length - TRAILER_LENGTH);
  const view = new DataView(trailer.buffer, trailer.byteOffset, TRAILER_LENGTH);
  if (view.getUint32(4, true) !== out.length >>> 0) throw malformed('length mismatch (ISIZE)');
  if (view.getUint32(0, true) !== crc32(out, options)) throw malformed('CRC-32 mismatch');
  return out;
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
    : deflateSync(data, { level: 6 });
  const out = new Uint8Array(10 + deflated.length + TRAILER_LENGTH);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], 0);
  out.set(deflated, 10);
  const view = new DataView(out.buffer, 10 + deflated.length, TRAILER_LENGTH);
  view.setUint32(0, crc32(data, options), true);
  view.setUint32(4, data.length >>> 0, true);
  return out;
}
