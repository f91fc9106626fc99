import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = '@confidential-ai/chutes-cli';
let root: string | undefined;

/**
 * The directory of this package (the one holding its `package.json`), found by walking up from this module, so
 * data shipped beside `dist/` (`data/`, `python/`) is found from the sources, the build and an installed tarball.
 * @throws Error when no enclosing package.json names this package (a broken install).
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME) {
          root = dir;
          return dir;
        }
      } catch {
        // not our manifest: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package directory`);
    dir = parent;
  }
}

/** Absolute path of a file shipped with the package (`data/...`, `python/...`). */
export function packageAsset(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}
