import { PyFloat } from './python-json.js';

/**
 * Python truthiness of a JSON-like value: `None`, `False`, `0`, `0.0`, `""`, `[]` and `{}` are false;
 * everything else (including `NaN`) is true. `undefined` (a missing key) is false.
 */
export function pyTruthy(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'string') return value.length > 0;
  if (value instanceof PyFloat) return value.value !== 0;
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof Map) return value.size > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** A dict-like view over plain objects and Maps (what {@link parsePythonJson} returns). */
export function isDict(value: unknown): value is Record<string, unknown> | Map<string, unknown> {
  if (value instanceof Map) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof PyFloat)
    return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `dict.get(key)`: `undefined` when the key is absent (Python's `None` default is applied by callers). */
export function dictGet(dict: Record<string, unknown> | Map<string, unknown>, key: string): unknown {
  if (dict instanceof Map) return dict.get(key);
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

/** `dict.get(key, default)`: the default only when the key is absent (an explicit null stays null). */
export function dictGetOr(
  dict: Record<string, unknown> | Map<string, unknown>,
  key: string,
  fallback: unknown,
): unknown {
  if (dict instanceof Map) return dict.has(key) ? dict.get(key) : fallback;
  return Object.hasOwn(dict, key) ? dict[key] : fallback;
}

/** `dict.get(key)` with a missing key as Python `None` (JSON `null`). */
export function dictGetOrNull(dict: Record<string, unknown> | Map<string, unknown>, key: string): unknown {
  const value = dictGet(dict, key);
  return value === undefined ? null : value;
}
