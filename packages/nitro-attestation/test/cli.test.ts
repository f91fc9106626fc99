// Spawns the built `nitro-attestation` bin (dist/cli.js, built by `tsup`; turbo builds before testing).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { beforeAll, describe, expect, test } from 'vitest';
import { AWS_NITRO_ROOT_G1_PEM, pemToDer } from '../src/index.js';
import {
  createSyntheticPlatform,
  measurementsText,
  startFixtureGateway,
  startSyntheticGateway,
} from './fake-gateway.js';
import { debugDoc, fixturesDir, prodDoc } from './helpers.js';
import { pemOf, rekeyedSelfSigned } from './synthetic.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const bin = join(packageDir, 'dist', 'cli.js');
const measurementsFile = join(fixturesDir, 'evervault_beta_prod_2022-10-13.measurements.txt');
const teeGatewayMeasurements = fileURLToPath(
  new URL('./vectors/tee-gateway-measurements.txt', import.meta.url),
);
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: fixturesDir, timeout: 110_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

function expectFailure(result: Run, code: string): void {
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  const report = JSON.parse(result.stdout);
  expect(report).toMatchObject({ ok: false, error: { code, reason: expect.any(String) } });
  expect(lines[0]).toBe(`nitro-attestation: ${code}: ${report.error.message}`);
}

/** A usage error: exit 2, the JSON failure shape with ERR_USAGE, one stderr line naming the help to read. */
function expectUsageError(result: Run, help: string, what = ''): void {
  expect(result.code, what).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, what).toHaveLength(1);
  const report = JSON.parse(result.stdout);
  expect(report, what).toMatchObject({
    ok: false,
    error: { code: 'ERR_USAGE', message: expect.any(String) },
  });
  expect(lines[0], what).toBe(`nitro-attestation: ERR_USAGE: ${report.error.message} (see ${help})`);
}

let work: string;
beforeAll(() => {
  if (!existsSync(bin)) throw new Error('dist/cli.js is missing: run `npx tsup` (or `pnpm build`) first');
  work = mkdtempSync(join(tmpdir(), 'nitro-cli-'));
});

