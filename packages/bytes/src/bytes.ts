/** A byte array backed by a plain `ArrayBuffer`; every function of the toolkit returns this type. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** True for a `Uint8Array` (including Node `Buffer` and arrays from other realms). */
export function isBytes(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array ||
    (ArrayBuffer.isView(value) && value.constructor?.name === 'Uint8Array' && 'BYTES_PER_ELEMENT' in value)
  );
}

/**
 * Asserts that `value` is a byte array, optionally of an exact length.
 * @throws TypeError when it is not bytes, RangeError when the length differs; the message names `name`.
 */
export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!isBytes(value)) throw new TypeError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

/** Copies bytes into a fresh plain `Uint8Array` (a `Buffer` in, a `Uint8Array` out). */
export function toBytes(value: Uint8Array): Bytes {
  const out = new Uint8Array(value.length);
  out.set(value);
  return out;
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: readonly Uint8Array[]): Bytes {
  return joinBytes(parts);
}

/**
 * Concatenates a list of byte arrays into a new one. Takes the list itself, not spread arguments: a list of
 * many small chunks (a trickled stream) would overflow a call's argument list. Internal to this package.
 */
export function joinBytes(parts: readonly Uint8Array[]): Bytes {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Compares two byte arrays in time that depends only on their lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
