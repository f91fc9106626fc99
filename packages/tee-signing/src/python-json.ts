import { TeeSigningError } from './errors.js';

/**
 * A number that Python holds as a `float`. JavaScript has one number type, so values that the reference
 * passes through `float(...)` (or that Python's JSON parser read as floats) are wrapped in `PyFloat` to be
 * printed the Python way: `1.0`, not `1`.
 */
export class PyFloat {
  /** The IEEE-754 double value. */
  readonly value: number;
  constructor(value: number) {
    if (typeof value !== 'number') throw new TypeError('PyFloat value must be a number');
    this.value = value;
    Object.freeze(this);
  }
  /** The Python `repr` of the value (`1.0`, `1e-05`, `inf`, `nan`). */
  toString(): string {
    if (Number.isNaN(this.value)) return 'nan';
    if (this.value === Number.POSITIVE_INFINITY) return 'inf';
    if (this.value === Number.NEGATIVE_INFINITY) return '-inf';
    return formatPythonFloat(this.value);
  }
  /** `JSON.stringify` sees the plain number. */
  toJSON(): number {
    return this.value;
  }
}

const PY_FLOAT_TEXT = /^[+-]?(?:\d(?:_?\d)*\.?(?:\d(?:_?\d)*)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_FLOAT_SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;

/**
 * Converts a value the way Python's `float(x)` does and marks it as a float for {@link pythonJsonDumps}.
 * Accepts numbers, bigints, booleans (`float(True)` is `1.0`), `PyFloat` and numeric strings
 * (`" 0.7 "`, `"1e3"`, `"inf"`).
 *
 * @example
 * ```ts
 * canonicalJson({ temperature: pyFloat(1) }); // '{"temperature": 1.0}'
 * ```
 * @throws TypeError when the value has no float conversion; RangeError when an integer is too large
 * for a double (Python raises OverflowError).
 */
export function pyFloat(value: number | bigint | boolean | string | PyFloat): PyFloat {
  if (value instanceof PyFloat) return value;
  if (typeof value === 'number') return new PyFloat(value);
  if (typeof value === 'boolean') return new PyFloat(value ? 1 : 0);
  if (typeof value === 'bigint') {
    const converted = Number(value);
    if (!Number.isFinite(converted)) throw new RangeError('pyFloat: integer too large to convert to float');
    return new PyFloat(converted);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (PY_FLOAT_SPECIAL.test(text)) {
      const negative = text.startsWith('-');
      return new PyFloat(
        /nan/i.test(text) ? Number.NaN : negative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY,
      );
    }
    if (PY_FLOAT_TEXT.test(text)) return new PyFloat(Number(text.replaceAll('_', '')));
    throw new TypeError('pyFloat: could not convert string to float');
  }
  throw new TypeError('pyFloat: value must be a number, bigint, boolean, numeric string or PyFloat');
}

/** True when `value` is a {@link PyFloat} (from any realm of this module copy). */
export function isPyFloat(value: unknown): value is PyFloat {
  return value instanceof PyFloat;
}

/**
 * Formats a finite double exactly like Python's `repr(float)`: shortest round-trip digits, fixed notation
 * for decimal exponents −4…15 (always with a fractional part), otherwise `d.ddde±XX`.
 * Non-finite values are written as JSON does (`NaN`, `Infinity`, `-Infinity`).
 *
 * @example
 * ```ts
 * formatPythonFloat(1e16); // '1e+16'
 * formatPythonFloat(1e-5); // '1e-05'
 * formatPythonFloat(100);  // '100.0'
 * ```
 */
export function formatPythonFloat(value: number): string {
  if (typeof value !== 'number') throw new TypeError('value must be a number');
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const negative = value < 0;
  // toExponential() without an argument yields the shortest digits that round-trip (ECMA-262
  // Number::toString digits), the same digits as Python's repr (David Gay's shortest mode).
  const scientific = (negative ? -value : value).toExponential();
  const ePos = scientific.indexOf('e');
  const mantissa = scientific.slice(0, ePos);
  const exponent = Number(scientific.slice(ePos + 1));
  const digits = mantissa.replace('.', '');
  let body: string;
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const intLength = exponent + 1;
      if (digits.length <= intLength) body = digits + '0'.repeat(intLength - digits.length) + '.0';
      else body = digits.slice(0, intLength) + '.' + digits.slice(intLength);
    } else {
      body = '0.' + '0'.repeat(-exponent - 1) + digits;
    }
  } else {
    const abs = Math.abs(exponent);
    body =
      digits[0]! +
      (digits.length > 1 ? '.' + digits.slice(1) : '') +
      'e' +
      (exponent < 0 ? '-' : '+') +
      (abs < 10 ? '0' + abs : String(abs));
  }
  return negative ? '-' + body : body;
}