// Spawning is slow on a loaded machine: generous timeouts, no timing assertions.
describe.concurrent('nitro-attestation verify', { timeout: 240_000 }, () => {
  test('package.json bin points at the built CLI', () => {
    expect(manifest.bin['nitro-attestation']).toBe('./dist/cli.js');
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  test('the base64 debug fixture at its own time, with PCRs and nonce', async () => {
    const result = await run([
      'verify',
      debugDoc.file,
      '--at',
      debugDoc.verify_at,
      '--allow-debug',
      '--root',
      'aws_nitro_enclaves_root_g1.pem',
      '--pcr',
      `3=${debugDoc.pcrs_all['3']}`,
      '--pcr',
      `4=${debugDoc.pcrs_all['4']}`,
      '--nonce',
      debugDoc.nonce_hex!,
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      ok: true,
      debug: true,
      document: {
        moduleId: debugDoc.module_id,
        timestamp: debugDoc.timestamp_ms,
        pcrs: debugDoc.pcrs_all,
        nonce: debugDoc.nonce_hex,
      },
      checks: { signature: true, chain: true, pcrs: [3, 4], nonce: true },
    });
    expect(report.chain.map((entry: { subject: string }) => entry.subject)).toEqual(
      debugDoc.chain.map((entry) => entry.subject),
    );
  });

  test('the binary production fixture with --at in unix milliseconds and seconds, and as a hex file', async () => {
    const pcrs = ['0', '1', '2', '8'].flatMap((index) => ['--pcr', `${index}=${prodDoc.pcrs_all[index]}`]);
    const result = await run(['verify', prodDoc.file, '--at', String(prodDoc.timestamp_ms), ...pcrs]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      debug: false,
      document: { moduleId: prodDoc.module_id },
    });
    // the same document as a hex text file, --at in unix seconds
    const hexFile = join(work, 'doc.hex');
    writeFileSync(hexFile, `${bytesToHex(readFileSync(join(fixturesDir, prodDoc.file)))}\n`);
    const hex = await run(['verify', hexFile, '--at', String(prodDoc.timestamp_ms / 1000)]);
    expect(hex.code, hex.stderr).toBe(0);
    expect(JSON.parse(hex.stdout).document.timestamp).toBe(prodDoc.timestamp_ms);
  });

  test('today (the default clock): expired', async () => {
    expectFailure(await run(['verify', prodDoc.file, '--json']), 'ERR_NITRO_CERTIFICATE_EXPIRED');
  });

  test('debug denied without --allow-debug', async () => {
    expectFailure(await run(['verify', debugDoc.file, '--at', debugDoc.verify_at]), 'ERR_NITRO_DEBUG_MODE');
  });

  test('wrong PCR and wrong nonce', async () => {
    const at = ['--at', prodDoc.verify_at];
    expectFailure(
      await run(['verify', prodDoc.file, ...at, '--pcr', `0=${'00'.repeat(48)}`]),
      'ERR_NITRO_PCR_MISMATCH',
    );
    expectFailure(
      await run(['verify', prodDoc.file, ...at, '--nonce', 'aa'.repeat(20)]),
      'ERR_NITRO_NONCE_MISMATCH',
    );
  });

  test('a foreign --root', async () => {
    const foreign = join(work, 'foreign.pem');
    writeFileSync(foreign, pemOf(await rekeyedSelfSigned(pemToDer(AWS_NITRO_ROOT_G1_PEM, 'CERTIFICATE'))));
    expectFailure(
      await run(['verify', prodDoc.file, '--at', prodDoc.verify_at, '--root', foreign]),
      'ERR_NITRO_CHAIN_INVALID',
    );
    const genuine = await run([
      'verify',
      prodDoc.file,
      '--at',
      prodDoc.verify_at,
      '--root',
      'aws_nitro_enclaves_root_g1.pem',
    ]);
    expect(genuine.code, genuine.stderr).toBe(0);
  });

  test('a flipped signature byte, a truncated document and garbage', async () => {
    const bytes = readFileSync(join(fixturesDir, prodDoc.file));
    const flippedFile = join(work, 'flipped.cbor');
    const copy = Buffer.from(bytes);
    copy[copy.length - 1]! ^= 1;
    writeFileSync(flippedFile, copy);
    expectFailure(
      await run(['verify', flippedFile, '--at', prodDoc.verify_at]),
      'ERR_NITRO_SIGNATURE_INVALID',
    );
    const truncated = join(work, 'truncated.cbor');
    writeFileSync(truncated, bytes.subarray(0, 1000));
    expectFailure(await run(['verify', truncated]), 'ERR_NITRO_CBOR_MALFORMED');
    const garbage = join(work, 'garbage.txt');
    writeFileSync(garbage, 'not an attestation document!\n');
    expectFailure(await run(['verify', garbage]), 'ERR_NITRO_INPUT_ENCODING');
  });

  test('usage errors exit 2 with the JSON failure shape', async () => {
    const cases = [
      ['verify'],
      ['verify', 'a', 'b'],
      ['verify', prodDoc.file, '--bogus'],
      ['verify', 'missing.bin'],
      ['verify', prodDoc.file, '--at', 'yesterday'],
      ['verify', prodDoc.file, '--pcr', '40=00'],
      ['verify', prodDoc.file, '--timeout', '3'],
      ['verify', '--url', 'http://127.0.0.1:9/enclave/attestation'],
      ['verify', '--url', 'http://127.0.0.1:9', '--pcr', '0=00', prodDoc.file],
      ['verify', '--url', 'ftp://127.0.0.1:9', '--pcr', '0=00'],
      ['verify', prodDoc.file, '--measurements', measurementsFile, '--pcr', `0=${'00'.repeat(48)}`],
      ['verify', prodDoc.file, '--measurements', 'missing.txt'],
    ];
    const results = await Promise.all(cases.map((args) => run(args)));
    results.forEach((result, index) => {
      expectUsageError(result, 'nitro-attestation verify --help', cases[index]!.join(' '));
    });
    expectUsageError(await run(['frobnicate']), 'nitro-attestation --help');
    expectUsageError(await run([]), 'nitro-attestation --help');
    const compact = await run(['verify', '--json']);
    expect(compact.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  test('--help on every command exits 0 with its usage; --version', async () => {
    const [top, verify, short, helpVerify, version, verifyVersion] = await Promise.all([
      run(['--help']),
      run(['verify', '--help']),
      run(['verify', prodDoc.file, '-h']),
      run(['help', 'verify']),
      run(['--version']),
      run(['verify', '--version']),
    ]);
    expect([top.code, top.stderr]).toEqual([0, '']);
    expect(top.stdout).toContain('nitro-attestation verify --help');
    for (const result of [verify, short, helpVerify]) {
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(result.stdout).toContain('--measurements <file>');
      expect(result.stdout).toContain('--url <gateway>');
    }
    const packageVersion = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
    expect(version.stdout).toBe(`${packageVersion}\n`);
    expect(verifyVersion.stdout).toBe(`${packageVersion}\n`);
  });

  test('a reader that closes stdout early: quiet exit 0', async () => {
    const child = spawn(process.execPath, [bin, 'verify', prodDoc.file, '--at', prodDoc.verify_at], {
      cwd: fixturesDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect([code, stderr]).toEqual([0, '']);
  });

  test('--measurements: nitro-cli measurements (tee-gateway measurements.txt layout)', async () => {
    const at = ['--at', prodDoc.verify_at, '--json'];
    const ok = await run(['verify', prodDoc.file, ...at, '--measurements', measurementsFile]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).checks.pcrs).toEqual([0, 1, 2, 8]);
    const agreeing = await run([
      'verify',
      prodDoc.file,
      ...at,
      '--measurements',
      measurementsFile,
      '--pcr',
      `3=${prodDoc.pcrs_all['3']}`,
    ]);
    expect(JSON.parse(agreeing.stdout).checks.pcrs).toEqual([0, 1, 2, 3, 8]);
    expectFailure(
      await run(['verify', prodDoc.file, ...at, '--measurements', teeGatewayMeasurements]),
      'ERR_NITRO_PCR_MISMATCH',
    );
    const broken = join(work, 'broken-measurements.txt');
    writeFileSync(broken, '{"Measurements": {"PCR0": "00"}}\n');
    expectFailure(
      await run(['verify', prodDoc.file, ...at, '--measurements', broken]),
      'ERR_NITRO_MEASUREMENTS_INVALID',
    );
  });

  test('--url: a live gateway (synthetic nitriding gateway over HTTPS, test root)', async () => {
    const platform = await createSyntheticPlatform();
    const gateway = await startSyntheticGateway(platform);
    const replaying = await startFixtureGateway({
      document: readFileSync(join(fixturesDir, prodDoc.file)),
      nonce: hexToBytes(prodDoc.nonce_hex!),
      replay: true,
    });
    try {
      const measurements = join(work, 'measurements.txt');
      writeFileSync(measurements, measurementsText(platform.pcrs));
      const root = join(work, 'test-root.pem');
      writeFileSync(root, platform.rootPem);
      const common = ['--measurements', measurements, '--root', root, '--at', platform.at.toISOString()];
      const result = await run(['verify', '--url', `${gateway.url}/enclave/attestation`, ...common]);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout);
      expect(report).toMatchObject({
        ok: true,
        nonce: expect.stringMatching(/^[0-9a-f]{40}$/),
        gateway: {
          signingKey: { source: 'gateway', teeId: expect.stringMatching(/^0x[0-9a-f]{64}$/) },
          tlsCertificate: { source: 'peer', pinned: true },
        },
        checks: { nonce: true, pcrs: [0, 1, 2], signingKey: true, tlsCertificate: true, chain: true },
      });
      expect(report.document.nonce).toBe(report.nonce);
      expectFailure(
        await run([
          'verify',
          '--url',
          replaying.url,
          '--measurements',
          measurementsFile,
          '--at',
          prodDoc.verify_at,
          '--no-signing-key',
        ]),
        'ERR_NITRO_NONCE_MISMATCH',
      );
      expectFailure(
        await run(['verify', '--url', gateway.url, ...common.slice(0, 4)]),
        'ERR_NITRO_CERTIFICATE_EXPIRED',
      );
    } finally {
      await Promise.all([gateway.close(), replaying.close()]);
    }
  });
});
