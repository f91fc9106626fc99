import { createHash } from 'node:crypto';
import { base64ToBytes, bytesToBase64, utf8ToBytes } from '@confidential-ai/bytes';
import { describe, expect, it } from 'vitest';
import {
  chacha20Poly1305Open,
  chacha20Poly1305Seal,
  decapsulate,
  deriveKey,
  encapsulate,
  generateKeyPair,
  hkdfSha256,
  isValidPublicKey,
  openStreamChunk,
  REQUEST_INFO,
  RESPONSE_INFO,
  STREAM_INFO,
  sealStreamChunk,
} from '../src/index.js';
import { backends, codeOf, hex, scripted, symmetricBackends, toHex, vector } from './helpers.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface CrossVector {
  keySeedHex: string;
  encapsulationRandomnessHex: string;
  publicKeySha256: string;
  publicKeyBase64Length: number;
  publicKeyBase64Prefix: string;
  secretKeySha256: string;
  ciphertextSha256: string;
  ciphertextBase64Length: number;
  saltHex: string;
  sharedSecretHex: string;
  requestKeyHex: string;
  responseKeyHex: string;
  streamKeyHex: string;
  streamChunk: {
    nonceHex: string;
    plaintext: string;
    plaintextLength: number;
    sealedHex: string;
    eventValueBase64: string;
  };
}

const cross = vector<CrossVector>('chutes-cross-implementation.json');

describe.each(backends)('spec 10.2 cross-implementation vector (backend %s)', (backend) => {
  const seed = hex(cross.keySeedHex);
  const m = hex(cross.encapsulationRandomnessHex);

  it('derives the key pair from the seed', () => {
    const { publicKey, secretKey } = generateKeyPair(seed, { backend });
    expect(publicKey.length).toBe(1184);
    expect(secretKey.length).toBe(2400);
    expect(sha256(publicKey)).toBe(cross.publicKeySha256);
    expect(sha256(secretKey)).toBe(cross.secretKeySha256);
    const encoded = bytesToBase64(publicKey);
    expect(encoded.length).toBe(cross.publicKeyBase64Length);
    expect(encoded.startsWith(cross.publicKeyBase64Prefix)).toBe(true);
  });

  it('encapsulates, decapsulates and derives the three keys', () => {
    const { publicKey, secretKey } = generateKeyPair(seed, { backend });
    // Injected randomness forces the pure ML-KEM path even under 'auto'; 'native' refuses it.
    const kemBackend = backend === 'native' ? 'auto' : backend;
    const { ciphertext, sharedSecret } = encapsulate(publicKey, { backend: kemBackend, random: scripted(m) });
    expect(sha256(ciphertext)).toBe(cross.ciphertextSha256);
    expect(bytesToBase64(ciphertext).length).toBe(cross.ciphertextBase64Length);
    expect(toHex(ciphertext.subarray(0, 16))).toBe(cross.saltHex);
    expect(toHex(sharedSecret)).toBe(cross.sharedSecretHex);
    expect(toHex(decapsulate(ciphertext, secretKey, { backend }))).toBe(cross.sharedSecretHex);
    expect(toHex(deriveKey(sharedSecret, ciphertext, REQUEST_INFO, { backend }))).toBe(cross.requestKeyHex);
    expect(toHex(deriveKey(sharedSecret, ciphertext, RESPONSE_INFO, { backend }))).toBe(cross.responseKeyHex);
    expect(toHex(deriveKey(sharedSecret, ciphertext, STREAM_INFO, { backend }))).toBe(cross.streamKeyHex);
  });

  it('seals and opens the stream chunk and its e2e event value', () => {
    const key = hex(cross.streamKeyHex);
    const { nonceHex, plaintext, plaintextLength, sealedHex, eventValueBase64 } = cross.streamChunk;
    expect(utf8ToBytes(plaintext).length).toBe(plaintextLength);
    const chunk = sealStreamChunk(plaintext, key, { backend, random: scripted(hex(nonceHex)) });
    expect(toHex(chunk.subarray(0, 12))).toBe(nonceHex);
    expect(toHex(chunk.subarray(12))).toBe(sealedHex);
    expect(bytesToBase64(chunk)).toBe(eventValueBase64);
    expect(openStreamChunk(eventValueBase64, key, { backend })).toBe(plaintext);
    expect(openStreamChunk(base64ToBytes(eventValueBase64), key, { backend })).toBe(plaintext);
  });
});

