import {
  type Bytes,
  base64ToBytes,
  bytesToHex,
  ecdsaDerToRaw,
  equalBytes,
  isBytes,
  isSingleDerSequence,
  toBytes,
} from '@confidential-ai/bytes';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  type CertificateInfo,
  KEY_USAGE_CRL_SIGN,
  OID_ECDSA_WITH_SHA384,
  OID_KP_OCSP_SIGNING,
  parseCertificate,
} from './certificate.js';
import type { SignatureMemo } from './chain.js';
import { type EcdsaBackend, verifyP384 } from './ecdsa.js';
import { NvidiaAttestationError, type NvidiaAttestationErrorCode } from './errors.js';

// Revocation data given as collateral (never fetched): OCSP responses (RFC 6960) and CRLs (RFC 5280).

/** OCSP responses and CRLs given as collateral: DER bytes, PEM or base64 text. */
export interface RevocationCollateral {
  /** DER OCSPResponse messages (as returned by `ocsp.ndis.nvidia.com`). */
  readonly ocsp?: readonly (Uint8Array | string)[];
  /** DER or PEM CRLs (as published at `crl.ndis.nvidia.com`). */
  readonly crls?: readonly (Uint8Array | string)[];
}

/** How one certificate's revocation status was established. */
export interface CertificateRevocationStatus {
  /** Subject of the certificate. */
  readonly subject: string;
  /** Serial number, lowercase hex. */
  readonly serialNumber: string;
  /** `good` (covered and not revoked), `on-hold` (revoked with reason certificateHold, allowed by policy) or
   *  `not-checked` (no current OCSP response or CRL covers it). */
  readonly status: 'good' | 'on-hold' | 'not-checked';
  /** Which collateral covered it. */
  readonly sources: readonly ('ocsp' | 'crl')[];
}

interface ParsedOcsp {
  readonly basic: pkijs.BasicOCSPResponse;
  readonly signature: Bytes;
  readonly tbs: Bytes;
  readonly index: number;
}

interface ParsedCrl {
  readonly crl: pkijs.CertificateRevocationList;
  readonly der: Bytes;
  readonly issuerName: Bytes;
  readonly signature: Bytes;
  readonly tbs: Bytes;
  readonly revoked: Map<string, number | undefined>;
  readonly scoped: boolean;
  readonly index: number;
}

/** Revocation collateral decoded once per verification. */
export interface RevocationContext {
  /** The decoded OCSP responses. */
  readonly ocsp: readonly ParsedOcsp[];
  /** The decoded CRLs. */
  readonly crls: readonly ParsedCrl[];
  /** Checks already made (response or CRL signatures, delegated responders), shared by every chain. */
  readonly checked: Map<string, Promise<void>>;
}

const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
const OID_CRL_NUMBER = '2.5.29.20';
const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';
const OID_CRL_REASON = '2.5.29.21';
const REASON_CERTIFICATE_HOLD = 6;
/** How long an OCSP response without nextUpdate counts as current. */
const OCSP_DEFAULT_LIFETIME_MS = 24 * 60 * 60 * 1000;
const HASHES: Record<string, (data: Uint8Array) => Uint8Array> = {
  '1.3.14.3.2.26': sha1,
  '2.16.840.1.101.3.4.2.1': sha256,
  '2.16.840.1.101.3.4.2.2': sha384,
  '2.16.840.1.101.3.4.2.3': sha512,
};

function invalid(message: string, cause?: unknown): never {
  throw new NvidiaAttestationError(
    'ERR_NVIDIA_REVOCATION_INVALID',
    message,
    cause === undefined ? {} : { cause },
  );
}

function derOf(input: Uint8Array | string, label: string, what: string): Bytes {
  if (isBytes(input)) return toBytes(input);
  if (typeof input !== 'string') throw new TypeError(`${what} must be bytes or text`);
  const pem = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(input);
  try {
    return base64ToBytes((pem?.[1] ?? input).replace(/\s/g, ''));
  } catch (cause) {
    invalid(`${what} is neither DER, PEM nor base64`, cause);
  }
}