/** Options for {@link pythonJsonDumps}. */
export interface PythonJsonDumpsOptions {
  /** Sort object keys by Unicode code point at every level, like `sort_keys=True`. Default false. */
  sortKeys?: boolean;
  /** Maximum nesting depth before failing with `ERR_CANONICAL_JSON`. Default 1000 (Python's recursion limit). */
  maxDepth?: number;
  /**
   * Python's `separators=(item, key)`. Default `[', ', ': ']` (Python's default); `[',', ':']` is the compact
   * form.
   */
  separators?: readonly [item: string, key: string];
  /**
   * Integral numbers outside the safe-integer range: `'error'` (default) refuses them (pass a `bigint` or a
   * `PyFloat` to say which Python type is meant); `'as-json'` writes them as Python's `json.loads` reads
   * JavaScript's `JSON.stringify` text of them: the printed digits as an int below 1e21, a float from there.
   * Use `'as-json'` for values parsed from, or sent as, JSON.
   */
  unsafeIntegers?: 'error' | 'as-json';
}

/** CPython's default limit on int <-> str conversions (`sys.int_info.default_max_str_digits`). */
const MAX_INT_DIGITS = 4300;

const ESCAPES: Record<number, string> = {
  34: '\\"',
  92: '\\\\',
  10: '\\n',
  13: '\\r',
  9: '\\t',
  8: '\\b',
  12: '\\f',
};
const HEX = '0123456789abcdef';
const SAFE_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const HAS_SURROGATE = /[\ud800-\udfff]/;

/** Writes a string like Python `json.dumps` with `ensure_ascii=True`. */
export function pythonJsonString(text: string): string {
  if (SAFE_ASCII.test(text)) return '"' + text + '"';
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code <= 0x7e && code !== 0x22 && code !== 0x5c) continue;
    if (i > start) out += text.slice(start, i);
    const short = ESCAPES[code];
    out +=
      short ??
      '\\u' + HEX[(code >> 12) & 15]! + HEX[(code >> 8) & 15]! + HEX[(code >> 4) & 15]! + HEX[code & 15]!;
    start = i + 1;
  }
  if (start < text.length) out += text.slice(start);
  return out + '"';
}

/** Compares two strings by Unicode code point (Python `str` order), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  if (!HAS_SURROGATE.test(a) && !HAS_SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  const restA = a.length - i;
  const restB = b.length - j;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}

function fail(message: string): never {
  throw new TeeSigningError('ERR_CANONICAL_JSON', message);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Serialises a value exactly like Python `json.dumps(value, sort_keys=…, separators=…)`, otherwise with default
 * settings: separators `", "` and `": "` unless given, ASCII-only output with lowercase `\uXXXX` escapes (surrogate pairs for
 * characters above U+FFFF), Python float `repr`, arbitrary-size integers.
 *
 * Value mapping: `null`, booleans and strings as usual; `bigint` and integral safe numbers are Python
 * ints; non-integral numbers, `NaN`/`±Infinity` and {@link PyFloat} are floats; arrays are lists; plain
 * objects and `Map<string, …>` are dicts (Maps keep insertion order when keys are not sorted). As with
 * `JSON.stringify` (which is what a JavaScript client puts on the wire), `undefined` object members are
 * omitted and `undefined` array items become `null`.
 *
 * @example
 * ```ts
 * pythonJsonDumps({ b: 1, a: [pyFloat(2), 'é'] }, { sortKeys: true }); // '{"a": [2.0, "\\u00e9"], "b": 1}'
 * ```
 * @throws TeeSigningError `ERR_CANONICAL_JSON` for cycles, excessive depth, integral numbers outside the
 * safe-integer range (pass a `bigint` or a `PyFloat`), functions, symbols and non-plain objects.
 */