interface AcvpVectors {
  keyGen: { tcId: number; d: string; z: string; ek: string; dk: string }[];
  encapsulation: { tcId: number; ek: string; m: string; c: string; k: string }[];
  decapsulation: { tcId: number; dk: string; c: string; k: string }[];
  decapsulationKeyCheck: { tcId: number; dk: string; testPassed: boolean }[];
  encapsulationKeyCheck: { tcId: number; ek: string; testPassed: boolean }[];
}

const acvp = vector<AcvpVectors>('acvp-ml-kem-768.json');

describe.each(backends)('NIST ACVP ML-KEM-768 (backend %s)', (backend) => {
  it.each(acvp.keyGen.map((t) => [t.tcId, t] as const))('keyGen tcId %i', (_, t) => {
    const seed = new Uint8Array([...hex(t.d), ...hex(t.z)]);
    const { publicKey, secretKey } = generateKeyPair(seed, { backend });
    expect(toHex(publicKey)).toBe(t.ek.toLowerCase());
    expect(toHex(secretKey)).toBe(t.dk.toLowerCase());
  });

  it.each(acvp.encapsulation.map((t) => [t.tcId, t] as const))('encapsulation tcId %i', (_, t) => {
    const kemBackend = backend === 'native' ? 'auto' : backend;
    const result = encapsulate(hex(t.ek), { backend: kemBackend, random: scripted(hex(t.m)) });
    expect(toHex(result.ciphertext)).toBe(t.c.toLowerCase());
    expect(toHex(result.sharedSecret)).toBe(t.k.toLowerCase());
  });

  it.each(acvp.decapsulation.map((t) => [t.tcId, t] as const))('decapsulation tcId %i', (_, t) => {
    expect(toHex(decapsulate(hex(t.c), hex(t.dk), { backend }))).toBe(t.k.toLowerCase());
  });

  it.each(acvp.encapsulationKeyCheck.map((t) => [t.tcId, t] as const))(
    'encapsulationKeyCheck tcId %i',
    (_, t) => {
      const ek = hex(t.ek);
      expect(isValidPublicKey(ek)).toBe(t.testPassed);
      if (t.testPassed) expect(encapsulate(ek, { backend }).ciphertext.length).toBe(1088);
      else expect(codeOf(() => encapsulate(ek, { backend }))).toBe('ERR_KEY_INVALID');
    },
  );

  it.each(acvp.decapsulationKeyCheck.map((t) => [t.tcId, t] as const))(
    'decapsulationKeyCheck tcId %i',
    (_, t) => {
      const dk = hex(t.dk);
      const ciphertext = new Uint8Array(1088).fill(7);
      if (t.testPassed) expect(decapsulate(ciphertext, dk, { backend }).length).toBe(32);
      else expect(codeOf(() => decapsulate(ciphertext, dk, { backend }))).toBe('ERR_KEY_INVALID');
    },
  );
});

interface WycheproofKem {
  encapsulation: {
    tcId: number;
    comment?: string;
    ek: string;
    m: string;
    c: string;
    K: string;
    result: string;
  }[];
  decapsulation: {
    tcId: number;
    comment?: string;
    seed: string;
    ek: string;
    c: string;
    K: string;
    result: string;
  }[];
}

const wycheproofKem = vector<WycheproofKem>('wycheproof-ml-kem-768.json');

describe.each(backends)('Wycheproof ML-KEM-768 (backend %s)', (backend) => {
  it.each(wycheproofKem.encapsulation.map((t) => [t.tcId, t.comment ?? '', t] as const))(
    'encapsulation tcId %i %s',
    (_, __, t) => {
      const kemBackend = backend === 'native' ? 'auto' : backend;
      const ek = hex(t.ek);
      if (t.result === 'valid') {
        const result = encapsulate(ek, { backend: kemBackend, random: scripted(hex(t.m)) });
        expect(toHex(result.ciphertext)).toBe(t.c);
        expect(toHex(result.sharedSecret)).toBe(t.K);
      } else {
        expect(codeOf(() => encapsulate(ek, { backend: kemBackend, random: scripted(hex(t.m)) }))).toBe(
          'ERR_KEY_INVALID',
        );
        expect(codeOf(() => encapsulate(ek, { backend }))).toBe('ERR_KEY_INVALID');
      }
    },
  );

  it.each(wycheproofKem.decapsulation.map((t) => [t.tcId, t.comment ?? '', t] as const))(
    'decapsulation tcId %i %s',
    (_, __, t) => {
      const { publicKey, secretKey } = generateKeyPair(hex(t.seed), { backend });
      expect(toHex(publicKey)).toBe(t.ek);
      const c = hex(t.c);
      if (t.result === 'valid') expect(toHex(decapsulate(c, secretKey, { backend }))).toBe(t.K);
      else expect(codeOf(() => decapsulate(c, secretKey, { backend }))).toBe('ERR_WIRE_MALFORMED');
    },
  );
});

