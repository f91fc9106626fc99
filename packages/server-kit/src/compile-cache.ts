import { mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';

/** What {@link enableCompileCache} did: Node's own status name, and the directory when the cache is on. */
export interface CompileCacheResult {
  /**
   * `enabled`, `already-enabled` (NODE_COMPILE_CACHE set it up at start), `disabled` (NODE_DISABLE_COMPILE_CACHE),
   * `failed` (the directory cannot be written, e.g. a read-only root file system) or `unsupported` (Node < 22.1).
   */
  readonly status: 'enabled' | 'already-enabled' | 'disabled' | 'failed' | 'unsupported';
  /** The cache directory, when the cache is on. */
  readonly directory?: string;
}

/** Options of {@link enableCompileCache}. */
export interface EnableCompileCacheOptions {
  /** Environment (default `process.env`): `XDG_CACHE_HOME` chooses the base directory. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Home directory when `XDG_CACHE_HOME` is unset (default `os.homedir()`). */
  readonly home?: string;
}

/** The user's own cache directory for compiled code: `$XDG_CACHE_HOME` or `~/.cache`, then `confidential-ai/compile-cache`. */
function cacheDirectory(options: EnableCompileCacheOptions): string | undefined {
  const xdg = options.env?.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'confidential-ai', 'compile-cache');
  let home: string;
  try {
    home = options.home ?? homedir();
  } catch {
    return undefined;
  }
  return home && isAbsolute(home) ? join(home, '.cache', 'confidential-ai', 'compile-cache') : undefined;
}

/**
 * Creates `directory` one level at a time (owner-only for the levels it makes). Node's recursive creation (and
 * `enableCompileCache`'s own) never returns for some paths, e.g. under /proc; one `mkdir` per level fails instead.
 */
function makeDirectory(directory: string): boolean {
  const parent = dirname(directory);
  if (parent !== directory && !makeDirectory(parent)) return false;
  try {
    mkdirSync(directory, { mode: 0o700 });
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException)?.code === 'EEXIST';
  }
}

/**
 * Turns on Node's on-disk cache of compiled module code (`module.enableCompileCache`, Node >= 22.1) for the rest of
 * this process, so that the next start of a server compiles less. Call it first in a bin, before the server's
 * modules are imported (import them dynamically afterwards). The directory is the user's own (`$XDG_CACHE_HOME`
 * or `~/.cache`, then `confidential-ai/compile-cache`), never Node's default in the shared temporary directory,
 * where another user could plant code. Node's own variables still rule: `NODE_COMPILE_CACHE=dir` (set up before
 * this runs) and `NODE_DISABLE_COMPILE_CACHE=1`. It never throws and never prints: on Node 20, or where the
 * directory cannot be created (a read-only root file system), nothing changes but the status.
 *
 * @example
 * ```ts
 * import { enableCompileCache } from '@confidential-ai/server-kit/compile-cache';
 * enableCompileCache();
 * const { runCli } = await import('./cli.js');
 * ```
 */
export function enableCompileCache(options: EnableCompileCacheOptions = {}): CompileCacheResult {
  const api = nodeModule as {
    enableCompileCache?: (directory?: string) => { status: number; directory?: string };
    constants?: { compileCacheStatus?: Record<string, number> };
  };
  const statuses = api.constants?.compileCacheStatus;
  if (typeof api.enableCompileCache !== 'function' || statuses === undefined)
    return { status: 'unsupported' };
  const env = options.env ?? process.env;
  if (env.NODE_DISABLE_COMPILE_CACHE) return { status: 'disabled' };
  const directory = cacheDirectory({ ...options, env });
  if (directory === undefined || !makeDirectory(directory)) return { status: 'failed' };
  try {
    const result = api.enableCompileCache(directory);
    const status =
      result.status === statuses.ENABLED
        ? 'enabled'
        : result.status === statuses.ALREADY_ENABLED
          ? 'already-enabled'
          : result.status === statuses.DISABLED
            ? 'disabled'
            : 'failed';
    return status === 'enabled' || status === 'already-enabled'
      ? { status, ...(result.directory ? { directory: result.directory } : {}) }
      : { status };
  } catch {
    return { status: 'failed' };
  }
}