export function pythonJsonDumps(value: unknown, options: PythonJsonDumpsOptions = {}): string {
  const sortKeys = options.sortKeys === true;
  const maxDepth = options.maxDepth ?? 1000;
  const [itemSeparator, keySeparator] = options.separators ?? [', ', ': '];
  const unsafeAsJson = options.unsafeIntegers === 'as-json';
  const active = new Set<object>();
  const parts: string[] = [];

  const write = (item: unknown, depth: number): void => {
    switch (typeof item) {
      case 'string':
        parts.push(pythonJsonString(item));
        return;
      case 'boolean':
        parts.push(item ? 'true' : 'false');
        return;
      case 'bigint': {
        const digits = item.toString();
        if (digits.length - (item < 0n ? 1 : 0) > MAX_INT_DIGITS) fail('integer has more than 4300 digits');
        parts.push(digits);
        return;
      }
      case 'number':
        if (Number.isInteger(item)) {
          if (!Number.isSafeInteger(item) && unsafeAsJson) {
            parts.push(Math.abs(item) < 1e21 ? String(item) : formatPythonFloat(item));
            return;
          }
          if (!Number.isSafeInteger(item)) {
            fail(
              'integral number outside the safe-integer range: use a bigint for an int or pyFloat() for a float',
            );
          }
          parts.push(item === 0 ? '0' : String(item));
        } else {
          parts.push(formatPythonFloat(item));
        }
        return;
      case 'object':
        break;
      default:
        fail(`cannot serialise a value of type ${typeof item}`);
    }
    if (item === null) {
      parts.push('null');
      return;
    }
    if (item instanceof PyFloat) {
      parts.push(formatPythonFloat(item.value));
      return;
    }
    if (depth >= maxDepth) fail('value is nested too deeply');
    if (active.has(item)) fail('circular reference detected');
    active.add(item);
    if (Array.isArray(item)) {
      parts.push('[');
      for (let i = 0; i < item.length; i++) {
        if (i > 0) parts.push(itemSeparator);
        const element = item[i];
        if (element === undefined) parts.push('null');
        else write(element, depth + 1);
      }
      parts.push(']');
    } else {
      let entries: [string, unknown][];
      if (item instanceof Map) {
        entries = [];
        for (const [key, entryValue] of item) {
          if (typeof key !== 'string') fail('Map keys must be strings');
          if (entryValue !== undefined) entries.push([key, entryValue]);
        }
      } else if (isPlainObject(item)) {
        entries = [];
        for (const key of Object.keys(item)) {
          const entryValue = item[key];
          if (entryValue !== undefined) entries.push([key, entryValue]);
        }
      } else {
        fail('only plain objects, arrays, Maps and PyFloat can be serialised');
      }
      if (sortKeys) entries.sort((x, y) => compareCodePoints(x[0], y[0]));
      parts.push('{');
      for (let i = 0; i < entries.length; i++) {
        if (i > 0) parts.push(itemSeparator);
        parts.push(pythonJsonString(entries[i]![0]), keySeparator);
        write(entries[i]![1], depth + 1);
      }
      parts.push('}');
    }
    active.delete(item);
  };

  write(value, 0);
  return parts.join('');
}

/**
 * `json.dumps(value, sort_keys=True)`: the canonical JSON text the OpenGradient gateway hashes.
 * @throws TeeSigningError `ERR_CANONICAL_JSON` (see {@link pythonJsonDumps}).
 */
export function canonicalJson(value: unknown): string {
  return pythonJsonDumps(value, { sortKeys: true });
}

/** A value produced by {@link parsePythonJson}. */
export type PyJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyFloat
  | PyJsonValue[]
  | { [key: string]: PyJsonValue }
  | Map<string, PyJsonValue>;

/** Options for {@link parsePythonJson}. */
export interface ParsePythonJsonOptions {
  /** Return objects as `Map`s that keep the document's key order (for unsorted re-serialisation). */
  preserveKeyOrder?: boolean;
  /** Maximum nesting depth. Default 512. */
  maxDepth?: number;
}

/**
 * Parses JSON the way Python's `json.loads` does, keeping what `JSON.parse` loses: a number token with
 * `.`, `e` or `E` becomes a {@link PyFloat} (overflow gives `Infinity`), any other number is an exact
 * integer (`number` when safe, otherwise `bigint`). Accepts `NaN`, `Infinity` and `-Infinity` as Python
 * does, rejects control characters inside strings, keeps lone surrogates, keeps the last of duplicate
 * keys, and never lets a `__proto__` key touch a prototype. Bytes are decoded as strict UTF-8 (a leading
 * BOM is skipped, as `json.loads(bytes)` does).
 *
 * @example
 * ```ts
 * canonicalJson(parsePythonJson('{"t": 1.50, "n": 12345678901234567890}'));
 * // '{"n": 12345678901234567890, "t": 1.5}'
 * ```
 * @throws TeeSigningError `ERR_JSON_PARSE` with the offset of the problem.
 */
