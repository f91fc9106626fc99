import type { Bytes } from '@confidential-ai/bytes';
import {
  Z_BUF_ERROR,
  Z_NO_FLUSH,
  Z_OK,
  Z_STREAM_END,
  ZStream,
  zlibInflate,
  zlibInflateInit2,
  zlibInflateReset,
} from 'pako';
import { ChutesCryptoError } from './errors.js';
import { plainBytes } from './native.js';

// The raw DEFLATE step (RFC 1951) of the pure-JavaScript gunzip: pako's port of zlib's inflate, driven through
// its low-level stream API, so it accepts and rejects exactly the streams zlib does (stored-block lengths,
// Huffman code completeness, distances, ...) and reports how much input each stream used. The gzip container
// around it is parsed in gzip.ts.

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

/** Inflates raw DEFLATE streams one after another with one inflater state and one output buffer. @internal */
export interface PureInflater {
  /**
   * Inflates the raw DEFLATE stream at the start of `input`.
   * @throws ChutesCryptoError `ERR_DECOMPRESS_FAILED` for invalid or truncated data, `ERR_PAYLOAD_TOO_LARGE`
   * when the output exceeds `limit` bytes.
   */
  inflate(input: Uint8Array, limit: number): Inflated;
}

/**
 * Creates a pure-JavaScript raw inflater (pako's port of zlib's inflate). Reusing it for the members of one
 * container keeps the cost of a member proportional to its size, not to the inflater's set-up.
 * @internal
 */
export function createPureInflater(): PureInflater {
  const stream = new ZStream();
  if (zlibInflateInit2(stream, RAW_WINDOW_BITS) !== Z_OK) throw malformed('cannot start the inflater');
  const scratch = new Uint8Array(OUTPUT_CHUNK);
  let used = false;
  return {
    inflate(input, limit) {
      if (used && zlibInflateReset(stream) !== Z_OK) throw malformed('cannot reset the inflater');
      used = true;
      stream.input = input;
      stream.next_in = 0;
      stream.avail_in = input.length;
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        // Never produce much more than the limit allows: one byte past it is enough to know it was exceeded.
        stream.output = scratch;
        stream.next_out = 0;
        stream.avail_out = Math.min(OUTPUT_CHUNK, limit - total + 1);
        const status = zlibInflate(stream, Z_NO_FLUSH);
        const produced = stream.next_out;
        if (produced > 0) chunks.push(scratch.slice(0, produced));
        total += produced;
        if (total > limit) throw tooLarge(limit);
        if (status === Z_STREAM_END) break;
        // Z_OK: progress was made, go on. Z_BUF_ERROR with room left: all input used before the final block.
        if (status === Z_BUF_ERROR && stream.avail_out > 0) throw malformed('unexpected end of DEFLATE data');
        if (status !== Z_OK && status !== Z_BUF_ERROR) {
          throw malformed(`invalid DEFLATE data (${stream.msg || `status ${status}`})`);
        }
      }
      return { output: joinChunks(chunks, total), consumed: input.length - stream.avail_in };
    },
  };
}
