import { createECDH } from 'node:crypto';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { fc, test as propertyTest } from '@fast-check/vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../test/error-code.js';
import vectors from '../test/vectors/field-cipher.json' with { type: 'json' };
import ecdhVectors from '../test/vectors/secp256k1-ecdh.json' with { type: 'json' };
import { VeniceE2eeError } from './errors.js';
import {
  createFieldDecryptor,
  createFieldEncryptor,
  decryptField,
  decryptFieldBytes,
  deriveFieldKey,
  encryptField,
  encryptFieldBytes,
  generateFieldKeyPair,
  parsePackedField,
} from './field-cipher.js';
import {
  createFieldKeyAgreement,
  type FieldKeyAgreement,
  fieldCipherBackends,
  generateX25519Ephemeral,
  loadNodeCrypto,
  nativeX25519PrivateKey,
  type Secp256k1Agreement,
  secp256k1EphemeralAgreement,
  secp256k1PublicKey,
  secp256k1SharedSecret,
  x25519SharedSecret,
} from './key-agreement.js';
import { loadNativeSecp256k1 } from './native-secp256k1.js';

// The fast backends (libsecp256k1's native addon, node:crypto) against the pure noble path: the same bytes for
// random keys and messages, the same verdicts for invalid keys.

const SECP256K1_BACKENDS: readonly Secp256k1Agreement[] = ['libsecp256k1', 'node', 'noble'];
const SECP256K1_ORDER = secp256k1.Point.CURVE().n;

const scalar = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((bytes) => secp256k1.utils.isValidSecretKey(bytes));
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** A valid secp256k1 scalar derived from 32 arbitrary bytes (noble maps a 48-byte seed into the range). */
function scalarFrom(seed: Uint8Array): Uint8Array {
  return secp256k1.utils.randomSecretKey(new Uint8Array([...seed, ...seed.subarray(0, 16)]));
}

/** Wraps a key agreement and counts its scalar multiplications. */
function counting(agreement: FieldKeyAgreement): FieldKeyAgreement & { calls: number } {
  const counted = {
    suite: agreement.suite,
    calls: 0,
    sharedSecret(peer: Uint8Array) {
      counted.calls++;
      return agreement.sharedSecret(peer);
    },
  };
  return counted;
}

function scalarBytes(value: bigint): Uint8Array {
  return hexToBytes(value.toString(16).padStart(64, '0'));
}

describe('fast backends on Node', () => {
  it('selects libsecp256k1 (native) for secp256k1, libsodium for Ed25519 recipients, node:crypto for X25519 and AES-GCM', () => {
    expect(fieldCipherBackends()).toEqual({
      secp256k1: 'libsecp256k1',
      secp256k1PublicKeys: 'libsecp256k1',
      x25519: 'node:crypto',
      ed25519Recipients: 'libsodium',
      aesGcm: 'node:crypto',
    });
    expect(loadNodeCrypto()).not.toBeNull();
    expect(loadNativeSecp256k1()).not.toBeNull();
  });

  it('every secp256k1 backend reproduces the published Venice vectors', () => {
    for (const vector of vectors.secp256k1) {
      const ephemeral = hexToBytes(vector.ephemeralPrivateKey);
      const recipient = hexToBytes(vector.recipientPublicKey);
      const recipientPrivate = hexToBytes(vector.recipientPrivateKey);
      for (const backend of SECP256K1_BACKENDS) {
        expect(bytesToHex(secp256k1SharedSecret(ephemeral, recipient, backend))).toBe(vector.sharedX);
        const ephemeralPublic = secp256k1EphemeralAgreement(recipient, undefined, ephemeral, true).publicKey;
        expect(bytesToHex(secp256k1SharedSecret(recipientPrivate, ephemeralPublic, backend))).toBe(
          vector.sharedX,
        );
      }
    }
  });

  it('every secp256k1 backend reproduces the ECDH vectors of Python cryptography (vllm-proxy)', () => {
    expect(ecdhVectors.vectors.length).toBeGreaterThanOrEqual(8);
    for (const vector of ecdhVectors.vectors) {
      const privateKey = hexToBytes(vector.privateKey);
      for (const backend of SECP256K1_BACKENDS) {
        for (const peer of [vector.peerPublicKey, vector.peerCompressed]) {
          expect(bytesToHex(secp256k1SharedSecret(privateKey, hexToBytes(peer), backend))).toBe(
            vector.sharedX,
          );
        }
      }
      for (const backend of ['libsecp256k1', 'noble'] as const) {
        expect(bytesToHex(secp256k1PublicKey(privateKey, backend))).toBe(vector.publicKey);
      }
      for (const native of [true, false]) {
        const agreement = createFieldKeyAgreement(privateKey, { native });
        expect(bytesToHex(agreement.sharedSecret(hexToBytes(vector.peerPublicKey)))).toBe(vector.sharedX);
      }
    }
  });
});