function signatureOf(algorithm: pkijs.AlgorithmIdentifier, value: asn1js.BitString, what: string): Bytes {
  if (algorithm.algorithmId !== OID_ECDSA_WITH_SHA384)
    invalid(`${what} is not signed with ecdsa-with-SHA384`);
  const raw = value.valueBlock.unusedBits === 0 ? ecdsaDerToRaw(value.valueBlock.valueHexView, 48) : null;
  if (raw === null) invalid(`${what} has a malformed ECDSA signature`);
  return raw;
}

function parseOcsp(input: Uint8Array | string, index: number): ParsedOcsp {
  const what = `OCSP response ${index}`;
  const der = derOf(input, 'OCSP RESPONSE', what);
  if (!isSingleDerSequence(der)) invalid(`${what} is not a single DER SEQUENCE`);
  try {
    const response = pkijs.OCSPResponse.fromBER(der);
    if (response.responseStatus.valueBlock.valueDec !== 0) invalid(`${what} is not a successful response`);
    if (response.responseBytes?.responseType !== OID_OCSP_BASIC)
      invalid(`${what} is not a basic OCSP response`);
    const basicDer = toBytes(response.responseBytes.response.valueBlock.valueHexView);
    const basic = pkijs.BasicOCSPResponse.fromBER(basicDer);
    // Only the one DER encoding of what asn1js read is accepted (it reads BER leniently).
    const rebuilt = new asn1js.Sequence({
      value: [
        asn1js.fromBER(basic.tbsResponseData.tbsView).result,
        basic.signatureAlgorithm.toSchema(),
        basic.signature,
        ...(basic.certs === undefined
          ? []
          : [
              new asn1js.Constructed({
                idBlock: { tagClass: 3, tagNumber: 0 },
                value: [
                  new asn1js.Sequence({
                    value: basic.certs.map((certificate) => certificate.toSchema(true)),
                  }),
                ],
              }),
            ]),
      ],
    });
    if (
      !equalBytes(new Uint8Array(response.toSchema().toBER(false)), der) ||
      !equalBytes(new Uint8Array(rebuilt.toBER(false)), basicDer)
    ) {
      invalid(`${what} is not DER encoded`);
    }
    return {
      basic,
      signature: signatureOf(basic.signatureAlgorithm, basic.signature, what),
      tbs: toBytes(basic.tbsResponseData.tbsView),
      index,
    };
  } catch (cause) {
    if (NvidiaAttestationError.isInstance(cause)) throw cause;
    invalid(`${what} is malformed`, cause);
  }
}

function extensionsOf(list: pkijs.Extensions | undefined): pkijs.Extension[] {
  return list?.extensions ?? [];
}

function reasonOf(extensions: pkijs.Extension[]): number | undefined {
  const reason = extensions.find((extension) => extension.extnID === OID_CRL_REASON);
  const value = (reason?.parsedValue as { valueBlock?: { valueDec?: number } } | undefined)?.valueBlock
    ?.valueDec;
  return value;
}

