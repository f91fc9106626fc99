import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import { edPublicToX25519 } from '@confidential-ai/test-kit';
import { fc, test as propertyTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../test/error-code.js';
import vectors from '../test/vectors/field-cipher.json' with { type: 'json' };
import { signingAddress } from './address.js';
import { VeniceE2eeError } from './errors.js';
import {
  createFieldEncryptor,
  decryptField,
  deriveFieldKey,
  encryptField,
  encryptFieldBytes,
  generateFieldKeyPair,
  getFieldPublicKey,
  looksLikeCiphertext,
  parsePackedField,
} from './field-cipher.js';
import {
  ed25519PublicKeyToX25519,
  fieldCipherBackends,
  normalizeSecp256k1PublicKey,
  secp256k1PointToUncompressed,
} from './key-agreement.js';
import { buildRequestAad, buildResponseAad, fieldSuiteForAlgo, vllmE2eeErrorType } from './vllm-e2ee.js';

const modes = [
  { name: 'native', native: true },
  { name: 'pure', native: false },
] as const;

describe.each(modes)('secp256k1 vectors ($name)', ({ native }) => {
  for (const vector of vectors.secp256k1) {
    it(vector.name, () => {
      const recipient = hexToBytes(vector.recipientPrivateKey);
      expect(bytesToHex(getFieldPublicKey(recipient))).toBe(vector.recipientPublicKey);
      const key = deriveFieldKey(hexToBytes(vector.ephemeralPrivateKey), vector.recipientPublicKey, {
        native,
      });
      expect(bytesToHex(key)).toBe(vector.aesKey);
      const packed = encryptField(vector.plaintext, vector.recipientPublicKey, {
        native,
        ephemeralPrivateKey: hexToBytes(vector.ephemeralPrivateKey),
        nonce: hexToBytes(vector.nonce),
        info: vector.info,
      });
      expect(packed).toBe(vector.packed);
      expect(decryptField(vector.packed, recipient, { native })).toBe(vector.plaintext);
      // the receiving side derives the same key from the prefix
      const field = parsePackedField(vector.packed);
      expect(bytesToHex(deriveFieldKey(recipient, field.ephemeralPublicKey, { native }))).toBe(vector.aesKey);
    });
  }

  it('shared X equals node:crypto ECDH for the vectors', () => {
    for (const vector of vectors.secp256k1) {
      const ecdh = createECDH('secp256k1');
      ecdh.setPrivateKey(Buffer.from(vector.ephemeralPrivateKey, 'hex'));
      expect(ecdh.computeSecret(Buffer.from(vector.recipientPublicKey, 'hex')).toString('hex')).toBe(
        vector.sharedX,
      );
    }
  });
});

describe('signing address', () => {
  it('matches the published address of private key 1', () => {
    for (const vector of vectors.signingAddress) {
      expect(signingAddress(getFieldPublicKey(hexToBytes(vector.privateKey)))).toBe(vector.address);
    }
  });
});

describe('cross-check with node:crypto', () => {
  propertyTest.prop([fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean()], { numRuns: 60 })(
    'secp256k1 pure encrypt decrypts with node ECDH + hkdfSync + aes-256-gcm',
    (plaintext, withAad) => {
      const ecdh = createECDH('secp256k1');
      ecdh.generateKeys();
      const aad = withAad ? 'v2|req|algo=ecdsa|model=m|m=0|c=-|n=0123456789abcdef|ts=1' : undefined;
      const packed = hexToBytes(
        encryptField(plaintext, new Uint8Array(ecdh.getPublicKey()), {
          native: false,
          ...(aad ? { aad } : {}),
        }),
      );
      const secret = ecdh.computeSecret(packed.subarray(0, 65));
      const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'ecdsa_encryption', 32));
      const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(65, 77));
      if (aad) decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(packed.subarray(packed.length - 16));
      const out = Buffer.concat([decipher.update(packed.subarray(77, packed.length - 16)), decipher.final()]);
      expect(new Uint8Array(out)).toEqual(plaintext);
    },
  );

  propertyTest.prop([fc.string({ maxLength: 200 })], { numRuns: 60 })(
    'node-built secp256k1 field decrypts with the pure implementation',
    (text) => {
      const recipient = generateFieldKeyPair();
      const ephemeral = createECDH('secp256k1');
      ephemeral.generateKeys();
      const secret = ephemeral.computeSecret(Buffer.from(recipient.publicKey));
      const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'ecdsa_encryption', 32));
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      const packed = Buffer.concat([ephemeral.getPublicKey(), nonce, body]).toString('hex');
      expect(decryptField(packed, recipient.privateKey, { native: false })).toBe(text);
      expect(decryptField(packed, recipient.privateKey, { native: true })).toBe(text);
    },
  );

  it('ed25519 suite matches node X25519 with an independent Edwards-to-Montgomery map', () => {
    for (let round = 0; round < 10; round++) {
      const server = generateFieldKeyPair('ed25519');
      // u = (1 + y) / (1 - y) mod p, computed with BigInt only
      const u = edPublicToX25519(server.publicKey);
      expect(Buffer.from(ed25519PublicKeyToX25519(server.publicKey)).equals(u)).toBe(true);

      const aad = buildRequestAad({
        algo: 'ed25519',
        model: 'test-model',
        messageIndex: round,
        nonce: 'abcdefghijklmnop',
        timestamp: 1_700_000_000,
      });
      const packed = hexToBytes(
        encryptField(`message ${round}`, server.publicKey, { suite: 'ed25519', aad }),
      );
      // server side with node:crypto: X25519 private = SHA-512(seed)[0..32] (node clamps)
      const d = createHash('sha512').update(server.privateKey).digest().subarray(0, 32);
      const privateKey = createPrivateKey({
        key: { kty: 'OKP', crv: 'X25519', d: d.toString('base64url'), x: u.toString('base64url') },
        format: 'jwk',
      });
      const publicKey = createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(packed.subarray(0, 32)).toString('base64url') },
        format: 'jwk',
      });
      const shared = diffieHellman({ privateKey, publicKey });
      const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'ed25519_encryption', 32));
      const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(32, 44));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(packed.subarray(packed.length - 16));
      const out = Buffer.concat([decipher.update(packed.subarray(44, packed.length - 16)), decipher.final()]);
      expect(out.toString('utf8')).toBe(`message ${round}`);
      expect(decryptField(bytesToHex(packed), server.privateKey, { suite: 'ed25519', aad })).toBe(
        `message ${round}`,
      );
    }
  });
});

