import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hexToBytes } from '@confidential-ai/bytes';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { nvidiaDeviceIdentityRootDer } from '../src/index.js';
import { hgx, hopper545 } from './vectors.js';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
let dir: string;
const path = (name: string) => join(dir, name);

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(bin))
    throw new Error('dist/bin.js is missing: run `npx tsup` (turbo builds before testing)');
  dir = mkdtempSync(join(tmpdir(), 'nvidia-cli-'));
  writeFileSync(path('report.hex'), `${hopper545.report}\n`);
  writeFileSync(path('report.bin'), hexToBytes(hopper545.report));
  writeFileSync(path('chain.pem'), hopper545.certificateChain);
  writeFileSync(path('driver.xml'), hopper545.driverRim);
  writeFileSync(path('vbios.xml'), hopper545.vbiosRim);
  writeFileSync(path('production-vbios.xml'), hopper545.productionVbiosRim);
  writeFileSync(path('hgx.json'), JSON.stringify(hgx.evidenceList));
  writeFileSync(path('root.der'), nvidiaDeviceIdentityRootDer());
  writeFileSync(path('garbage.json'), '{"evidence_list": 3}');
});

const verify545 = ['verify', 'report.hex', '--chain', 'chain.pem', '--nonce', hopper545.nonce];

describe('nvidia-attestation verify (built bin)', () => {
  const withPaths = (args: string[]) =>
    args.map((arg) => (/\.(hex|bin|pem|xml|json|der)$/.test(arg) ? path(arg) : arg));

  it('verifies a real report with its RIMs: pretty JSON by default, one line with --json', () => {
    const args = withPaths([
      ...verify545,
      '--at',
      '2024-06-01T00:00:00Z',
      '--rim',
      'driver.xml',
      '--rim',
      'vbios.xml',
    ]);
    const pretty = run(...args);
    expect(pretty.stderr).toBe('');
    expect(pretty.status).toBe(0);
    expect(pretty.stdout.split('\n').length).toBeGreaterThan(10);
    const report = JSON.parse(pretty.stdout);
    expect(report).toMatchObject({
      ok: true,
      measurements: 'matched',
      trust: { deviceRoot: { nvidia: true } },
    });
    expect(report.gpus[0].report).toBeUndefined();
    const line = run(...args, '--json');
    expect(line.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(line.stdout)).toEqual(report);
  });

  it('reads binary reports, evidence lists, Unix-second times, --root and --gpus', () => {
    expect(
      run(...withPaths(['verify', 'report.bin', '--chain', 'chain.pem', '--root', 'root.der'])).status,
    ).toBe(0);
    const list = run(
      ...withPaths([
        'verify',
        'hgx.json',
        '--nonce',
        hgx.nonce,
        '--gpus',
        '8',
        '--at',
        '1767225600',
        '--json',
      ]),
    );
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ ok: true, format: 'evidence-list', nonce: hgx.nonce });
  });

  it('a verification failure: exit 1, error JSON on stdout, one line on stderr', () => {
    const result = run(
      ...withPaths([
        ...verify545,
        '--at',
        '2024-06-01T00:00:00Z',
        '--rim',
        'driver.xml',
        '--rim',
        'production-vbios.xml',
      ]),
    );
    expect(result.status).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: 'ERR_NVIDIA_MEASUREMENT_MISMATCH', gpuIndex: 0 },
    });
    expect(result.stderr).toMatch(/^nvidia-attestation: ERR_NVIDIA_MEASUREMENT_MISMATCH: .+\n$/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    const json = run(...withPaths(['verify', 'garbage.json', '--json']));
    expect(json.status).toBe(1);
    expect(json.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout).error.code).toBe('ERR_NVIDIA_EVIDENCE_MALFORMED');
  });

  it('usage errors: exit 2, ERR_USAGE, pointing at the help', () => {
    const cases: string[][] = [
      ['verify'],
      ['verify', 'report.hex'],
      ['verify', 'report.hex', '--chain', 'chain.pem', '--nonce', 'abc'],
      ['verify', 'report.hex', '--chain', 'chain.pem', '--at', 'soon'],
      ['verify', 'report.hex', '--chain', 'chain.pem', '--bogus'],
      ['verify', 'missing.hex', '--chain', 'chain.pem'],
      ['verify', 'hgx.json', '--chain', 'chain.pem'],
      ['verify', 'hgx.json', 'hgx.json'],
      ['verify', 'hgx.json', '--gpus', '0'],
      ['verify', 'report.hex', '--chain', 'chain.pem', '--root', 'driver.xml'],
      ['frobnicate'],
      [],
    ];
    for (const args of cases) {
      const result = run(...withPaths(args));
      expect(result.status, args.join(' ')).toBe(2);
      expect(JSON.parse(result.stdout).error.code, args.join(' ')).toBe('ERR_USAGE');
      expect(result.stderr, args.join(' ')).toMatch(
        /^nvidia-attestation: ERR_USAGE: .+ \(see nvidia-attestation( verify)? --help\)\n$/,
      );
    }
  });

  it('--help, -h and --version', () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['verify', '--help'],
      ['verify', '-h'],
      ['verify', 'x', '--bogus', '-h'],
    ]) {
      const result = run(...args);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^Usage: nvidia-attestation/);
    }
    expect(run('verify', '--help').stdout).toContain('--rim <file>');
    expect(run('--version').stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits quietly when stdout is closed early (| head -1)', async () => {
    const child = spawn(process.execPath, [bin, ...withPaths(['verify', 'hgx.json', '--nonce', hgx.nonce])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) =>
      child.on('close', (status) => resolve(status)),
    );
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('in process', () => {
  it('returns the exit codes', async () => {
    const chunks: string[] = [];
    const sink = { write: (chunk: string) => chunks.push(chunk) };
    expect(
      await main(['verify', path('report.hex'), '--chain', path('chain.pem'), '--json'], sink, sink),
    ).toBe(0);
    expect(JSON.parse(chunks[0]!).ok).toBe(true);
    expect(await main(['verify'], sink, sink)).toBe(2);
  });
});
