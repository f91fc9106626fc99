import { NvidiaAttestationError } from '../src/index.js';

/**
 * Runs `run` and names how it ended: `'OK'`, or the `code` of the NvidiaAttestationError it threw. Any other error is
 * rethrown, so a crash never passes for a typed rejection.
 */
export async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'OK';
  } catch (error) {
    if (NvidiaAttestationError.isInstance(error)) return error.code;
    throw error;
  }
}