function parseCrl(input: Uint8Array | string, index: number): ParsedCrl {
  const what = `CRL ${index}`;
  const der = derOf(input, 'X509 CRL', what);
  if (!isSingleDerSequence(der)) invalid(`${what} is not a single DER SEQUENCE`);
  try {
    const crl = pkijs.CertificateRevocationList.fromBER(der);
    if (!equalBytes(new Uint8Array(crl.toSchema(true).toBER(false)), der))
      invalid(`${what} is not DER encoded`);
    if (crl.signature.algorithmId !== crl.signatureAlgorithm.algorithmId)
      invalid(`${what} signature algorithms differ`);
    let scoped = false;
    for (const extension of extensionsOf(crl.crlExtensions)) {
      if (extension.extnID === OID_ISSUING_DISTRIBUTION_POINT) scoped = true;
      else if (
        extension.critical &&
        extension.extnID !== OID_CRL_NUMBER &&
        extension.extnID !== OID_AUTHORITY_KEY_IDENTIFIER
      ) {
        invalid(`${what} has an unsupported critical extension ${extension.extnID}`);
      }
    }
    const revoked = new Map<string, number | undefined>();
    for (const entry of crl.revokedCertificates ?? []) {
      const extensions = extensionsOf(entry.crlEntryExtensions);
      const critical = extensions.find(
        (extension) => extension.critical && extension.extnID !== OID_CRL_REASON,
      );
      if (critical) invalid(`${what} has an entry with an unsupported critical extension ${critical.extnID}`);
      revoked.set(bytesToHex(entry.userCertificate.valueBlock.valueHexView), reasonOf(extensions));
    }
    if (crl.nextUpdate === undefined) invalid(`${what} has no nextUpdate`);
    return {
      crl,
      der,
      issuerName: new Uint8Array(crl.issuer.valueBeforeDecode),
      signature: signatureOf(crl.signatureAlgorithm, crl.signatureValue, what),
      tbs: toBytes(crl.tbsView),
      revoked,
      scoped,
      index,
    };
  } catch (cause) {
    if (NvidiaAttestationError.isInstance(cause)) throw cause;
    invalid(`${what} is malformed`, cause);
  }
}

/**
 * Decodes revocation collateral.
 * @throws NvidiaAttestationError `ERR_NVIDIA_REVOCATION_INVALID` for data that is not an OCSP response or CRL.
 */
export function parseRevocationCollateral(collateral: RevocationCollateral | undefined): RevocationContext {
  if (collateral !== undefined && (typeof collateral !== 'object' || collateral === null)) {
    throw new TypeError('revocation collateral must be an object with ocsp and crls lists');
  }
  const list = (value: unknown, name: string): readonly (Uint8Array | string)[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new TypeError(`${name} must be an array`);
    return value;
  };
  return {
    ocsp: list(collateral?.ocsp, 'ocsp').map(parseOcsp),
    crls: list(collateral?.crls, 'crls').map(parseCrl),
    checked: new Map(),
  };
}

/** Options of {@link checkRevocation}. */
export interface CheckRevocationOptions {
  /** Verification time. */
  readonly at: Date;
  /** What the chain is, for messages. */
  readonly what: string;
  /** First chain index that must be covered when `require` is set (1 for device chains: their leaf is per boot). */
  readonly requireFrom: number;
  /** Fail with `ERR_NVIDIA_REVOCATION_MISSING` when a certificate from `requireFrom` on is not covered. */
  readonly require: boolean;
  /** Accept certificates revoked with reason certificateHold (NVIDIA's verifier has the same switch). */
  readonly allowCertificateHold: boolean;
  /** Signature memo of this verification. */
  readonly memo: SignatureMemo;
  /** ECDSA implementation. */
  readonly backend?: EcdsaBackend;
  /** GPU index for errors. */
  readonly gpuIndex?: number;
}

function once(context: RevocationContext, id: string, check: () => Promise<void>): Promise<void> {
  let result = context.checked.get(id);
  if (result === undefined) {
    result = check();
    context.checked.set(id, result);
  }
  return result;
}

function responderMatches(responderId: unknown, certificate: CertificateInfo): boolean {
  if (responderId instanceof asn1js.OctetString) {
    return equalBytes(responderId.valueBlock.valueHexView, sha1(certificate.publicKeyBits));
  }
  if (responderId instanceof pkijs.RelativeDistinguishedNames) {
    return equalBytes(new Uint8Array(responderId.valueBeforeDecode), certificate.subjectName);
  }
  return false;
}

function current(thisUpdate: Date, nextUpdate: Date | undefined, at: Date, what: string): void {
  const end = nextUpdate ?? new Date(thisUpdate.getTime() + OCSP_DEFAULT_LIFETIME_MS);
  if (at < thisUpdate || at > end) {
    invalid(
      `${what} is not current at ${at.toISOString()} (${thisUpdate.toISOString()} to ${end.toISOString()})`,
    );
  }
}

