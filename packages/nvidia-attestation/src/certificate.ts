import {
  type Bytes,
  bytesToHex,
  ecdsaDerToRaw,
  equalBytes,
  isSingleDerSequence,
  toBytes,
} from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { NvidiaAttestationError, type NvidiaAttestationErrorCode } from './errors.js';

/** ecdsa-with-SHA384, the signature algorithm of every NVIDIA device, RIM and OCSP certificate. */
export const OID_ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_SECP384R1 = '1.3.132.0.34';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXTENDED_KEY_USAGE = '2.5.29.37';
/** TCG DICE extension carrying the firmware ID (FWID) of the GPU attestation key certificate. */
export const OID_TCG_DICE_FWID = '2.23.133.5.4.1';
/** TCG DICE TcbInfo extension (the FWID list of newer DICE certificates). */
const OID_TCG_DICE_TCB_INFO = '2.23.133.5.4.1.1';
/** Critical extensions this verifier understands (RFC 5280: reject unknown critical extensions). */
const KNOWN_CRITICAL = new Set([OID_BASIC_CONSTRAINTS, OID_KEY_USAGE, OID_EXTENDED_KEY_USAGE]);

/** keyUsage digitalSignature (bit 0) as a 16-bit mask over the first two bytes big-endian. */
export const KEY_USAGE_DIGITAL_SIGNATURE = 0x8000;
/** keyUsage keyCertSign (bit 5). */
export const KEY_USAGE_KEY_CERT_SIGN = 0x0400;
/** keyUsage cRLSign (bit 6). */
export const KEY_USAGE_CRL_SIGN = 0x0200;
/** id-kp-OCSPSigning. */
export const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

const SHORT_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
};

/** The fields of an X.509 certificate this package checks, extracted once. */
export interface CertificateInfo {
  /** The certificate DER as received. */
  readonly der: Bytes;
  /** SHA-256 of the DER, lowercase hex. */
  readonly fingerprint: string;
  /** Subject in RFC 4514 order, e.g. `CN=NVIDIA Device Identity CA,O=NVIDIA`. */
  readonly subject: string;
  /** Issuer in RFC 4514 order. */
  readonly issuer: string;
  /** Subject common name (for messages), or the whole subject when it has none. */
  readonly label: string;
  /** Serial number, lowercase hex of the DER INTEGER contents. */
  readonly serialNumber: string;
  /** Start of the validity window. */
  readonly notBefore: Date;
  /** End of the validity window. */
  readonly notAfter: Date;
  /** basicConstraints cA (false when the extension is absent). */
  readonly isCertificateAuthority: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  readonly pathLength: number | undefined;
  /** keyUsage bits as a 16-bit mask (bit 0 = 0x8000), or null when the extension is absent. */
  readonly keyUsage: number | null;
  /** extendedKeyUsage purposes, or null when the extension is absent. */
  readonly extendedKeyUsage: readonly string[] | null;
  /** OIDs of critical extensions this package does not understand. */
  readonly unknownCriticalExtensions: readonly string[];
  /** Firmware ID from the TCG DICE extension (attestation key certificates), when present. */
  readonly fwid: Bytes | undefined;
  /** Raw subject Name DER, for issuer matching. */
  readonly subjectName: Bytes;
  /** Raw issuer Name DER. */
  readonly issuerName: Bytes;
  /** The signed TBSCertificate bytes as received. */
  readonly tbs: Bytes;
  /** Raw `r ‖ s` signature (96 bytes). */
  readonly signature: Bytes;
  /** SubjectPublicKeyInfo DER of the EC P-384 key. */
  readonly spki: Bytes;
  /** BIT STRING contents of the subject public key (the uncompressed point), for OCSP key hashes. */
  readonly publicKeyBits: Bytes;
}

function escapeValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (char) => `\\${char}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function nameParts(name: pkijs.RelativeDistinguishedNames): Array<[string, string]> {
  return name.typesAndValues.map((attribute) => {
    const type = SHORT_NAMES[attribute.type] ?? attribute.type;
    const raw = (attribute.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
    return [
      type,
      typeof raw === 'string' ? escapeValue(raw) : `#${bytesToHex(new Uint8Array(attribute.value.toBER()))}`,
    ];
  });
}

