import { VeniceE2eeError } from '../src/errors.js';

/**
 * The stable code of the `VeniceE2eeError` that `fn` throws, or undefined when it returns. Any other error is
 * rethrown, so a test cannot mistake a crash for a refusal.
 */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (VeniceE2eeError.isInstance(error)) return error.code;
    throw error;
  }
  return undefined;
}
