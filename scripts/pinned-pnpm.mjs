// Where the workspace's pinned pnpm comes from, for scripts/pnpm.mjs and scripts/start.mjs: the copy `npx` already
// keeps in npm's cache when it is there (running it directly saves npx's own start, 3-5 s on a busy machine),
// otherwise `npx --yes pnpm@<pinned>`, which fetches it from the npm registry. corepack is not used (its signature
// check fails on some machines).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

/** The pinned pnpm as npm names it (`pnpm@10.34.8`), from the root package.json's `packageManager`. */
export const pinnedPnpm = String(manifest.packageManager ?? 'pnpm@10').replace(/\+.*$/, '');

/** What every pnpm run gets in its environment (no corepack strictness, no telemetry). */
const pnpmEnvironment = {
  COREPACK_ENABLE_STRICT: '0',
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
};

/** npm's cache directory: `npm_config_cache` (npm sets it for scripts it runs) or npm's default. */
function npmCache() {
  // Read from the environment of this script (not a turbo task).
  const { npm_config_cache: configured, LOCALAPPDATA: localAppData } = process.env;
  if (configured) return configured;
  if (process.platform === 'win32' && localAppData) return join(localAppData, 'npm-cache');
  return join(homedir(), '.npm');
}

/**
 * The pinned pnpm's directory in npx's cache (`<cache>/_npx/<first 16 hex of sha512(spec)>/node_modules`, as npm
 * names it), or null when npx has not installed exactly that version there.
 */
function cachedPnpm() {
  const [, version] = /^pnpm@(\d+\.\d+\.\d+)$/.exec(pinnedPnpm) ?? [];
  if (!version) return null;
  const key = createHash('sha512').update(pinnedPnpm).digest('hex').slice(0, 16);
  const modules = join(npmCache(), '_npx', key, 'node_modules');
  try {
    const installed = JSON.parse(readFileSync(join(modules, 'pnpm', 'package.json'), 'utf8'));
    const bin = typeof installed.bin === 'string' ? installed.bin : installed.bin?.pnpm;
    if (installed.name !== 'pnpm' || installed.version !== version || typeof bin !== 'string') return null;
    if (!existsSync(join(modules, '.bin', 'pnpm'))) return null;
    return { launcher: join(modules, 'pnpm', bin), binaries: join(modules, '.bin') };
  } catch {
    return null;
  }
}

/**
 * The command line that runs the pinned pnpm with `args`, and the environment to run it in: with the cached copy,
 * its bin directory leads PATH as under npx (turbo, run through pnpm, looks for the `pnpm` binary there).
 * @param {string[]} args
 * @returns {{ command: string, args: string[], env: Record<string, string> }}
 */
export function pnpmCommand(args) {
  const cached = cachedPnpm();
  if (cached) {
    const { PATH: path = '' } = process.env;
    return {
      command: process.execPath,
      args: [cached.launcher, ...args],
      env: { ...process.env, ...pnpmEnvironment, PATH: `${cached.binaries}${delimiter}${path}` },
    };
  }
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  return { command: npx, args: ['--yes', pinnedPnpm, ...args], env: { ...process.env, ...pnpmEnvironment } };
}
