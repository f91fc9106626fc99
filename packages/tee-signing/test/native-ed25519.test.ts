import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { createVllmProxySigner, ed25519SignText, ed25519VerifyText } from '../src/index.js';

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