describe('secp256k1 backends agree byte for byte', () => {
  propertyTest.prop([scalar, scalar, fc.nat(7)], { numRuns: 40 })(
    'public keys and shared secrets of random scalars (also from offset views)',
    (a, b, offset) => {
      const publicB = secp256k1PublicKey(b, 'noble');
      expect(secp256k1PublicKey(b, 'libsecp256k1')).toEqual(publicB);
      const expected = secp256k1SharedSecret(a, publicB, 'noble');
      const ecdh = createECDH('secp256k1');
      ecdh.setPrivateKey(a);
      expect(new Uint8Array(ecdh.computeSecret(publicB))).toEqual(expected);
      // A view into a larger buffer: the native addon must honour the byte offset.
      const padded = new Uint8Array(offset + 65 + 3).fill(0xee);
      padded.set(publicB, offset);
      const view = padded.subarray(offset, offset + 65);
      for (const backend of SECP256K1_BACKENDS) {
        expect(secp256k1SharedSecret(a, publicB, backend)).toEqual(expected);
        expect(secp256k1SharedSecret(a, view, backend)).toEqual(expected);
      }
      // The long-lived agreement of each backend gives the same secret.
      expect(createFieldKeyAgreement(a).sharedSecret(publicB)).toEqual(expected);
      expect(createFieldKeyAgreement(a, { native: false }).sharedSecret(publicB)).toEqual(expected);
    },
  );

  propertyTest.prop([scalar, fc.uint8Array({ minLength: 64, maxLength: 64 })], { numRuns: 60 })(
    'a random 65-byte "point" gets the same verdict from every backend',
    (a, coordinates) => {
      const point = new Uint8Array([4, ...coordinates]);
      const verdicts = SECP256K1_BACKENDS.map((backend) =>
        codeOf(() => secp256k1SharedSecret(a, point, backend)),
      );
      let valid = true;
      try {
        secp256k1.Point.fromBytes(point);
      } catch {
        valid = false;
      }
      expect(verdicts).toEqual(SECP256K1_BACKENDS.map(() => (valid ? undefined : 'ERR_KEY_INVALID')));
    },
  );

  it('rejects invalid points with ERR_KEY_INVALID in every backend, also through the agreements', () => {
    const model = generateFieldKeyPair();
    const valid = generateFieldKeyPair().publicKey;
    const hybrid = Uint8Array.of(6 + (valid[64]! & 1), ...valid.subarray(1));
    const invalid: Record<string, Uint8Array> = {
      'off the curve': hexToBytes(`04${'01'.repeat(64)}`),
      'infinity (one zero byte)': Uint8Array.of(0),
      'infinity (zero coordinates)': hexToBytes(`04${'00'.repeat(64)}`),
      'compressed, x not on the curve': hexToBytes(`02${'00'.repeat(31)}05`),
      'compressed, x above the field': hexToBytes(`02${'ff'.repeat(32)}`),
      'bad prefix 05': Uint8Array.of(5, ...valid.subarray(1)),
      'hybrid prefix 06/07 (OpenSSL and libsecp256k1 parse it)': hybrid,
      'compressed prefix on 65 bytes': Uint8Array.of(2, ...valid.subarray(1)),
      'wrong length 64 (X || Y without 04)': valid.subarray(1),
      'wrong length 66': Uint8Array.of(...valid, 0),
      'wrong length 32': valid.subarray(1, 33),
      empty: new Uint8Array(0),
    };
    for (const [name, point] of Object.entries(invalid)) {
      const verdicts = SECP256K1_BACKENDS.map((backend) =>
        codeOf(() => secp256k1SharedSecret(model.privateKey, point, backend)),
      );
      expect({ name, verdicts }).toEqual({
        name,
        verdicts: ['ERR_KEY_INVALID', 'ERR_KEY_INVALID', 'ERR_KEY_INVALID'],
      });
      for (const native of [true, false]) {
        expect(codeOf(() => createFieldKeyAgreement(model.privateKey, { native }).sharedSecret(point))).toBe(
          'ERR_KEY_INVALID',
        );
        expect(codeOf(() => secp256k1EphemeralAgreement(point, undefined, undefined, native))).toBe(
          'ERR_KEY_INVALID',
        );
      }
    }
  });

  it('rejects zero and out-of-range scalars with ERR_KEY_INVALID in every backend', () => {
    const peer = generateFieldKeyPair().publicKey;
    const scalars = {
      zero: scalarBytes(0n),
      order: scalarBytes(SECP256K1_ORDER),
      'order + 1': scalarBytes(SECP256K1_ORDER + 1n),
      'all ones': new Uint8Array(32).fill(0xff),
    };
    for (const [name, bad] of Object.entries(scalars)) {
      const verdicts = SECP256K1_BACKENDS.map((backend) =>
        codeOf(() => secp256k1SharedSecret(bad, peer, backend)),
      );
      expect({ name, verdicts }).toEqual({
        name,
        verdicts: ['ERR_KEY_INVALID', 'ERR_KEY_INVALID', 'ERR_KEY_INVALID'],
      });
      for (const native of [true, false]) {
        expect(codeOf(() => createFieldKeyAgreement(bad, { native }))).toBe('ERR_KEY_INVALID');
        expect(codeOf(() => deriveFieldKey(bad, peer, { native }))).toBe('ERR_KEY_INVALID');
        expect(codeOf(() => encryptField('x', peer, { ephemeralPrivateKey: bad, native }))).toBe(
          'ERR_KEY_INVALID',
        );
      }
    }
    // n - 1, the largest valid scalar, works on every backend.
    const largest = scalarBytes(SECP256K1_ORDER - 1n);
    const expected = secp256k1SharedSecret(largest, peer, 'noble');
    for (const backend of SECP256K1_BACKENDS) {
      expect(secp256k1SharedSecret(largest, peer, backend)).toEqual(expected);
    }
  });
});

