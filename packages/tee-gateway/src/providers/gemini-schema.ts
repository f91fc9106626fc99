/**
 * JSON Schema (OpenAI tool `parameters`) → the Gemini `Schema` subset, following the rules the reference applies
 * through langchain-google-genai 4.2.1 (`_function_utils.py`: `_format_to_genai_function_declaration`,
 * `_dict_to_genai_schema`, `_get_properties_from_schema`, `_get_items_from_schema`). Gemini rejects keywords it does
 * not know (`$schema`, `additionalProperties`, `const`, `$defs`, `$ref`, `default`, `examples`, ...), so only
 * `type` (upper case), `description`, `title` (root and `anyOf` members), `properties`, `required`, `items`, `enum`,
 * `nullable` and `anyOf` are kept; local `$ref`s are inlined and `allOf` takes its first member. Documented
 * differences from the reference: a type list (`["string","null"]`) becomes the type plus `nullable` (the reference
 * raises), a non-string `enum` is dropped (the reference fails validation), an untyped property is a `STRING` (the
 * reference leaves it untyped), `allOf` inside a property takes its first member too (the reference loses the type),
 * an object property without properties is always a `STRING` (Gemini refuses an `OBJECT` without properties, which
 * the reference sends when `additionalProperties` is set), and `"title"` properties keep their own description.
 */

type Json = Record<string, unknown>;

const TYPES: Readonly<Record<string, string>> = {
  string: 'STRING',
  number: 'NUMBER',
  integer: 'INTEGER',
  boolean: 'BOOLEAN',
  array: 'ARRAY',
  object: 'OBJECT',
};

/** Nesting bound of the conversion (schemas deeper than this are cut to `STRING`). */
const MAX_DEPTH = 32;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Inlines local `$ref`s (`#/...` JSON pointers into the root); a cyclic or unknown reference becomes `{}`. */
function dereference(node: unknown, root: Json, seen: readonly string[], depth: number): unknown {
  if (depth > MAX_DEPTH) return {};
  if (Array.isArray(node)) return node.map((item) => dereference(item, root, seen, depth + 1));
  if (!isObject(node)) return node;
  const ref = node['$ref'];
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/') || seen.includes(ref)) return {};
    let target: unknown = root;
    for (const raw of ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      target = isObject(target) && Object.hasOwn(target, key) ? target[key] : undefined;
    }
    if (!isObject(target)) return {};
    const { $ref: _ignored, ...siblings } = node;
    return dereference({ ...target, ...siblings }, root, [...seen, ref], depth + 1);
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$defs' || key === 'definitions') continue;
    out[key] = dereference(value, root, seen, depth + 1);
  }
  return out;
}

function firstOfAllOf(schema: Json): Json {
  let current = schema;
  for (let guard = 0; guard < MAX_DEPTH; guard++) {
    const allOf = current['allOf'];
    if (!Array.isArray(allOf) || allOf.length === 0 || !isObject(allOf[0])) break;
    current = allOf[0];
  }
  return current;
}

function isNullType(schema: unknown): boolean {
  return isObject(schema) && schema['type'] === 'null';
}

/** The Gemini type of a schema: its `type` (last non-null entry of a list), else the last typed `anyOf` member. */
function typeOf(schema: Json): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return TYPES[type];
  if (Array.isArray(type)) {
    const named = type.filter((entry): entry is string => typeof entry === 'string' && entry in TYPES);
    return named.length > 0 ? TYPES[named.at(-1)!] : undefined;
  }
  const anyOf = schema['anyOf'];
  if (Array.isArray(anyOf)) {
    const types = anyOf
      .filter(isObject)
      .map(typeOf)
      .filter((entry) => entry !== undefined);
    return types.at(-1);
  }
  return undefined;
}

function isNullable(schema: Json): boolean {
  const type = schema['type'];
  if (Array.isArray(type)) return type.includes('null');
  const anyOf = schema['anyOf'];
  return Array.isArray(anyOf) && anyOf.some(isNullType);
}

function stringEnum(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.length > 0 && value.every((entry) => typeof entry === 'string')
    ? [...value]
    : undefined;
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value)
    ? value.filter((entry): entry is string => typeof entry === 'string')
    : undefined;
}

/** The properties map (`_get_properties_from_schema`). */
function convertProperties(properties: Json, depth: number): Json {
  const out: Json = {};
  for (const [name, raw] of Object.entries(properties)) {
    if (!isObject(raw)) continue;
    out[name] = convertProperty(raw, depth + 1);
  }
  return out;
}

