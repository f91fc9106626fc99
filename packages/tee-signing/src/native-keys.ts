import { base64UrlToBytes, hexToBytes as fromHex, bytesToHex as hex } from '@confidential-ai/bytes';

// node:crypto fast paths of the vllm-proxy keys, loaded lazily without top-level await (browsers and edge runtimes
// simply use noble):
// - Ed25519 signing, some 30x faster than pure JavaScript. RFC 8032 signatures are deterministic, so the native
//   path gives the very bytes noble gives. Only signing is native: verification stays on noble's strict RFC 8032
//   rules, whose edge cases OpenSSL does not share.
// - The public keys of both algorithms. In pure JavaScript the first scalar multiplication on a curve builds a
//   precomputed table (about 90 ms of CPU per curve), which a process would otherwise pay at start-up just to
//   print its signing addresses.
// Each primitive is checked once per process against published known answers (RFC 8032 test 1, the secp256k1
// generator of SEC 2) rather than against noble, whose check would build the very tables this file avoids; where
// the runtime lacks it or a check fails, callers keep the pure implementation. The tests compare both paths byte
// for byte on random keys.

interface NativeKey {
  readonly type: string;
  export(options: { format: 'jwk' }): { x?: string };
}
interface NativeEcdh {
  setPrivateKey(key: Uint8Array): void;
  getPublicKey(encoding: null, format: 'uncompressed'): Uint8Array;
}
interface NodeCryptoSubset {
  createPrivateKey(options: { key: Uint8Array; format: 'der'; type: 'pkcs8' }): NativeKey;
  createPublicKey(key: NativeKey): NativeKey;
  createECDH(curve: string): NativeEcdh;
  sign(algorithm: null, data: Uint8Array, key: NativeKey): Uint8Array;
}

// PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410) up to the 32-byte seed.
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

// RFC 8032 section 7.1, TEST 1 (empty message).
const RFC8032_TEST1 = {
  secretKey: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature:
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};
// SEC 2 v2 section 2.4.1: the secp256k1 generator G (uncompressed), the public key of the scalar 1.
const SECP256K1_G =
  '0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8';

let cached: NodeCryptoSubset | null | undefined;

function nodeCrypto(): NodeCryptoSubset | undefined {
  if (cached === undefined) {
    try {
      const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
      cached = (process?.getBuiltinModule?.('node:crypto') as NodeCryptoSubset | undefined) ?? null;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}

function ed25519Key(crypto: NodeCryptoSubset, seed: Uint8Array): NativeKey {
  const der = new Uint8Array(PKCS8_PREFIX.length + seed.length);
  der.set(PKCS8_PREFIX);
  der.set(seed, PKCS8_PREFIX.length);
  return crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

function ed25519PublicKeyOf(crypto: NodeCryptoSubset, key: NativeKey): Uint8Array {
  const x = crypto.createPublicKey(key).export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('no Ed25519 public key');
  const publicKey = base64UrlToBytes(x);
  if (publicKey.length !== 32) throw new Error('Ed25519 public key is not 32 bytes');
  return publicKey;
}

function secp256k1PublicKeyOf(crypto: NodeCryptoSubset, privateKey: Uint8Array): Uint8Array {
  const ecdh = crypto.createECDH('secp256k1');
  ecdh.setPrivateKey(privateKey);
  return new Uint8Array(ecdh.getPublicKey(null, 'uncompressed'));
}

let ed25519Checked: boolean | undefined;
let secp256k1Checked: boolean | undefined;

/** node:crypto when its Ed25519 gives RFC 8032's known answers (checked once per process). */
function ed25519Crypto(): NodeCryptoSubset | undefined {
  const crypto = nodeCrypto();
  if (!crypto) return undefined;
  if (ed25519Checked === undefined) {
    try {
      const key = ed25519Key(crypto, fromHex(RFC8032_TEST1.secretKey));
      ed25519Checked =
        hex(ed25519PublicKeyOf(crypto, key)) === RFC8032_TEST1.publicKey &&
        hex(new Uint8Array(crypto.sign(null, new Uint8Array(0), key))) === RFC8032_TEST1.signature;
    } catch {
      ed25519Checked = false;
    }
  }
  return ed25519Checked ? crypto : undefined;
}

/** node:crypto when it has secp256k1 and maps the scalar 1 to the generator (checked once per process). */
function secp256k1Crypto(): NodeCryptoSubset | undefined {
  const crypto = nodeCrypto();
  if (!crypto) return undefined;
  if (secp256k1Checked === undefined) {
    try {
      const one = new Uint8Array(32);
      one[31] = 1;
      secp256k1Checked = hex(secp256k1PublicKeyOf(crypto, one)) === SECP256K1_G;
    } catch {
      secp256k1Checked = false;
    }
  }
  return secp256k1Checked ? crypto : undefined;
}

/**
 * A native Ed25519 signing function for a 32-byte seed, or `undefined` where node:crypto is unavailable or fails
 * its known-answer check (then callers keep the pure implementation).
 */
export function nativeEd25519Signer(seed: Uint8Array): ((message: Uint8Array) => Uint8Array) | undefined {
  const crypto = ed25519Crypto();
  if (!crypto) return undefined;
  try {
    const key = ed25519Key(crypto, seed);
    return (message: Uint8Array) => new Uint8Array(crypto.sign(null, message, key));
  } catch {
    return undefined;
  }
}

/** The 32-byte Ed25519 public key of a 32-byte seed through node:crypto, or `undefined` (use the pure path). */
export function nativeEd25519PublicKey(seed: Uint8Array): Uint8Array | undefined {
  const crypto = ed25519Crypto();
  if (!crypto) return undefined;
  try {
    return ed25519PublicKeyOf(crypto, ed25519Key(crypto, seed));
  } catch {
    return undefined;
  }
}

/**
 * The 65-byte uncompressed secp256k1 public key of a valid 32-byte scalar (the caller checks its range) through
 * node:crypto, or `undefined` (use the pure path).
 */
export function nativeSecp256k1PublicKey(privateKey: Uint8Array): Uint8Array | undefined {
  const crypto = secp256k1Crypto();
  if (!crypto) return undefined;
  try {
    const publicKey = secp256k1PublicKeyOf(crypto, privateKey);
    return publicKey.length === 65 && publicKey[0] === 4 ? publicKey : undefined;
  } catch {
    return undefined;
  }
}
