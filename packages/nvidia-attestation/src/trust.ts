import { type Bytes, bytesToHex, hexToBytes, isBytes, toBytes } from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import { parseCertificate } from './certificate.js';
import type { TrustAnchor } from './chain.js';
import { nvidiaError } from './errors.js';
import {
  NVIDIA_DEVICE_IDENTITY_ROOT_SHA256,
  NVIDIA_RIM_ROOT_SHA256,
  nvidiaDeviceIdentityRootDer,
  nvidiaRimRootDer,
} from './nvidia-roots.js';
import { pemCertificatesToDer } from './pem.js';
import { SPDM_NONCE_SIZE } from './spdm.js';

/** Which anchor verified a chain; `nvidia` is false for a caller-supplied root (tests, fakes). */
export interface TrustSummary {
  /** Subject of the anchor. */
  readonly subject: string;
  /** SHA-256 of the anchor's DER, lowercase hex. */
  readonly sha256: string;
  /** True only for NVIDIA's published root. */
  readonly nvidia: boolean;
}

/** Reads a root given as DER bytes or one PEM certificate. */
function rootDer(value: Uint8Array | string, name: string): Bytes {
  if (typeof value === 'string') {
    const list = pemCertificatesToDer(value);
    if (list === undefined || list.length !== 1)
      throw new TypeError(`${name} must be one PEM certificate or DER bytes`);
    return list[0]!;
  }
  if (isBytes(value)) return toBytes(value);
  throw new TypeError(`${name} must be one PEM certificate or DER bytes`);
}

/**
 * Resolves a trust anchor: the pinned NVIDIA root (checked against its fingerprint) or a caller-supplied one.
 * @throws TypeError for a root that is not a certificate.
 */
export function resolveAnchor(
  value: Uint8Array | string | undefined,
  kind: 'device' | 'rim',
  name: string,
): TrustAnchor {
  const pinnedSha = kind === 'device' ? NVIDIA_DEVICE_IDENTITY_ROOT_SHA256 : NVIDIA_RIM_ROOT_SHA256;
  const der =
    value === undefined
      ? kind === 'device'
        ? nvidiaDeviceIdentityRootDer()
        : nvidiaRimRootDer()
      : rootDer(value, name);
  const fingerprint = bytesToHex(sha256(der));
  if (value === undefined && fingerprint !== pinnedSha) {
    throw nvidiaError('ERR_NVIDIA_CERT_CHAIN', `built-in ${kind} root does not match its pinned fingerprint`);
  }
  let certificate: ReturnType<typeof parseCertificate>;
  try {
    certificate = parseCertificate(
      der,
      name,
      kind === 'device' ? 'ERR_NVIDIA_CERT_CHAIN' : 'ERR_NVIDIA_RIM_CERT_CHAIN',
    );
  } catch (cause) {
    throw new TypeError(`${name} is not an EC P-384 X.509 certificate`, { cause });
  }
  return { certificate, pinned: fingerprint === pinnedSha };
}

/** Describes an anchor for results. */
export function summarizeAnchor(anchor: TrustAnchor): TrustSummary {
  return {
    subject: anchor.certificate.subject,
    sha256: anchor.certificate.fingerprint,
    nvidia: anchor.pinned,
  };
}

/** Reads the verification time. @throws RangeError for an invalid time. */
export function resolveTime(value: Date | number | string | undefined, name: string): Date {
  if (value === undefined) return new Date();
  const time = value instanceof Date ? new Date(value.getTime()) : new Date(value);
  if (Number.isNaN(time.getTime())) throw new RangeError(`${name} is not a valid time`);
  return time;
}

/**
 * Reads the expected nonce: 32 bytes or 64 hex characters, or `null` to skip the binding explicitly.
 * @throws TypeError when it is missing or of another type, RangeError for a wrong length.
 */
export function resolveNonce(value: Uint8Array | string | null | undefined, name: string): Bytes | null {
  if (value === null) return null;
  if (value === undefined) throw new TypeError(`${name} is required (pass null to skip the nonce binding)`);
  let bytes: Bytes;
  if (typeof value === 'string') {
    try {
      bytes = hexToBytes(value.trim(), { allowPrefix: true });
    } catch (cause) {
      throw new TypeError(`${name} is not hex`, { cause });
    }
  } else if (isBytes(value)) bytes = toBytes(value);
  else throw new TypeError(`${name} must be bytes, hex or null`);
  if (bytes.length !== SPDM_NONCE_SIZE)
    throw new RangeError(`${name} must be ${SPDM_NONCE_SIZE} bytes, got ${bytes.length}`);
  return bytes;
}