describe('X25519: node:crypto and noble agree byte for byte', () => {
  propertyTest.prop([bytes32, bytes32], { numRuns: 60 })('shared secrets of random keys', (a, b) => {
    const peer = generateX25519Ephemeral(undefined, false, b).publicKey;
    const expected = x25519SharedSecret(a, peer, false);
    expect(x25519SharedSecret(a, peer, true)).toEqual(expected);
    expect(x25519SharedSecret(nativeX25519PrivateKey(a), peer, true)).toEqual(expected);
  });

  it('a native ephemeral key pair matches its public key', () => {
    const ephemeral = generateX25519Ephemeral(undefined, true);
    const other = new Uint8Array(32).fill(9);
    const otherPublic = generateX25519Ephemeral(undefined, false, other).publicKey;
    expect(x25519SharedSecret(ephemeral.privateKey, otherPublic, true)).toEqual(
      x25519SharedSecret(other, ephemeral.publicKey, false),
    );
  });

  it.each([
    ['zero', '00'.repeat(32)],
    ['one', `01${'00'.repeat(31)}`],
    ['order 8', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
    ['p - 1', `ec${'ff'.repeat(30)}7f`],
  ])('rejects the low-order peer %s in both backends', (_name, hex) => {
    const secret = new Uint8Array(32).fill(5);
    for (const native of [true, false]) {
      expect(codeOf(() => x25519SharedSecret(secret, hexToBytes(hex), native))).toBe('ERR_KEY_INVALID');
    }
  });
});

describe('field cipher: native and pure paths give identical bytes', () => {
  propertyTest.prop(
    [
      fc.constantFrom('secp256k1' as const, 'ed25519' as const),
      bytes32,
      fc.uint8Array({ maxLength: 400 }),
      fc.option(fc.string({ maxLength: 120 }), { nil: undefined }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
    ],
    { numRuns: 60 },
  )('encryptFieldBytes with a fixed ephemeral key and nonce', (suite, seed, plaintext, aad, nonce) => {
    const recipient = generateFieldKeyPair(suite);
    const ephemeralPrivateKey = suite === 'secp256k1' ? scalarFrom(seed) : seed;
    const options = { suite, ephemeralPrivateKey, nonce, ...(aad === undefined ? {} : { aad }) };
    const native = encryptFieldBytes(plaintext, recipient.publicKey, { ...options, native: true });
    const pure = encryptFieldBytes(plaintext, recipient.publicKey, { ...options, native: false });
    expect(native).toEqual(pure);
    const aadOption = aad === undefined ? {} : { aad };
    for (const mode of [true, false]) {
      expect(
        createFieldDecryptor(recipient.privateKey, { suite, native: mode }).decryptBytes(native, aad),
      ).toEqual(plaintext);
      expect(
        decryptFieldBytes(bytesToHex(native), recipient.privateKey, { suite, native: mode, ...aadOption }),
      ).toEqual(plaintext);
    }
  });

  propertyTest.prop(
    [fc.constantFrom('secp256k1' as const, 'ed25519' as const), fc.string({ maxLength: 200 }), fc.boolean()],
    { numRuns: 40 },
  )('a field sealed with fresh randomness on one path opens on the other', (suite, text, nativeFirst) => {
    const recipient = generateFieldKeyPair(suite);
    const packed = encryptField(text, recipient.publicKey, { suite, native: nativeFirst });
    expect(decryptField(packed, recipient.privateKey, { suite, native: !nativeFirst })).toBe(text);
    expect(createFieldDecryptor(recipient.privateKey, { suite, native: !nativeFirst }).decrypt(packed)).toBe(
      text,
    );
  });

  propertyTest.prop(
    [
      fc.constantFrom('secp256k1' as const, 'ed25519' as const),
      bytes32,
      fc.array(fc.string(), { maxLength: 6 }),
    ],
    { numRuns: 30 },
  )(
    'createFieldEncryptor: native and pure agree with the same ephemeral key and nonces',
    (suite, seed, texts) => {
      const client = generateFieldKeyPair(suite);
      const ephemeralPrivateKey = suite === 'secp256k1' ? scalarFrom(seed) : seed;
      let counter = 0;
      const random = (length: number) => new Uint8Array(length).fill(counter++ & 0xff);
      const native = createFieldEncryptor(client.publicKey, { suite, ephemeralPrivateKey, random });
      counter = 0;
      const pure = createFieldEncryptor(client.publicKey, {
        suite,
        ephemeralPrivateKey,
        random,
        native: false,
      });
      expect(native.ephemeralPublicKey).toEqual(pure.ephemeralPublicKey);
      const nativeOut: string[] = [];
      counter = 0;
      for (const text of texts) nativeOut.push(native.encrypt(text, `aad ${text}`));
      counter = 0;
      for (const [index, text] of texts.entries())
        expect(pure.encrypt(text, `aad ${text}`)).toBe(nativeOut[index]);
      for (const [index, text] of texts.entries()) {
        expect(decryptField(nativeOut[index]!, client.privateKey, { suite, aad: `aad ${text}` })).toBe(text);
      }
    },
  );
});

describe('createFieldDecryptor (one per request)', () => {
  it('derives the key once per distinct ephemeral key, and not across decryptors', () => {
    const model = generateFieldKeyPair();
    const agreement = counting(createFieldKeyAgreement(model.privateKey));
    // A client that uses one ephemeral key for every field of its request.
    const ephemeralPrivateKey = generateFieldKeyPair().privateKey;
    const fields = ['system', 'user', 'assistant', 'user again'].map((text, index) =>
      encryptField(text, model.publicKey, { ephemeralPrivateKey, aad: `m=${index}` }),
    );
    const decryptor = createFieldDecryptor(agreement);
    expect(fields.map((field, index) => decryptor.decrypt(field, `m=${index}`))).toEqual([
      'system',
      'user',
      'assistant',
      'user again',
    ]);
    expect(agreement.calls).toBe(1);
    // A field with another ephemeral key costs one more agreement.
    expect(decryptor.decrypt(encryptField('other', model.publicKey))).toBe('other');
    expect(agreement.calls).toBe(2);
    // A new request (decryptor) derives again: no derived key is shared across requests.
    expect(createFieldDecryptor(agreement).decrypt(fields[0]!, 'm=0')).toBe('system');
    expect(agreement.calls).toBe(3);
  });

  it('still checks every tag and AAD with a remembered key', () => {
    const model = generateFieldKeyPair('ed25519');
    const ephemeralPrivateKey = new Uint8Array(32).fill(3);
    const decryptor = createFieldDecryptor(model.privateKey, { suite: 'ed25519' });
    const first = encryptField('a', model.publicKey, { suite: 'ed25519', ephemeralPrivateKey, aad: 'one' });
    expect(decryptor.decrypt(first, 'one')).toBe('a');
    expect(codeOf(() => decryptor.decrypt(first, 'two'))).toBe('ERR_FIELD_DECRYPT_FAILED');
    const tampered = hexToBytes(first);
    tampered[tampered.length - 1]! ^= 1;
    expect(codeOf(() => decryptor.decrypt(tampered, 'one'))).toBe('ERR_FIELD_DECRYPT_FAILED');
    expect(codeOf(() => decryptor.decrypt(`${first.slice(0, 60)}`, 'one'))).toBe('ERR_FIELD_MALFORMED');
  });

  it('bounds the remembered keys (maxCachedKeys)', () => {
    const model = generateFieldKeyPair();
    const agreement = counting(createFieldKeyAgreement(model.privateKey));
    const decryptor = createFieldDecryptor(agreement, { maxCachedKeys: 2 });
    const fields = Array.from({ length: 3 }, (_, index) => encryptField(`f${index}`, model.publicKey));
    for (const field of fields) decryptor.decrypt(field);
    for (const field of fields) decryptor.decrypt(field);
    // Three distinct keys with room for two: the cache is cleared when full, so not every repeat is free.
    expect(agreement.calls).toBeGreaterThan(3);
    expect(() => createFieldDecryptor(agreement, { maxCachedKeys: -1 })).toThrow(RangeError);
    expect(() => createFieldDecryptor(agreement, { suite: 'ed25519' })).toThrow(TypeError);
  });

  it('reports an invalid ephemeral point as ERR_FIELD_MALFORMED (reason point)', () => {
    const model = generateFieldKeyPair();
    const field = parsePackedField(encryptField('x', model.publicKey));
    const broken = new Uint8Array([4, ...new Uint8Array(64).fill(1), ...field.nonce, ...field.sealed]);
    try {
      createFieldDecryptor(model.privateKey).decryptBytes(broken);
      expect.unreachable();
    } catch (error) {
      expect(VeniceE2eeError.isInstance(error) && error.code).toBe('ERR_FIELD_MALFORMED');
      expect((error as VeniceE2eeError).details?.['reason']).toBe('point');
    }
  });
});

describe('decryptField keeps one key agreement per private key', () => {
  it('follows a private key array whose bytes change', () => {
    const first = generateFieldKeyPair();
    const second = generateFieldKeyPair();
    const key = first.privateKey.slice();
    expect(decryptField(encryptField('one', first.publicKey), key)).toBe('one');
    key.set(second.privateKey);
    expect(decryptField(encryptField('two', second.publicKey), key)).toBe('two');
    expect(codeOf(() => decryptField(encryptField('three', first.publicKey), key))).toBe(
      'ERR_FIELD_DECRYPT_FAILED',
    );
  });

  it('rejects an invalid secp256k1 private key before parsing the field', () => {
    expect(codeOf(() => decryptField('zz', new Uint8Array(32)))).toBe('ERR_KEY_INVALID');
  });
});
