import { bytesToHex } from '@confidential-ai/bytes';

/** Thrown by {@link assertStrictCbor}; mapped to `ERR_NITRO_CBOR_MALFORMED` by the caller. */
export class StrictCborError extends Error {}

const MAX_DEPTH = 16;

interface Argument {
  readonly value: number;
  readonly next: number;
}

function fail(message: string): never {
  throw new StrictCborError(message);
}

function readArgument(bytes: Uint8Array, offset: number, info: number): Argument {
  if (info < 24) return { value: info, next: offset + 1 };
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (size === 0) fail('reserved CBOR additional information');
  if (offset + 1 + size > bytes.length) fail('truncated CBOR');
  let value = 0;
  for (let i = 1; i <= size; i++) value = value * 256 + bytes[offset + i]!;
  return { value, next: offset + 1 + size };
}

/**
 * Walks one CBOR data item and checks it stays inside the subset attestation documents use: unsigned and
 * negative integers, definite-length byte and text strings, arrays and maps (definite or indefinite length),
 * `false` / `true` / `null`, and at most one tag in front of the top-level item. Map keys must be integers or
 * strings and must not repeat. Runs in time linear in the input and never allocates by declared lengths.
 *
 * This is a gate in front of cbor-x, whose extensions (typed-array tags, records, shared strings, dates, …)
 * are then never reached.
 * @throws StrictCborError when the bytes are not exactly one item of that subset.
 */
export function assertStrictCbor(bytes: Uint8Array, options: { allowTopLevelTag: boolean }): void {
  const end = walk(bytes, 0, 0, options.allowTopLevelTag);
  if (end !== bytes.length) fail('trailing bytes after the CBOR item');
}

function keyIdentity(bytes: Uint8Array, offset: number, next: number): string {
  const initial = bytes[offset]!;
  const major = initial >> 5;
  if (major === 0 || major === 1) return `${major}:${readArgument(bytes, offset, initial & 31).value}`;
  if (major === 2 || major === 3) {
    const { next: start } = readArgument(bytes, offset, initial & 31);
    return `${major}:${bytesToHex(bytes.subarray(start, next))}`;
  }
  return fail('CBOR map key is not an integer or a string');
}

function walk(bytes: Uint8Array, offset: number, depth: number, allowTag: boolean): number {
  if (offset >= bytes.length) fail('truncated CBOR');
  if (depth > MAX_DEPTH) fail('CBOR nesting is too deep');
  const initial = bytes[offset]!;
  const major = initial >> 5;
  const info = initial & 31;
  switch (major) {
    case 0:
    case 1:
      if (info === 31) fail('invalid CBOR integer');
      return readArgument(bytes, offset, info).next;
    case 2:
    case 3: {
      if (info === 31) fail('indefinite-length CBOR strings are not supported');
      const { value, next } = readArgument(bytes, offset, info);
      if (value > bytes.length - next) fail('truncated CBOR string');
      return next + value;
    }
    case 4:
    case 5: {
      const isMap = major === 5;
      const keys = isMap ? new Set<string>() : null;
      const item = (position: number): number => {
        if (!keys) return walk(bytes, position, depth + 1, false);
        const keyEnd = walk(bytes, position, depth + 1, false);
        const identity = keyIdentity(bytes, position, keyEnd);
        if (keys.has(identity)) fail('duplicate CBOR map key');
        keys.add(identity);
        return walk(bytes, keyEnd, depth + 1, false);
      };
      if (info === 31) {
        let position = offset + 1;
        while (true) {
          if (position >= bytes.length) fail('truncated indefinite-length CBOR container');
          if (bytes[position] === 0xff) return position + 1;
          position = item(position);
        }
      }
      const { value: count, next } = readArgument(bytes, offset, info);
      if (count > bytes.length - next) fail('truncated CBOR container');
      let position = next;
      for (let i = 0; i < count; i++) position = item(position);
      return position;
    }
    case 6: {
      if (!allowTag) fail('CBOR tags are not allowed here');
      const { next } = readArgument(bytes, offset, info);
      return walk(bytes, next, depth, false);
    }
    default:
      // major 7: only false (0xf4), true (0xf5) and null (0xf6)
      if (info === 20 || info === 21 || info === 22) return offset + 1;
      return fail('unsupported CBOR simple value or float');
  }
}
