// The server side of the vllm-proxy E2EE field format for secp256k1 (vllm-proxy.md §2.4-§2.5), written only with
// node:crypto, to check the page's client (which uses venice-e2ee) against code it does not share.
import { createCipheriv, createDecipheriv, createECDH, type ECDH, hkdfSync, randomBytes } from 'node:crypto';

function key(shared: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'ecdsa_encryption', 32));
}

/** A server key pair: the ECDH object and its public key as X‖Y hex (as `signing_public_key`). */
export function serverKeyPair(): { ecdh: ECDH; publicKeyHex: string } {
  const ecdh = createECDH('secp256k1');
  ecdh.generateKeys();
  return { ecdh, publicKeyHex: ecdh.getPublicKey('hex', 'uncompressed').slice(2) };
}

/** Opens `hex(ephemeral(65) ‖ nonce(12) ‖ ciphertext ‖ tag(16))` with the server key and the AAD label. */
export function serverDecrypt(hex: string, server: ECDH, aad: string): string {
  if (!/^[0-9a-f]+$/.test(hex)) throw new Error('not lowercase hex');
  const bytes = Buffer.from(hex, 'hex');
  const ephemeral = bytes.subarray(0, 65);
  const nonce = bytes.subarray(65, 77);
  const sealed = bytes.subarray(77);
  const decipher = createDecipheriv('aes-256-gcm', key(server.computeSecret(ephemeral)), nonce);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}

/** Seals a response field to the client's key (X‖Y hex, as `X-Client-Pub-Key`) under the AAD label. */
export function serverEncrypt(plaintext: string, clientPublicKeyHex: string, aad: string): string {
  const ephemeral = createECDH('secp256k1');
  ephemeral.generateKeys();
  const shared = ephemeral.computeSecret(Buffer.from(`04${clientPublicKeyHex}`, 'hex'));
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(shared), nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([ephemeral.getPublicKey(), nonce, body]).toString('hex');
}
