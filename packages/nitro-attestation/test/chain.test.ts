// Chain rules exercised on synthetic Nitro-shaped chains (pkijs + WebCrypto) with valid signatures, so each
// case fails for exactly the rule under test.
import { describe, expect, test } from 'vitest';
import { createNitroVerifier, NitroAttestationError, verifyAttestationDocument } from '../src/index.js';
import { type CertificateSpec, HOUR, makeDocument, nitroLikeChain, pemOf, T0 } from './synthetic.js';

async function verifyWith(
  overrides: Parameters<typeof nitroLikeChain>[0],
  at: Date | number = T0,
): Promise<unknown> {
  const chain = await nitroLikeChain(overrides);
  const document = await makeDocument({ chain });
  return verifyAttestationDocument(document, { at, root: pemOf(chain.root.der) });
}

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => new Error('verification unexpectedly succeeded'),
    (caught: unknown) => caught,
  );
  expect(NitroAttestationError.isInstance(error), String(error)).toBe(true);
  expect((error as NitroAttestationError).code).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
}

describe('a well-formed synthetic chain', () => {
  test('verifies, untagged and definite, or tagged and indefinite-length', async () => {
    const chain = await nitroLikeChain();
    const root = pemOf(chain.root.der);
    for (const variant of [{}, { tagged: true, indefinite: true }, { indefinite: true }]) {
      const document = await makeDocument({ chain, ...variant });
      const result = await verifyAttestationDocument(document, { at: T0, root });
      expect(result.cose.tagged).toBe(variant.tagged === true);
      expect(result.chain).toHaveLength(5);
      expect(result.checks.cabundleRootMatches).toBe(true);
    }
  });

  test('absent optional fields are the same as null', async () => {
    const chain = await nitroLikeChain();
    const document = await makeDocument({
      chain,
      extra: { nonce: undefined, user_data: undefined, public_key: undefined },
    });
    const result = await verifyAttestationDocument(document, { at: T0, root: chain.root.der });
    expect(result.document.nonce).toBeNull();
    expect(result.document.userData).toBeNull();
    expect(result.document.publicKey).toBeNull();
    await expectCode(
      verifyAttestationDocument(document, {
        at: T0,
        root: chain.root.der,
        expectedNonce: new Uint8Array(20),
      }),
      'ERR_NITRO_NONCE_MISMATCH',
    );
  });

  test('the nitriding nonce (20 bytes) is compared exactly', async () => {
    const chain = await nitroLikeChain();
    const nonce = crypto.getRandomValues(new Uint8Array(20));
    const document = await makeDocument({ chain, nonce });
    const result = await verifyAttestationDocument(document, {
      at: T0,
      root: chain.root.der,
      expectedNonce: nonce,
    });
    expect(result.checks.nonce).toBe(true);
    const upper = Buffer.from(nonce).toString('hex').toUpperCase();
    await expect(
      verifyAttestationDocument(document, { at: T0, root: chain.root.der, expectedNonce: upper }),
    ).resolves.toBeTruthy();
    const other = new Uint8Array(nonce);
    other[19]! ^= 1;
    await expectCode(
      verifyAttestationDocument(document, { at: T0, root: chain.root.der, expectedNonce: other }),
      'ERR_NITRO_NONCE_MISMATCH',
    );
  });
});

