import * as nodeCrypto from 'node:crypto';
import { bytesToBase64 } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { createMlKem768 } from 'mlkem';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Backend,
  beginStream,
  chacha20Poly1305Open,
  chacha20Poly1305Seal,
  decapsulate,
  encapsulate,
  generateKeyPair,
  hkdfSha256,
  nativeSupport,
  openRequest,
  openResponse,
  openStreamChunk,
  openStreamInit,
  sealRequest,
  sealResponse,
  sealStreamChunk,
} from '../src/index.js';
import { seededRandom, support } from './helpers.js';

type MlKem = Awaited<ReturnType<typeof createMlKem768>>;
let mlkem: MlKem;
beforeAll(async () => {
  mlkem = await createMlKem768();
});

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const runs = { numRuns: 25 };

describe('native support detection', () => {
  it('reports what this runtime has', () => {
    const info = nativeSupport();
    expect(info.chacha20Poly1305).toBe(true);
    expect(info.hkdf).toBe(true);
    expect(info.gzip).toBe(true);
    const hasKem = typeof (nodeCrypto as { encapsulate?: unknown }).encapsulate === 'function';
    expect(info.mlKem768).toBe(hasKem);
  });

  it.skipIf(support.mlKem768)('native ML-KEM is refused cleanly where it is missing', () => {
    expect(() => generateKeyPair(undefined, { backend: 'native' })).toThrow(/not available/);
  });
});

describe('ML-KEM-768: ours (js, auto/native) against the mlkem package', () => {
  test.prop([bytes(64), bytes(32)], runs)(
    'keygen, encapsulation and decapsulation agree byte for byte',
    (seed, m) => {
      const [pk, sk] = mlkem.deriveKeyPair(seed);
      const results = (['js', 'auto'] as Backend[]).map((backend) => generateKeyPair(seed, { backend }));
      for (const pair of results) {
        expect(pair.publicKey).toEqual(pk);
        expect(pair.secretKey).toEqual(sk);
      }
      const [ct, ss] = mlkem.encap(pk, m);
      const ours = encapsulate(pk, { random: () => m });
      expect(ours.ciphertext).toEqual(ct);
      expect(ours.sharedSecret).toEqual(ss);
      for (const backend of ['js', 'auto'] as Backend[]) expect(decapsulate(ct, sk, { backend })).toEqual(ss);
      // Implicit rejection: a modified ciphertext gives the same pseudo-random secret everywhere.
      const bad = ct.slice();
      bad[m[0]! % bad.length]! ^= 1 << (m[1]! % 8);
      const rejected = mlkem.decap(bad, sk);
      expect(rejected).not.toEqual(ss);
      for (const backend of ['js', 'auto'] as Backend[])
        expect(decapsulate(bad, sk, { backend })).toEqual(rejected);
    },
  );

  test.prop([bytes(64)], runs)('random encapsulations interoperate across implementations', (seed) => {
    const { publicKey, secretKey } = generateKeyPair(seed, { backend: 'js' });
    const fromOurs = encapsulate(publicKey); // native on Node >= 24.7
    expect(mlkem.decap(fromOurs.ciphertext, secretKey)).toEqual(fromOurs.sharedSecret);
    const [ct, ss] = mlkem.encap(publicKey);
    expect(decapsulate(ct, secretKey)).toEqual(ss);
    const generated = generateKeyPair(); // native generator on Node >= 24.7
    const [ct2, ss2] = mlkem.encap(generated.publicKey);
    expect(decapsulate(ct2, generated.secretKey, { backend: 'js' })).toEqual(ss2);
    expect(mlkem.decap(ct2, generated.secretKey)).toEqual(ss2);
  });
});

describe.runIf(support.mlKem768)('ML-KEM-768: ours against node:crypto directly (Node >= 24.7)', () => {
  type KemCrypto = typeof nodeCrypto & {
    encapsulate: (key: nodeCrypto.KeyObject) => { sharedKey: Buffer; ciphertext: Buffer };
    decapsulate: (key: nodeCrypto.KeyObject, ct: Uint8Array) => Buffer;
  };
  const native = nodeCrypto as KemCrypto;

  test.prop([bytes(64)], runs)('seeded keys, encapsulation and decapsulation agree', (seed) => {
    const privateKey = native.createPrivateKey({
      key: Buffer.from(seed),
      format: 'raw-seed',
      asymmetricKeyType: 'ml-kem-768',
    } as never);
    const publicKey = native.createPublicKey(privateKey);
    const ours = generateKeyPair(seed, { backend: 'js' });
    expect(new Uint8Array(publicKey.export({ format: 'raw-public' } as never) as unknown as Buffer)).toEqual(
      ours.publicKey,
    );
    const { sharedKey, ciphertext } = native.encapsulate(publicKey);
    expect(decapsulate(ciphertext, ours.secretKey, { backend: 'js' })).toEqual(new Uint8Array(sharedKey));
    expect(decapsulate(ciphertext, ours.secretKey, { backend: 'native' })).toEqual(new Uint8Array(sharedKey));
    const mine = encapsulate(ours.publicKey, { backend: 'js' });
    expect(new Uint8Array(native.decapsulate(privateKey, mine.ciphertext))).toEqual(mine.sharedSecret);
  });

  it('rejects the same malformed secret keys as the pure path', () => {
    const { secretKey } = generateKeyPair(new Uint8Array(64).fill(1), { backend: 'js' });
    const ciphertext = new Uint8Array(1088).fill(3);
    const tamper = (offset: number, value: number) => {
      const copy = secretKey.slice();
      copy[offset] = value;
      return copy;
    };
    // s not reduced, ek not reduced, H(ek) wrong; z changes are legal.
    const cases = [tamper(1, 0xff), tamper(1152 + 1, 0xff), tamper(2340, secretKey[2340]! ^ 1)];
    for (const key of cases) {
      for (const backend of ['js', 'native'] as Backend[]) {
        expect(() => decapsulate(ciphertext, key, { backend })).toThrow(/decapsulation key/);
      }
    }
    const z = tamper(2390, secretKey[2390]! ^ 1);
    expect(decapsulate(ciphertext, z, { backend: 'native' })).toEqual(
      decapsulate(ciphertext, z, { backend: 'js' }),
    );
  });

  it('re-imports a key whose bytes changed in place (no stale native key)', () => {
    const a = generateKeyPair(new Uint8Array(64).fill(5), { backend: 'js' });
    const b = generateKeyPair(new Uint8Array(64).fill(6), { backend: 'js' });
    const key = a.secretKey.slice();
    const enc = encapsulate(b.publicKey);
    const first = decapsulate(enc.ciphertext, key, { backend: 'native' });
    key.set(b.secretKey);
    expect(decapsulate(enc.ciphertext, key, { backend: 'native' })).toEqual(enc.sharedSecret);
    expect(first).not.toEqual(enc.sharedSecret);
  });
});

