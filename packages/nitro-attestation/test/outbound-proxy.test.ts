import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LoopbackForwardProxy, startForwardProxy } from '@confidential-ai/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NitroAttestationError, verifyRemoteAttestation } from '../src/index.js';
import {
  createSyntheticPlatform,
  measurementsText,
  type RunningGateway,
  type SyntheticPlatform,
  startSyntheticGateway,
} from './fake-gateway.js';

// A loopback HTTP CONNECT proxy recording every tunnel target; targets under `.invalid` get 502.
let proxy: LoopbackForwardProxy;
let proxyUrl: string;
let tunnels: string[];
beforeAll(async () => {
  proxy = await startForwardProxy();
  proxyUrl = proxy.url;
  tunnels = proxy.tunnels;
});

let platform: SyntheticPlatform;
let gateway: RunningGateway;
let measurements: string;
beforeAll(async () => {
  platform = await createSyntheticPlatform();
  measurements = measurementsText(platform.pcrs);
  gateway = await startSyntheticGateway(platform);
});
afterAll(async () => {
  await gateway.close();
  await proxy.close();
});
afterEach(() => {
  tunnels.length = 0;
  vi.unstubAllEnvs();
});

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];
function setEnvironment(env: Record<string, string>): void {
  for (const name of PROXY_VARIABLES) vi.stubEnv(name, env[name]);
}
const options = () => ({ url: gateway.url, measurements, root: platform.rootPem, at: platform.at });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return NitroAttestationError.isInstance(error)
    ? error.code
    : `not a NitroAttestationError: ${String(error)}`;
}

describe('verifyRemoteAttestation over https: through an HTTP CONNECT proxy (HTTPS_PROXY / HTTP_PROXY)', () => {
  it('the certificate read, the attestation and /signing-key all go through the tunnel; pinning unchanged', async () => {
    setEnvironment({ HTTPS_PROXY: proxyUrl, NO_PROXY: 'example.invalid' });
    const before = gateway.requests.length;
    const result = await verifyRemoteAttestation(options());
    expect(result.attestation.checks).toMatchObject({ nonce: true, signingKey: true, tlsCertificate: true });
    expect(result.tlsCertificate).toMatchObject({ source: 'peer', pinned: true });
    const host = new URL(gateway.url).host;
    expect(tunnels).toEqual([host, host, host]);
    expect(gateway.requests.slice(before)).toHaveLength(2);
  });

  it('HTTP_PROXY serves https: targets when HTTPS_PROXY is unset; lower case wins over upper case', async () => {
    setEnvironment({ http_proxy: proxyUrl, HTTP_PROXY: 'http://127.0.0.1:1', NO_PROXY: '' });
    await verifyRemoteAttestation(options());
    expect(tunnels.length).toBe(3);
  });

  it('a pinned certificate the gateway does not present still fails closed inside the tunnel', async () => {
    setEnvironment({ HTTPS_PROXY: proxyUrl, NO_PROXY: 'example.invalid' });
    const other = await startSyntheticGateway(platform, { serveTls: platform.otherTls });
    try {
      expect(
        await codeOf(
          verifyRemoteAttestation({ ...options(), url: other.url, tlsCertificate: platform.tls.certPem }),
        ),
      ).toBe('ERR_NITRO_FETCH_FAILED');
      expect(tunnels.length).toBeGreaterThan(0);
      expect(other.requests).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('a proxy that refuses the tunnel, or cannot be reached, is ERR_NITRO_FETCH_FAILED (never a direct retry)', async () => {
    setEnvironment({ HTTPS_PROXY: proxyUrl, NO_PROXY: '' });
    const url = 'https://gateway.example.invalid/enclave/attestation';
    expect(await codeOf(verifyRemoteAttestation({ ...options(), url }))).toBe('ERR_NITRO_FETCH_FAILED');
    expect(tunnels).toEqual(['gateway.example.invalid:443']);
    setEnvironment({ HTTPS_PROXY: 'http://127.0.0.1:1', NO_PROXY: 'example.invalid' });
    const before = gateway.requests.length;
    expect(await codeOf(verifyRemoteAttestation(options()))).toBe('ERR_NITRO_FETCH_FAILED');
    expect(gateway.requests.length).toBe(before);
  });

  it('direct when NO_PROXY matches (host, host:port, *), or is unset (loopback)', async () => {
    const { hostname, host } = new URL(gateway.url);
    for (const env of [
      { HTTPS_PROXY: proxyUrl, NO_PROXY: hostname },
      { HTTPS_PROXY: proxyUrl, no_proxy: host },
      { HTTPS_PROXY: proxyUrl, NO_PROXY: '*' },
      { HTTPS_PROXY: proxyUrl },
    ]) {
      setEnvironment(env);
      await verifyRemoteAttestation(options());
    }
    expect(tunnels).toEqual([]);
  });

  it('verify --url (the built CLI) goes through the tunnel too', async () => {
    setEnvironment({ https_proxy: proxyUrl, no_proxy: 'example.invalid' });
    const work = mkdtempSync(join(tmpdir(), 'nitro-proxy-'));
    try {
      writeFileSync(join(work, 'measurements.txt'), measurements);
      writeFileSync(join(work, 'root.pem'), platform.rootPem);
      const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
      const args = [bin, 'verify', '--url', `${gateway.url}/enclave/attestation`, '--json'];
      args.push('--measurements', join(work, 'measurements.txt'), '--root', join(work, 'root.pem'));
      args.push('--at', platform.at.toISOString());
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, args, { timeout: 60_000 }, (error, out, err) =>
          error ? reject(new Error(`${error.message}\n${out}\n${err}`)) : resolve(out),
        ),
      );
      expect(JSON.parse(stdout)).toMatchObject({ ok: true, gateway: { tlsCertificate: { pinned: true } } });
      const host = new URL(gateway.url).host;
      expect(tunnels).toEqual([host, host, host]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
