import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';

/** The verdict of one vector or check: the same in Node and in the browser, or the suite fails. */
export interface Outcome {
  /** Stable id, e.g. `chutes-crypto/acvp/keyGen/26`. */
  readonly id: string;
  /** Whether the computed result is the one the vector expects. */
  readonly ok: boolean;
  /** What was computed (a digest prefix, an error code, step statuses): compared across runtimes too. */
  readonly detail: string;
}

/** Reads a repository file (vectors, fixtures) by its path from the repository root. */
export type Load = (path: string) => Promise<Uint8Array>;

/** What the cases get from their runtime. */
export interface CaseEnvironment {
  /** File loader. */
  readonly load: Load;
  /** Base URL of the relay to the composed demo server (`…/api` honest, `…/tamper` flipping a byte); absent: no live cases. */
  readonly liveBaseUrl?: string | undefined;
}

/** Reads and parses a JSON file. */
export async function loadJson<T>(load: Load, path: string): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await load(path))) as T;
}

/** Runs one check, turning an unexpected exception into a failed outcome that names the error. */
export async function check(
  id: string,
  run: () => Promise<[boolean, string]> | [boolean, string],
): Promise<Outcome> {
  try {
    const [ok, detail] = await run();
    return { id, ok, detail };
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return {
      id,
      ok: false,
      detail: `threw ${typeof code === 'string' ? code : ((error as Error)?.name ?? 'error')}`,
    };
  }
}

/** The `code` of what `run` throws, or `none`. */
export async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return 'none';
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    return typeof code === 'string' ? code : ((error as Error)?.name ?? 'error');
  }
}

/** Lowercase hex. */
export const hex = bytesToHex;

/** Hex (any case) to bytes. */
export function unhex(text: string): Uint8Array {
  return hexToBytes(text.toLowerCase());
}

/** SHA-256 hex with WebCrypto (an implementation independent of the packages under test). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', new Uint8Array(bytes))));
}

/** A deterministic random source handing out the given byte strings in order (the packages' tests use it too). */
export { scripted } from '@confidential-ai/test-kit/scripted-random';
