import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { bigIntToLittleEndian, edPublicToX25519, opensslX25519 } from '@confidential-ai/test-kit';
import { fc, test as propertyTest } from '@fast-check/vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../test/error-code.js';
import vectors from '../test/vectors/ed25519-to-x25519.json' with { type: 'json' };
import { decryptField, encryptField, generateFieldKeyPair } from './field-cipher.js';
import {
  convertEd25519PublicKey,
  type Ed25519ConversionBackend,
  ed25519PrivateKeyToX25519,
  ed25519PublicKeyToX25519,
  fieldCipherBackends,
  x25519EphemeralAgreement,
} from './key-agreement.js';
import { checkNativeSodium, loadNativeSodium, setNativeSodiumLoader } from './native-sodium.js';

// libsodium's addon (sodium-native) against @noble/curves and node:crypto for encryption to Ed25519 recipients:
// the keys PyNaCl (the Python vllm-proxy reference's library) converts and refuses, random keys byte for byte,
// and the fallback when the addon cannot be used.

const CONVERSIONS: readonly Ed25519ConversionBackend[] = ['libsodium', 'noble'];
const P = 2n ** 255n - 19n;

function clamp(scalar: Uint8Array): string {
  const out = scalar.slice();
  out[0]! &= 248;
  out[31]! &= 127;
  out[31]! |= 64;
  return bytesToHex(out);
}

afterEach(() => setNativeSodiumLoader());

describe('the libsodium addon', () => {
  it('loads on Node and serves encryption to Ed25519 recipients', () => {
    expect(loadNativeSodium()).not.toBeNull();
    expect(fieldCipherBackends().ed25519Recipients).toBe('libsodium');
  });

  it('is refused when it lacks a function, gives a wrong answer or accepts a point of small order', () => {
    const real = loadNativeSodium()!;
    expect(checkNativeSodium(null)).toBeNull();
    expect(checkNativeSodium({ ...real, crypto_scalarmult: undefined })).toBeNull();
    expect(
      checkNativeSodium({
        ...real,
        crypto_scalarmult: (shared: Uint8Array) => shared.fill(1),
      }),
    ).toBeNull();
    expect(
      checkNativeSodium({
        ...real,
        crypto_sign_ed25519_pk_to_curve25519: (out: Uint8Array, key: Uint8Array) => {
          out.set(ed25519.utils.toMontgomery(key));
        },
      }),
    ).toBeNull();
    // libsodium before 1.0.21 (sodium-native 4): its subgroup check passes a component of order 2.
    const mixedOrder2 = vectors.invalid.find((vector) => vector.case.includes('order 2'))!.ed25519PublicKey;
    expect(
      checkNativeSodium({
        ...real,
        crypto_sign_ed25519_pk_to_curve25519: (out: Uint8Array, key: Uint8Array) => {
          if (bytesToHex(key) === mixedOrder2) out.set(ed25519.utils.toMontgomery(key));
          else real.crypto_sign_ed25519_pk_to_curve25519(out, key);
        },
      }),
    ).toBeNull();
    expect(checkNativeSodium(real)).toBe(real);
  });

  it('falls back to noble and node:crypto when the addon cannot load, with the same answers', () => {
    const recipient = generateFieldKeyPair('ed25519');
    setNativeSodiumLoader(() => {
      throw new Error('Cannot find module sodium-native');
    });
    expect(loadNativeSodium()).toBeNull();
    expect(fieldCipherBackends().ed25519Recipients).toBe('noble');
    const field = encryptField('to an Ed25519 recipient', recipient.publicKey, { suite: 'ed25519' });
    expect(decryptField(field, recipient.privateKey, { suite: 'ed25519' })).toBe('to an Ed25519 recipient');
    expect(codeOf(() => convertEd25519PublicKey(recipient.publicKey, 'libsodium'))).toBe('ERR_KEY_INVALID');
  });
});

