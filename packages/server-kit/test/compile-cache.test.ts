import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { enableCompileCache } from '../src/compile-cache.js';

const supported = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const entry = fileURLToPath(new URL('../src/compile-cache.ts', import.meta.url));

/** Runs enableCompileCache in a fresh Node process (the cache is per process), with a time limit. */
function inChild(env: Record<string, string>) {
  const script = `import(${JSON.stringify(entry)}).then((m) => process.stdout.write(JSON.stringify(m.enableCompileCache())))`;
  const result = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings', '-e', script], {
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { ...result, parsed: result.stdout ? JSON.parse(result.stdout) : undefined };
}

describe('enableCompileCache', () => {
  it.skipIf(supported)('does nothing on a Node without module.enableCompileCache (Node 20)', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'compile-cache-'));
    expect(enableCompileCache({ env: { XDG_CACHE_HOME: xdg } })).toEqual({ status: 'unsupported' });
    expect(() => statSync(join(xdg, 'confidential-ai'))).toThrow();
  });

  it('is off when NODE_DISABLE_COMPILE_CACHE is set, creating nothing', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'compile-cache-'));
    const result = enableCompileCache({ env: { XDG_CACHE_HOME: xdg, NODE_DISABLE_COMPILE_CACHE: '1' } });
    expect(result.status).toBe(supported ? 'disabled' : 'unsupported');
    expect(() => statSync(join(xdg, 'confidential-ai'))).toThrow();
  });

  // Node's own recursive mkdir (and enableCompileCache's) never returns for such paths.
  it.skipIf(!supported)('fails fast, without a hang, where the directory cannot be made (/proc)', () => {
    const run = inChild({ XDG_CACHE_HOME: '/proc/no-such-directory' });
    expect(run.error).toBeUndefined();
    expect(run.parsed).toEqual({ status: 'failed' });
  });

  it.skipIf(!supported)('uses an owner-only directory under XDG_CACHE_HOME, never the shared tmp dir', () => {
    const xdg = mkdtempSync(join(tmpdir(), 'compile-cache-'));
    const run = inChild({ XDG_CACHE_HOME: xdg });
    const directory = join(xdg, 'confidential-ai', 'compile-cache');
    expect(run.parsed).toEqual({ status: 'enabled', directory });
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    expect(statSync(join(xdg, 'confidential-ai')).mode & 0o777).toBe(0o700);
  });

  it('a relative XDG_CACHE_HOME is ignored for the home directory', () => {
    const home = mkdtempSync(join(tmpdir(), 'compile-cache-home-'));
    const result = enableCompileCache({ env: { XDG_CACHE_HOME: 'relative' }, home });
    if (!supported) return expect(result).toEqual({ status: 'unsupported' });
    expect(result.status).toMatch(/enabled/);
    expect(statSync(join(home, '.cache', 'confidential-ai', 'compile-cache')).isDirectory()).toBe(true);
  });
});
