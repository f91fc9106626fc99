import { type Bytes, concatBytes, equalBytes, isBytes, toBytes } from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import { NitroAttestationError } from './errors.js';
import { derOrPem } from './input.js';

/** Length of nitriding's `user_data`: two multihash-prefixed SHA-256 digests. */
export const NITRIDING_USER_DATA_BYTES = 68;
/** The multihash prefix of a SHA-256 digest: `0x12` (sha2-256), `0x20` (32 bytes). */
export const MULTIHASH_SHA256_PREFIX: Bytes = new Uint8Array([0x12, 0x20]);

/** The two hashes nitriding puts in `user_data`. */
export interface NitridingUserData {
  /** SHA-256 of the DER of nitriding's TLS server certificate (`user_data[2:34]`); zeros when unset. */
  readonly tlsCertificateHash: Bytes;
  /** The 32 bytes the application registered (tee-gateway: SHA-256 of its signing key's SPKI DER, `user_data[36:68]`). */
  readonly applicationKeyHash: Bytes;
}

/**
 * Decodes nitriding's `user_data` layout `0x12 0x20 ‖ tlsCertificateHash ‖ 0x12 0x20 ‖ applicationKeyHash`.
 * @throws NitroAttestationError `ERR_NITRO_USER_DATA_INVALID` when the bytes do not have that layout.
 * @example
 * ```ts
 * const { tlsCertificateHash } = decodeNitridingUserData(result.document.userData!);
 * ```
 */
export function decodeNitridingUserData(userData: Uint8Array | null | undefined): NitridingUserData {
  if (userData === null || userData === undefined) {
    throw new NitroAttestationError('ERR_NITRO_USER_DATA_INVALID', 'attestation document has no user_data');
  }
  if (!isBytes(userData)) throw new TypeError('userData must be a Uint8Array');
  if (
    userData.length !== NITRIDING_USER_DATA_BYTES ||
    userData[0] !== 0x12 ||
    userData[1] !== 0x20 ||
    userData[34] !== 0x12 ||
    userData[35] !== 0x20
  ) {
    throw new NitroAttestationError(
      'ERR_NITRO_USER_DATA_INVALID',
      'user_data is not the nitriding layout (68 bytes: 0x12 0x20 ‖ 32 bytes ‖ 0x12 0x20 ‖ 32 bytes)',
    );
  }
  return {
    tlsCertificateHash: toBytes(userData.subarray(2, 34)),
    applicationKeyHash: toBytes(userData.subarray(36, 68)),
  };
}

/**
 * Encodes the nitriding `user_data` layout from two 32-byte hashes (the inverse of
 * {@link decodeNitridingUserData}); useful for fakes and tests.
 * @throws RangeError when a hash is not 32 bytes.
 */
export function encodeNitridingUserData(hashes: NitridingUserData): Bytes {
  for (const [name, value] of Object.entries(hashes)) {
    if (!isBytes(value) || value.length !== 32) throw new RangeError(`${name} must be 32 bytes`);
  }
  return concatBytes(
    MULTIHASH_SHA256_PREFIX,
    hashes.tlsCertificateHash,
    MULTIHASH_SHA256_PREFIX,
    hashes.applicationKeyHash,
  );
}

/** A TLS certificate as DER bytes or a PEM `CERTIFICATE` string. */
export type CertificateInput = Uint8Array | string;
/** A public key as SubjectPublicKeyInfo DER, a PEM `PUBLIC KEY` string, or an extractable WebCrypto key. */
export type PublicKeyInput = Uint8Array | string | CryptoKey;

/** SHA-256 of a certificate's DER (what nitriding stores as `tlsCertificateHash`). */
export function tlsCertificateHash(certificate: CertificateInput): Bytes {
  return sha256(derOrPem(certificate, 'CERTIFICATE', 'tlsCertificate')) as Bytes;
}

/** SubjectPublicKeyInfo DER of a key given as DER, PEM or an extractable `CryptoKey`. */
export async function subjectPublicKeyInfo(key: PublicKeyInput): Promise<Bytes> {
  if (typeof key === 'object' && key !== null && !isBytes(key) && 'type' in key && 'algorithm' in key) {
    return new Uint8Array(await globalThis.crypto.subtle.exportKey('spki', key));
  }
  return derOrPem(key as Uint8Array | string, 'PUBLIC KEY', 'signingKey');
}

/** SHA-256 of a key's SubjectPublicKeyInfo DER (tee-gateway's `applicationKeyHash`). */
export async function signingKeyHash(key: PublicKeyInput): Promise<Bytes> {
  return sha256(await subjectPublicKeyInfo(key)) as Bytes;
}

/** What {@link checkNitridingUserData} should find in `user_data`. */
export interface NitridingBinding {
  /** nitriding's TLS certificate; its DER's SHA-256 must equal `user_data[2:34]`. */
  tlsCertificate?: CertificateInput;
  /** The enclave application's signing key; its SPKI DER's SHA-256 must equal `user_data[36:68]`. */
  signingKey?: PublicKeyInput;
}

/**
 * Decodes `user_data` and checks it binds the given TLS certificate and/or signing key.
 * @throws NitroAttestationError `ERR_NITRO_USER_DATA_INVALID` (layout) or `ERR_NITRO_USER_DATA_MISMATCH`.
 */
export async function checkNitridingUserData(
  userData: Uint8Array | null | undefined,
  binding: NitridingBinding,
): Promise<NitridingUserData> {
  const decoded = decodeNitridingUserData(userData);
  if (binding.tlsCertificate !== undefined) {
    if (!equalBytes(tlsCertificateHash(binding.tlsCertificate), decoded.tlsCertificateHash)) {
      throw new NitroAttestationError(
        'ERR_NITRO_USER_DATA_MISMATCH',
        'user_data does not bind the given TLS certificate (SHA-256 of its DER differs)',
      );
    }
  }
  if (binding.signingKey !== undefined) {
    if (!equalBytes(await signingKeyHash(binding.signingKey), decoded.applicationKeyHash)) {
      throw new NitroAttestationError(
        'ERR_NITRO_USER_DATA_MISMATCH',
        'user_data does not bind the given signing key (SHA-256 of its SubjectPublicKeyInfo differs)',
      );
    }
  }
  return decoded;
}
