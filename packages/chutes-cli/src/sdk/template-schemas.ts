import { readFileSync } from 'node:fs';
import type { JsonObject } from './chute.js';
import { packageAsset } from './package-assets.js';
import { parseJsonExact } from './python-json.js';

/** The SDK templates whose model schemas ship as data (`data/template-schemas/<template>.json`). */
export type SchemaTemplate = 'vllm' | 'embedding' | 'diffusion';

/** One template's schemas: wrapped input schemas and output schemas, by pydantic model name. */
interface TemplateSchemaFile {
  inputs: Record<string, JsonObject>;
  outputs: Record<string, JsonObject>;
}

const cache = new Map<SchemaTemplate, TemplateSchemaFile>();

/**
 * A fresh copy of one JSON Schema of a Python template model, read from the package's
 * `data/template-schemas/<template>.json` (generated from chutesai/chutes@5cb5079 with pydantic; provenance in
 * `data/template-schemas/README.md`). Integers beyond 2^53 (pydantic's `2**63 - 1` bounds) stay exact.
 * @throws Error when the data file is missing or lacks the model (a broken install).
 */
export function templateSchema(
  template: SchemaTemplate,
  kind: 'inputs' | 'outputs',
  model: string,
): JsonObject {
  let file = cache.get(template);
  if (!file) {
    file = parseJsonExact(
      readFileSync(packageAsset('data', 'template-schemas', `${template}.json`), 'utf8'),
    ) as TemplateSchemaFile;
    cache.set(template, file);
  }
  const schema = file[kind]?.[model];
  if (!schema) throw new Error(`unknown template schema ${template}.${kind}.${model}`);
  return structuredClone(schema);
}
