import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NitroAttestationError,
  type NitroAttestationErrorCode,
  parseAttestationDocument,
  verifyRemoteAttestation,
} from '../src/index.js';
import {
  createSyntheticPlatform,
  measurementsText,
  type RunningGateway,
  type SyntheticPlatform,
  startFixtureGateway,
  startSyntheticGateway,
} from './fake-gateway.js';
import { documentInput, fixtureBytes, fixtureText, prodDoc } from './helpers.js';

async function codeOf(promise: Promise<unknown>): Promise<NitroAttestationErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (NitroAttestationError.isInstance(error)) return error.code;
    throw error;
  }
  throw new Error('expected a NitroAttestationError, nothing was thrown');
}

const gateways: RunningGateway[] = [];
async function started(gateway: Promise<RunningGateway>): Promise<RunningGateway> {
  const running = await gateway;
  gateways.push(running);
  return running;
}
afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.close()));
});

describe('a real AWS document behind a loopback gateway (the test drives the nonce)', () => {
  const document = parseAttestationDocument(documentInput(prodDoc)).document;
  const documentBytes = fixtureBytes(prodDoc.file);
  const measurements = fixtureText('evervault_beta_prod_2022-10-13.measurements.txt');
  const at = new Date(prodDoc.verify_at);
  let honest: RunningGateway;
  let replaying: RunningGateway;
  beforeAll(async () => {
    const options = { document: documentBytes, nonce: document.nonce! };
    honest = await started(startFixtureGateway(options));
    replaying = await started(startFixtureGateway({ ...options, replay: true }));
  });

  it('verifies nonce, PCRs from the nitro-cli measurements file, chain and signature', async () => {
    const result = await verifyRemoteAttestation({
      url: `${honest.url}/enclave/attestation`,
      measurements,
      signingKey: false,
      at,
      createNonce: () => document.nonce!,
    });
    expect(result.nonce).toBe(prodDoc.nonce_hex);
    expect(result.url).toBe(`${honest.url}/enclave/attestation?nonce=${prodDoc.nonce_hex}`);
    expect(result.attestation.document.moduleId).toBe(prodDoc.module_id);
    expect(result.attestation.checks).toMatchObject({
      signature: true,
      chain: true,
      nonce: true,
      pcrs: [0, 1, 2, 8],
    });
    expect(result.expectedPcrs).toEqual({
      0: prodDoc.pcrs_all['0'],
      1: prodDoc.pcrs_all['1'],
      2: prodDoc.pcrs_all['2'],
      8: prodDoc.pcrs_all['8'],
    });
    expect(result.signingKey).toBeNull();
    expect(result.tlsCertificate).toBeNull();
    expect(honest.requests.at(-1)).toBe(`/enclave/attestation?nonce=${prodDoc.nonce_hex}`);
  });

  it('a gateway replaying a stale document fails the fresh-nonce check', async () => {
    const options = { url: replaying.url, measurements, signingKey: false as const, at };
    expect(await codeOf(verifyRemoteAttestation(options))).toBe('ERR_NITRO_NONCE_MISMATCH');
    // The nonce sent is 20 fresh random bytes, as nitriding requires, and differs every time.
    const sent = replaying.requests.slice(-1)[0]!;
    expect(sent).toMatch(/^\/enclave\/attestation\?nonce=[0-9a-f]{40}$/);
    await codeOf(verifyRemoteAttestation(options));
    expect(replaying.requests.at(-1)).not.toBe(sent);
  });

  it('an honest gateway cannot attest a nonce of ours: the request fails closed', async () => {
    expect(
      await codeOf(verifyRemoteAttestation({ url: honest.url, measurements, signingKey: false, at })),
    ).toBe('ERR_NITRO_FETCH_FAILED');
  });

  it('measurements of another build (tee-gateway measurements.txt) fail the PCR check', async () => {
    const teeGateway = readFileSync(
      new URL('./vectors/tee-gateway-measurements.txt', import.meta.url),
      'utf8',
    );
    const error = await verifyRemoteAttestation({
      url: honest.url,
      measurements: teeGateway,
      signingKey: false,
      at,
      createNonce: () => document.nonce!,
    }).catch((caught: unknown) => caught);
    expect(NitroAttestationError.isInstance(error) && [error.code, error.pcrIndex]).toEqual([
      'ERR_NITRO_PCR_MISMATCH',
      0,
    ]);
  });

  it('the current time (expired chain), no measurements, bad arguments', async () => {
    const base = {
      url: honest.url,
      measurements,
      signingKey: false as const,
      createNonce: () => document.nonce!,
    };
    expect(await codeOf(verifyRemoteAttestation(base))).toBe('ERR_NITRO_CERTIFICATE_EXPIRED');
    await expect(verifyRemoteAttestation({ ...base, measurements: undefined as never })).rejects.toThrow(
      TypeError,
    );
    await expect(verifyRemoteAttestation({ ...base, url: 'ftp://example' })).rejects.toThrow(TypeError);
    await expect(verifyRemoteAttestation({ ...base, createNonce: () => new Uint8Array(0) })).rejects.toThrow(
      TypeError,
    );
    await expect(
      verifyRemoteAttestation({ ...base, at, expectedPcrs: { 0: '00'.repeat(48) } }),
    ).rejects.toThrow(RangeError);
  });
});

