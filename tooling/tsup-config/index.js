// The one tsup configuration of the workspace: every package's tsup.config.ts calls libraryConfig().
import { readFileSync } from 'node:fs';

/**
 * Builds a package's tsup options: ESM for Node 20, source maps, a clean dist/, `__PACKAGE_VERSION__` defined
 * from the package.json beside the config, and declaration files for `declarations` (all entries when omitted).
 * `BUILD_DECLARATIONS=false` in the environment skips declarations (turbo keys its cache on that variable, so
 * `npm test` still builds them). `npm start` does not run tsup: tooling/quick-start reads these options and builds
 * the JavaScript with esbuild directly.
 * @param {URL | string} packageUrl `import.meta.url` of the package's tsup.config.ts.
 * @param {import('./index.js').LibraryConfigOptions} options
 * @returns {import('tsup').Options}
 */
export function libraryConfig(packageUrl, options) {
  const manifest = JSON.parse(readFileSync(new URL('./package.json', packageUrl), 'utf8'));
  const declarations = process.env.BUILD_DECLARATIONS !== 'false';
  return {
    entry: options.entry,
    format: ['esm'],
    dts: declarations ? (options.declarations ? { entry: options.declarations } : true) : false,
    sourcemap: true,
    clean: true,
    target: 'node20',
    ...(options.external ? { external: options.external } : {}),
    define: { __PACKAGE_VERSION__: JSON.stringify(manifest.version), ...options.define },
  };
}