describe('ChaCha20-Poly1305 and HKDF: pure and native are byte-identical', () => {
  test.prop([bytes(32), bytes(12), fc.uint8Array({ maxLength: 2000 }), fc.uint8Array({ maxLength: 64 })], {
    numRuns: 100,
  })('seal and open', (key, nonce, plaintext, aad) => {
    const pure = chacha20Poly1305Seal(key, nonce, plaintext, aad, { backend: 'js' });
    const native = chacha20Poly1305Seal(key, nonce, plaintext, aad, { backend: 'native' });
    expect(pure).toEqual(native);
    const cipher = nodeCrypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    if (aad.length > 0) cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const reference = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    expect(pure).toEqual(new Uint8Array(reference));
    expect(chacha20Poly1305Open(key, nonce, native, aad, { backend: 'js' })).toEqual(plaintext);
    expect(chacha20Poly1305Open(key, nonce, pure, aad, { backend: 'native' })).toEqual(plaintext);
  });

  test.prop(
    [
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ maxLength: 100 }),
      fc.uint8Array({ maxLength: 100 }),
      fc.integer({ min: 1, max: 255 * 32 }),
    ],
    {
      numRuns: 100,
    },
  )('hkdf', (ikm, salt, info, length) => {
    expect(hkdfSha256(ikm, salt, info, length, { backend: 'js' })).toEqual(
      hkdfSha256(ikm, salt, info, length, { backend: 'native' }),
    );
  });
});

describe('protocol: every backend opens what every other backend sealed', () => {
  const all: Backend[] = ['js', 'auto', ...(support.mlKem768 ? (['native'] as Backend[]) : [])];
  const instance = generateKeyPair(new Uint8Array(64).fill(9), { backend: 'js' });

  it.each(all.flatMap((a) => all.map((b) => [a, b] as const)))(
    'sealed with %s, opened with %s',
    (sealer, opener) => {
      const { blob, responseKeyPair } = sealRequest(
        instance.publicKey,
        { model: 'm', n: [1, 2] },
        { backend: sealer },
      );
      const request = openRequest(blob, instance.secretKey, { backend: opener });
      expect(request.payload).toEqual({ model: 'm', n: [1, 2] });
      const reply = sealResponse('{"ok":1}', request.responsePublicKey, { backend: opener });
      expect(openResponse(reply, responseKeyPair.secretKey, { backend: sealer })).toEqual({ ok: 1 });
      const { init, streamKey } = beginStream(request.responsePublicKey, { backend: opener });
      const key = openStreamInit(bytesToBase64(init), responseKeyPair.secretKey, { backend: sealer });
      expect(key).toEqual(streamKey);
      const chunk = sealStreamChunk('data: [DONE]\n', streamKey, { backend: opener });
      expect(openStreamChunk(chunk, key, { backend: sealer })).toBe('data: [DONE]\n');
    },
  );

  it('with injected randomness, js and auto produce the same KEM ciphertext, nonce, keys and chunks', () => {
    const a = sealRequest(instance.publicKey, { model: 'm' }, { backend: 'js', random: seededRandom(11) });
    const b = sealRequest(instance.publicKey, { model: 'm' }, { backend: 'auto', random: seededRandom(11) });
    expect(a.responseKeyPair).toEqual(b.responseKeyPair);
    // KEM ciphertext and nonce are identical; the gzip bytes may come from different DEFLATE encoders.
    expect(a.blob.subarray(0, 1100)).toEqual(b.blob.subarray(0, 1100));
    expect(openRequest(a.blob, instance.secretKey).payload).toEqual(
      openRequest(b.blob, instance.secretKey).payload,
    );
    const responseA = sealResponse('{}', a.responseKeyPair.publicKey, {
      backend: 'js',
      random: seededRandom(12),
    });
    const responseB = sealResponse('{}', a.responseKeyPair.publicKey, {
      backend: 'auto',
      random: seededRandom(12),
    });
    expect(responseA.subarray(0, 1100)).toEqual(responseB.subarray(0, 1100));
    const streamA = beginStream(a.responseKeyPair.publicKey, { backend: 'js', random: seededRandom(13) });
    const streamB = beginStream(a.responseKeyPair.publicKey, { backend: 'auto', random: seededRandom(13) });
    expect(streamA).toEqual(streamB);
    const chunkA = sealStreamChunk('data: x\n', streamA.streamKey, {
      backend: 'js',
      random: seededRandom(14),
    });
    const chunkB = sealStreamChunk('data: x\n', streamA.streamKey, {
      backend: 'native',
      random: seededRandom(14),
    });
    expect(chunkA).toEqual(chunkB);
  });
});