describe('Ed25519 to X25519: PyNaCl vectors on every backend', () => {
  it.each(vectors.valid)('converts $ed25519PublicKey as PyNaCl does', (vector) => {
    const publicKey = hexToBytes(vector.ed25519PublicKey);
    expect(bytesToHex(ed25519.getPublicKey(hexToBytes(vector.seed)))).toBe(vector.ed25519PublicKey);
    for (const backend of CONVERSIONS) {
      expect(bytesToHex(convertEd25519PublicKey(publicKey, backend))).toBe(vector.x25519PublicKey);
    }
    expect(bytesToHex(ed25519PublicKeyToX25519(publicKey))).toBe(vector.x25519PublicKey);
    expect(clamp(ed25519PrivateKeyToX25519(hexToBytes(vector.seed)))).toBe(vector.x25519PrivateKey);
  });

  it.each(vectors.invalid)('refuses $case on every backend, as PyNaCl does', (vector) => {
    const publicKey = hexToBytes(vector.ed25519PublicKey);
    for (const backend of CONVERSIONS) {
      expect(codeOf(() => convertEd25519PublicKey(publicKey, backend))).toBe('ERR_KEY_INVALID');
    }
    for (const native of [true, false]) {
      expect(codeOf(() => ed25519PublicKeyToX25519(publicKey, native))).toBe('ERR_KEY_INVALID');
      expect(codeOf(() => encryptField('x', publicKey, { suite: 'ed25519', native }))).toBe(
        'ERR_KEY_INVALID',
      );
    }
  });

  it('refuses all 38 non-canonical encodings (y = p + 0 .. 18, either sign) on every backend', () => {
    for (let offset = 0n; offset < 19n; offset++) {
      for (const sign of [0, 0x80]) {
        const encoding = bigIntToLittleEndian(P + offset, 32);
        encoding[31]! |= sign;
        for (const backend of CONVERSIONS) {
          expect(codeOf(() => convertEd25519PublicKey(encoding, backend))).toBe('ERR_KEY_INVALID');
        }
      }
    }
  });

  propertyTest.prop([fc.uint8Array({ minLength: 32, maxLength: 32 })], { numRuns: 40 })(
    'random keys: libsodium, noble and an independent birational map agree byte for byte',
    (seed) => {
      const publicKey = ed25519.getPublicKey(seed);
      const expected = bytesToHex(ed25519.utils.toMontgomery(publicKey));
      // The birational map in BigInt alone (test-kit), sharing no code with either backend.
      expect(bytesToHex(edPublicToX25519(publicKey))).toBe(expected);
      for (const backend of CONVERSIONS) {
        expect(bytesToHex(convertEd25519PublicKey(publicKey, backend))).toBe(expected);
      }
    },
  );
});

describe('the ephemeral X25519 of encryption to an Ed25519 recipient', () => {
  // RFC 7748 section 6.1.
  const alice = hexToBytes('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bob = hexToBytes('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');

  it('reproduces RFC 7748 on libsodium, node:crypto and noble', () => {
    const paths = [
      () => x25519EphemeralAgreement(bob, undefined, alice, true),
      () => x25519EphemeralAgreement(bob, undefined, alice, false),
      () => {
        setNativeSodiumLoader(() => null);
        try {
          expect(fieldCipherBackends()).toMatchObject({ ed25519Recipients: 'noble', x25519: 'node:crypto' });
          return x25519EphemeralAgreement(bob, undefined, alice, true);
        } finally {
          setNativeSodiumLoader();
        }
      },
    ];
    for (const path of paths) {
      const result = path();
      expect(bytesToHex(result.publicKey)).toBe(
        '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
      );
      expect(bytesToHex(result.shared)).toBe(
        '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
      );
    }
  });

  propertyTest.prop(
    [fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 })],
    {
      numRuns: 40,
    },
  )('random keys: the same public key and secret as OpenSSL', (scalar, peerSeed) => {
    const peer = ed25519PublicKeyToX25519(ed25519.getPublicKey(peerSeed));
    const sodium = x25519EphemeralAgreement(peer, undefined, scalar, true);
    const noble = x25519EphemeralAgreement(peer, undefined, scalar, false);
    expect(sodium).toEqual(noble);
    expect(bytesToHex(sodium.shared)).toBe(bytesToHex(opensslX25519(scalar, peer)));
  });

  it('zeroes a drawn scalar on every backend and leaves a fixed one to its owner', () => {
    const peer = hexToBytes(vectors.valid[0]!.x25519PublicKey);
    for (const native of [true, false]) {
      const drawn = new Uint8Array(32).fill(7);
      x25519EphemeralAgreement(peer, () => drawn, undefined, native);
      expect(drawn).toEqual(new Uint8Array(32));
    }
    const drawn = new Uint8Array(32).fill(7);
    const result = x25519EphemeralAgreement(peer, () => drawn, undefined, true);
    expect(bytesToHex(result.shared)).toBe(bytesToHex(opensslX25519(new Uint8Array(32).fill(7), peer)));
    const fixed = new Uint8Array(32).fill(9);
    x25519EphemeralAgreement(peer, undefined, fixed, true);
    expect(fixed).toEqual(new Uint8Array(32).fill(9));
  });

  it.each([
    ['zero', '00'.repeat(32)],
    ['one', `01${'00'.repeat(31)}`],
    ['order 8', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'],
  ])('refuses the low-order peer %s on every backend', (_name, hex) => {
    for (const native of [true, false]) {
      expect(codeOf(() => x25519EphemeralAgreement(hexToBytes(hex), undefined, alice, native))).toBe(
        'ERR_KEY_INVALID',
      );
    }
  });
});