/** Verifies who signed an OCSP response for certificates of `issuer`: the issuer or its delegated responder. */
async function verifyOcspSigner(
  ocsp: ParsedOcsp,
  issuer: CertificateInfo,
  options: CheckRevocationOptions,
): Promise<void> {
  const what = `OCSP response ${ocsp.index}`;
  const responderId = ocsp.basic.tbsResponseData.responderID;
  let signer: CertificateInfo | undefined = responderMatches(responderId, issuer) ? issuer : undefined;
  if (signer === undefined) {
    for (const [position, certificate] of (ocsp.basic.certs ?? []).entries()) {
      const der = new Uint8Array(certificate.toSchema(true).toBER(false));
      const candidate = parseCertificate(
        der,
        `${what} certificate ${position}`,
        'ERR_NVIDIA_REVOCATION_INVALID',
      );
      if (responderMatches(responderId, candidate)) {
        signer = candidate;
        break;
      }
    }
    if (signer === undefined) invalid(`${what} is signed by a responder it does not include`);
    const delegated = signer;
    if (!equalBytes(delegated.issuerName, issuer.subjectName)) {
      invalid(`${what} responder "${delegated.label}" is not issued by "${issuer.label}"`);
    }
    if (!delegated.extendedKeyUsage?.includes(OID_KP_OCSP_SIGNING)) {
      invalid(`${what} responder "${delegated.label}" is not authorized for OCSP signing`);
    }
    if (delegated.unknownCriticalExtensions.length > 0)
      invalid(`${what} responder has an unsupported critical extension`);
    const memoId = `${delegated.fingerprint}|${issuer.fingerprint}`;
    let issued = options.memo.get(memoId);
    if (issued === undefined) {
      issued = verifyP384(issuer.spki, delegated.signature, delegated.tbs, options.backend);
      options.memo.set(memoId, issued);
    }
    if (!(await issued)) invalid(`${what} responder certificate is not signed by "${issuer.label}"`);
    if (options.at < delegated.notBefore || options.at > delegated.notAfter) {
      invalid(`${what} responder certificate is not valid at ${options.at.toISOString()}`);
    }
  }
  if (!(await verifyP384(signer.spki, ocsp.signature, ocsp.tbs, options.backend))) {
    invalid(`${what} signature does not verify with "${signer.label}"`);
  }
}

async function verifyCrlSignature(crl: ParsedCrl, issuer: CertificateInfo, options: CheckRevocationOptions) {
  const what = `CRL ${crl.index}`;
  if (issuer.keyUsage !== null && (issuer.keyUsage & KEY_USAGE_CRL_SIGN) === 0) {
    invalid(`${what}: "${issuer.label}" may not sign CRLs`);
  }
  if (!(await verifyP384(issuer.spki, crl.signature, crl.tbs, options.backend))) {
    invalid(`${what} signature does not verify with "${issuer.label}"`);
  }
}

function revoked(
  certificate: CertificateInfo,
  reason: number | undefined,
  source: string,
  options: CheckRevocationOptions,
): 'on-hold' {
  if (reason === REASON_CERTIFICATE_HOLD && options.allowCertificateHold) return 'on-hold';
  const code: NvidiaAttestationErrorCode = 'ERR_NVIDIA_CERT_REVOKED';
  throw new NvidiaAttestationError(
    code,
    `${options.what}: "${certificate.label}" (serial ${certificate.serialNumber}) is revoked according to ${source}${reason === undefined ? '' : ` (reason ${reason})`}`,
    options.gpuIndex === undefined ? {} : { gpuIndex: options.gpuIndex },
  );
}

function certificateStatus(single: pkijs.SingleResponse): {
  kind: 'good' | 'revoked' | 'unknown';
  reason?: number;
} {
  const status = single.certStatus as asn1js.BaseBlock;
  if (status?.idBlock?.tagClass !== 3) return { kind: 'unknown' };
  if (status.idBlock.tagNumber === 0) return { kind: 'good' };
  if (status.idBlock.tagNumber === 1) {
    const items = (status as asn1js.Constructed).valueBlock?.value ?? [];
    const reasonBlock = items[1] as asn1js.Constructed | undefined;
    const reason = (reasonBlock?.valueBlock?.value?.[0] as asn1js.Enumerated | undefined)?.valueBlock
      ?.valueDec;
    return reason === undefined ? { kind: 'revoked' } : { kind: 'revoked', reason };
  }
  return { kind: 'unknown' };
}

