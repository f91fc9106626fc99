import { z } from 'zod';

/**
 * An http(s) URL without credentials, with trailing slashes removed: the one rule for every base URL of the
 * composed configuration (vllm-proxy, Chutes, TEE gateway).
 */
export const httpUrl = z
  .string({ error: 'expected a URL string' })
  .refine((value) => isHttpUrl(value), { error: 'expected an http(s) URL without credentials' })
  .transform((value) => value.replace(/\/+$/, ''));

/**
 * True for an absolute http(s) URL that `new URL` accepts and that carries no user name or password.
 * @example
 * ```ts
 * isHttpUrl('https://facilitator.example'); // true
 * isHttpUrl('https://user:pw@host'); // false
 * ```
 */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password;
  } catch {
    return false;
  }
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

/** The words {@link parseBooleanWord} accepts, for error messages. */
export const BOOLEAN_WORDS = 'true/false, 1/0, yes/no, on/off';

/**
 * The one strict reading of a boolean written as text (environment variables, TOML strings): `1`, `true`, `yes`,
 * `on` and `0`, `false`, `no`, `off`, case-insensitive, surrounding spaces ignored. Anything else (`ture`,
 * `maybe`, an empty string) is undefined, which every caller turns into a startup error: a typo never silently
 * switches a protection off.
 * @example
 * ```ts
 * parseBooleanWord(' Yes '); // true
 * parseBooleanWord('ture'); // undefined
 * ```
 */
export function parseBooleanWord(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/**
 * zod schema of a configuration boolean: a real boolean, or a string that {@link parseBooleanWord} accepts.
 * Every boolean of every face of the composed configuration uses it.
 */
export const strictBoolean = z.preprocess(
  (value) => (typeof value === 'string' ? (parseBooleanWord(value) ?? value) : value),
  z.boolean({ error: `expected a boolean (${BOOLEAN_WORDS})` }),
);

/**
 * zod schema of a TCP port: an integer 0-65535 (0: a free one), from a number or a decimal string (environment).
 */
export const portNumber = z.preprocess(
  (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
  z
    .number({ error: 'expected a port number 0-65535' })
    .int({ error: 'expected a port number 0-65535' })
    .min(0, { error: 'expected a port number 0-65535' })
    .max(65535, { error: 'expected a port number 0-65535' }),
);
