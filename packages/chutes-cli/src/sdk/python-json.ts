/** A JSON-compatible value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

function pyString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '"') out += '\\"';
    else if (char === '\\') out += '\\\\';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char === '\b') out += '\\b';
    else if (char === '\f') out += '\\f';
    else if (code < 0x20 || (code >= 0x7f && code <= 0xffff))
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (code > 0xffff) {
      const high = 0xd800 + ((code - 0x10000) >> 10);
      const low = 0xdc00 + ((code - 0x10000) & 0x3ff);
      out += `\\u${high.toString(16)}\\u${low.toString(16)}`;
    } else out += char;
  }
  return `${out}"`;
}

function pyNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError('non-finite numbers are not JSON');
  return String(value);
}

/**
 * Serializes like Python's `json.dumps(value)` with default arguments: `", "` and `": "` separators and
 * `ensure_ascii=True` (non-ASCII as lowercase `\uXXXX`, surrogate pairs for astral characters). Numbers are
 * written as JavaScript prints them (integers have no `.0`).
 * @example
 * ```ts
 * pythonJsonDumps({ username: 'alice', coldkey: '5C4h...' }); // '{"username": "alice", "coldkey": "5C4h..."}'
 * ```
 */
export function pythonJsonDumps(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  return `{${Object.entries(value)
    .filter(([, item]) => item !== undefined)
    .map(([key, item]) => `${pyString(key)}: ${pythonJsonDumps(item)}`)
    .join(', ')}}`;
}

/**
 * Renders a JSON value as a Python literal expression (`None`, `True`, `False`, strings with JSON escapes,
 * which Python accepts, lists and dicts).
 */
export function pythonLiteral(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${pyString(key)}: ${pythonLiteral(item)}`)
    .join(', ')}}`;
}

/**
 * `JSON.stringify` that also writes `bigint` values as plain JSON integers (orjson writes 64-bit integers such as
 * pydantic's `2**63 - 1` bounds exactly, which a JavaScript number cannot hold). Compact unless `space` is given.
 */
export function stringifyJson(value: unknown, space?: number): string {
  const token = `__bigint_${Math.random().toString(36).slice(2)}_`;
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => (typeof item === 'bigint' ? `${token}${item.toString()}` : item),
    space,
  );
  return text.replace(new RegExp(`"${token}(-?\\d+)"`, 'g'), '$1');
}

/**
 * `JSON.parse` that keeps integers beyond 2^53 exact as `bigint` (the inverse of {@link stringifyJson}), for JSON
 * written by Python (pydantic bounds such as `2**63 - 1`).
 * @throws SyntaxError for text that is not JSON.
 */
export function parseJsonExact(text: string): unknown {
  const token = `__bigint_${Math.random().toString(36).slice(2)}_`;
  const marked = text.replace(
    /("(?:[^"\\]|\\.)*")|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])/g,
    (match, quoted, digits) => {
      if (quoted !== undefined) return quoted;
      return Number.isSafeInteger(Number(digits)) ? match : `"${token}${digits}"`;
    },
  );
  return JSON.parse(marked, (_key, item: unknown) =>
    typeof item === 'string' && item.startsWith(token) ? BigInt(item.slice(token.length)) : item,
  );
}
