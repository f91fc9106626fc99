// An independent implementation of the vllm-proxy E2EE field format (§2.4-§2.5), written only with node:crypto
// and BigInt arithmetic, to check the server against something that does not share its code (venice-e2ee).
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { edPublicToX25519, opensslX25519 } from '@confidential-ai/test-kit';

export { edPublicToX25519 };

/** Ed25519 seed → X25519 private scalar bytes (first half of SHA-512; X25519 clamps on use). */
export function edSeedToX25519(seed: Uint8Array): Buffer {
  return createHash('sha512').update(seed).digest().subarray(0, 32);
}

function hkdf(secret: Uint8Array, algo: 'ecdsa' | 'ed25519'): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `${algo}_encryption`, 32));
}

/** Encrypts one field to the server's public key (ECDSA: 64/65-byte point hex; Ed25519: 32-byte key hex). */
export function independentEncrypt(
  plaintext: string,
  algo: 'ecdsa' | 'ed25519',
  serverKeyHex: string,
  aad?: string,
): string {
  let ephemeralPublic: Buffer;
  let secret: Buffer;
  if (algo === 'ecdsa') {
    const ecdh = createECDH('secp256k1');
    ephemeralPublic = ecdh.generateKeys();
    const server = Buffer.from(serverKeyHex.length === 128 ? `04${serverKeyHex}` : serverKeyHex, 'hex');
    secret = ecdh.computeSecret(server);
  } else {
    const { privateKey, publicKey } = generateKeyPairSync('x25519');
    ephemeralPublic = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const privateRaw = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
    secret = opensslX25519(privateRaw, edPublicToX25519(Buffer.from(serverKeyHex, 'hex')));
  }
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', hkdf(secret, algo), nonce);
  if (aad) cipher.setAAD(Buffer.from(aad, 'utf8'));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([ephemeralPublic, nonce, sealed]).toString('hex');
}

/** A client key pair: ECDSA secp256k1 (public 64-byte X‖Y hex) or Ed25519 (seed + 32-byte public hex). */
export function independentClientKeys(algo: 'ecdsa' | 'ed25519'): {
  privateKey: Buffer;
  publicKeyHex: string;
} {
  if (algo === 'ecdsa') {
    const ecdh = createECDH('secp256k1');
    const publicKey = ecdh.generateKeys();
    return { privateKey: ecdh.getPrivateKey(), publicKeyHex: publicKey.subarray(1).toString('hex') };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32),
    publicKeyHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex'),
  };
}

/** Decrypts a response field with the client's private key (ECDSA scalar or Ed25519 seed). */
export function independentDecrypt(
  hex: string,
  algo: 'ecdsa' | 'ed25519',
  clientPrivate: Buffer,
  aad?: string,
): string {
  const data = Buffer.from(hex, 'hex');
  const prefix = algo === 'ecdsa' ? 65 : 32;
  const ephemeral = data.subarray(0, prefix);
  const nonce = data.subarray(prefix, prefix + 12);
  const sealed = data.subarray(prefix + 12);
  let secret: Buffer;
  if (algo === 'ecdsa') {
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(clientPrivate);
    secret = ecdh.computeSecret(ephemeral);
  } else {
    secret = opensslX25519(edSeedToX25519(clientPrivate), ephemeral);
  }
  const decipher = createDecipheriv('aes-256-gcm', hkdf(secret, algo), nonce);
  if (aad) decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}
