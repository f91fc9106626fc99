import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from '@confidential-ai/bytes';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { intelSgxRootCaDer, parseTdxQuote } from '../src/index.js';
import { fixturePath, realQuote } from './helpers.js';
import { flip } from './mutate.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const quotePath = fixturePath('tdx_quote.bin');
const collateralPath = fixturePath('tdx_quote_collateral.json');
const AT = '2025-07-01T00:00:00Z';

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('tdx-attestation CLI (built bin)', () => {
  let dir: string;
  beforeAll(() => {
    if (!existsSync(bin))
      throw new Error('dist/bin.js is missing: run `npx tsup` (turbo builds before testing)');
    dir = mkdtempSync(join(tmpdir(), 'tdx-cli-'));
  });

  it('verifies the real quote with collateral and prints a JSON report', () => {
    const result = run('verify', quotePath, '--collateral', collateralPath, '--at', AT, '--json');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: true, tcbStatus: 'UpToDate', advisoryIds: [] });
    expect(report.reportData).toHaveLength(128);
    expect(report.tdAttributes.debug).toBe(false);
    expect(Object.keys(report.measurements)).toEqual(
      expect.arrayContaining(['mrTd', 'mrConfigId', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3']),
    );
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('accepts a hex quote file, Unix seconds and --report-data with --chain-only', () => {
    const hexPath = join(dir, 'quote.hex');
    writeFileSync(hexPath, `0x${bytesToHex(realQuote())}\n`);
    const reportData = bytesToHex(parseTdxQuote(realQuote()).body.reportData);
    const seconds = String(Date.parse(AT) / 1000);
    const result = run('verify', hexPath, '--at', seconds, '--report-data', reportData, '--chain-only');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ ok: true, chainOnly: true, tcbStatus: null });
    expect(report.verified.reportData).toBe(true);
  });

  it('fails without collateral unless --chain-only (regression: it used to exit 0 with tcbStatus null)', () => {
    const result = run('verify', quotePath, '--at', AT);
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_TDX_COLLATERAL_REQUIRED', message: expect.stringContaining('--chain-only') },
    });
    expect(result.stdout.trim().split('\n').length).toBeGreaterThan(1); // pretty unless --json
    expect(result.stderr).toMatch(/^tdx-attestation: ERR_TDX_COLLATERAL_REQUIRED: [^\n]+\n$/);
    expect(run('verify', quotePath, '--at', AT, '--chain-only').status).toBe(0);
  });

  it('exits 1 with the JSON failure shape and one stderr line on verification failure', () => {
    const result = run('verify', quotePath, '--at', AT, '--chain-only', '--report-data', '00'.repeat(64));
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: 'ERR_TDX_REPORT_DATA_MISMATCH' },
    });
    expect(result.stderr).toMatch(/^tdx-attestation: ERR_TDX_REPORT_DATA_MISMATCH: [^\n]+\n$/);

    const expired = run(
      'verify',
      quotePath,
      '--collateral',
      collateralPath,
      '--at',
      '2026-01-01T00:00:00Z',
      '--json',
    );
    expect(expired.status).toBe(1);
    expect(expired.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(expired.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_TDX_COLLATERAL_EXPIRED', message: expect.any(String) },
    });
    expect(expired.stderr.trim().split('\n')).toHaveLength(1);

    const badPath = join(dir, 'bad.bin');
    writeFileSync(badPath, flip(realQuote(), 200));
    const bad = run('verify', badPath, '--at', AT, '--chain-only');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('ERR_TDX_QUOTE_SIGNATURE');
  });

  it('exits 2 with ERR_USAGE and points at the subcommand help (spawned)', () => {
    const result = run('verify', '--json');
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: false,
      error: { code: 'ERR_USAGE', message: 'missing quote file' },
    });
    expect(result.stderr).toBe(
      'tdx-attestation: ERR_USAGE: missing quote file (see tdx-attestation verify --help)\n',
    );
  });

  it('prints help for every subcommand and exits 0', () => {
    for (const args of [
      ['verify', '--help'],
      ['verify', '-h'],
      ['verify', quotePath, '--bogus', '--help'],
    ]) {
      const result = run(...args);
      expect(result.status, args.join(' ')).toBe(0);
      expect(result.stdout).toContain('Usage: tdx-attestation verify');
      expect(result.stdout).toContain('--chain-only');
      expect(result.stderr).toBe('');
    }
    const top = run('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toContain('Usage: tdx-attestation <command>');
    expect(run('--version').stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits quietly with 0 when stdout closes early (EPIPE)', { timeout: 200_000 }, () => {
    const script = `"${process.execPath}" "${bin}" verify "${quotePath}" --collateral "${collateralPath}" --at ${AT} | true; echo "status=\${PIPESTATUS[0]}"`;
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('status=0\n');
    }
  });
});

describe('tdx-attestation CLI (in process)', () => {
  function capture() {
    const chunks: string[] = [];
    return {
      stream: {
        write: (chunk: string) => {
          chunks.push(chunk);
          return true;
        },
      },
      text: () => chunks.join(''),
    };
  }
  async function call(...args: string[]) {
    const out = capture();
    const err = capture();
    const status = await main(args, out.stream, err.stream);
    return { status, stdout: out.text(), stderr: err.text() };
  }

  it('exits 2 on bad usage and prints help and version', async () => {
    const missing = await call();
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      'tdx-attestation: ERR_USAGE: missing command "verify" (see tdx-attestation --help)\n',
    );
    expect((await call('verify', quotePath, '--report-data', 'zz')).status).toBe(2);
    expect((await call('verify', quotePath, '--chain-only', '--collateral', collateralPath)).status).toBe(2);
    expect((await call('verify', quotePath, '--chain-only=yes')).status).toBe(2);
    expect((await call('frobnicate')).status).toBe(2);
    expect((await call('verify', quotePath, '--at')).status).toBe(2);
    expect((await call('verify', quotePath, '--at', 'yesterday-ish')).status).toBe(2);
    expect((await call('verify', '/nonexistent/quote.bin')).status).toBe(2);
    expect((await call('verify', quotePath, '--bogus')).status).toBe(2);
    expect((await call('verify', quotePath, quotePath)).status).toBe(2);
    const help = await call('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('tdx-attestation verify --help');
    expect((await call('--version')).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('accepts --flag=value, --root and --allow-debug', async () => {
    const rootPath = join(mkdtempSync(join(tmpdir(), 'tdx-root-')), 'root.der');
    writeFileSync(rootPath, intelSgxRootCaDer());
    const result = await call(
      'verify',
      quotePath,
      `--at=${AT}`,
      '--root',
      rootPath,
      '--allow-debug',
      '--chain-only',
      '--json',
    );
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).verified.intelRoot).toBe(true);
  });

  it('reports a garbage quote with a typed code', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tdx-garbage-')), 'garbage.bin');
    writeFileSync(path, 'not a quote at all');
    const result = await call('verify', path, '--json');
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: 'ERR_TDX_QUOTE_MALFORMED' },
    });
  });
});
