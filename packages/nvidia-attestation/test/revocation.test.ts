import { base64ToBytes, hexToBytes } from '@confidential-ai/bytes';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyCertificateChain } from '../src/chain.js';
import { NvidiaAttestationError, verifyGpuEvidence } from '../src/index.js';
import { derToPem, pemCertificatesToDer } from '../src/pem.js';
import { checkRevocation, parseRevocationCollateral } from '../src/revocation.js';
import { createTestNvidiaPlatform, type TestNvidiaPlatform } from '../src/testing/index.js';
import { resolveAnchor } from '../src/trust.js';
import { codeOf } from './code-of.js';
import { vector } from './vectors.js';

describe('OCSP responses and a CRL made by OpenSSL (independent implementation)', () => {
  const openssl = vector<{
    at: string;
    root: string;
    intermediate: string;
    leaf1: string;
    leaf2: string;
    crl: string;
    ocsp: Record<
      'leaf1Delegated' | 'leaf2DelegatedRevoked' | 'leaf1ByIssuerName' | 'leaf1ByIssuerKeyHash',
      string
    >;
  }>('revocation-openssl.json');
  const at = new Date(openssl.at);
  const anchor = resolveAnchor(openssl.root, 'device', 'root');
  const chainOf = (leaf: string) =>
    verifyCertificateChain([...pemCertificatesToDer(leaf)!, ...pemCertificatesToDer(openssl.intermediate)!], {
      anchor,
      at,
      what: 'chain',
      code: 'ERR_NVIDIA_CERT_CHAIN',
      memo: new Map(),
    });
  const check = async (leaf: string, collateral: { ocsp?: string[]; crls?: string[] }, require = false) =>
    checkRevocation(await chainOf(leaf), parseRevocationCollateral(collateral), {
      at,
      what: 'chain',
      requireFrom: 0,
      require,
      allowCertificateHold: false,
      memo: new Map(),
    });

  it('a good status from a delegated responder, by issuer name and by issuer key hash', async () => {
    for (const response of [
      openssl.ocsp.leaf1Delegated,
      openssl.ocsp.leaf1ByIssuerName,
      openssl.ocsp.leaf1ByIssuerKeyHash,
    ]) {
      const [leaf, intermediate] = await check(openssl.leaf1, { ocsp: [response] });
      expect(leaf).toMatchObject({ status: 'good', sources: ['ocsp'] });
      expect(intermediate).toMatchObject({ status: 'not-checked', sources: [] });
    }
  });
  it('a revoked status (keyCompromise)', async () => {
    expect(await codeOf(() => check(openssl.leaf2, { ocsp: [openssl.ocsp.leaf2DelegatedRevoked] }))).toBe(
      'ERR_NVIDIA_CERT_REVOKED',
    );
  });
  it('the CRL: leaf 1 covered and good, leaf 2 revoked', async () => {
    expect((await check(openssl.leaf1, { crls: [openssl.crl] }))[0]).toMatchObject({
      status: 'good',
      sources: ['crl'],
    });
    expect(await codeOf(() => check(openssl.leaf2, { crls: [openssl.crl] }))).toBe('ERR_NVIDIA_CERT_REVOKED');
  });
  it('responses about other certificates do not cover a certificate', async () => {
    expect((await check(openssl.leaf1, { ocsp: [openssl.ocsp.leaf2DelegatedRevoked] }))[0]!.status).toBe(
      'not-checked',
    );
    expect(
      await codeOf(() => check(openssl.leaf1, { ocsp: [openssl.ocsp.leaf2DelegatedRevoked] }, true)),
    ).toBe('ERR_NVIDIA_REVOCATION_MISSING');
  });
  it('data outside its validity is refused', async () => {
    const early = () =>
      chainOf(openssl.leaf1).then((chain) =>
        checkRevocation(chain, parseRevocationCollateral({ ocsp: [openssl.ocsp.leaf1Delegated] }), {
          at: new Date('2026-12-01T00:00:00Z'),
          what: 'chain',
          requireFrom: 0,
          require: false,
          allowCertificateHold: false,
          memo: new Map(),
        }),
      );
    expect(await codeOf(early)).toBe('ERR_NVIDIA_REVOCATION_INVALID');
  });
  it('a bit flip in an OCSP response or the CRL (every 3rd byte) never passes', async () => {
    const ocsp = base64ToBytes(openssl.ocsp.leaf1Delegated);
    const crl = pemCertificatesToDer(openssl.crl.replaceAll('X509 CRL', 'CERTIFICATE'))![0]!;
    for (const [kind, der] of [
      ['ocsp', ocsp],
      ['crls', crl],
    ] as const) {
      let invalid = 0;
      for (let offset = 0; offset < der.length; offset += 3) {
        const flipped = der.slice();
        flipped[offset]! ^= 1 << (offset % 8);
        const code = await codeOf(() =>
          check(openssl.leaf1, { [kind]: [flipped as unknown as string] }, true),
        );
        // A flip in the CertID (or CRL issuer) makes the data about another certificate: then nothing covers leaf 1.
        expect(
          ['ERR_NVIDIA_REVOCATION_INVALID', 'ERR_NVIDIA_REVOCATION_MISSING'],
          `${kind} offset ${offset}`,
        ).toContain(code);
        if (code === 'ERR_NVIDIA_REVOCATION_INVALID') invalid++;
      }
      expect(invalid).toBeGreaterThan(der.length / 6);
    }
  }, 120_000);
  it('refuses data that is not an OCSP response or CRL', () => {
    expect(() => parseRevocationCollateral({ ocsp: ['not base64!'] })).toThrow(NvidiaAttestationError);
    expect(() => parseRevocationCollateral({ crls: [hexToBytes('3003020101')] })).toThrow(
      NvidiaAttestationError,
    );
    expect(() =>
      parseRevocationCollateral({ ocsp: [base64ToBytes(openssl.ocsp.leaf1Delegated).slice(0, 50)] }),
    ).toThrow(NvidiaAttestationError);
  });
});

