import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChutesCliError } from '../errors.js';
import { Chute } from './chute.js';
import { withAddCwd } from './image.js';
import { loadPythonChute } from './python-loader.js';

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.py'];
/** The platform runs `chutes run module:chute`, whose reference must match this (SDK `CHUTE_REF_RE`). */
const PYTHON_REF_RE = /^[a-z][a-z0-9_]*:[a-z][a-z0-9_]+$/i;

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
  /** The Python source deployed as `code`: the `.py` file itself, or the module generated for a JS/TS chute. */
  code: string;
  /** The deploy `filename` (basename of the Python module). */
  filename: string;
  /** The deploy `ref_str` (`module:variable`). */
  refStr: string;
  /** Whether the chute came from a Python module (read through python3) or a JavaScript/TypeScript one. */
  language: 'python' | 'javascript';
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

const LOCAL_SOURCE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
/** A file of an installed package (`node_modules/<pkg>/...`; dot directories such as `.tmp` are not packages). */
const INSIDE_PACKAGE = /[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^.\\/][^\\/]*[\\/]/;

/**
 * An esbuild plugin that keeps `import.meta.url` / `import.meta.filename` / `import.meta.dirname` of every bundled
 * local module pointing at its source file (the bundle is written to a temporary file), so a chute module can
 * locate files next to itself as it would when run directly.
 */
function sourceLocationPlugin(): import('esbuild').Plugin {
  return {
    name: 'chutes-source-location',
    setup(build) {
      build.onLoad({ filter: LOCAL_SOURCE }, async (args) => {
        if (INSIDE_PACKAGE.test(args.path)) return undefined;
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
          .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)));
        const extension = extname(args.path).slice(1);
        const loader = extension.endsWith('x')
          ? (extension as 'tsx' | 'jsx')
          : extension.includes('t')
            ? 'ts'
            : 'js';
        return { contents, loader, resolveDir: dirname(args.path) };
      });
    },
  };
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
      plugins: [sourceLocationPlugin()],
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
 * Loads a chute from a `.ts`/`.mts`/`.js`/`.mjs` or `.py` module by `module:export`, like the Python `module:chute`.
 * TypeScript is compiled with esbuild (bundled, packages external) next to the module, so relative and package
 * imports resolve as they would for the source file, and `import.meta.url` is the source file's URL. A `.py`
 * module is run by `python3` (or `CHUTES_PYTHON`) against this package's recorder of the chute DSL, without the
 * Python chutes SDK; its own source is the deploy `code`.
 * @example
 * ```ts
 * const { chute } = await loadChute('llama:chute', process.cwd());
 * ```
 * @throws ChutesCliError `ERR_MODULE_LOAD` when the file is missing, fails to load, or the export is not a Chute;
 * `ERR_VALIDATION` for an invalid definition; `ERR_PYTHON_MISSING` when a `.py` module needs a missing python3.
 */
export async function loadChute(
  ref: string,
  cwd: string,
  env: Record<string, string | undefined> = process.env,
): Promise<LoadedChute> {
  const { module, exportName } = parseChuteRef(ref);
  const file = resolveChuteModule(module, cwd);
  if (!file)
    throw new ChutesCliError(
      'ERR_MODULE_LOAD',
      `no chute module found for "${module}" (tried ${EXTENSIONS.join(', ')})`,
    );
  if (extname(file) === '.py') return loadPython(file, exportName, cwd, env);
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
  const pythonModule = pythonName(basename(file, extname(file)), 'chute_module');
  const pythonVariable = pythonName(exportName, 'chute');
  return {
    chute: value,
    file,
    exportName,
    pythonModule,
    pythonVariable,
    code: value.pythonModule(pythonVariable),
    filename: `${pythonModule}.py`,
    refStr: `${pythonModule}:${pythonVariable}`,
    language: 'javascript',
  };
}

async function loadPython(
  file: string,
  variable: string,
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<LoadedChute> {
  const stem = basename(file, '.py');
  const refStr = `${stem}:${variable}`;
  if (!PYTHON_REF_RE.test(refStr)) {
    throw new ChutesCliError(
      'ERR_VALIDATION',
      `Invalid module name '${refStr}': the platform runs "chutes run module:chute", which needs names matching ${PYTHON_REF_RE.source}`,
    );
  }
  let code: string;
  try {
    code = await readFile(file, 'utf8');
  } catch (error) {
    throw new ChutesCliError('ERR_MODULE_LOAD', `cannot read ${basename(file)}`, { cause: error });
  }
  const chute = await loadPythonChute({ file, variable, cwd, env });
  return {
    chute,
    file,
    exportName: variable,
    pythonModule: stem,
    pythonVariable: variable,
    code,
    filename: basename(file),
    refStr,
    language: 'python',
  };
}