function integerValue(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  return (value as { valueBlock?: { valueDec?: number } }).valueBlock?.valueDec;
}

/**
 * Reads the FWID of the TCG DICE extension: the digest of the last `SEQUENCE { OID, OCTET STRING }` of the
 * Hopper layout `SEQUENCE { INTEGER, SubjectPublicKeyInfo, FWID }`, or the first FWID of a DiceTcbInfo `fwids`
 * list ([6]). Undefined when neither layout is found.
 */
function readFwid(value: Uint8Array): Bytes | undefined {
  const parsed = asn1js.fromBER(value as Uint8Array<ArrayBuffer>);
  if (parsed.offset === -1 || parsed.offset !== value.length) return undefined;
  const top = parsed.result;
  if (!(top instanceof asn1js.Sequence)) return undefined;
  const digestOf = (item: unknown): Bytes | undefined => {
    if (!(item instanceof asn1js.Sequence)) return undefined;
    const [algorithm, digest] = item.valueBlock.value;
    if (item.valueBlock.value.length !== 2 || !(algorithm instanceof asn1js.ObjectIdentifier))
      return undefined;
    if (!(digest instanceof asn1js.OctetString)) return undefined;
    return toBytes(digest.valueBlock.valueHexView);
  };
  const children = top.valueBlock.value;
  const hopper = digestOf(children[children.length - 1]);
  if (hopper !== undefined) return hopper;
  for (const child of children) {
    if (child.idBlock.tagClass === 3 && child.idBlock.tagNumber === 6) {
      const list = (child as asn1js.Constructed).valueBlock?.value ?? [];
      return digestOf(list[0]);
    }
  }
  return undefined;
}

/** Most parsed certificates remembered (parsing is a pure function of the bytes; only successes are kept). */
const PARSED_LIMIT = 512;
const parsed = new Map<string, CertificateInfo>();

/**
 * Parses a DER certificate and checks it is X.509 v3 with an EC P-384 key, signed with ecdsa-with-SHA384.
 * @throws NvidiaAttestationError with `code` (the caller's chain code) when it is not.
 */
export function parseCertificate(
  der: Uint8Array,
  what: string,
  code: NvidiaAttestationErrorCode,
): CertificateInfo {
  const malformed = (message: string, cause?: unknown) =>
    new NvidiaAttestationError(code, `${what}: ${message}`, cause === undefined ? {} : { cause });
  const key = bytesToHex(der);
  const known = parsed.get(key);
  if (known !== undefined) return known;
  const info = parseUncached(der, malformed);
  if (parsed.size >= PARSED_LIMIT) parsed.clear();
  parsed.set(key, info);
  return info;
}