describe('revocation collateral of the test platform through verifyGpuEvidence', () => {
  let platform: TestNvidiaPlatform;
  const nonce = new Uint8Array(32).fill(9);
  const at = new Date('2030-06-01T00:00:00Z');
  const window = {
    thisUpdate: new Date('2030-05-31T00:00:00Z'),
    nextUpdate: new Date('2030-06-02T00:00:00Z'),
  };
  let payload: unknown;
  let rims: string[];
  beforeAll(async () => {
    platform = await createTestNvidiaPlatform();
    payload = (await platform.createEvidence({ nonce, gpuCount: 2 })).payload;
    const created = await platform.createRims();
    rims = [created.driver, created.vbios];
  });
  const run = (
    collateral: { ocsp?: Uint8Array[]; crls?: Uint8Array[] },
    extra: Record<string, unknown> = {},
  ) =>
    verifyGpuEvidence(payload as never, {
      nonce,
      at,
      root: platform.deviceRoot,
      rimRoot: platform.rimRoot,
      rims,
      requireRevocation: true,
      ...collateral,
      ...extra,
    });

  it('OCSP for every certificate: complete', async () => {
    const { ocsp } = await platform.createRevocation({ mode: 'ocsp', ...window, gpuCount: 2 });
    const result = await run({ ocsp });
    expect(result.revocation).toBe('complete');
    expect(result.rims[0]!.revocation.every((entry) => entry.status === 'good')).toBe(true);
  });
  it('CRLs for every issuer: complete', async () => {
    const { crls } = await platform.createRevocation({ mode: 'crl', ...window, gpuCount: 2 });
    expect((await run({ crls })).revocation).toBe('complete');
  });
  it('a missing response is refused when revocation is required, and reported partial otherwise', async () => {
    const { ocsp } = await platform.createRevocation({ mode: 'ocsp', ...window, gpuCount: 1 });
    expect(await codeOf(() => run({ ocsp }))).toBe('ERR_NVIDIA_REVOCATION_MISSING');
    expect((await run({ ocsp }, { requireRevocation: false })).revocation).toBe('partial');
  });
  it('a revoked GPU CA, RIM signer or provisioner is refused (OCSP and CRL)', async () => {
    const gpu = await platform.gpu(1);
    for (const revoked of [gpu.brom.der, platform.rimChain[0]!.der, platform.deviceCas[2]!.der]) {
      for (const mode of ['ocsp', 'crl'] as const) {
        const collateral = await platform.createRevocation({
          mode,
          ...window,
          gpuCount: 2,
          revoked: [revoked],
        });
        expect(await codeOf(() => run(collateral, { requireRevocation: false }))).toBe(
          'ERR_NVIDIA_CERT_REVOKED',
        );
      }
    }
  });
  it('certificateHold passes only when allowed', async () => {
    const gpu = await platform.gpu(0);
    const collateral = await platform.createRevocation({
      mode: 'ocsp',
      ...window,
      gpuCount: 2,
      revoked: [gpu.brom.der],
      reason: 6,
    });
    expect(await codeOf(() => run(collateral))).toBe('ERR_NVIDIA_CERT_REVOKED');
    const result = await run(collateral, { allowCertificateHold: true });
    expect(result.gpus[0]!.revocation[1]!.status).toBe('on-hold');
  });
  it('an unknown status, a stale response, a response by a stranger', async () => {
    const gpu = await platform.gpu(0);
    const unknown = await platform.createOcspResponse(gpu.brom.der, platform.deviceCas[2]!, {
      ...window,
      status: 'unknown',
    });
    expect(await codeOf(() => run({ ocsp: [unknown] }, { requireRevocation: false }))).toBe(
      'ERR_NVIDIA_REVOCATION_INVALID',
    );
    const stale = await platform.createOcspResponse(gpu.brom.der, platform.deviceCas[2]!, {
      thisUpdate: new Date('2030-01-01T00:00:00Z'),
      nextUpdate: new Date('2030-01-02T00:00:00Z'),
    });
    expect(await codeOf(() => run({ ocsp: [stale] }, { requireRevocation: false }))).toBe(
      'ERR_NVIDIA_REVOCATION_INVALID',
    );
    const other = await createTestNvidiaPlatform();
    // About the same serial from a same-named CA with another key: not about this certificate at all.
    const unrelated = await other.createOcspResponse(gpu.brom.der, other.deviceCas[2]!, window);
    expect(
      (await run({ ocsp: [unrelated] }, { requireRevocation: false })).gpus[0]!.revocation[1]!.status,
    ).toBe('not-checked');
    // About this certificate, signed by a responder that the issuer did not certify.
    const strangerResponder = await other.createOcspResponder(other.deviceCas[2]!);
    const stranger = await platform.createOcspResponse(gpu.brom.der, platform.deviceCas[2]!, {
      ...window,
      responder: strangerResponder,
    });
    expect(await codeOf(() => run({ ocsp: [stranger] }, { requireRevocation: false }))).toBe(
      'ERR_NVIDIA_REVOCATION_INVALID',
    );
    const crl = await other.createCrl(other.deviceCas[2]!, window);
    // Same issuer name, other key: the CRL's signature does not verify with the real issuer.
    expect(await codeOf(() => run({ crls: [crl] }, { requireRevocation: false }))).toBe(
      'ERR_NVIDIA_REVOCATION_INVALID',
    );
  });
  it('a delegated responder needs id-kp-OCSPSigning from the issuer', async () => {
    const gpu = await platform.gpu(0);
    const issuer = platform.deviceCas[2]!;
    const responder = await platform.createOcspResponder(issuer);
    const good = await platform.createOcspResponse(gpu.brom.der, issuer, { ...window, responder });
    const result = await run({ ocsp: [good] }, { requireRevocation: false });
    expect(result.gpus[0]!.revocation[1]).toMatchObject({ status: 'good', sources: ['ocsp'] });
    const notResponder = await platform.createOcspResponse(gpu.brom.der, issuer, {
      ...window,
      responder: gpu.leaf,
    });
    expect(await codeOf(() => run({ ocsp: [notResponder] }, { requireRevocation: false }))).toBe(
      'ERR_NVIDIA_REVOCATION_INVALID',
    );
  });
  it('accepts PEM text for CRLs and base64 for OCSP', async () => {
    const { crls } = await platform.createRevocation({ mode: 'crl', ...window, gpuCount: 2 });
    const pem = crls.map((der) => derToPem(der).replaceAll('CERTIFICATE', 'X509 CRL'));
    expect((await run({ crls: pem as never })).revocation).toBe('complete');
  });
});
