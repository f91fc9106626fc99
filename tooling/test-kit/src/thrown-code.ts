/** A package's error class as far as {@link thrownCode} needs it: its static `isInstance` marker check. */
export interface CodedErrorClass {
  /** Whether a value carries the package's error marker (and so its stable `code`). */
  isInstance(value: unknown): value is { readonly code: string };
}

/**
 * The stable code of the package error that `run` throws, or `undefined` when it returns. Any other error is
 * rethrown, so a test cannot mistake a crash for a refusal.
 * @example
 * ```ts
 * expect(thrownCode(() => parseQuote(truncated), TdxAttestationError)).toBe('ERR_QUOTE_TRUNCATED');
 * ```
 */
export function thrownCode(run: () => unknown, errorClass: CodedErrorClass): string | undefined {
  try {
    run();
  } catch (error) {
    if (errorClass.isInstance(error)) return error.code;
    throw error;
  }
  return undefined;
}
