import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { ENTRIES, measure } from '../scripts/bundle-size.mjs';

// The browser path has no Node built-ins: esbuild (platform browser) must bundle the built package without
// resolving any `node:` module, and the package's own sources use neither Buffer nor node: imports nor process.
// A `node:` name may appear only as the argument of a runtime lookup (`process.getBuiltinModule?.("node:crypto")`,
// how nvidia-attestation and tee-signing reach their Node fast paths), which browsers do not have.

describe('browser bundle', () => {
  it('bundles for browsers without any node: module', async () => {
    const { code, gzip } = (await measure(ENTRIES['whole package (export *)'])) as {
      code: string;
      gzip: number;
    };
    expect(code).not.toMatch(/\b(?:from|import|require)\s*\(?\s*["']node:/);
    const named = [...code.matchAll(/(.{0,40})["']node:[a-z_]+["']/g)].map((match) => match[1]);
    for (const context of named) expect(context).toMatch(/getBuiltinModule\?\.\($/);
    expect(gzip).toBeGreaterThan(10_000);
  });

  it('keeps Buffer, node: imports and process out of the sources', () => {
    const dir = new URL('../src/', import.meta.url);
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
      const text = readFileSync(new URL(name, dir), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      expect(text, name).not.toMatch(/\bBuffer\b|from ['"]node:|\bprocess\./);
    }
  });
});
