import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { NvidiaAttestationError, verifyGpuEvidence } from '@confidential-ai/nvidia-attestation';
import { TdxAttestationError, verifyTdxQuote } from '@confidential-ai/tdx-attestation';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin/venice-fake.js', import.meta.url));

/** The first stdout line of a server process (its ready line). */
function readyLine(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (data: Buffer) => {
      buffer += data.toString();
      if (buffer.includes('\n')) resolve(buffer);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
}

describe.skipIf(!existsSync(bin))('venice-fake bin (built)', () => {
  it('prints one line with its base URL, serves, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, '--host', '127.0.0.1', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const line = await readyLine(child);
    const match = /^listening on (http:\/\/127\.0\.0\.1:\d+\/api\/v1)\n$/.exec(line);
    expect(match).not.toBeNull();
    const models = (await (await fetch(`${match![1]}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.length).toBeGreaterThan(0);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  it('--tdx-root-out / --tdx-collateral-out write the material that verifies its quotes offline', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'venice-fake-'));
    const rootPath = join(directory, 'root.der');
    const collateralPath = join(directory, 'collateral.json');
    const child = spawn(
      process.execPath,
      [bin, '--port', '0', '--tdx-root-out', rootPath, '--tdx-collateral-out', collateralPath],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const line = await readyLine(child);
      const baseUrl = /^listening on (\S+)\n$/.exec(line)![1]!;
      const nonce = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
      const report = (await (
        await fetch(`${baseUrl}/tee/attestation?model=e2ee-qwen3-6-27b&nonce=${nonce}`)
      ).json()) as { intel_quote: string };
      const quote = hexToBytes(report.intel_quote);
      const root = new Uint8Array(readFileSync(rootPath));
      const collateral = readFileSync(collateralPath, 'utf8');
      const result = await verifyTdxQuote(quote, { root, collateral });
      expect(result.tcbStatus).toBe('UpToDate');
      expect(result.reportData.slice(64)).toBe(nonce);
      // Intel's pinned root does not anchor it.
      await expect(verifyTdxQuote(quote, {})).rejects.toSatisfy(
        (error: unknown) => TdxAttestationError.isInstance(error) && error.code === 'ERR_TDX_CERT_CHAIN',
      );
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('--nvidia-root-out writes the test root that anchors its GPU evidence', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'venice-fake-'));
    const rootPath = join(directory, 'nvidia-root.der');
    const child = spawn(process.execPath, [bin, '--port', '0', '--nvidia-root-out', rootPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const baseUrl = /^listening on (\S+)\n$/.exec(await readyLine(child))![1]!;
      const nonce = bytesToHex(globalThis.crypto.getRandomValues(new Uint8Array(32)));
      const report = (await (
        await fetch(`${baseUrl}/tee/attestation?model=e2ee-qwen3-6-27b&nonce=${nonce}`)
      ).json()) as { nvidia_payload: string };
      const root = new Uint8Array(readFileSync(rootPath));
      const result = await verifyGpuEvidence(report.nvidia_payload, { nonce, root });
      expect(result.gpus).toHaveLength(8);
      expect(result.trust.deviceRoot.nvidia).toBe(false);
      // NVIDIA's pinned root does not anchor it.
      await expect(verifyGpuEvidence(report.nvidia_payload, { nonce })).rejects.toSatisfy(
        (error: unknown) =>
          NvidiaAttestationError.isInstance(error) && error.code === 'ERR_NVIDIA_CERT_CHAIN',
      );
    } finally {
      child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('exits non-zero with a one-line reason for a bad port', async () => {
    const child = spawn(process.execPath, [bin, '--port', 'nope'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (value) => resolve(value)));
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--port must be an integer from 0 to 65535');
  });
});
