// No Node built-in here: the browser suite bundles this module for Chromium.

/**
 * A deterministic random source that hands out the given byte strings in order, for known-answer tests of code that
 * takes a `random(length)` function. A request of any other length, or one past the last part, throws.
 * @throws Error when asked for bytes it was not given.
 * @example
 * ```ts
 * const random = scripted(seed, encapsulationRandomness);
 * const pair = generateKeyPair({ random });
 * ```
 */
export function scripted(...parts: Uint8Array[]): (length: number) => Uint8Array {
  const queue = [...parts];
  return (length) => {
    const next = queue.shift();
    if (!next || next.length !== length)
      throw new Error(`scripted random: unexpected request for ${length} bytes`);
    return next;
  };
}
