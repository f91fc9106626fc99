import type { Bytes } from '@confidential-ai/bytes';
import { Z_BUF_ERROR, Z_NO_FLUSH, Z_OK, Z_STREAM_END, ZStream, zlibInflate, zlibInflateInit2 } from 'pako';
import { ChutesCryptoError } from './errors.js';
import { nodeBufferMaxLength, type nodeZlib, plainBytes } from './native.js';

// The raw DEFLATE step (RFC 1951) of gzip decompression, on node:zlib or in pure JavaScript. The pure path is
// pako's port of zlib's inflate, driven through its low-level stream API, so both paths accept and reject
// exactly the same streams (zlib checks stored-block lengths, Huffman code completeness, distances, ...) and
// report how much input the stream used. The gzip container around it is parsed once, in gzip.ts.

/** What one raw DEFLATE stream gave: its output and how many input bytes it used. @internal */
export interface Inflated {
  /** The decompressed bytes. */
  output: Bytes;
  /** Input bytes the stream used, up to and including its final block (the rest is not DEFLATE data). */
  consumed: number;
}

/** A `gzip: ...` error with code `ERR_DECOMPRESS_FAILED`. @internal */
export function malformed(message: string, cause?: unknown): ChutesCryptoError {
  return new ChutesCryptoError('ERR_DECOMPRESS_FAILED', `gzip: ${message}`, { cause });
}

/** The `ERR_PAYLOAD_TOO_LARGE` error for a decompressed payload over `limit` bytes. @internal */
export function tooLarge(limit: number): ChutesCryptoError {
  return new ChutesCryptoError('ERR_PAYLOAD_TOO_LARGE', `decompressed payload exceeds ${limit} bytes`);
}

/** Joins chunks into one array of `total` bytes (no copy for a single chunk that owns its buffer). @internal */
export function joinChunks(chunks: Uint8Array[], total: number): Bytes {
  const only = chunks[0];
  if (chunks.length === 1 && only?.length === total) return plainBytes(only);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

const OUTPUT_CHUNK = 64 * 1024;
/** Raw DEFLATE with a 32 KiB window and no zlib or gzip wrapper (zlib's negative windowBits). */
const RAW_WINDOW_BITS = -15;

/**
 * Inflates the raw DEFLATE stream at the start of `input` in pure JavaScript.
 * @throws ChutesCryptoError `ERR_DECOMPRESS_FAILED` for invalid or truncated data, `ERR_PAYLOAD_TOO_LARGE`
 * when the output exceeds `limit` bytes.
 * @internal
 */
export function inflatePure(input: Uint8Array, limit: number): Inflated {
  const stream = new ZStream();
  if (zlibInflateInit2(stream, RAW_WINDOW_BITS) !== Z_OK) throw malformed('cannot start the inflater');
  stream.input = input;
  stream.next_in = 0;
  stream.avail_in = input.length;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    // Never produce much more than the limit allows: one byte past it is enough to know it was exceeded.
    const size = Math.min(OUTPUT_CHUNK, limit - total + 1);
    stream.output = new Uint8Array(size);
    stream.next_out = 0;
    stream.avail_out = size;
    const status = zlibInflate(stream, Z_NO_FLUSH);
    if (stream.next_out > 0) chunks.push(stream.output.subarray(0, stream.next_out));
    total += stream.next_out;
    if (total > limit) throw tooLarge(limit);
    if (status === Z_STREAM_END) break;
    // Z_OK: progress was made, go on. Z_BUF_ERROR with room left: all input used before the final block.
    if (status === Z_BUF_ERROR && stream.avail_out > 0) throw malformed('unexpected end of DEFLATE data');
    if (status !== Z_OK && status !== Z_BUF_ERROR) {
      throw malformed(`invalid DEFLATE data (${stream.msg || `status ${status}`})`);
    }
  }
  return { output: joinChunks(chunks, total), consumed: input.length - stream.avail_in };
}

/**
 * Inflates the raw DEFLATE stream at the start of `input` with `node:zlib`.
 * @throws ChutesCryptoError as {@link inflatePure}.
 * @internal
 */
export function inflateNative(
  zlib: NonNullable<ReturnType<typeof nodeZlib>>,
  input: Uint8Array,
  limit: number,
): Inflated {
  let result: { buffer: Uint8Array; engine: { bytesWritten: number } };
  try {
    result = zlib.inflateRawSync(input, {
      // node:zlib takes 1 .. buffer.constants.MAX_LENGTH here; no output can be longer than that anyway.
      maxOutputLength: Math.min(Math.max(1, limit), nodeBufferMaxLength()),
      info: true,
    }) as unknown as typeof result;
  } catch (cause) {
    if ((cause as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    const message = (cause as { message?: unknown } | null)?.message;
    throw malformed(`invalid DEFLATE data (${typeof message === 'string' ? message : 'zlib error'})`, cause);
  }
  if (result.buffer.length > limit) throw tooLarge(limit);
  // `bytesWritten` is the input zlib consumed; it stops at the end of the final block.
  return { output: plainBytes(result.buffer), consumed: result.engine.bytesWritten };
}