/** One property (`_get_properties_from_schema`, then `_dict_to_genai_schema` with `is_property`). */
function convertProperty(raw: Json, depth: number): Json {
  if (depth > MAX_DEPTH) return { type: 'STRING' };
  let schema = firstOfAllOf(raw);
  const anyOf = schema['anyOf'];
  const out: Json = {};
  if (Array.isArray(anyOf) && anyOf.length > 0 && !anyOf.some(isNullType)) {
    out['anyOf'] = anyOf.filter(isObject).map((member) => convertMember(member, depth + 1));
    if (typeof schema['description'] === 'string') out['description'] = schema['description'];
    return out;
  }
  const type = typeOf(schema) ?? 'STRING';
  out['type'] = type;
  if (isNullable(schema)) out['nullable'] = true;
  if (Array.isArray(anyOf)) {
    // Use the last non-null member (for arrays and objects: the last one of that type), keeping the outer enum,
    // items and description.
    const members = anyOf.filter((member): member is Json => isObject(member) && !isNullType(member));
    const wanted =
      type === 'ARRAY' || type === 'OBJECT' ? members.filter((member) => typeOf(member) === type) : members;
    const chosen = wanted.at(-1);
    if (chosen) {
      schema = {
        ...chosen,
        ...(schema['enum'] !== undefined && chosen['enum'] === undefined ? { enum: schema['enum'] } : {}),
        ...(schema['items'] !== undefined && chosen['items'] === undefined ? { items: schema['items'] } : {}),
        ...(chosen['description'] === undefined && schema['description'] !== undefined
          ? { description: schema['description'] }
          : {}),
      };
    }
  }
  const values = stringEnum(schema['enum']);
  if (values) out['enum'] = values;
  if (typeof schema['description'] === 'string' && schema['description'] !== '')
    out['description'] = schema['description'];
  if (type === 'ARRAY' && isObject(schema['items'])) out['items'] = convertItems(schema['items'], depth + 1);
  if (type === 'OBJECT') {
    const properties = schema['properties'];
    if (isObject(properties) && Object.keys(properties).length > 0) {
      out['properties'] = convertProperties(properties, depth);
      // The reference makes every nested property without a `default` required.
      out['required'] = Object.entries(properties)
        .filter(([, value]) => isObject(value) && !('default' in value))
        .map(([name]) => name);
    } else {
      // Gemini refuses an OBJECT without properties: such an object is sent as a string (the reference does so
      // unless it has additionalProperties, and then sends an OBJECT Gemini rejects).
      out['type'] = 'STRING';
    }
  }
  return out;
}

/** An array's `items` (`_get_items_from_schema`). */
function convertItems(raw: Json, depth: number): Json {
  if (depth > MAX_DEPTH) return { type: 'STRING' };
  const schema = firstOfAllOf(raw);
  const type = typeOf(schema) ?? 'STRING';
  const out: Json = { type };
  if (type === 'OBJECT' && isObject(schema['properties']))
    out['properties'] = convertProperties(schema['properties'], depth);
  if (type === 'ARRAY' && isObject(schema['items'])) out['items'] = convertItems(schema['items'], depth + 1);
  const description = schema['description'] ?? schema['title'];
  if (typeof description === 'string' && description !== '') out['description'] = description;
  const values = stringEnum(schema['enum']);
  if (values) out['enum'] = values;
  if (isNullable(schema)) out['nullable'] = true;
  const required = stringList(schema['required']);
  if (required) out['required'] = required;
  return out;
}

/** An `anyOf` member: like a property, and its `title` is kept (it names the alternative). */
function convertMember(raw: Json, depth: number): Json {
  const out = convertProperty(raw, depth);
  const schema = firstOfAllOf(raw);
  if (typeof schema['title'] === 'string') out['title'] = schema['title'];
  return out;
}

/**
 * The Gemini `parameters` of a function declaration for an OpenAI tool's JSON Schema `parameters`, or undefined
 * when the schema has no properties (the reference then sends no parameters at all).
 * @example
 * ```ts
 * toGeminiParameters({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
 *   properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false });
 * // { type: 'OBJECT', properties: { city: { type: 'STRING' } }, required: ['city'] }
 * ```
 */
export function toGeminiParameters(parameters: unknown): Json | undefined {
  if (!isObject(parameters)) return undefined;
  const properties = parameters['properties'];
  if (!isObject(properties) || Object.keys(properties).length === 0) return undefined;
  const root = firstOfAllOf(dereference(parameters, parameters, [], 0) as Json);
  const out: Json = {};
  const type = typeOf(root);
  if (type !== undefined) out['type'] = type;
  if (typeof root['description'] === 'string') out['description'] = root['description'];
  if (typeof root['title'] === 'string') out['title'] = root['title'];
  const rootProperties = root['properties'];
  if (isObject(rootProperties)) out['properties'] = convertProperties(rootProperties, 0);
  out['required'] = stringList(root['required']) ?? [];
  return out;
}
