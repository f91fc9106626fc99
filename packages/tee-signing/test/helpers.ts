import { readFileSync } from 'node:fs';
import { TeeSigningError } from '../src/index.js';

/** Reads a JSON vector file from test/vectors. */
export function loadVector<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** Runs fn and returns the TeeSigningError code it threw ('untyped: …' for other errors, undefined if none). */
export async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return TeeSigningError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
  return undefined;
}

/** Synchronous variant of {@link codeOf}. */
export function codeOfSync(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return TeeSigningError.isInstance(error) ? error.code : `untyped: ${String(error)}`;
  }
  return undefined;
}
