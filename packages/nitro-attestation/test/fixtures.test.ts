import { createPublicKey, createVerify, X509Certificate } from 'node:crypto';
import { base64ToBytes, bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { describe, expect, test } from 'vitest';
import {
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
  createNitroVerifier,
  encodeSigStructure,
  parseAttestationDocument,
  pemToDer,
  verifyAttestationDocument,
} from '../src/index.js';
import { debugDoc, documentInput, type ExpectedDocument, expected, fixtureText, prodDoc } from './helpers.js';
import { cborEncode } from './synthetic.js';

function isoSeconds(text: string): string {
  return new Date(text).toISOString();
}

function documentBytes(doc: ExpectedDocument): Uint8Array {
  const input = documentInput(doc);
  return typeof input === 'string' ? base64ToBytes(input.trim()) : input;
}

describe('the pinned AWS root', () => {
  test('the shipped PEM is the fixture root and matches the published fingerprint', () => {
    const shipped = pemToDer(AWS_NITRO_ROOT_G1_PEM, 'CERTIFICATE');
    expect(shipped).toEqual(pemToDer(fixtureText('aws_nitro_enclaves_root_g1.pem'), 'CERTIFICATE'));
    const published = expected.root_ca.sha256_fingerprint.replace(/:/g, '').toLowerCase();
    expect(AWS_NITRO_ROOT_G1_SHA256).toBe(published);
    // node:crypto computes the fingerprint independently.
    const x509 = new X509Certificate(Buffer.from(shipped));
    expect(x509.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(published);
    expect(x509.serialNumber.toUpperCase()).toBe(expected.root_ca.serial_hex);
    expect(createNitroVerifier().rootFingerprint).toBe(published);
  });
});

describe.each([debugDoc, prodDoc])('fixture $file', (doc) => {
  const at = new Date(doc.verify_at);
  const isDebug = doc === debugDoc;

  test('verifies at its own timestamp with every field as in expected.json', async () => {
    const result = await verifyAttestationDocument(documentInput(doc), { at, allowDebug: isDebug });
    const { document } = result;
    expect(document.moduleId).toBe(doc.module_id);
    expect(document.digest).toBe(doc.digest);
    expect(document.timestamp).toBe(doc.timestamp_ms);
    expect(document.pcrs.size).toBe(doc.pcr_count);
    expect(
      Object.fromEntries([...document.pcrs].map(([index, value]) => [String(index), bytesToHex(value)])),
    ).toEqual(doc.pcrs_all);
    expect(document.publicKey && bytesToHex(document.publicKey)).toBe(doc.public_key_hex);
    expect(document.userData && bytesToHex(document.userData)).toBe(doc.user_data_hex);
    expect(document.nonce && bytesToHex(document.nonce)).toBe(doc.nonce_hex);
    expect(document.cabundle).toHaveLength(doc.cabundle_len);
    expect(result.cose.tagged).toBe(false);
    expect(result.debug).toBe(isDebug);
    expect(result.chain.map((certificate) => certificate.subject)).toEqual(
      doc.chain.map((entry) => entry.subject),
    );
    expect(result.chain.map((certificate) => certificate.notBefore.toISOString())).toEqual(
      doc.chain.map((entry) => isoSeconds(entry.not_before)),
    );
    expect(result.chain.map((certificate) => certificate.notAfter.toISOString())).toEqual(
      doc.chain.map((entry) => isoSeconds(entry.not_after)),
    );
    expect(result.checks).toMatchObject({
      signature: true,
      chain: true,
      rootFingerprint: AWS_NITRO_ROOT_G1_SHA256,
      cabundleRootMatches: true,
      cachedIntermediates: 0,
      cachedLeaf: false,
    });
    expect(result.verifiedAt.getTime()).toBe(at.getTime());
  });

  test('verifies with all its PCRs and its nonce as policy', async () => {
    const result = await verifyAttestationDocument(documentInput(doc), {
      at,
      allowDebug: isDebug,
      expectedPcrs: doc.pcrs_all,
      expectedNonce: doc.nonce_hex!,
      ...(doc.user_data_hex ? { expectedUserData: hexToBytes(doc.user_data_hex) } : {}),
    });
    expect(result.checks.pcrs).toEqual(Object.keys(doc.pcrs_all).map(Number));
    expect(result.checks.nonce).toBe(true);
    expect(result.checks.userData).toBe(doc.user_data_hex !== null);
  });

  test('bytes, base64, hex and CBOR tag 18 are the same document', async () => {
    const bytes = documentBytes(doc);
    const tagged = new Uint8Array([0xd2, ...bytes]);
    const forms: (Uint8Array | string)[] = [
      bytes,
      Buffer.from(bytes).toString('base64'),
      `${bytesToHex(bytes)}\n`,
      tagged,
    ];
    for (const form of forms) {
      const result = await verifyAttestationDocument(form, { at, allowDebug: true });
      expect(result.document.moduleId).toBe(doc.module_id);
      expect(result.cose.tagged).toBe(form === tagged);
    }
  });

  test('the window edges: valid at the leaf notBefore and notAfter, expired one millisecond outside', async () => {
    const [from, to] = doc.chain_valid_window_utc.map((text) => new Date(text).getTime()) as [number, number];
    const input = documentInput(doc);
    await expect(verifyAttestationDocument(input, { at: from, allowDebug: true })).resolves.toBeTruthy();
    await expect(verifyAttestationDocument(input, { at: to, allowDebug: true })).resolves.toBeTruthy();
    for (const time of [from - 1, to + 1]) {
      await expect(verifyAttestationDocument(input, { at: time, allowDebug: true })).rejects.toMatchObject({
        code: 'ERR_NITRO_CERTIFICATE_EXPIRED',
        reason: 'expired',
      });
    }
  });

  test('node:crypto independently agrees: chain signatures and the COSE ES384 signature', () => {
    const { document, cose } = parseAttestationDocument(documentInput(doc));
    const chain = [
      new X509Certificate(Buffer.from(pemToDer(AWS_NITRO_ROOT_G1_PEM, 'CERTIFICATE'))),
      ...document.cabundle.slice(1).map((der) => new X509Certificate(Buffer.from(der))),
      new X509Certificate(Buffer.from(document.certificate)),
    ];
    for (let index = 1; index < chain.length; index++) {
      expect(chain[index]!.checkIssued(chain[index - 1]!)).toBe(true);
      expect(chain[index]!.verify(chain[index - 1]!.publicKey)).toBe(true);
    }
    // Sig_structure encoded by cbor-x, not by the package, must equal the package's encoding.
    const independent = cborEncode(['Signature1', cose.protectedHeader, new Uint8Array(0), cose.payload]);
    expect(encodeSigStructure(cose)).toEqual(independent);
    const verifier = createVerify('sha384');
    verifier.update(independent);
    const leafKey = createPublicKey(chain.at(-1)!.publicKey.export({ format: 'pem', type: 'spki' }));
    expect(verifier.verify({ key: leafKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(cose.signature))).toBe(
      true,
    );
  });
});

describe('cached verifier', () => {
  test('the second verification takes the intermediates and the leaf from the cache; validity is still checked', async () => {
    const verifier = createNitroVerifier();
    const input = documentInput(prodDoc);
    const at = new Date(prodDoc.verify_at);
    const first = await verifier.verify(input, { at });
    expect(first.checks).toMatchObject({ cachedIntermediates: 0, cachedLeaf: false });
    expect(verifier.cacheSize).toBe(4);
    const second = await verifier.verify(input, { at });
    expect(second.checks).toMatchObject({ cachedIntermediates: 3, cachedLeaf: true });
    await expect(verifier.verify(input)).rejects.toMatchObject({ code: 'ERR_NITRO_CERTIFICATE_EXPIRED' });
    // a cached leaf does not skip the document signature
    const bytes = input as Uint8Array;
    const tampered = new Uint8Array(bytes);
    tampered[tampered.length - 1]! ^= 1;
    await expect(verifier.verify(tampered, { at })).rejects.toMatchObject({
      code: 'ERR_NITRO_SIGNATURE_INVALID',
    });
    const other = await verifier.verify(documentInput(debugDoc), {
      at: new Date(debugDoc.verify_at),
      allowDebug: true,
    });
    expect(other.checks).toMatchObject({ cachedIntermediates: 0, cachedLeaf: false });
    expect(verifier.cacheSize).toBe(8);
    verifier.clearCache();
    expect(verifier.cacheSize).toBe(0);
  });

  test('cacheLeaf: false caches the intermediates only', async () => {
    const verifier = createNitroVerifier({ cacheLeaf: false });
    const at = new Date(prodDoc.verify_at);
    await verifier.verify(documentInput(prodDoc), { at });
    expect(verifier.cacheSize).toBe(3);
    const again = await verifier.verify(documentInput(prodDoc), { at });
    expect(again.checks).toMatchObject({ cachedIntermediates: 3, cachedLeaf: false });
  });

  test('the cache is bounded', async () => {
    const verifier = createNitroVerifier({ cache: 2 });
    await verifier.verify(documentInput(prodDoc), { at: new Date(prodDoc.verify_at) });
    expect(verifier.cacheSize).toBe(2);
  });
});
