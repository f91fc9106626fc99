import { type Bytes, hexToBytes } from '@confidential-ai/bytes';
import { NitroAttestationError } from './errors.js';

// Expected PCRs from an enclave build, in the two forms this package reads:
// - nitro-cli's: `nitro-cli build-enclave` prints, and `nitro-cli describe-enclaves` reports per enclave,
//   `{"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": "<96 hex>", "PCR1": …, "PCR2": …}}` (plus
//   "PCR8" for a signed image). OpenGradient tee-gateway's `measurements.txt` is exactly that object, as
//   written by its `scripts/run-enclave.sh` (`jq '{Measurements: .Measurements}'` of describe-enclaves).
// - a plain JSON form for any PCR index: `{"pcrs": {"0": "<hex>", "1": "<hex>", …}}`.

/** Largest measurements file read (real ones are about 400 bytes). */
export const MAX_MEASUREMENTS_BYTES = 64 * 1024;

/** Expected PCR values read from an enclave build's measurements. */
export interface Measurements {
  /** Which form the text was in: nitro-cli's `{"Measurements": …}` or `{"pcrs": …}`. */
  readonly format: 'nitro-cli' | 'pcrs';
  /** nitro-cli's `HashAlgorithm` text (for example `Sha384 { ... }`), or null in the `pcrs` form. */
  readonly hashAlgorithm: string | null;
  /** PCR index → expected value. */
  readonly pcrs: ReadonlyMap<number, Bytes>;
}

function invalid(message: string, cause?: unknown): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_MEASUREMENTS_INVALID', `measurements: ${message}`, { cause });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PCR_SIZES = new Set([32, 48, 64]);

function pcrValue(value: unknown, where: string, sizes: ReadonlySet<number>): Bytes {
  if (typeof value !== 'string') throw invalid(`${where} is not a hex string`);
  let bytes: Bytes;
  try {
    bytes = hexToBytes(value.toLowerCase());
  } catch (cause) {
    throw invalid(`${where} is not hex`, cause);
  }
  if (!sizes.has(bytes.length)) {
    throw invalid(`${where} is ${bytes.length} bytes, expected ${[...sizes].join(' or ')}`);
  }
  return bytes;
}

function fromNitroCli(measurements: unknown): Measurements {
  if (!isPlainObject(measurements)) throw invalid('"Measurements" is not an object');
  const algorithm = measurements.HashAlgorithm;
  if (typeof algorithm !== 'string' || !/^Sha384\b/.test(algorithm)) {
    // Nitro Enclaves measure with SHA-384 only; another algorithm would never match a document.
    throw invalid('"HashAlgorithm" is not nitro-cli\'s Sha384');
  }
  const pcrs = new Map<number, Bytes>();
  for (const [key, value] of Object.entries(measurements)) {
    if (key === 'HashAlgorithm') continue;
    const match = /^PCR([0-9]|[12][0-9]|3[01])$/.exec(key);
    if (!match) throw invalid(`unknown field ${JSON.stringify(key)} in "Measurements"`);
    pcrs.set(Number(match[1]), pcrValue(value, key, new Set([48])));
  }
  for (const index of [0, 1, 2]) {
    if (!pcrs.has(index)) throw invalid(`"Measurements" has no PCR${index}`);
  }
  return { format: 'nitro-cli', hashAlgorithm: algorithm, pcrs };
}

function fromPcrs(entries: unknown): Measurements {
  if (!isPlainObject(entries)) throw invalid('"pcrs" is not an object');
  const pcrs = new Map<number, Bytes>();
  for (const [key, value] of Object.entries(entries)) {
    if (!/^([0-9]|[12][0-9]|3[01])$/.test(key))
      throw invalid(`"pcrs" key ${JSON.stringify(key)} is not 0..31`);
    pcrs.set(Number(key), pcrValue(value, `pcrs[${key}]`, PCR_SIZES));
  }
  if (pcrs.size === 0) throw invalid('"pcrs" is empty');
  return { format: 'pcrs', hashAlgorithm: null, pcrs };
}

/**
 * Reads expected PCRs from an enclave build's measurements: nitro-cli's JSON
 * `{"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": hex, "PCR1": hex, "PCR2": hex, …}}` (what
 * `nitro-cli build-enclave` prints and what tee-gateway's `measurements.txt` holds; PCR0–2 required, 48 bytes
 * each, any further `PCR<n>` kept), or `{"pcrs": {"<index>": hex, …}}` (indices 0–31, 32/48/64 bytes). Other
 * fields are refused, so a misspelt key cannot drop a check.
 *
 * @param input - The file's text, its bytes, or the parsed JSON value.
 * @throws NitroAttestationError `ERR_NITRO_MEASUREMENTS_INVALID` for anything else.
 * @example
 * ```ts
 * const { pcrs } = parseMeasurements(readFileSync('measurements.txt', 'utf8'));
 * await verifyAttestationDocument(doc, { expectedPcrs: pcrs });
 * ```
 */
export function parseMeasurements(input: string | Uint8Array | object): Measurements {
  let value: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    if (input.length > MAX_MEASUREMENTS_BYTES) throw invalid('the file is too large');
    let text: string;
    try {
      text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch (cause) {
      throw invalid('the file is not UTF-8', cause);
    }
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw invalid('the file is not JSON', cause);
    }
  }
  if (!isPlainObject(value)) throw invalid('not a JSON object');
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Measurements') return fromNitroCli(value.Measurements);
  if (keys.length === 1 && keys[0] === 'pcrs') return fromPcrs(value.pcrs);
  throw invalid('expected {"Measurements": {…}} (nitro-cli, tee-gateway measurements.txt) or {"pcrs": {…}}');
}
