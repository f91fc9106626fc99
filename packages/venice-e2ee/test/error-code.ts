import { thrownCode } from '@confidential-ai/test-kit';
import { VeniceE2eeError } from '../src/errors.js';

/**
 * The stable code of the `VeniceE2eeError` that `fn` throws, or undefined when it returns. Any other error is
 * rethrown, so a test cannot mistake a crash for a refusal.
 */
export const codeOf = (fn: () => unknown): string | undefined => thrownCode(fn, VeniceE2eeError);