function parseUncached(
  der: Uint8Array,
  malformed: (message: string, cause?: unknown) => NvidiaAttestationError,
): CertificateInfo {
  const bytes = toBytes(der);
  if (!isSingleDerSequence(bytes)) throw malformed('not a single DER SEQUENCE');
  let certificate: pkijs.Certificate;
  try {
    certificate = pkijs.Certificate.fromBER(bytes);
  } catch (cause) {
    throw malformed('not a valid X.509 certificate', cause);
  }
  // asn1js reads BER leniently (e.g. a SEQUENCE whose length is shorter than its content); only the one DER
  // encoding of what was read is accepted, so that no byte outside the signed TBS can change unnoticed.
  let reencoded: Uint8Array;
  try {
    reencoded = new Uint8Array(certificate.toSchema(true).toBER(false));
  } catch (cause) {
    throw malformed('not a valid X.509 certificate', cause);
  }
  if (!equalBytes(reencoded, bytes)) throw malformed('is not DER encoded');
  try {
    if (certificate.version !== 2) throw malformed('not an X.509 v3 certificate');
    if (
      certificate.signatureAlgorithm.algorithmId !== OID_ECDSA_WITH_SHA384 ||
      certificate.signature.algorithmId !== OID_ECDSA_WITH_SHA384
    ) {
      throw malformed('not signed with ecdsa-with-SHA384');
    }
    const keyInfo = certificate.subjectPublicKeyInfo;
    const curve = (keyInfo.algorithm.algorithmParams as { valueBlock?: { toString(): string } } | undefined)
      ?.valueBlock;
    if (keyInfo.algorithm.algorithmId !== OID_EC_PUBLIC_KEY || curve?.toString() !== OID_SECP384R1) {
      throw malformed('does not hold an EC P-384 key');
    }
    if (certificate.signatureValue.valueBlock.unusedBits !== 0) throw malformed('has a malformed signature');
    const signature = ecdsaDerToRaw(certificate.signatureValue.valueBlock.valueHexView, 48);
    if (!signature) throw malformed('has a malformed ECDSA signature');

    let isCertificateAuthority = false;
    let pathLength: number | undefined;
    let keyUsage: number | null = null;
    let extendedKeyUsage: string[] | null = null;
    let fwid: Bytes | undefined;
    const unknownCriticalExtensions: string[] = [];
    const seen = new Set<string>();
    for (const extension of certificate.extensions ?? []) {
      if (seen.has(extension.extnID)) throw malformed(`repeats extension ${extension.extnID}`);
      seen.add(extension.extnID);
      if (extension.extnID === OID_BASIC_CONSTRAINTS) {
        const value = extension.parsedValue;
        if (!(value instanceof pkijs.BasicConstraints)) throw malformed('has malformed basicConstraints');
        isCertificateAuthority = value.cA === true;
        pathLength = integerValue(value.pathLenConstraint);
        if (pathLength !== undefined && (!Number.isSafeInteger(pathLength) || pathLength < 0)) {
          throw malformed('has an invalid pathLenConstraint');
        }
      } else if (extension.extnID === OID_KEY_USAGE) {
        const value = extension.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined;
        const bits = value?.valueBlock?.valueHexView;
        if (!bits || bits.length === 0 || bits.length > 2) throw malformed('has malformed keyUsage');
        keyUsage = (bits[0]! << 8) | (bits[1] ?? 0);
      } else if (extension.extnID === OID_EXTENDED_KEY_USAGE) {
        const value = extension.parsedValue;
        if (!(value instanceof pkijs.ExtKeyUsage)) throw malformed('has malformed extendedKeyUsage');
        extendedKeyUsage = [...value.keyPurposes];
      } else if (extension.extnID === OID_TCG_DICE_FWID || extension.extnID === OID_TCG_DICE_TCB_INFO) {
        fwid ??= readFwid(extension.extnValue.valueBlock.valueHexView);
        if (extension.critical) unknownCriticalExtensions.push(extension.extnID);
      } else if (extension.critical && !KNOWN_CRITICAL.has(extension.extnID)) {
        unknownCriticalExtensions.push(extension.extnID);
      }
    }

    const notBefore = certificate.notBefore.value;
    const notAfter = certificate.notAfter.value;
    if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
      throw malformed('has an invalid validity period');
    }
    const subjectParts = nameParts(certificate.subject);
    const commonName = subjectParts.find(([type]) => type === 'CN')?.[1];
    const subject = [...subjectParts]
      .reverse()
      .map(([type, value]) => `${type}=${value}`)
      .join(',');
    return {
      der: bytes,
      fingerprint: bytesToHex(sha256(bytes)),
      subject,
      issuer: nameParts(certificate.issuer)
        .reverse()
        .map(([type, value]) => `${type}=${value}`)
        .join(','),
      label: commonName ?? subject,
      serialNumber: bytesToHex(certificate.serialNumber.valueBlock.valueHexView),
      notBefore,
      notAfter,
      isCertificateAuthority,
      pathLength,
      keyUsage,
      extendedKeyUsage,
      unknownCriticalExtensions,
      fwid,
      subjectName: new Uint8Array(certificate.subject.valueBeforeDecode),
      issuerName: new Uint8Array(certificate.issuer.valueBeforeDecode),
      tbs: toBytes(certificate.tbsView),
      signature,
      spki: new Uint8Array(keyInfo.toSchema().toBER(false)),
      publicKeyBits: toBytes(keyInfo.subjectPublicKey.valueBlock.valueHexView),
    };
  } catch (cause) {
    if (NvidiaAttestationError.isInstance(cause)) throw cause;
    throw malformed('could not be read', cause);
  }
}
