import { type Bytes, bytesToHex, ecdsaDerToRaw, isSingleDerSequence, toBytes } from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import * as pkijs from 'pkijs';
import { NitroAttestationError } from './errors.js';

const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_SECP384R1 = '1.3.132.0.34';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';

/** keyUsage bit for digitalSignature (bit 0), as a mask over the first two bytes big-endian. */
export const KEY_USAGE_DIGITAL_SIGNATURE = 0x8000;
/** keyUsage bit for keyCertSign (bit 5). */
export const KEY_USAGE_KEY_CERT_SIGN = 0x0400;

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
};

/** The fields of an X.509 certificate this package checks, extracted once. */
export interface CertificateInfo {
  /** The certificate DER as received. */
  readonly der: Bytes;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  /** Subject in RFC 4514 order, e.g. `CN=aws.nitro-enclaves,OU=AWS,O=Amazon,C=US`. */
  readonly subject: string;
  /** Issuer in RFC 4514 order. */
  readonly issuer: string;
  /** Serial number, lowercase hex of the DER integer contents. */
  readonly serialNumber: string;
  /** Start of the validity window. */
  readonly notBefore: Date;
  /** End of the validity window. */
  readonly notAfter: Date;
  /** basicConstraints cA (false when the extension is absent). */
  readonly isCertificateAuthority: boolean;
  /** True when basicConstraints is present and marked critical. */
  readonly basicConstraintsCritical: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  readonly pathLength: number | undefined;
  /** keyUsage bits as a 16-bit mask (bit 0 = 0x8000), or null when the extension is absent. */
  readonly keyUsage: number | null;
  /** OIDs of critical extensions this package does not understand. */
  readonly unknownCriticalExtensions: readonly string[];
  /** @internal raw subject Name DER, for issuer matching. */
  readonly subjectName: Bytes;
  /** @internal raw issuer Name DER. */
  readonly issuerName: Bytes;
  /** @internal the signed TBSCertificate bytes as received. */
  readonly tbs: Bytes;
  /** @internal raw r‖s signature. */
  readonly signature: Bytes;
  /** @internal SubjectPublicKeyInfo DER of the EC P-384 key. */
  readonly spki: Bytes;
}

function malformed(message: string, cause?: unknown): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_CERTIFICATE_MALFORMED', message, { cause });
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (char) => `\\${char}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function formatName(name: pkijs.RelativeDistinguishedNames): string {
  const parts = name.typesAndValues.map((attribute) => {
    const type = SHORT_NAMES[attribute.type] ?? attribute.type;
    const raw = (attribute.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
    const value =
      typeof raw === 'string' ? escapeValue(raw) : `#${bytesToHex(new Uint8Array(attribute.value.toBER()))}`;
    return `${type}=${value}`;
  });
  return parts.reverse().join(',');
}

function integerValue(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  const integer = value as { valueBlock?: { valueDec?: number } };
  return integer.valueBlock?.valueDec;
}

/**
 * Parses a DER certificate and checks it is X.509 v3 with an EC P-384 key, signed with ecdsa-with-SHA384.
 * @throws NitroAttestationError `ERR_NITRO_CERTIFICATE_MALFORMED`.
 */
