import { createECDH } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createFieldDecryptor,
  createFieldEncryptor,
  decryptField,
  deriveFieldKey,
  encryptField,
  generateFieldKeyPair,
  getFieldPublicKey,
} from './field-cipher.js';
import { createFieldKeyAgreement, fieldCipherBackends } from './key-agreement.js';

// Regression (issue 20): every secp256k1 agreement with a secret scalar ran on node:crypto's ECDH (OpenSSL's
// ladder, 12-18 times the CPU of libsecp256k1's constant-time `secp256k1_ecdh`). With the `secp256k1` package's
// native addon present, every path below must run its agreements on that addon's `ecdh` and never on OpenSSL's
// `computeSecret`. Spies sit on the module that `secp256k1/bindings` resolves to (one instance per process).

interface Binding {
  ecdh(...args: unknown[]): unknown;
  publicKeyCreate(...args: unknown[]): unknown;
}

describe('secp256k1 agreements run on the native libsecp256k1 addon when it is present', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('model key, client key, ephemeral keys, fixed keys and deriveFieldKey', () => {
    const binding = createRequire(import.meta.url)('secp256k1/bindings') as Binding;
    const ecdh = vi.spyOn(binding, 'ecdh');
    const publicKeyCreate = vi.spyOn(binding, 'publicKeyCreate');
    const computeSecret = vi.spyOn(createECDH('secp256k1').constructor.prototype, 'computeSecret');
    const model = generateFieldKeyPair();
    const client = generateFieldKeyPair();
    expect(getFieldPublicKey(model.privateKey)).toEqual(model.publicKey);
    const request = encryptField('prompt', model.publicKey);
    expect(createFieldDecryptor(model.privateKey).decrypt(request)).toBe('prompt');
    expect(
      decryptField(
        encryptField('again', model.publicKey, { random: (n) => new Uint8Array(n).fill(7) }),
        model.privateKey,
      ),
    ).toBe('again');
    const response = createFieldEncryptor(client.publicKey).encrypt('answer');
    expect(decryptField(response, client.privateKey)).toBe('answer');
    const fixed = encryptField('fixed', model.publicKey, { ephemeralPrivateKey: client.privateKey });
    expect(decryptField(fixed, model.privateKey)).toBe('fixed');
    expect(deriveFieldKey(client.privateKey, model.publicKey)).toHaveLength(32);
    expect(createFieldKeyAgreement(model.privateKey).sharedSecret(client.publicKey)).toHaveLength(32);
    expect(computeSecret).not.toHaveBeenCalled();
    // decryptor, encryptField x3 (ephemeral), decryptField x3, createFieldEncryptor, deriveFieldKey, agreement
    expect(ecdh.mock.calls.length).toBeGreaterThanOrEqual(10);
    // key pairs x2, getFieldPublicKey, ephemeral keys of encryptField x3 and createFieldEncryptor
    expect(publicKeyCreate.mock.calls.length).toBeGreaterThanOrEqual(7);
    expect(fieldCipherBackends().secp256k1).toBe('libsecp256k1');
  });

  it('zeroes the ephemeral scalar it drew once the agreement is done', () => {
    const binding = createRequire(import.meta.url)('secp256k1/bindings') as Binding;
    const model = generateFieldKeyPair();
    const ecdh = vi.spyOn(binding, 'ecdh');
    const random = (length: number) => new Uint8Array(length).fill(length === 32 ? 9 : 1);
    for (const options of [{}, { random }]) {
      ecdh.mockClear();
      const packed = encryptField('prompt', model.publicKey, options);
      // One agreement, by the ephemeral scalar: the array handed to the addon is all zero now.
      expect(ecdh).toHaveBeenCalledTimes(1);
      const scalar = ecdh.mock.calls[0]![1] as Uint8Array;
      expect(scalar).toHaveLength(32);
      expect(scalar.every((byte) => byte === 0)).toBe(true);
      expect(decryptField(packed, model.privateKey)).toBe('prompt');
    }
  });
});
