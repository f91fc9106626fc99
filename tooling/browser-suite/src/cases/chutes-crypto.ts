// chutes-crypto's own vectors (packages/chutes-crypto/test/vectors, provenance in its README), checked the way
// its vectors.test.ts checks them, with the `auto` backend: native where Node has it, pure JavaScript in browsers.
import { base64ToBytes, bytesToBase64, utf8ToBytes } from '@confidential-ai/bytes';
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
} from '@confidential-ai/chutes-crypto';
import {
  type CaseEnvironment,
  check,
  codeOf,
  hex,
  loadJson,
  type Outcome,
  scripted,
  sha256Hex,
  unhex,
} from './types.js';

const DIR = 'packages/chutes-crypto/test/vectors';

interface Cross {
  keySeedHex: string;
  encapsulationRandomnessHex: string;
  publicKeySha256: string;
  secretKeySha256: string;
  ciphertextSha256: string;
  sharedSecretHex: string;
  requestKeyHex: string;
  responseKeyHex: string;
  streamKeyHex: string;
  streamChunk: { nonceHex: string; plaintext: string; sealedHex: string; eventValueBase64: string };
}

interface Acvp {
  keyGen: { tcId: number; d: string; z: string; ek: string; dk: string }[];
  encapsulation: { tcId: number; ek: string; m: string; c: string; k: string }[];
  decapsulation: { tcId: number; dk: string; c: string; k: string }[];
  decapsulationKeyCheck: { tcId: number; dk: string; testPassed: boolean }[];
  encapsulationKeyCheck: { tcId: number; ek: string; testPassed: boolean }[];
}

interface WycheproofKem {
  encapsulation: { tcId: number; ek: string; m: string; c: string; K: string; result: string }[];
  decapsulation: { tcId: number; seed: string; ek: string; c: string; K: string; result: string }[];
}

