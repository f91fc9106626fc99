import type { Options } from 'tsup';

/** What differs between the workspace's packages' builds. */
export interface LibraryConfigOptions {
  /** Entry points: a list of files, or output names mapped to files (e.g. `{ 'bin/chutes': 'src/bin/chutes.ts' }`). */
  entry: string[] | Record<string, string>;
  /** Entries that get declaration files; all entries when omitted (CLIs usually need none). */
  declarations?: string[] | Record<string, string>;
  /** Modules left unbundled beyond the package's dependencies. */
  external?: (string | RegExp)[];
  /** Extra compile-time constants. */
  define?: Record<string, string>;
}

/**
 * Builds a package's tsup options (ESM for Node 20, source maps, clean dist/, `__PACKAGE_VERSION__`, declarations
 * unless `BUILD_DECLARATIONS=false`).
 * @param packageUrl `import.meta.url` of the package's tsup.config.ts.
 */
export function libraryConfig(packageUrl: URL | string, options: LibraryConfigOptions): Options;
