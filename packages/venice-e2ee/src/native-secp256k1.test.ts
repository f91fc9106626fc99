import { createRequire } from 'node:module';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { afterEach, describe, expect, it } from 'vitest';
import vectors from '../test/vectors/field-cipher.json' with { type: 'json' };
import {
  createFieldEncryptor,
  decryptField,
  encryptField,
  generateFieldKeyPair,
  getFieldPublicKey,
} from './field-cipher.js';
import {
  createFieldKeyAgreement,
  fieldCipherBackends,
  normalizeSecp256k1PublicKey,
  secp256k1AgreementFor,
} from './key-agreement.js';
import {
  checkNativeSecp256k1,
  loadNativeSecp256k1,
  type NativeSecp256k1,
  setNativeSecp256k1Loader,
} from './native-secp256k1.js';

const realBinding = createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1;

/** The real binding with one function replaced. */
function tampered(overrides: Partial<NativeSecp256k1>): NativeSecp256k1 {
  return {
    ecdh: (...args) => realBinding.ecdh(...args),
    publicKeyCreate: (...args) => realBinding.publicKeyCreate(...args),
    publicKeyConvert: (...args) => realBinding.publicKeyConvert(...args),
    ...overrides,
  };
}

/** Every secp256k1 operation of the package still works and reproduces the published vectors. */
function expectWorkingCipher(): void {
  for (const vector of vectors.secp256k1) {
    const recipient = hexToBytes(vector.recipientPrivateKey);
    expect(decryptField(vector.packed, recipient)).toBe(vector.plaintext);
    expect(bytesToHex(getFieldPublicKey(recipient))).toBe(vector.recipientPublicKey);
  }
  const model = generateFieldKeyPair();
  const client = generateFieldKeyPair();
  expect(decryptField(encryptField('prompt', model.publicKey), model.privateKey)).toBe('prompt');
  expect(decryptField(createFieldEncryptor(client.publicKey).encrypt('answer'), client.privateKey)).toBe(
    'answer',
  );
  const compressed = Uint8Array.of(2 + (client.publicKey[64]! & 1), ...client.publicKey.subarray(1, 33));
  expect(normalizeSecp256k1PublicKey(compressed)).toEqual(client.publicKey);
  expect(createFieldKeyAgreement(model.privateKey).sharedSecret(client.publicKey)).toHaveLength(32);
}

describe('loading the native libsecp256k1 binding', () => {
  afterEach(() => {
    setNativeSecp256k1Loader();
  });

  it('loads secp256k1/bindings (never the package main entry, which falls back to elliptic)', () => {
    expect(loadNativeSecp256k1()).toBe(realBinding);
    expect(checkNativeSecp256k1(realBinding)).toBe(realBinding);
    expect(fieldCipherBackends().secp256k1).toBe('libsecp256k1');
  });

  it('falls back to node:crypto (agreements) and noble (public keys) when the binding cannot load', () => {
    let calls = 0;
    setNativeSecp256k1Loader(() => {
      calls++;
      throw new Error('No native build was found for platform=linux arch=arm64');
    });
    expect(loadNativeSecp256k1()).toBeNull();
    expect(fieldCipherBackends()).toMatchObject({ secp256k1: 'node:crypto', secp256k1PublicKeys: 'noble' });
    expect(secp256k1AgreementFor(true)).toBe('node');
    expectWorkingCipher();
    // Tried once, not on every operation.
    expect(calls).toBe(1);
  });

  it.each([
    ['nothing (a runtime without createRequire)', () => null],
    ['an object without the functions', () => ({ ecdh: 1 })],
    [
      'a binding whose ecdh gives wrong bytes',
      () =>
        tampered({
          ecdh: (publicKey, privateKey, options, output) => {
            realBinding.ecdh(publicKey, privateKey, options, output);
            output[0] = (output[0]! + 1) & 0xff;
            return output;
          },
        }),
    ],
    [
      'a binding that accepts a point off the curve',
      () => tampered({ ecdh: (_publicKey, _privateKey, _options, output) => output }),
    ],
    [
      'a binding whose public keys are wrong',
      () => tampered({ publicKeyCreate: (privateKey) => realBinding.publicKeyCreate(privateKey, true) }),
    ],
    [
      'a binding whose decompression throws',
      () =>
        tampered({
          publicKeyConvert: () => {
            throw new Error('broken');
          },
        }),
    ],
  ])('rejects %s and falls back', (_name, loader) => {
    setNativeSecp256k1Loader(loader as () => unknown);
    expect(loadNativeSecp256k1()).toBeNull();
    expect(fieldCipherBackends().secp256k1).toBe('node:crypto');
    expectWorkingCipher();
  });

  it('restores the default loader', () => {
    setNativeSecp256k1Loader(() => null);
    expect(loadNativeSecp256k1()).toBeNull();
    setNativeSecp256k1Loader();
    expect(loadNativeSecp256k1()).toBe(realBinding);
  });
});