export function parsePythonJson(
  input: string | Uint8Array,
  options: ParsePythonJsonOptions = {},
): PyJsonValue {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    let bytes = input;
    if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
      bytes = bytes.subarray(3);
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (cause) {
      throw new TeeSigningError('ERR_JSON_PARSE', 'JSON input is not valid UTF-8', { cause });
    }
  } else {
    throw new TypeError('input must be a string or a Uint8Array');
  }
  return new PythonJsonParser(
    text,
    options.preserveKeyOrder === true,
    options.maxDepth ?? 512,
  ).parseDocument();
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

class PythonJsonParser {
  private position = 0;
  constructor(
    private readonly text: string,
    private readonly useMaps: boolean,
    private readonly maxDepth: number,
  ) {}

  parseDocument(): PyJsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.position !== this.text.length) this.error('extra data after the JSON value');
    return value;
  }

  private error(message: string): never {
    throw new TeeSigningError('ERR_JSON_PARSE', `invalid JSON at offset ${this.position}: ${message}`);
  }

  private skipWhitespace(): void {
    const text = this.text;
    let p = this.position;
    while (p < text.length) {
      const c = text.charCodeAt(p);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      p++;
    }
    this.position = p;
  }

  private parseValue(depth: number): PyJsonValue {
    const text = this.text;
    const c = text[this.position];
    switch (c) {
      case '"':
        return this.parseString();
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        return this.literal('NaN', new PyFloat(Number.NaN));
      case 'I':
        return this.literal('Infinity', new PyFloat(Number.POSITIVE_INFINITY));
      case undefined:
        this.error('unexpected end of input');
    }
    if (c === '-' && text.startsWith('-Infinity', this.position)) {
      this.position += 9;
      return new PyFloat(Number.NEGATIVE_INFINITY);
    }
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(text);
    if (match === null) this.error('expected a value');
    this.position += match[0].length;
    const token = match[0];
    if (match[1] !== undefined || match[2] !== undefined) return new PyFloat(Number(token));
    if (token.length <= 15) {
      const small = Number(token);
      return small === 0 ? 0 : small;
    }
    // CPython (3.11+) refuses int conversions of more than 4300 digits (sys.int_info.default_max_str_digits).
    if (token.length - (token.startsWith('-') ? 1 : 0) > MAX_INT_DIGITS)
      this.error('integer has too many digits');
    const big = BigInt(token);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(big)
      : big;
  }

  private literal<T extends PyJsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.position)) this.error('expected a value');
    this.position += word.length;
    return value;
  }

  private parseString(): string {
    const text = this.text;
    let p = this.position + 1;
    let out = '';
    let start = p;
    for (;;) {
      if (p >= text.length) {
        this.position = p;
        this.error('unterminated string');
      }
      const c = text.charCodeAt(p);
      if (c === 0x22) {
        out += text.slice(start, p);
        this.position = p + 1;
        return out;
      }
      if (c < 0x20) {
        this.position = p;
        this.error('control character inside a string');
      }
      if (c !== 0x5c) {
        p++;
        continue;
      }
      out += text.slice(start, p);
      const escapeChar = text[p + 1];
      switch (escapeChar) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(p + 2, p + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.position = p;
            this.error('invalid \\u escape');
          }
          out += String.fromCharCode(Number.parseInt(hex, 16));
          p += 4;
          break;
        }
        default:
          this.position = p;
          this.error('invalid escape');
      }
      p += 2;
      start = p;
    }
  }

  private parseArray(depth: number): PyJsonValue[] {
    if (depth >= this.maxDepth) this.error('nested too deeply');
    this.position++;
    const out: PyJsonValue[] = [];
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const c = this.text[this.position];
      if (c === ',') {
        this.position++;
        continue;
      }
      if (c === ']') {
        this.position++;
        return out;
      }
      this.error("expected ',' or ']'");
    }
  }

  private parseObject(depth: number): PyJsonValue {
    if (depth >= this.maxDepth) this.error('nested too deeply');
    this.position++;
    const map = this.useMaps ? new Map<string, PyJsonValue>() : undefined;
    const object: { [key: string]: PyJsonValue } = {};
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position++;
      return map ?? object;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] !== '"') this.error('expected a property name in double quotes');
      const key = this.parseString();
      this.skipWhitespace();
      if (this.text[this.position] !== ':') this.error("expected ':'");
      this.position++;
      this.skipWhitespace();
      const value = this.parseValue(depth + 1);
      if (map) {
        // Like a Python dict: a repeated key keeps its first position and takes the last value.
        map.set(key, value);
      } else {
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      }
      this.skipWhitespace();
      const c = this.text[this.position];
      if (c === ',') {
        this.position++;
        continue;
      }
      if (c === '}') {
        this.position++;
        return map ?? object;
      }
      this.error("expected ',' or '}'");
    }
  }
}
