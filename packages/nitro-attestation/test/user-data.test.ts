import { createHash, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  checkNitridingUserData,
  decodeNitridingUserData,
  encodeNitridingUserData,
  NitroAttestationError,
  signingKeyHash,
  tlsCertificateHash,
  verifyAttestationDocument,
} from '../src/index.js';
import { type Chain, issue, makeDocument, nitroLikeChain, pemOf, T0 } from './synthetic.js';

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());

let chain: Chain;
let tlsCertificateDer: Uint8Array;
let signingKeyDer: Uint8Array;
let signingKeyPem: string;
let userData: Uint8Array;

beforeAll(async () => {
  chain = await nitroLikeChain();
  const notBefore = new Date(T0.getTime() - 1000);
  tlsCertificateDer = (await issue({ subject: 'tls.enclave', ca: false, notBefore, notAfter: T0 })).der;
  // tee-gateway signs with RSA; the key is generated and serialized by node:crypto, independently.
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  signingKeyDer = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  signingKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  // The layout written out by hand: 0x12 0x20 ‖ sha256(cert) ‖ 0x12 0x20 ‖ sha256(spki).
  userData = new Uint8Array([0x12, 0x20, ...sha256(tlsCertificateDer), 0x12, 0x20, ...sha256(signingKeyDer)]);
});

describe('nitriding user_data layout', () => {
  test('decode and encode agree with the layout written by hand', () => {
    const decoded = decodeNitridingUserData(userData);
    expect(decoded.tlsCertificateHash).toEqual(sha256(tlsCertificateDer));
    expect(decoded.applicationKeyHash).toEqual(sha256(signingKeyDer));
    expect(encodeNitridingUserData(decoded)).toEqual(userData);
    // the tee-gateway example verifier's slices
    expect(decoded.tlsCertificateHash).toEqual(userData.slice(2, 34));
    expect(decoded.applicationKeyHash).toEqual(userData.slice(36, 68));
  });

  test('the hash helpers match node:crypto for DER, PEM and CryptoKey inputs', async () => {
    expect(tlsCertificateHash(tlsCertificateDer)).toEqual(sha256(tlsCertificateDer));
    expect(tlsCertificateHash(pemOf(tlsCertificateDer))).toEqual(sha256(tlsCertificateDer));
    expect(await signingKeyHash(signingKeyDer)).toEqual(sha256(signingKeyDer));
    expect(await signingKeyHash(signingKeyPem)).toEqual(sha256(signingKeyDer));
    const cryptoKey = await crypto.subtle.importKey(
      'spki',
      signingKeyDer as Uint8Array<ArrayBuffer>,
      { name: 'RSA-PSS', hash: 'SHA-256' },
      true,
      ['verify'],
    );
    expect(await signingKeyHash(cryptoKey)).toEqual(sha256(signingKeyDer));
  });

  test.each([
    ['67 bytes', 67, -1, 0],
    ['69 bytes', 69, -1, 0],
    ['wrong first prefix', 68, 0, 0x13],
    ['wrong first length', 68, 1, 0x21],
    ['wrong second prefix', 68, 34, 0x11],
    ['wrong second length', 68, 35, 0x40],
  ])('%s is invalid', (_name, length, index, value) => {
    const bytes = new Uint8Array(length);
    bytes.set(userData.subarray(0, Math.min(68, length)));
    if (index >= 0) bytes[index] = value;
    expect(() => decodeNitridingUserData(bytes)).toThrow(
      expect.objectContaining({ code: 'ERR_NITRO_USER_DATA_INVALID', reason: 'user-data' }),
    );
  });

  test('absent user_data is invalid for nitriding; a non-bytes argument is a TypeError', () => {
    expect(() => decodeNitridingUserData(null)).toThrow(NitroAttestationError);
    expect(() => decodeNitridingUserData('x' as never)).toThrow(TypeError);
    expect(() =>
      encodeNitridingUserData({
        tlsCertificateHash: new Uint8Array(31),
        applicationKeyHash: new Uint8Array(32),
      }),
    ).toThrow(RangeError);
  });

  test('checkNitridingUserData binds the certificate and the key, and rejects others', async () => {
    await expect(
      checkNitridingUserData(userData, { tlsCertificate: tlsCertificateDer, signingKey: signingKeyPem }),
    ).resolves.toBeTruthy();
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    await expect(
      checkNitridingUserData(userData, { signingKey: new Uint8Array(otherKey) }),
    ).rejects.toMatchObject({
      code: 'ERR_NITRO_USER_DATA_MISMATCH',
    });
    await expect(checkNitridingUserData(userData, { tlsCertificate: chain.leaf.der })).rejects.toMatchObject({
      code: 'ERR_NITRO_USER_DATA_MISMATCH',
    });
  });
});

describe('verification with a nitriding document', () => {
  test('a signed document binding the TLS certificate and the signing key', async () => {
    const nonce = crypto.getRandomValues(new Uint8Array(20));
    const document = await makeDocument({
      chain,
      userData,
      nonce,
      publicKey: new TextEncoder().encode('dummy'),
    });
    const options = { at: T0, root: chain.root.der, expectedNonce: nonce };
    const result = await verifyAttestationDocument(document, {
      ...options,
      tlsCertificate: pemOf(tlsCertificateDer),
      signingKey: signingKeyDer,
      expectedPublicKey: new TextEncoder().encode('dummy'),
    });
    expect(result.checks).toMatchObject({
      tlsCertificate: true,
      signingKey: true,
      nonce: true,
      publicKey: true,
    });
    expect(result.nitriding?.applicationKeyHash).toEqual(sha256(signingKeyDer));

    // without bindings, the layout is still decoded when present
    const plain = await verifyAttestationDocument(document, options);
    expect(plain.nitriding?.tlsCertificateHash).toEqual(sha256(tlsCertificateDer));
    expect(plain.checks.tlsCertificate).toBe(false);

    await expect(
      verifyAttestationDocument(document, { ...options, signingKey: pemOf(tlsCertificateDer, 'PUBLIC KEY') }),
    ).rejects.toMatchObject({ code: 'ERR_NITRO_USER_DATA_MISMATCH' });
    await expect(
      verifyAttestationDocument(document, { ...options, tlsCertificate: chain.leaf.der }),
    ).rejects.toMatchObject({
      code: 'ERR_NITRO_USER_DATA_MISMATCH',
    });
  });

  test('unset hashes are zeros and do not match a real certificate', async () => {
    const zeros = encodeNitridingUserData({
      tlsCertificateHash: new Uint8Array(32),
      applicationKeyHash: sha256(signingKeyDer),
    });
    const document = await makeDocument({ chain, userData: zeros });
    const options = { at: T0, root: chain.root.der };
    await expect(
      verifyAttestationDocument(document, { ...options, signingKey: signingKeyDer }),
    ).resolves.toBeTruthy();
    await expect(
      verifyAttestationDocument(document, { ...options, tlsCertificate: tlsCertificateDer }),
    ).rejects.toMatchObject({
      code: 'ERR_NITRO_USER_DATA_MISMATCH',
    });
  });

  test('a binding against a document without the layout: user_data invalid', async () => {
    const document = await makeDocument({ chain, userData: new Uint8Array(91) });
    await expect(
      verifyAttestationDocument(document, { at: T0, root: chain.root.der, signingKey: signingKeyDer }),
    ).rejects.toMatchObject({ code: 'ERR_NITRO_USER_DATA_INVALID' });
  });
});
