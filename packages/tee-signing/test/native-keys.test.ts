import { createECDH, createPrivateKey, createPublicKey } from 'node:crypto';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import {
  createVllmProxySigner,
  ed25519SignText,
  ed25519VerifyText,
  ethereumAddressFromPublicKey,
  TeeSigningError,
  vllmProxyPublicKey,
} from '../src/index.js';

const secp256k1Scalar = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((key) => secp256k1.utils.isValidSecretKey(key));

describe('Ed25519 signer: node:crypto fast path gives the bytes of the pure implementation', () => {
  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ maxLength: 300 })], {
    numRuns: 100,
  })('signer.sign equals noble ed25519SignText and verifies', (seed, text) => {
    const signer = createVllmProxySigner({ algorithm: 'ed25519', privateKey: seed });
    const signature = signer.sign(text);
    expect(signature).toBe(ed25519SignText(seed, text));
    expect(ed25519VerifyText(signer.signingAddress, text, signature)).toBe(true);
  });
});

describe('vllmProxyPublicKey: node:crypto gives the bytes of @noble/curves', () => {
  test.prop([fc.uint8Array({ minLength: 32, maxLength: 32 })], { numRuns: 100 })(
    'ed25519: equals noble getPublicKey and the signer address',
    (seed) => {
      const publicKey = vllmProxyPublicKey('ed25519', seed);
      expect(bytesToHex(publicKey)).toBe(bytesToHex(ed25519.getPublicKey(seed)));
      expect(createVllmProxySigner({ algorithm: 'ed25519', privateKey: seed }).signingAddress).toBe(
        bytesToHex(publicKey),
      );
    },
  );

  test.prop([secp256k1Scalar], { numRuns: 100 })(
    'ecdsa: equals noble getPublicKey (uncompressed) and the signer identity',
    (key) => {
      const publicKey = vllmProxyPublicKey('ecdsa', key);
      expect(bytesToHex(publicKey)).toBe(bytesToHex(secp256k1.getPublicKey(key, false)));
      const signer = createVllmProxySigner({ algorithm: 'ecdsa', privateKey: key });
      expect(signer.signingPublicKey).toBe(bytesToHex(publicKey.subarray(1)));
      expect(signer.signingAddress).toBe(ethereumAddressFromPublicKey(publicKey));
    },
  );

  it('gives published known answers (RFC 8032 test 1, SEC 2 generator) for hex keys too', () => {
    expect(
      bytesToHex(
        vllmProxyPublicKey('ed25519', '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
      ),
    ).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(bytesToHex(vllmProxyPublicKey('ecdsa', `0x${'00'.repeat(31)}01`))).toBe(
      '0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8',
    );
  });

  it('agrees with node:crypto key objects (a second native route)', () => {
    const seed = hexToBytes('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
    const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({
      format: 'der',
      type: 'spki',
    });
    expect(bytesToHex(vllmProxyPublicKey('ed25519', seed))).toBe(bytesToHex(spki.subarray(-32)));
    const scalar = hexToBytes('c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721');
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(scalar);
    expect(bytesToHex(vllmProxyPublicKey('ecdsa', scalar))).toBe(ecdh.getPublicKey('hex', 'uncompressed'));
  });

  it('refuses invalid keys with ERR_KEY_INVALID and unknown algorithms with TypeError', () => {
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return TeeSigningError.isInstance(error) ? error.code : (error as Error).name;
      }
      return 'no error';
    };
    expect(codeOf(() => vllmProxyPublicKey('ecdsa', new Uint8Array(32)))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => vllmProxyPublicKey('ecdsa', 'ff'.repeat(32)))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => vllmProxyPublicKey('ed25519', new Uint8Array(31)))).toBe('ERR_KEY_INVALID');
    expect(codeOf(() => vllmProxyPublicKey('rsa' as 'ecdsa', new Uint8Array(32)))).toBe('TypeError');
  });
});
