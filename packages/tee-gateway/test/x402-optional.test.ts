// The payment stack (@x402/core, @x402/evm, viem) is an optional peer dependency: a gateway without x402 never
// loads it, and a gateway with x402 on and the packages missing stops at startup with the command that installs
// them (never a gateway that silently serves unpaid). Run in child processes against the built package, with a
// resolution hook that hides the packages as if they were not installed.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { X402_PACKAGES } from '../src/x402/load.js';

const run = promisify(execFile);
const HOOK = fileURLToPath(new URL('./fixtures/hide-packages.mjs', import.meta.url));
const START = fileURLToPath(new URL('./fixtures/start-gateway.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/tee-gateway.js', import.meta.url));
const PAYMENT_STACK = Object.keys(X402_PACKAGES);
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

async function startGateway(config: Record<string, unknown>, hide: readonly string[]) {
  const record = join(mkdtempSync(join(tmpdir(), 'gateway-imports-')), 'resolved.txt');
  const { stdout } = await run(process.execPath, ['--import', HOOK, START, JSON.stringify(config)], {
    env: { ...process.env, HIDE_PACKAGES: hide.join(','), RECORD_FILE: record },
  });
  const resolved = readFileSync(record, 'utf8').split('\n').filter(Boolean);
  return { result: JSON.parse(stdout) as Record<string, unknown>, resolved };
}

const DEMO = { simulate: true, opg_price_usd: '1' };

describe('x402 payment stack as an optional peer dependency', () => {
  it('the packages the error names are exactly the optional peer dependencies', () => {
    expect(manifest.peerDependencies).toEqual(X402_PACKAGES);
    for (const name of PAYMENT_STACK) expect(manifest.peerDependenciesMeta[name]?.optional).toBe(true);
  });

  it('x402 off: works without the packages, and none of them is even resolved', async () => {
    const { result, resolved } = await startGateway({ ...DEMO, x402_enabled: false }, PAYMENT_STACK);
    expect(result).toEqual({ ok: true, models: expect.any(Number) });
    expect((result.models as number) > 10).toBe(true);
    const stack = resolved.filter((url) => /\/(@x402|viem|ox)\//.test(url));
    expect(stack).toEqual([]);
  }, 60_000);

  it('x402 off with the packages installed still does not load them', async () => {
    const { result, resolved } = await startGateway({ ...DEMO, x402_enabled: false }, []);
    expect(result['ok']).toBe(true);
    expect(resolved.filter((url) => /\/(@x402|viem|ox)\//.test(url))).toEqual([]);
  }, 60_000);

  for (const missing of PAYMENT_STACK) {
    it(`x402 on without ${missing}: a startup error naming the install command, never an unpaid gateway`, async () => {
      const { result } = await startGateway({ ...DEMO, x402_enabled: true }, [missing]);
      expect(result['ok']).toBe(false);
      expect(result['code']).toBe('ERR_X402_UNAVAILABLE');
      expect(result['message']).toContain(`${missing} is missing`);
      expect(result['message']).toContain('npm install @x402/core@~2.27.0 @x402/evm@~2.27.0 viem@^2.57.20');
    }, 60_000);
  }

  it('x402 on with the packages: the gate is loaded (they are resolved)', async () => {
    const { result, resolved } = await startGateway({ ...DEMO, x402_enabled: true }, []);
    expect(result['ok']).toBe(true);
    expect(resolved.some((url) => url.includes('/@x402/core/'))).toBe(true);
  }, 60_000);

  it('the tee-gateway command exits 1 with one line naming the packages', async () => {
    const failed = await run(
      process.execPath,
      ['--import', HOOK, BIN, '--simulate', '--opg-price-usd', '1', '--port', '0'],
      {
        env: { ...process.env, HIDE_PACKAGES: '@x402/core' },
      },
    ).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect((failed as { code: number }).code).toBe(1);
    const stderr = (failed as { stderr: string }).stderr;
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(
      /^tee-gateway: ERR_X402_UNAVAILABLE: x402 is enabled .*`npm install @x402\/core@~2\.27\.0 @x402\/evm@~2\.27\.0 viem@\^2\.57\.20`/,
    );
  }, 60_000);
});
