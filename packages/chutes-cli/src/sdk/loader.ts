import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChutesCliError } from '../errors.js';
import { Chute } from './chute.js';
import { withAddCwd } from './image.js';

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** A chute loaded from a `module:export` reference. */
export interface LoadedChute {
  /** The chute. */
  chute: Chute;
  /** Absolute module file path. */
  file: string;
  /** Export name. */
  exportName: string;
  /** Python module name (file stem, sanitized to `[a-z][a-z0-9_]*`). */
  pythonModule: string;
  /** Python variable name (export name, sanitized). */
  pythonVariable: string;
}

function pythonName(value: string, fallback: string): string {
  const cleaned = value.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return /^[a-z][a-z0-9_]+$/.test(cleaned) ? cleaned : fallback;
}

/**
 * Splits `module:export` into the module path and the export name; the export defaults to `chute`.
 * @throws ChutesCliError `ERR_MODULE_LOAD` for an empty reference.
 */
export function parseChuteRef(ref: string): { module: string; exportName: string } {
  if (typeof ref !== 'string' || ref.trim() === '')
    throw new ChutesCliError('ERR_MODULE_LOAD', 'chute reference must be "module:export"');
  const index = ref.lastIndexOf(':');
  if (index <= 0 || /^[A-Za-z]:[\\/]/.test(ref.slice(index - 1))) return { module: ref, exportName: 'chute' };
  return { module: ref.slice(0, index), exportName: ref.slice(index + 1) || 'chute' };
}

/** Resolves the module file of a reference (`llama`, `llama.ts`, `./dir/llama.mjs`, ...). */
export function resolveChuteModule(module: string, cwd: string): string | undefined {
  const base = resolve(cwd, module);
  if (EXTENSIONS.includes(extname(base)) && existsSync(base)) return base;
  for (const extension of EXTENSIONS) if (existsSync(base + extension)) return base + extension;
  return undefined;
}

async function importModule(file: string): Promise<Record<string, unknown>> {
  const extension = extname(file);
  if (extension === '.js' || extension === '.mjs') {
    return (await import(`${pathToFileURL(file).href}?t=${Date.now()}`)) as Record<string, unknown>;
  }
  const { build } = await import('esbuild');
  const dir = await mkdtemp(join(dirname(file), '.chutes-load-'));
  const out = join(dir, `${basename(file, extension)}.mjs`);
  try {
    await build({
      entryPoints: [file],
      outfile: out,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Loads a chute from a `.ts`/`.mts`/`.js`/`.mjs` module by `module:export`, like the Python `module:chute`.
 * TypeScript is compiled with esbuild (bundled, packages external) next to the module, so relative and package
 * imports resolve as they would for the source file.
 * @example
 * ```ts
 * const { chute } = await loadChute('llama:chute', process.cwd());
 * ```
 * @throws ChutesCliError `ERR_MODULE_LOAD` when the file is missing, fails to load, or the export is not a Chute.
 */
export async function loadChute(ref: string, cwd: string): Promise<LoadedChute> {
  const { module, exportName } = parseChuteRef(ref);
  const file = resolveChuteModule(module, cwd);
  if (!file)
    throw new ChutesCliError(
      'ERR_MODULE_LOAD',
      `no chute module found for "${module}" (tried ${EXTENSIONS.join(', ')})`,
    );
  let namespace: Record<string, unknown>;
  try {
    namespace = await withAddCwd(cwd, () => importModule(file));
  } catch (error) {
    if (ChutesCliError.isInstance(error)) throw error;
    throw new ChutesCliError(
      'ERR_MODULE_LOAD',
      `cannot load ${basename(file)}: ${(error as Error)?.message ?? error}`,
      { cause: error },
    );
  }
  let value = namespace[exportName];
  if (
    value &&
    typeof value === 'object' &&
    'chute' in value &&
    Chute.isInstance((value as { chute: unknown }).chute)
  ) {
    value = (value as { chute: unknown }).chute;
  }
  if (!Chute.isInstance(value)) {
    throw new ChutesCliError(
      'ERR_MODULE_LOAD',
      `${basename(file)} has no Chute export named "${exportName}"`,
    );
  }
  return {
    chute: value,
    file,
    exportName,
    pythonModule: pythonName(basename(file, extname(file)), 'chute_module'),
    pythonVariable: pythonName(exportName, 'chute'),
  };
}