describe('round trips and failures', () => {
  const fuzzKey = generateFieldKeyPair();
  propertyTest.prop([fc.string(), fc.constantFrom('secp256k1' as const, 'ed25519' as const), fc.boolean()], {
    numRuns: 60,
  })('decrypt(encrypt(x)) = x for both suites and backends', (text, suite, native) => {
    const recipient = generateFieldKeyPair(suite);
    const hex = encryptField(text, recipient.publicKey, { suite, native });
    expect(hex).toMatch(/^[0-9a-f]+$/);
    expect(decryptField(hex, recipient.privateKey, { suite, native: !native })).toBe(text);
  });

  propertyTest.prop([fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat({ max: 7 })], {
    numRuns: 60,
  })(
    'flipping any bit of nonce, ciphertext or tag raises ERR_FIELD_DECRYPT_FAILED; of the key, a typed error',
    (text, position, bit) => {
      const recipient = generateFieldKeyPair();
      const bytes = hexToBytes(encryptField(text, recipient.publicKey));
      const index = position % bytes.length;
      bytes[index]! ^= 1 << bit;
      const code = codeOf(() => decryptField(bytes, recipient.privateKey));
      if (index >= 65) expect(code).toBe('ERR_FIELD_DECRYPT_FAILED');
      else expect(['ERR_FIELD_MALFORMED', 'ERR_FIELD_DECRYPT_FAILED']).toContain(code);
    },
  );

  it('wrong key, wrong info and wrong AAD fail with ERR_FIELD_DECRYPT_FAILED', () => {
    const recipient = generateFieldKeyPair();
    const other = generateFieldKeyPair();
    const hex = encryptField('secret', recipient.publicKey, { aad: 'a' });
    expect(codeOf(() => decryptField(hex, other.privateKey, { aad: 'a' }))).toBe('ERR_FIELD_DECRYPT_FAILED');
    expect(codeOf(() => decryptField(hex, recipient.privateKey, { aad: 'b' }))).toBe(
      'ERR_FIELD_DECRYPT_FAILED',
    );
    expect(codeOf(() => decryptField(hex, recipient.privateKey))).toBe('ERR_FIELD_DECRYPT_FAILED');
    expect(codeOf(() => decryptField(hex, recipient.privateKey, { aad: 'a', info: 'other' }))).toBe(
      'ERR_FIELD_DECRYPT_FAILED',
    );
    expect(decryptField(hex, recipient.privateKey, { aad: 'a' })).toBe('secret');
  });

  it('strict parsing: hex, length, prefix, point, UTF-8', () => {
    const recipient = generateFieldKeyPair();
    const good = encryptField('x', recipient.publicKey);
    const reason = (value: string) => {
      try {
        decryptField(value, recipient.privateKey);
      } catch (error) {
        return VeniceE2eeError.isInstance(error)
          ? `${error.code}:${String(error.details?.['reason'])}`
          : 'other';
      }
      return 'ok';
    };
    expect(reason(`0x${good}`)).toBe('ERR_FIELD_MALFORMED:hex');
    expect(reason(` ${good}`)).toBe('ERR_FIELD_MALFORMED:hex');
    expect(reason(`${good}0`)).toBe('ERR_FIELD_MALFORMED:hex');
    expect(reason('hello world')).toBe('ERR_FIELD_MALFORMED:hex');
    expect(reason(good.slice(0, 184))).toBe('ERR_FIELD_MALFORMED:length');
    expect(reason(`05${good.slice(2)}`)).toBe('ERR_FIELD_MALFORMED:prefix');
    expect(reason(`04${'00'.repeat(64)}${good.slice(130)}`)).toBe('ERR_FIELD_MALFORMED:point');
    const notUtf8 = encryptField(Uint8Array.of(0xff, 0xfe), recipient.publicKey);
    expect(codeOf(() => decryptField(notUtf8, recipient.privateKey))).toBe('ERR_FIELD_NOT_UTF8');
    // an empty plaintext is the minimum 186-character field
    const empty = encryptField('', recipient.publicKey);
    expect(empty).toHaveLength(186);
    expect(decryptField(empty, recipient.privateKey)).toBe('');
    // ed25519: low-order ephemeral key
    const server = generateFieldKeyPair('ed25519');
    const lowOrder = `${'00'.repeat(32)}${'11'.repeat(12)}${'22'.repeat(16)}`;
    expect(codeOf(() => decryptField(lowOrder, server.privateKey, { suite: 'ed25519' }))).toBe(
      'ERR_FIELD_MALFORMED',
    );
    expect(codeOf(() => decryptField('00'.repeat(59), server.privateKey, { suite: 'ed25519' }))).toBe(
      'ERR_FIELD_MALFORMED',
    );
  });

  propertyTest.prop(
    [fc.oneof(fc.string({ maxLength: 400 }), fc.uint8Array({ maxLength: 200 }).map(bytesToHex))],
    {
      numRuns: 300,
    },
  )('fuzz: arbitrary input never escapes as an untyped error', (input) => {
    for (const suite of ['secp256k1', 'ed25519'] as const) {
      try {
        decryptField(input, fuzzKey.privateKey, { suite });
        throw new Error('unexpected success');
      } catch (error) {
        expect(VeniceE2eeError.isInstance(error)).toBe(true);
      }
    }
  });

  propertyTest.prop([fc.uint8Array({ minLength: 93, maxLength: 200 })], { numRuns: 60 })(
    'fuzz: random packed bytes with a valid prefix fail closed',
    (bytes) => {
      const recipient = generateFieldKeyPair();
      const input = Uint8Array.from(bytes);
      input.set(generateFieldKeyPair().publicKey, 0);
      expect(codeOf(() => decryptField(input, recipient.privateKey))).toBe('ERR_FIELD_DECRYPT_FAILED');
    },
  );

  it('key normalisation accepts compressed, raw and uncompressed forms and rejects the rest', () => {
    const pair = generateFieldKeyPair();
    const full = bytesToHex(pair.publicKey);
    const compressed = createECDH('secp256k1');
    compressed.setPrivateKey(Buffer.from(pair.privateKey));
    const forms = [
      full,
      `0x${full}`,
      full.slice(2),
      compressed.getPublicKey('hex', 'compressed'),
      full.toUpperCase(),
    ];
    for (const form of forms) expect(bytesToHex(normalizeSecp256k1PublicKey(form))).toBe(full);
    for (const bad of [
      '',
      '04',
      `05${full.slice(2)}`,
      `04${'00'.repeat(64)}`,
      'zz',
      full.slice(0, 128) + 'ff',
    ]) {
      expect(codeOf(() => normalizeSecp256k1PublicKey(bad))).toBe('ERR_KEY_INVALID');
    }
    expect(codeOf(() => encryptField('x', 'not a key'))).toBe('ERR_KEY_INVALID');
  });

  propertyTest.prop(
    [
      fc.oneof(
        fc
          .uint8Array({ minLength: 32, maxLength: 32 })
          .filter((seed) => seed.some((byte) => byte !== 0))
          .map((seed) => generateFieldKeyPair('secp256k1', () => seed.slice()).publicKey),
        fc
          .uint8Array({ minLength: 65, maxLength: 65 })
          .map((bytes) => Uint8Array.of(4, ...bytes.subarray(1))),
        fc
          .uint8Array({ minLength: 33, maxLength: 33 })
          .map((bytes) => Uint8Array.of(2 + (bytes[0]! & 1), ...bytes.subarray(1))),
        fc
          .uint8Array({ minLength: 33, maxLength: 33 })
          .map((bytes) =>
            Uint8Array.of(2, ...new Uint8Array(32).fill(0xff).map((v, i) => (i < 28 ? v : bytes[i]!))),
          ),
        fc.uint8Array({ minLength: 65, maxLength: 65 }),
        fc.uint8Array({ minLength: 33, maxLength: 33 }),
      ),
      fc.constantFrom('uncompressed', 'compressed', 'as is'),
    ],
    { numRuns: 300 },
  )('libsecp256k1 and noble normalise the same points and reject the same bytes', (candidate, form) => {
    let input = candidate;
    if (form !== 'as is' && candidate.length === 65 && candidate[0] === 4) {
      try {
        const point = secp256k1PointToUncompressed(candidate, 'noble');
        if (form === 'compressed') input = Uint8Array.of(2 + (point[64]! & 1), ...point.subarray(1, 33));
      } catch {
        // not a point: tried as is
      }
    }
    const outcome = (backend: 'libsecp256k1' | 'noble') => {
      try {
        return bytesToHex(secp256k1PointToUncompressed(input, backend));
      } catch (error) {
        return `error ${(error as { code?: string }).code}`;
      }
    };
    expect(fieldCipherBackends().secp256k1PublicKeys).toBe('libsecp256k1');
    expect(outcome('libsecp256k1')).toBe(outcome('noble'));
  });

  it('looksLikeCiphertext follows the D3 pass-through rule', () => {
    const pair = generateFieldKeyPair();
    expect(looksLikeCiphertext(encryptField('', pair.publicKey))).toBe(true);
    expect(looksLikeCiphertext('hello')).toBe(false);
    expect(looksLikeCiphertext(`05${'0'.repeat(200)}`)).toBe(false);
    expect(looksLikeCiphertext(`04${'g'.repeat(200)}`)).toBe(false);
  });

  it('maps vllm-proxy algos and error types', () => {
    expect(fieldSuiteForAlgo(' ECDSA ')).toBe('secp256k1');
    expect(fieldSuiteForAlgo('ed25519')).toBe('ed25519');
    expect(fieldSuiteForAlgo('rsa')).toBeUndefined();
    const pair = generateFieldKeyPair();
    const typeOf = (value: string) => {
      try {
        decryptField(value, pair.privateKey);
      } catch (error) {
        return vllmE2eeErrorType(error);
      }
      return 'ok';
    };
    expect(typeOf('00')).toBe('e2ee_decryption_failed');
    expect(typeOf('zz')).toBe('invalid_e2ee_request');
    expect(typeOf(encryptField('x', generateFieldKeyPair().publicKey))).toBe('e2ee_decryption_failed');
    expect(typeOf(`04${'00'.repeat(64)}${'00'.repeat(40)}`)).toBe('invalid_e2ee_request');
    expect(typeOf(encryptField(Uint8Array.of(0xff), pair.publicKey))).toBe('invalid_e2ee_request');
    expect(vllmE2eeErrorType(new Error('x'))).toBeUndefined();
    // vllm-proxy publishes ECDSA keys as 64-byte X || Y hex without 04
    const raw = bytesToHex(pair.publicKey).slice(2);
    expect(decryptField(encryptField('raw key', raw), pair.privateKey)).toBe('raw key');
  });

  it('a reusable encryptor derives once and produces fresh nonces', () => {
    const client = generateFieldKeyPair('ed25519');
    const encryptor = createFieldEncryptor(client.publicKey, { suite: 'ed25519' });
    const aad = buildResponseAad({
      algo: 'ed25519',
      model: 'm',
      id: 'chatcmpl-1',
      choice: 0,
      field: 'content',
      nonce: 'abcdefghijklmnop',
      timestamp: '1',
    });
    expect(aad).toBe(
      'v2|resp|algo=ed25519|model=m|id=chatcmpl-1|choice=0|field=content|n=abcdefghijklmnop|ts=1',
    );
    const a = encryptor.encrypt('one', aad);
    const b = encryptor.encrypt('one', aad);
    expect(a.slice(0, 64)).toBe(b.slice(0, 64));
    expect(a).not.toBe(b);
    expect(decryptField(a, client.privateKey, { suite: 'ed25519', aad })).toBe('one');
    const ecdsaClient = generateFieldKeyPair();
    const ecdsa = createFieldEncryptor(ecdsaClient.publicKey);
    expect(decryptField(ecdsa.encrypt('two'), ecdsaClient.privateKey)).toBe('two');
    expect(
      buildRequestAad({
        algo: 'ecdsa',
        model: 'm',
        messageIndex: 2,
        contentIndex: 1,
        nonce: 'n',
        timestamp: 5,
      }),
    ).toBe('v2|req|algo=ecdsa|model=m|m=2|c=1|n=n|ts=5');
  });
  propertyTest.prop(
    [
      fc.oneof(
        fc.string({ maxLength: 300, unit: 'binary' }),
        fc.string({
          maxLength: 60,
          unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
        }),
        fc.uint8Array({ maxLength: 300 }),
      ),
      fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 64 })), {
        nil: undefined,
      }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.constantFrom('secp256k1' as const, 'ed25519' as const),
    ],
    { numRuns: 150 },
  )(
    "the encryptor's node:crypto hex path gives the pure path's bytes (strings with lone surrogates, bytes, AAD)",
    (plaintext, aad, nonce, suite) => {
      const fixedKey =
        suite === 'ed25519' ? new Uint8Array(32).fill(9) : Uint8Array.from({ length: 32 }, (_, i) => i + 1);
      const recipient = generateFieldKeyPair(suite, () => new Uint8Array(32).fill(5)).publicKey;
      const options = { suite, ephemeralPrivateKey: fixedKey, random: () => nonce.slice() };
      const fast = createFieldEncryptor(recipient, options).encrypt(plaintext, aad);
      const pure = createFieldEncryptor(recipient, { ...options, native: false }).encrypt(plaintext, aad);
      expect(fast).toBe(pure);
      // and against the one-shot encryptFieldBytes (TextEncoder for strings, then the package's bytesToHex)
      expect(fast).toBe(
        bytesToHex(
          encryptFieldBytes(plaintext, recipient, {
            suite,
            ephemeralPrivateKey: fixedKey,
            nonce,
            ...(aad === undefined ? {} : { aad }),
          }),
        ),
      );
    },
  );
  it('encryptor nonces stay unique across nonce-pool refills, and the native and pure paths agree', () => {
    const client = generateFieldKeyPair();
    const ephemeralPrivateKey = generateFieldKeyPair().privateKey;
    const native = createFieldEncryptor(client.publicKey, { ephemeralPrivateKey });
    const pure = createFieldEncryptor(client.publicKey, { ephemeralPrivateKey, native: false });
    const nonces = new Set<string>();
    // 1000 fields cross the 4 KiB pool (341 nonces) twice.
    for (let index = 0; index < 1000; index++) {
      const aad = `v2|resp|field=${index}`;
      const packed = native.encrypt(`token ${index}`, aad);
      const nonceHex = packed.slice(130, 154);
      expect(nonceHex).not.toBe('0'.repeat(24));
      nonces.add(nonceHex);
      expect(decryptField(packed, client.privateKey, { aad })).toBe(`token ${index}`);
      expect(decryptField(packed, client.privateKey, { aad, native: false })).toBe(`token ${index}`);
    }
    expect(nonces.size).toBe(1000);
    // With the same nonce (an injected source), the KeyObject path gives the pure path's bytes.
    const fixed = () => Uint8Array.from({ length: 12 }, (_, i) => i);
    const a = createFieldEncryptor(client.publicKey, { ephemeralPrivateKey, random: fixed });
    const b = createFieldEncryptor(client.publicKey, { ephemeralPrivateKey, random: fixed, native: false });
    expect(a.encrypt('same bytes', 'aad')).toBe(b.encrypt('same bytes', 'aad'));
    expect(pure.ephemeralPublicKey).toEqual(native.ephemeralPublicKey);
  });
});