/**
 * Checks every certificate of a verified chain (leaf first, anchor last and never checked) against the OCSP
 * responses and CRLs of `context` whose CertID or issuer designates it. A matching response or CRL must be
 * signed by the certificate's issuer (or, for OCSP, a responder the issuer delegated with id-kp-OCSPSigning) and
 * be current at `at`.
 * @throws NvidiaAttestationError `ERR_NVIDIA_CERT_REVOKED`, `ERR_NVIDIA_REVOCATION_INVALID`,
 *   `ERR_NVIDIA_REVOCATION_MISSING`.
 */
export async function checkRevocation(
  chain: readonly CertificateInfo[],
  context: RevocationContext,
  options: CheckRevocationOptions,
): Promise<CertificateRevocationStatus[]> {
  const out: CertificateRevocationStatus[] = [];
  for (let index = 0; index < chain.length - 1; index++) {
    const certificate = chain[index]!;
    const issuer = chain[index + 1]!;
    const sources: ('ocsp' | 'crl')[] = [];
    let status: CertificateRevocationStatus['status'] = 'not-checked';
    for (const ocsp of context.ocsp) {
      for (const single of ocsp.basic.tbsResponseData.responses) {
        const hash = HASHES[single.certID.hashAlgorithm.algorithmId];
        if (
          hash === undefined ||
          bytesToHex(single.certID.serialNumber.valueBlock.valueHexView) !== certificate.serialNumber ||
          !equalBytes(single.certID.issuerNameHash.valueBlock.valueHexView, hash(issuer.subjectName)) ||
          !equalBytes(single.certID.issuerKeyHash.valueBlock.valueHexView, hash(issuer.publicKeyBits))
        ) {
          continue;
        }
        await once(context, `ocsp${ocsp.index}|${issuer.fingerprint}`, () =>
          verifyOcspSigner(ocsp, issuer, options),
        );
        current(single.thisUpdate, single.nextUpdate, options.at, `OCSP response ${ocsp.index}`);
        const result = certificateStatus(single);
        if (result.kind === 'unknown')
          invalid(`OCSP response ${ocsp.index} reports "${certificate.label}" as unknown`);
        if (result.kind === 'revoked') status = revoked(certificate, result.reason, 'OCSP', options);
        else if (status === 'not-checked') status = 'good';
        if (!sources.includes('ocsp')) sources.push('ocsp');
      }
    }
    for (const crl of context.crls) {
      if (!equalBytes(crl.issuerName, certificate.issuerName)) continue;
      await once(context, `crl${crl.index}|${issuer.fingerprint}`, () =>
        verifyCrlSignature(crl, issuer, options),
      );
      current(crl.crl.thisUpdate.value, crl.crl.nextUpdate?.value, options.at, `CRL ${crl.index}`);
      if (crl.revoked.has(certificate.serialNumber)) {
        status = revoked(certificate, crl.revoked.get(certificate.serialNumber), 'a CRL', options);
      } else if (!crl.scoped && status === 'not-checked') status = 'good';
      if (!crl.scoped && !sources.includes('crl')) sources.push('crl');
    }
    if (options.require && index >= options.requireFrom && sources.length === 0) {
      throw new NvidiaAttestationError(
        'ERR_NVIDIA_REVOCATION_MISSING',
        `${options.what}: no current OCSP response or CRL covers "${certificate.label}"`,
        options.gpuIndex === undefined ? {} : { gpuIndex: options.gpuIndex },
      );
    }
    out.push({ subject: certificate.subject, serialNumber: certificate.serialNumber, status, sources });
  }
  return out;
}
