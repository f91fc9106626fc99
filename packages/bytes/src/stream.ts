import { type Bytes, joinBytes } from './bytes.js';

/** Options of {@link readStreamLimited}. */
export interface ReadStreamLimitedOptions {
  /** The most bytes the stream may carry; one byte more and reading stops. */
  readonly maxBytes: number;
  /**
   * A length announced before the data (an HTTP `Content-Length`, as a number). When it is above `maxBytes`
   * the stream is cancelled unread. Optional: the bytes actually read are always counted.
   */
  readonly declaredLength?: number;
}

/**
 * Reads a byte stream (a fetch `Response.body`, say) to its end, keeping at most `maxBytes`. Returns the bytes,
 * an empty array for a missing stream, or `undefined` when the stream carries (or `declaredLength` announces)
 * more than `maxBytes`: the stream is then cancelled, so that the caller can raise its own typed error. Errors
 * of the stream itself are passed on.
 */
export async function readStreamLimited(
  stream: ReadableStream<Uint8Array> | null | undefined,
  options: ReadStreamLimitedOptions,
): Promise<Bytes | undefined> {
  const { maxBytes, declaredLength } = options;
  if (declaredLength !== undefined && declaredLength > maxBytes) {
    await stream?.cancel().catch(() => {});
    return undefined;
  }
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return joinBytes(chunks);
}

/**
 * The first `maxBytes` bytes of a byte stream (an error answer's body, say, kept for a message): reads until it
 * has that many or the stream ends, then cancels the rest. Returns at most `maxBytes` bytes; an empty array for a
 * missing stream. Errors of the stream itself are passed on, and the stream is cancelled either way.
 */
export async function readStreamPrefix(
  stream: ReadableStream<Uint8Array> | null | undefined,
  maxBytes: number,
): Promise<Bytes> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const joined = joinBytes(chunks);
  return joined.length > maxBytes ? joined.subarray(0, maxBytes) : joined;
}
