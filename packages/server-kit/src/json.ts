/** True for a JSON object: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses `text` as JSON and returns it when it is an object; `undefined` for invalid JSON or any other value. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The deepest nesting of objects and arrays a request body may have, on every face of the server (vLLM/Chutes,
 * Venice, TEE gateway). Real requests stay far below it (a tool schema with OpenAI's limit of 10 nested object
 * levels is about 25 JSON levels deep); every recursive step after parsing (serializing the upstream body,
 * canonical JSON, schema walks) stays far below the JavaScript stack limit.
 */
export const MAX_JSON_DEPTH = 128;

/** The one stable error code/type every face answers (HTTP 400) for a body nested deeper than {@link MAX_JSON_DEPTH}. */
export const JSON_TOO_DEEP = 'json_too_deep';

/**
 * The nesting depth of the JSON text `text` (objects and arrays; a scalar is 0), found by one linear scan without
 * recursion and without parsing, so a hostile 100,000-level document costs no stack. The scan stops as soon as
 * `limit` is exceeded and then returns `limit + 1`. Brackets inside strings do not count. For text that is not
 * valid JSON the result is only meaningful as an upper bound; parse afterwards.
 *
 * @example
 * ```ts
 * jsonNestingDepth('{"a":[1,{"b":"]"}]}'); // 3
 * ```
 */
export function jsonNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c)
        index++; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** True when the JSON text `text` nests objects/arrays deeper than `maxDepth` (default {@link MAX_JSON_DEPTH}). */
export function exceedsJsonDepth(text: string, maxDepth = MAX_JSON_DEPTH): boolean {
  return jsonNestingDepth(text, maxDepth) > maxDepth;
}