export function parseCertificate(der: Uint8Array, what: string): CertificateInfo {
  const bytes = toBytes(der);
  if (!isSingleDerSequence(bytes)) throw malformed(`${what} is not a single DER SEQUENCE`);
  let certificate: pkijs.Certificate;
  try {
    certificate = pkijs.Certificate.fromBER(bytes);
  } catch (cause) {
    throw malformed(`${what} is not a valid X.509 certificate`, cause);
  }
  try {
    if (certificate.version !== 2) throw malformed(`${what} is not X.509 v3`);
    if (
      certificate.signatureAlgorithm.algorithmId !== OID_ECDSA_WITH_SHA384 ||
      certificate.signature.algorithmId !== OID_ECDSA_WITH_SHA384
    ) {
      throw malformed(`${what} is not signed with ecdsa-with-SHA384`);
    }
    const keyInfo = certificate.subjectPublicKeyInfo;
    const curve = (keyInfo.algorithm.algorithmParams as { valueBlock?: { toString(): string } } | undefined)
      ?.valueBlock;
    if (keyInfo.algorithm.algorithmId !== OID_EC_PUBLIC_KEY || curve?.toString() !== OID_SECP384R1) {
      throw malformed(`${what} does not hold an EC P-384 key`);
    }
    if (certificate.signatureValue.valueBlock.unusedBits !== 0)
      throw malformed(`${what} has a malformed signature`);
    const signature = ecdsaDerToRaw(certificate.signatureValue.valueBlock.valueHexView, 48);
    if (!signature) throw malformed(`${what} has a malformed ECDSA signature`);

    let isCertificateAuthority = false;
    let basicConstraintsCritical = false;
    let pathLength: number | undefined;
    let keyUsage: number | null = null;
    const unknownCriticalExtensions: string[] = [];
    const seen = new Set<string>();
    for (const extension of certificate.extensions ?? []) {
      if (seen.has(extension.extnID)) throw malformed(`${what} repeats extension ${extension.extnID}`);
      seen.add(extension.extnID);
      if (extension.extnID === OID_BASIC_CONSTRAINTS) {
        const value = extension.parsedValue;
        if (!(value instanceof pkijs.BasicConstraints))
          throw malformed(`${what} has malformed basicConstraints`);
        isCertificateAuthority = value.cA === true;
        basicConstraintsCritical = extension.critical;
        pathLength = integerValue(value.pathLenConstraint);
        if (pathLength !== undefined && (!Number.isSafeInteger(pathLength) || pathLength < 0)) {
          throw malformed(`${what} has an invalid pathLenConstraint`);
        }
      } else if (extension.extnID === OID_KEY_USAGE) {
        const value = extension.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined;
        const bits = value?.valueBlock?.valueHexView;
        if (!bits || bits.length === 0 || bits.length > 2) throw malformed(`${what} has malformed keyUsage`);
        keyUsage = (bits[0]! << 8) | (bits[1] ?? 0);
      } else if (extension.critical) {
        unknownCriticalExtensions.push(extension.extnID);
      }
    }

    const notBefore = certificate.notBefore.value;
    const notAfter = certificate.notAfter.value;
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
      throw malformed(`${what} has an invalid validity period`);
    }
    return {
      der: bytes,
      fingerprint: bytesToHex(sha256(bytes)),
      subject: formatName(certificate.subject),
      issuer: formatName(certificate.issuer),
      serialNumber: bytesToHex(certificate.serialNumber.valueBlock.valueHexView),
      notBefore,
      notAfter,
      isCertificateAuthority,
      basicConstraintsCritical,
      pathLength,
      keyUsage,
      unknownCriticalExtensions,
      subjectName: new Uint8Array(certificate.subject.valueBeforeDecode),
      issuerName: new Uint8Array(certificate.issuer.valueBeforeDecode),
      tbs: toBytes(certificate.tbsView),
      signature,
      spki: new Uint8Array(keyInfo.toSchema().toBER(false)),
    };
  } catch (cause) {
    if (NitroAttestationError.isInstance(cause)) throw cause;
    throw malformed(`${what} could not be read`, cause);
  }
}

/** SHA-256 of DER bytes as lowercase hex (the certificate fingerprint form used throughout). */
export function fingerprintOf(der: Uint8Array): string {
  return bytesToHex(sha256(der));
}

/**
 * Imports the EC P-384 key of a certificate for ECDSA verification with WebCrypto.
 * @throws NitroAttestationError `ERR_NITRO_CERTIFICATE_MALFORMED` when the key is not a valid P-384 point.
 */
export async function importCertificateKey(info: CertificateInfo, what: string): Promise<CryptoKey> {
  try {
    return await globalThis.crypto.subtle.importKey(
      'spki',
      info.spki,
      { name: 'ECDSA', namedCurve: 'P-384' },
      false,
      ['verify'],
    );
  } catch (cause) {
    throw malformed(`${what} holds an invalid P-384 public key`, cause);
  }
}

/** Verifies an ES384 raw r‖s signature; false (never a throw) on any failure. */
export async function verifyEs384(key: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  try {
    return await globalThis.crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-384' },
      key,
      toBytes(signature),
      toBytes(data),
    );
  } catch {
    return false;
  }
}