describe('a synthetic nitriding gateway over HTTPS (test root, fresh documents)', () => {
  let platform: SyntheticPlatform;
  let measurements: string;
  beforeAll(async () => {
    platform = await createSyntheticPlatform();
    measurements = measurementsText(platform.pcrs);
  });
  const options = () => ({ measurements, root: platform.rootPem, at: platform.at });

  it('verifies nonce, PCRs, chain, the signing key from /signing-key and the presented TLS certificate', async () => {
    const gateway = await started(startSyntheticGateway(platform));
    const result = await verifyRemoteAttestation({ url: gateway.url, ...options() });
    expect(result.attestation.checks).toMatchObject({
      signature: true,
      chain: true,
      nonce: true,
      pcrs: [0, 1, 2],
      signingKey: true,
      tlsCertificate: true,
    });
    expect(result.attestation.document.nonce).toEqual(hexToBytes(result.nonce));
    expect(result.signingKey).toMatchObject({ source: 'gateway', publicKeyPem: platform.signingKey.pem });
    expect(result.signingKey?.teeId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(result.tlsCertificate).toMatchObject({ source: 'peer', pinned: true });
    expect(bytesToHex(result.attestation.nitriding!.tlsCertificateHash)).toBe(result.tlsCertificate!.sha256);
    expect(gateway.requests).toEqual([
      expect.stringMatching(/^\/enclave\/attestation\?nonce=[0-9a-f]{40}$/),
      '/signing-key',
    ]);
  });

  it('a gateway presenting another TLS certificate than the attested one', async () => {
    const gateway = await started(startSyntheticGateway(platform, { serveTls: platform.otherTls }));
    expect(await codeOf(verifyRemoteAttestation({ url: gateway.url, ...options() }))).toBe(
      'ERR_NITRO_USER_DATA_MISMATCH',
    );
    // Pinning a given certificate: the gateway presents another one, so nothing is accepted from it.
    expect(
      await codeOf(
        verifyRemoteAttestation({ url: gateway.url, ...options(), tlsCertificate: platform.tls.certPem }),
      ),
    ).toBe('ERR_NITRO_FETCH_FAILED');
  });

  it('a /signing-key that is not the attested key, or whose tee_id does not match it', async () => {
    const otherKey = await started(
      startSyntheticGateway(platform, { serveSigningKey: platform.otherSigningKey }),
    );
    expect(await codeOf(verifyRemoteAttestation({ url: otherKey.url, ...options() }))).toBe(
      'ERR_NITRO_USER_DATA_MISMATCH',
    );
    const wrongId = await started(startSyntheticGateway(platform, { teeId: `0x${'ab'.repeat(32)}` }));
    expect(await codeOf(verifyRemoteAttestation({ url: wrongId.url, ...options() }))).toBe(
      'ERR_NITRO_GATEWAY_RESPONSE_INVALID',
    );
    // A key given by the caller replaces /signing-key.
    const given = await verifyRemoteAttestation({
      url: otherKey.url,
      ...options(),
      signingKey: platform.signingKey.pem,
    });
    expect(given.signingKey).toMatchObject({ source: 'given', publicKeyPem: null });
    expect(otherKey.requests.filter((path) => path === '/signing-key')).toHaveLength(1);
  });

  it('other PCRs, HTTP errors, timeouts', async () => {
    const otherBuild = await started(
      startSyntheticGateway(platform, {
        pcrs: new Map([
          [0, new Uint8Array(48).fill(7)],
          [1, new Uint8Array(48)],
          [2, new Uint8Array(48)],
        ]),
      }),
    );
    expect(await codeOf(verifyRemoteAttestation({ url: otherBuild.url, ...options() }))).toBe(
      'ERR_NITRO_PCR_MISMATCH',
    );
    const failing = await started(startSyntheticGateway(platform, { status: 503 }));
    expect(await codeOf(verifyRemoteAttestation({ url: failing.url, ...options() }))).toBe(
      'ERR_NITRO_FETCH_FAILED',
    );
    const slow = await started(startSyntheticGateway(platform, { delay: 5_000 }));
    const began = Date.now();
    expect(await codeOf(verifyRemoteAttestation({ url: slow.url, ...options(), timeout: 300 }))).toBe(
      'ERR_NITRO_FETCH_FAILED',
    );
    expect(Date.now() - began).toBeLessThan(4_000);
    const closed = await started(startSyntheticGateway(platform));
    await closed.close();
    expect(await codeOf(verifyRemoteAttestation({ url: closed.url, ...options() }))).toBe(
      'ERR_NITRO_FETCH_FAILED',
    );
  });

  it('an injected fetch is used for every request (plain HTTP, TLS certificate given)', async () => {
    const gateway = await started(startSyntheticGateway(platform, { plain: true }));
    const seen: string[] = [];
    const result = await verifyRemoteAttestation({
      url: `${gateway.url}/enclave/attestation`,
      ...options(),
      tlsCertificate: platform.tls.der,
      fetch: (input, init) => {
        seen.push(String(input));
        return fetch(input, init);
      },
    });
    expect(seen).toEqual([result.url, `${gateway.url}/signing-key`]);
    expect(result.tlsCertificate).toMatchObject({ source: 'given', pinned: false });
    expect(result.attestation.checks.tlsCertificate).toBe(true);
    // Over plain HTTP without a certificate, the TLS binding is not claimed.
    const plain = await verifyRemoteAttestation({ url: gateway.url, ...options() });
    expect(plain.tlsCertificate).toBeNull();
    expect(plain.attestation.checks.tlsCertificate).toBe(false);
  });
});