interface Rfc8439 {
  keyHex: string;
  nonceHex: string;
  aadHex: string;
  plaintext: string;
  ciphertextHex: string;
  tagHex: string;
}

interface WycheproofAead {
  tests: {
    tcId: number;
    comment: string;
    flags: string[];
    key: string;
    iv: string;
    aad: string;
    msg: string;
    ct: string;
    tag: string;
    result: string;
  }[];
}

const rfc8439 = vector<Rfc8439>('rfc8439-chacha20-poly1305.json');
const wycheproofAead = vector<WycheproofAead>('wycheproof-chacha20-poly1305.json');

describe.each(symmetricBackends)('ChaCha20-Poly1305 vectors (backend %s)', (backend) => {
  it('RFC 8439 section 2.8.2', () => {
    const key = hex(rfc8439.keyHex);
    const nonce = hex(rfc8439.nonceHex);
    const aad = hex(rfc8439.aadHex);
    const sealed = chacha20Poly1305Seal(key, nonce, utf8ToBytes(rfc8439.plaintext), aad, { backend });
    expect(toHex(sealed)).toBe(rfc8439.ciphertextHex + rfc8439.tagHex);
    const opened = chacha20Poly1305Open(key, nonce, sealed, aad, { backend });
    expect(new TextDecoder().decode(opened)).toBe(rfc8439.plaintext);
    expect(codeOf(() => chacha20Poly1305Open(key, nonce, sealed, new Uint8Array(0), { backend }))).toBe(
      'ERR_DECRYPT_FAILED',
    );
  });

  it.each(wycheproofAead.tests.map((t) => [t.tcId, t.flags.join(','), t] as const))(
    'Wycheproof tcId %i %s',
    (_, __, t) => {
      const key = hex(t.key);
      const nonce = hex(t.iv);
      const aad = hex(t.aad);
      const sealed = hex(t.ct + t.tag);
      if (t.flags.includes('InvalidNonceSize')) {
        expect(() => chacha20Poly1305Seal(key, nonce, hex(t.msg), aad, { backend })).toThrow(RangeError);
        expect(() => chacha20Poly1305Open(key, nonce, sealed, aad, { backend })).toThrow(RangeError);
        return;
      }
      if (t.result === 'valid') {
        expect(toHex(chacha20Poly1305Seal(key, nonce, hex(t.msg), aad, { backend }))).toBe(t.ct + t.tag);
        expect(toHex(chacha20Poly1305Open(key, nonce, sealed, aad, { backend }))).toBe(t.msg);
      } else {
        expect(codeOf(() => chacha20Poly1305Open(key, nonce, sealed, aad, { backend }))).toBe(
          'ERR_DECRYPT_FAILED',
        );
      }
    },
  );
});

interface Rfc5869 {
  tests: { name: string; ikmHex: string; saltHex: string; infoHex: string; length: number; okmHex: string }[];
}

interface WycheproofHkdf {
  tests: {
    tcId: number;
    ikm: string;
    salt: string;
    info: string;
    size: number;
    okm: string;
    result: string;
  }[];
}

const rfc5869 = vector<Rfc5869>('rfc5869-hkdf-sha256.json');
const wycheproofHkdf = vector<WycheproofHkdf>('wycheproof-hkdf-sha256.json');

describe.each(symmetricBackends)('HKDF-SHA256 vectors (backend %s)', (backend) => {
  it.each(rfc5869.tests.map((t) => [t.name, t] as const))('RFC 5869 %s', (_, t) => {
    const okm = hkdfSha256(hex(t.ikmHex), hex(t.saltHex), hex(t.infoHex), t.length, { backend });
    expect(toHex(okm)).toBe(t.okmHex);
  });

  it.each(wycheproofHkdf.tests.map((t) => [t.tcId, t] as const))('Wycheproof tcId %i', (_, t) => {
    if (t.result === 'valid') {
      expect(toHex(hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size, { backend }))).toBe(t.okm);
    } else {
      expect(() => hkdfSha256(hex(t.ikm), hex(t.salt), hex(t.info), t.size, { backend })).toThrow(RangeError);
    }
  });
});
