import {
  createVllmProxySigner,
  ed25519VerifyText,
  recoverPersonalSignAddress,
} from '@confidential-ai/tee-signing';
import { getFieldPublicKey } from '@confidential-ai/venice-e2ee';
import { describe, expect, it } from 'vitest';
import { createModelKeys } from '../src/keys.js';
import { createResponseSigner, type ResponseSigner, signatureRecord } from '../src/signing.js';

describe('createResponseSigner', () => {
  it('matches tee-signing byte for byte (Ed25519 fast path) and verifies', () => {
    const keys = createModelKeys({ seed: '11'.repeat(32) });
    const signer = createResponseSigner(keys);
    const reference = createVllmProxySigner({ algorithm: 'ed25519', privateKey: keys.ed25519.privateKey });
    for (const text of ['a:b', `${'0'.repeat(64)}:${'f'.repeat(64)}`, 'ünïcødé:✓']) {
      const signatures = signer.sign(text);
      expect(signatures.ed25519).toBe(reference.sign(text));
      expect(ed25519VerifyText(signer.ed25519Address, text, signatures.ed25519)).toBe(true);
      expect(recoverPersonalSignAddress(text, signatures.ecdsa)).toBe(signer.ecdsaAddress);
    }
  });

  it('names the addresses tee-signing derives from the same keys (computed without building the signers)', () => {
    for (const keys of [createModelKeys({ seed: '44'.repeat(32) }), createModelKeys()]) {
      const signer = createResponseSigner(keys);
      const ecdsa = createVllmProxySigner({ algorithm: 'ecdsa', privateKey: keys.ecdsa.privateKey });
      const ed25519 = createVllmProxySigner({ algorithm: 'ed25519', privateKey: keys.ed25519.privateKey });
      expect(signer.ecdsaAddress).toBe(ecdsa.signingAddress);
      expect(signer.ed25519Address).toBe(ed25519.signingAddress);
      expect(signer.signWith('ecdsa', 'x:y')).toBe(ecdsa.sign('x:y'));
    }
  });

  it('a seed gives stable keys; no seed gives fresh keys', () => {
    const seed = '22'.repeat(32);
    expect(createResponseSigner(createModelKeys({ seed })).ecdsaAddress).toBe(
      createResponseSigner(createModelKeys({ seed })).ecdsaAddress,
    );
    expect(createModelKeys().ecdsa.publicKey).not.toEqual(createModelKeys().ecdsa.publicKey);
    expect(() => createModelKeys({ seed: 'ab' })).toThrow(RangeError);
  });
});

describe('createModelKeys', () => {
  it('gives the public keys of the field cipher (libsecp256k1 / @noble/curves) for seeded and random keys', () => {
    for (const keys of [
      createModelKeys({ seed: '55'.repeat(32) }),
      createModelKeys({ seed: '0f'.repeat(48) }),
      createModelKeys(),
      createModelKeys(),
    ]) {
      expect(keys.ecdsa.publicKey).toEqual(getFieldPublicKey(keys.ecdsa.privateKey, 'secp256k1'));
      expect(keys.ed25519.publicKey).toEqual(getFieldPublicKey(keys.ed25519.privateKey, 'ed25519'));
      expect(keys.ecdsa.publicKey).toHaveLength(65);
      expect(keys.ed25519.publicKey).toHaveLength(32);
    }
  });
});

describe('signatureRecord', () => {
  function counting(signer: ResponseSigner) {
    const calls: string[] = [];
    const wrapped: ResponseSigner = {
      ...signer,
      sign: signer.sign,
      signWith: (algo, text) => {
        calls.push(algo);
        return signer.signWith(algo, text);
      },
    };
    return { wrapped, calls };
  }

  it('signs each algorithm on first read, once, with the bytes eager signing gives', () => {
    const signer = createResponseSigner(createModelKeys({ seed: '33'.repeat(32) }));
    const { wrapped, calls } = counting(signer);
    const text = `${'a'.repeat(64)}:${'b'.repeat(64)}`;
    const record = signatureRecord(wrapped, text);
    expect(calls).toEqual([]);
    expect(record.signing_address_ecdsa).toBe(signer.ecdsaAddress);
    expect(calls).toEqual([]);
    const eager = signer.sign(text);
    expect(record.signature_ed25519).toBe(eager.ed25519);
    expect(calls).toEqual(['ed25519']);
    expect(record.signature_ecdsa).toBe(eager.ecdsa);
    expect(record.signature_ecdsa).toBe(eager.ecdsa);
    expect(calls).toEqual(['ed25519', 'ecdsa']);
    expect(recoverPersonalSignAddress(text, record.signature_ecdsa)).toBe(signer.ecdsaAddress);
  });

  it('serializes with both signatures (the Redis store writes JSON)', () => {
    const signer = createResponseSigner(createModelKeys({ seed: '44'.repeat(32) }));
    const record = signatureRecord(signer, 'x:y');
    expect(JSON.parse(JSON.stringify(record))).toEqual({
      text: 'x:y',
      signature_ecdsa: signer.signWith('ecdsa', 'x:y'),
      signing_address_ecdsa: signer.ecdsaAddress,
      signature_ed25519: signer.signWith('ed25519', 'x:y'),
      signing_address_ed25519: signer.ed25519Address,
    });
  });
});
