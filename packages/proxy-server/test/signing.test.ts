import {
  createVllmProxySigner,
  ed25519VerifyText,
  recoverPersonalSignAddress,
} from '@confidential-ai/tee-signing';
import { describe, expect, it } from 'vitest';
import { createModelKeys } from '../src/keys.js';
import { createResponseSigner } from '../src/signing.js';

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

  it('a seed gives stable keys; no seed gives fresh keys', () => {
    const seed = '22'.repeat(32);
    expect(createResponseSigner(createModelKeys({ seed })).ecdsaAddress).toBe(
      createResponseSigner(createModelKeys({ seed })).ecdsaAddress,
    );
    expect(createModelKeys().ecdsa.publicKey).not.toEqual(createModelKeys().ecdsa.publicKey);
    expect(() => createModelKeys({ seed: 'ab' })).toThrow(RangeError);
  });
});
