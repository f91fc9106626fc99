// X25519 on node:crypto (OpenSSL) alone, from raw 32-byte keys: an oracle for the packages' own X25519 backends.
import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';

const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/**
 * X25519 of a raw 32-byte private scalar (clamped by OpenSSL) and a raw 32-byte public key, with `node:crypto`
 * only: DER-wrapped keys and `diffieHellman`. OpenSSL refuses an all-zero result (a low-order peer) by throwing.
 * @example
 * ```ts
 * expect(Buffer.from(shared)).toEqual(opensslX25519(scalar, peer));
 * ```
 */
export function opensslX25519(privateRaw: Uint8Array, publicRaw: Uint8Array): Buffer {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, privateRaw]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_X25519_PREFIX, publicRaw]),
    format: 'der',
    type: 'spki',
  });
  return diffieHellman({ privateKey, publicKey });
}