interface WycheproofAead {
  tests: {
    tcId: number;
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

interface Rfc8439 {
  keyHex: string;
  nonceHex: string;
  aadHex: string;
  plaintext: string;
  ciphertextHex: string;
  tagHex: string;
}

interface Hkdf {
  tests: {
    name?: string;
    tcId?: number;
    ikmHex?: string;
    saltHex?: string;
    infoHex?: string;
    length?: number;
    okmHex?: string;
    ikm?: string;
    salt?: string;
    info?: string;
    size?: number;
    okm?: string;
    result?: string;
  }[];
}

/** Every chutes-crypto vector, one outcome each. */
export async function chutesCryptoCases(env: CaseEnvironment): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const cross = await loadJson<Cross>(env.load, `${DIR}/chutes-cross-implementation.json`);
  out.push(
    await check('chutes-crypto/cross/keys-and-stream', async () => {
      const { publicKey, secretKey } = generateKeyPair(unhex(cross.keySeedHex));
      const { ciphertext, sharedSecret } = encapsulate(publicKey, {
        random: scripted(unhex(cross.encapsulationRandomnessHex)),
      });
      const decapsulated = hex(decapsulate(ciphertext, secretKey));
      const keys = [REQUEST_INFO, RESPONSE_INFO, STREAM_INFO].map((info) =>
        hex(deriveKey(sharedSecret, ciphertext, info)),
      );
      const chunk = sealStreamChunk(cross.streamChunk.plaintext, unhex(cross.streamKeyHex), {
        random: scripted(unhex(cross.streamChunk.nonceHex)),
      });
      const ok =
        (await sha256Hex(publicKey)) === cross.publicKeySha256 &&
        (await sha256Hex(secretKey)) === cross.secretKeySha256 &&
        (await sha256Hex(ciphertext)) === cross.ciphertextSha256 &&
        hex(sharedSecret) === cross.sharedSecretHex &&
        decapsulated === cross.sharedSecretHex &&
        keys.join() === [cross.requestKeyHex, cross.responseKeyHex, cross.streamKeyHex].join() &&
        hex(chunk.subarray(12)) === cross.streamChunk.sealedHex &&
        bytesToBase64(chunk) === cross.streamChunk.eventValueBase64 &&
        openStreamChunk(base64ToBytes(cross.streamChunk.eventValueBase64), unhex(cross.streamKeyHex)) ===
          cross.streamChunk.plaintext;
      return [ok, keys[0]!.slice(0, 16)];
    }),
  );

  const acvp = await loadJson<Acvp>(env.load, `${DIR}/acvp-ml-kem-768.json`);
  for (const t of acvp.keyGen) {
    out.push(
      await check(`chutes-crypto/acvp/keyGen/${t.tcId}`, () => {
        const { publicKey, secretKey } = generateKeyPair(new Uint8Array([...unhex(t.d), ...unhex(t.z)]));
        return [
          hex(publicKey) === t.ek.toLowerCase() && hex(secretKey) === t.dk.toLowerCase(),
          hex(publicKey).slice(0, 16),
        ];
      }),
    );
  }
  for (const t of acvp.encapsulation) {
    out.push(
      await check(`chutes-crypto/acvp/encapsulation/${t.tcId}`, () => {
        const result = encapsulate(unhex(t.ek), { random: scripted(unhex(t.m)) });
        return [
          hex(result.ciphertext) === t.c.toLowerCase() && hex(result.sharedSecret) === t.k.toLowerCase(),
          hex(result.sharedSecret).slice(0, 16),
        ];
      }),
    );
  }
  for (const t of acvp.decapsulation) {
    out.push(
      await check(`chutes-crypto/acvp/decapsulation/${t.tcId}`, () => {
        const secret = hex(decapsulate(unhex(t.c), unhex(t.dk)));
        return [secret === t.k.toLowerCase(), secret.slice(0, 16)];
      }),
    );
  }
  for (const t of acvp.encapsulationKeyCheck) {
    out.push(
      await check(`chutes-crypto/acvp/encapsulationKeyCheck/${t.tcId}`, async () => {
        const valid = isValidPublicKey(unhex(t.ek));
        const code = t.testPassed ? 'none' : await codeOf(() => encapsulate(unhex(t.ek)));
        return [valid === t.testPassed && (t.testPassed || code === 'ERR_KEY_INVALID'), `${valid} ${code}`];
      }),
    );
  }
  for (const t of acvp.decapsulationKeyCheck) {
    out.push(
      await check(`chutes-crypto/acvp/decapsulationKeyCheck/${t.tcId}`, async () => {
        const code = await codeOf(() => decapsulate(new Uint8Array(1088).fill(7), unhex(t.dk)));
        return [t.testPassed ? code === 'none' : code === 'ERR_KEY_INVALID', code];
      }),
    );
  }

  const kem = await loadJson<WycheproofKem>(env.load, `${DIR}/wycheproof-ml-kem-768.json`);
  for (const t of kem.encapsulation) {
    out.push(
      await check(`chutes-crypto/wycheproof-ml-kem/encapsulation/${t.tcId}`, async () => {
        if (t.result === 'valid') {
          const result = encapsulate(unhex(t.ek), { random: scripted(unhex(t.m)) });
          return [
            hex(result.ciphertext) === t.c && hex(result.sharedSecret) === t.K,
            hex(result.sharedSecret).slice(0, 16),
          ];
        }
        const code = await codeOf(() => encapsulate(unhex(t.ek), { random: scripted(unhex(t.m)) }));
        return [code === 'ERR_KEY_INVALID', code];
      }),
    );
  }
  for (const t of kem.decapsulation) {
    out.push(
      await check(`chutes-crypto/wycheproof-ml-kem/decapsulation/${t.tcId}`, async () => {
        const { publicKey, secretKey } = generateKeyPair(unhex(t.seed));
        if (hex(publicKey) !== t.ek) return [false, 'ek differs'];
        if (t.result === 'valid') {
          const secret = hex(decapsulate(unhex(t.c), secretKey));
          return [secret === t.K, secret.slice(0, 16)];
        }
        const code = await codeOf(() => decapsulate(unhex(t.c), secretKey));
        return [code === 'ERR_WIRE_MALFORMED', code];
      }),
    );
  }

  const rfc8439 = await loadJson<Rfc8439>(env.load, `${DIR}/rfc8439-chacha20-poly1305.json`);
  out.push(
    await check('chutes-crypto/rfc8439/2.8.2', async () => {
      const key = unhex(rfc8439.keyHex);
      const nonce = unhex(rfc8439.nonceHex);
      const aad = unhex(rfc8439.aadHex);
      const sealed = chacha20Poly1305Seal(key, nonce, utf8ToBytes(rfc8439.plaintext), aad);
      const opened = new TextDecoder().decode(chacha20Poly1305Open(key, nonce, sealed, aad));
      const wrongAad = await codeOf(() => chacha20Poly1305Open(key, nonce, sealed, new Uint8Array(0)));
      return [
        hex(sealed) === rfc8439.ciphertextHex + rfc8439.tagHex &&
          opened === rfc8439.plaintext &&
          wrongAad === 'ERR_DECRYPT_FAILED',
        rfc8439.tagHex,
      ];
    }),
  );
  const aead = await loadJson<WycheproofAead>(env.load, `${DIR}/wycheproof-chacha20-poly1305.json`);
  for (const t of aead.tests) {
    out.push(
      await check(`chutes-crypto/wycheproof-chacha20-poly1305/${t.tcId}`, async () => {
        const key = unhex(t.key);
        const nonce = unhex(t.iv);
        const aad = unhex(t.aad);
        const sealed = unhex(t.ct + t.tag);
        if (t.flags.includes('InvalidNonceSize')) {
          const code = await codeOf(() => chacha20Poly1305Seal(key, nonce, unhex(t.msg), aad));
          return [code === 'RangeError', code];
        }
        if (t.result === 'valid') {
          const ok =
            hex(chacha20Poly1305Seal(key, nonce, unhex(t.msg), aad)) === t.ct + t.tag &&
            hex(chacha20Poly1305Open(key, nonce, sealed, aad)) === t.msg;
          return [ok, t.tag.slice(0, 16)];
        }
        const code = await codeOf(() => chacha20Poly1305Open(key, nonce, sealed, aad));
        return [code === 'ERR_DECRYPT_FAILED', code];
      }),
    );
  }

  const rfc5869 = await loadJson<Hkdf>(env.load, `${DIR}/rfc5869-hkdf-sha256.json`);
  for (const t of rfc5869.tests) {
    out.push(
      await check(`chutes-crypto/rfc5869/${t.name}`, () => {
        const okm = hex(hkdfSha256(unhex(t.ikmHex!), unhex(t.saltHex!), unhex(t.infoHex!), t.length!));
        return [okm === t.okmHex, okm.slice(0, 16)];
      }),
    );
  }
  const wycheproofHkdf = await loadJson<Hkdf>(env.load, `${DIR}/wycheproof-hkdf-sha256.json`);
  for (const t of wycheproofHkdf.tests) {
    out.push(
      await check(`chutes-crypto/wycheproof-hkdf/${t.tcId}`, async () => {
        if (t.result === 'valid') {
          const okm = hex(hkdfSha256(unhex(t.ikm!), unhex(t.salt!), unhex(t.info!), t.size!));
          return [okm === t.okm, okm.slice(0, 16)];
        }
        const code = await codeOf(() => hkdfSha256(unhex(t.ikm!), unhex(t.salt!), unhex(t.info!), t.size!));
        return [code === 'RangeError', code];
      }),
    );
  }
  return out;
}