describe('chain rules', () => {
  const cases: [string, Parameters<typeof nitroLikeChain>[0], string, RegExp][] = [
    [
      'an intermediate beyond pathLen',
      { intermediate: [{}, { pathLength: 0 }] },
      'ERR_NITRO_CHAIN_INVALID',
      /pathLen/,
    ],
    ['a root pathLen too small', { root: { pathLength: 1 } }, 'ERR_NITRO_CHAIN_INVALID', /pathLen/],
    [
      'an intermediate that is not a CA',
      { intermediate: [{}, { ca: false }] },
      'ERR_NITRO_CHAIN_INVALID',
      /not a CA/,
    ],
    [
      'an intermediate without keyCertSign',
      { intermediate: [{ keyUsage: 0x80 }] },
      'ERR_NITRO_CHAIN_INVALID',
      /keyCertSign/,
    ],
    [
      'an intermediate without keyUsage',
      { intermediate: [{}, {}, { keyUsage: null }] },
      'ERR_NITRO_CHAIN_INVALID',
      /keyCertSign/,
    ],
    [
      'an intermediate with non-critical basicConstraints',
      { intermediate: [{ basicConstraints: 'non-critical' }] },
      'ERR_NITRO_CHAIN_INVALID',
      /critical/,
    ],
    [
      'an intermediate without basicConstraints',
      { intermediate: [{}, { basicConstraints: 'absent' }] },
      'ERR_NITRO_CHAIN_INVALID',
      /not a CA/,
    ],
    ['a leaf that is a CA', { leaf: { ca: true } }, 'ERR_NITRO_CHAIN_INVALID', /must not be a CA/],
    [
      'a leaf without digitalSignature',
      { leaf: { keyUsage: 0x04 } },
      'ERR_NITRO_CHAIN_INVALID',
      /digitalSignature/,
    ],
    ['a leaf without keyUsage', { leaf: { keyUsage: null } }, 'ERR_NITRO_CHAIN_INVALID', /digitalSignature/],
    [
      'an unknown critical extension',
      { leaf: { unknownCriticalExtension: true } },
      'ERR_NITRO_CHAIN_INVALID',
      /critical extension/,
    ],
    [
      'a P-256 intermediate',
      { intermediate: [{}, {}, { curve: 'P-256' }] },
      'ERR_NITRO_CERTIFICATE_MALFORMED',
      /P-384/,
    ],
    [
      'an expired intermediate',
      { intermediate: [{}, { notAfter: new Date(T0.getTime() - 1) }] },
      'ERR_NITRO_CERTIFICATE_EXPIRED',
      /cabundle\[2\] has expired/,
    ],
    [
      'a root not yet valid',
      { root: { notBefore: new Date(T0.getTime() + HOUR) } },
      'ERR_NITRO_CERTIFICATE_EXPIRED',
      /root certificate is not yet valid/,
    ],
    [
      'an expired root',
      { root: { notAfter: new Date(T0.getTime() - HOUR) } },
      'ERR_NITRO_CERTIFICATE_EXPIRED',
      /root certificate has expired/,
    ],
  ];
  test.each(cases)('%s', async (_name, overrides, code, message) => {
    await expectCode(verifyWith(overrides), code, message);
  });

  test('a pathLen of 0 on the last CA still allows the leaf', async () => {
    await expect(verifyWith({ intermediate: [{}, {}, { pathLength: 0 }] })).resolves.toBeTruthy();
  });

  test('a leaf issued by another CA than the last intermediate: chain (issuer mismatch)', async () => {
    const chain = await nitroLikeChain();
    const stranger = await nitroLikeChain({
      intermediate: [{}, {}, { subject: 'other.test.nitro-enclaves' }],
    });
    const document = await makeDocument({ chain: { ...chain, leaf: stranger.leaf } });
    await expectCode(
      verifyAttestationDocument(document, { at: T0, root: chain.root.der }),
      'ERR_NITRO_CHAIN_INVALID',
      /issuer/,
    );
  });

  test('an intermediate with the right name but signed by another key: chain (signature)', async () => {
    const chain = await nitroLikeChain();
    const impostor = await nitroLikeChain();
    // impostor's level0 has the same subject and issuer names as chain's level0, but another signer
    const document = await makeDocument({
      chain: { ...impostor, root: chain.root },
    });
    await expectCode(
      verifyAttestationDocument(document, { at: T0, root: chain.root.der }),
      'ERR_NITRO_CHAIN_INVALID',
      /signature/,
    );
  });

  test('a cached verifier still rejects a substituted leaf, and rechecks intermediate validity', async () => {
    const chain = await nitroLikeChain();
    const verifier = createNitroVerifier({ root: chain.root.der });
    await verifier.verify(await makeDocument({ chain }), { at: T0 });
    expect(verifier.cacheSize).toBe(4);
    const stranger = await nitroLikeChain();
    const forged = await makeDocument({
      chain: { ...chain, leaf: { ...stranger.leaf, subject: chain.leaf.subject } },
    });
    await expectCode(verifier.verify(forged, { at: T0 }), 'ERR_NITRO_CHAIN_INVALID');
    const again = await verifier.verify(await makeDocument({ chain }), { at: T0 });
    expect(again.checks.cachedIntermediates).toBe(3);
    await expectCode(
      verifier.verify(await makeDocument({ chain }), { at: T0.getTime() + 3 * HOUR }),
      'ERR_NITRO_CERTIFICATE_EXPIRED',
    );
  });
});

describe('debug mode detection', () => {
  test('all-zero PCR0..2 is debug; a single non-zero byte is not', async () => {
    const chain = await nitroLikeChain();
    const pcrs = new Map<number, Uint8Array>();
    for (let index = 0; index < 16; index++) pcrs.set(index, new Uint8Array(48));
    const debugDocument = await makeDocument({ chain, pcrs });
    await expectCode(
      verifyAttestationDocument(debugDocument, { at: T0, root: chain.root.der }),
      'ERR_NITRO_DEBUG_MODE',
    );
    const nearly = new Map(pcrs);
    nearly.set(2, new Uint8Array(48).fill(0, 0, 47).fill(1, 47));
    const production = await makeDocument({ chain, pcrs: nearly });
    const result = await verifyAttestationDocument(production, { at: T0, root: chain.root.der });
    expect(result.debug).toBe(false);
  });
});

export type { CertificateSpec };
