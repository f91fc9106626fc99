// A face that is not enabled is not imported at start-up (issue 16): the composed server is started from the built
// package in a child process whose module resolution is recorded, once with only the vllm-proxy face, once with
// every face. The configuration schemas of the faces (the `/config` subpaths: a zod schema and a TOML reader) are
// always loaded, because the composed file validates their tables; their code, and the payment stack, are not.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const HOOK = fileURLToPath(new URL('./fixtures/record-imports.mjs', import.meta.url));
const START = fileURLToPath(new URL('./fixtures/start-composed.mjs', import.meta.url));

async function startRecorded(toml: string) {
  const record = join(mkdtempSync(join(tmpdir(), 'composed-imports-')), 'resolved.txt');
  const { stdout } = await run(process.execPath, ['--import', HOOK, START, toml], {
    env: { ...process.env, RECORD_FILE: record },
  });
  const resolved = readFileSync(record, 'utf8').split('\n').filter(Boolean);
  return {
    result: JSON.parse(stdout) as { health: Record<string, number>; commonJsAtReady: string[] },
    resolved,
  };
}

/** The files `entry` of a workspace package's dist loads statically (itself and the chunks it imports). */
function staticClosure(name: string, entry: string): string[] {
  const dist = new URL(`../../${name}/dist/`, import.meta.url);
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(new URL(file, dist), 'utf8');
    for (const match of text.matchAll(/(?:^|\n)(?:import|export)\s[^;]*?["']\.\/([^"']+)["']/g))
      visit(match[1]!);
  };
  visit(entry);
  return [...seen].map((file) => `dist/${file}`).sort();
}

/** The files of a workspace package among the resolved URLs (`.../packages/<name>/dist/...`). */
function filesOf(resolved: string[], name: string): string[] {
  return resolved
    .filter(
      (url) => url.includes(`/packages/${name}/dist/`) || url.includes(`/@confidential-ai/${name}/dist/`),
    )
    .map((url) => url.slice(url.indexOf('/dist/') + 1));
}

const ONLY_VLLM = '[server]\nport = 0\n[auth]\ntoken = "t0ken-lazy"\n[log]\nlevel = "silent"\n';
const EVERY_FACE = `${ONLY_VLLM}[venice]\nenabled = true\n[tee_gateway]\nenabled = true\nsimulate = true\nx402_enabled = false\nopg_price_usd = "1"\n`;

describe('faces are imported only when enabled', () => {
  it('only the vllm-proxy face: neither the Venice proxy nor the gateway (nor any payment package) is loaded', async () => {
    const { result, resolved } = await startRecorded(ONLY_VLLM);
    expect(result.health).toEqual({ '/health': 200, '/venice/health': 404, '/tee-gateway/health': 404 });
    // Only their configuration modules (and the chunks those import), never their index (the face itself).
    for (const face of ['venice-proxy', 'tee-gateway']) {
      const loaded = filesOf(resolved, face);
      expect(loaded, face).toContain('dist/config.js');
      expect(loaded, face).not.toContain('dist/index.js');
      expect([...new Set(loaded)].sort(), face).toEqual(staticClosure(face, 'config.js'));
    }
    expect(resolved.filter((url) => /\/(@x402|viem|ox)\//.test(url))).toEqual([]);
    // Start-up cost: ioredis is loaded only with Redis configured, undici on the first upstream request.
    expect(result.commonJsAtReady).not.toContain('ioredis');
    expect(result.commonJsAtReady).not.toContain('undici');
    expect(result.commonJsAtReady).toContain('pino'); // the check sees CommonJS packages at all
  }, 60_000);

  it('every face enabled (x402 off): both packages are loaded, still no payment package', async () => {
    const { result, resolved } = await startRecorded(EVERY_FACE);
    expect(result.health).toEqual({ '/health': 200, '/venice/health': 200, '/tee-gateway/health': 200 });
    expect(filesOf(resolved, 'venice-proxy')).toContain('dist/index.js');
    expect(filesOf(resolved, 'tee-gateway')).toContain('dist/index.js');
    expect(resolved.filter((url) => /\/(@x402|viem|ox)\//.test(url))).toEqual([]);
  }, 60_000);
});
