import { type Bytes, toBytes } from '@confidential-ai/bytes';
import { sha384 } from '@noble/hashes/sha2.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { OID_KP_OCSP_SIGNING, OID_TCG_DICE_FWID } from '../certificate.js';

// Test PKI for the synthetic NVIDIA-like platform: P-384 keys made with WebCrypto, X.509 certificates, CRLs and
// OCSP responses built and signed with pkijs. Keys exist only in memory.

const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const OID_SHA384 = '2.16.840.1.101.3.4.2.2';
const OID_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';

/** A certificate with its key pair. */
export interface IssuedCertificate {
  /** DER. */
  readonly der: Bytes;
  /** Parsed form (pkijs). */
  readonly certificate: pkijs.Certificate;
  /** Key pair (private key non-extractable). */
  readonly keys: CryptoKeyPair;
  /** Subject common name. */
  readonly name: string;
}

/** Validity window of a test certificate. */
export interface Validity {
  /** Start. */
  readonly notBefore: Date;
  /** End. */
  readonly notAfter: Date;
}

/** What kind of certificate to issue. */
export type CertificateRole =
  | { readonly kind: 'ca'; readonly pathLength?: number }
  | { readonly kind: 'leaf'; readonly fwid?: Uint8Array; readonly basicConstraints?: boolean }
  | { readonly kind: 'ocsp-responder' };

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle;
  if (value === undefined) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available');
  return value;
}

/** A fresh P-384 key pair (private key not extractable). */
export async function generateP384KeyPair(): Promise<CryptoKeyPair> {
  return (await subtle().generateKey(P384, false, ['sign', 'verify'])) as CryptoKeyPair;
}

/** Signs with ECDSA P-384 / SHA-384 and returns the raw `r ‖ s` signature. */
export async function signP384(key: CryptoKey, data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().sign({ name: 'ECDSA', hash: 'SHA-384' }, key, toBytes(data)));
}

/** UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 section 4.1.2.5). */
function time(value: Date): pkijs.Time {
  return new pkijs.Time({ type: value.getUTCFullYear() < 2050 ? 0 : 1, value });
}

function serial(): asn1js.Integer {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x3f) | 0x10;
  return new asn1js.Integer({ valueHex: bytes });
}

function setName(name: pkijs.RelativeDistinguishedNames, commonName: string): void {
  name.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: commonName }) }),
    new pkijs.AttributeTypeAndValue({
      type: '2.5.4.10',
      value: new asn1js.Utf8String({ value: 'TEST ONLY - not NVIDIA' }),
    }),
  );
}

function extension(extnID: string, critical: boolean, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

function keyUsage(bits: number): asn1js.BitString {
  // bits as the first byte of the BIT STRING (0x80 digitalSignature, 0x04 keyCertSign, 0x02 cRLSign).
  let unused = 0;
  while (unused < 7 && (bits & (1 << unused)) === 0) unused++;
  return new asn1js.BitString({ valueHex: Uint8Array.of(bits), unusedBits: unused });
}

/** The Hopper FWID extension layout: `SEQUENCE { INTEGER 1, SubjectPublicKeyInfo, SEQUENCE { sha384, digest } }`. */
function fwidExtension(spki: asn1js.AsnType, fwid: Uint8Array): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      spki,
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: OID_SHA384 }),
          new asn1js.OctetString({ valueHex: toBytes(fwid) }),
        ],
      }),
    ],
  });
}

/** Issues a certificate (self-signed when `issuer` is undefined). */
export async function issueCertificate(
  name: string,
  issuer: IssuedCertificate | undefined,
  validity: Validity,
  role: CertificateRole,
): Promise<IssuedCertificate> {
  const keys = await generateP384KeyPair();
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = serial();
  setName(certificate.subject, name);
  setName(certificate.issuer, issuer?.name ?? name);
  certificate.notBefore = time(validity.notBefore);
  certificate.notAfter = time(validity.notAfter);
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey);
  const extensions: pkijs.Extension[] = [];
  if (role.kind === 'ca') {
    const constraints =
      role.pathLength === undefined
        ? new pkijs.BasicConstraints({ cA: true })
        : new pkijs.BasicConstraints({ cA: true, pathLenConstraint: role.pathLength });
    extensions.push(
      extension('2.5.29.19', true, constraints.toSchema()),
      extension('2.5.29.15', true, keyUsage(0x06)),
    );
  } else if (role.kind === 'leaf') {
    if (role.basicConstraints) {
      extensions.push(extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: false }).toSchema()));
    }
    extensions.push(extension('2.5.29.15', true, keyUsage(0x80)));
    if (role.fwid !== undefined) {
      extensions.push(
        extension(
          OID_TCG_DICE_FWID,
          false,
          fwidExtension(certificate.subjectPublicKeyInfo.toSchema(), role.fwid),
        ),
      );
    }
  } else {
    extensions.push(
      extension('2.5.29.15', true, keyUsage(0x80)),
      extension('2.5.29.37', false, new pkijs.ExtKeyUsage({ keyPurposes: [OID_KP_OCSP_SIGNING] }).toSchema()),
    );
  }
  certificate.extensions = extensions;
  await certificate.sign((issuer?.keys ?? keys).privateKey, 'SHA-384');
  const der = new Uint8Array(certificate.toSchema(true).toBER(false));
  return { der, certificate: pkijs.Certificate.fromBER(der), keys, name };
}

/** Options of {@link createTestCrl}. */
export interface TestCrlOptions {
  /** thisUpdate. */
  readonly thisUpdate: Date;
  /** nextUpdate. */
  readonly nextUpdate: Date;
  /** Certificates listed as revoked (with an optional CRL reason code). */
  readonly revoked?: ReadonlyArray<{ readonly der: Uint8Array; readonly reason?: number }>;
}

/** Builds a CRL signed by `issuer`. */
export async function createTestCrl(issuer: IssuedCertificate, options: TestCrlOptions): Promise<Bytes> {
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  setName(crl.issuer, issuer.name);
  crl.thisUpdate = time(options.thisUpdate);
  crl.nextUpdate = time(options.nextUpdate);
  const revoked = options.revoked ?? [];
  if (revoked.length > 0) {
    crl.revokedCertificates = revoked.map((entry) => {
      const certificate = pkijs.Certificate.fromBER(toBytes(entry.der));
      return new pkijs.RevokedCertificate({
        userCertificate: new asn1js.Integer({
          valueHex: certificate.serialNumber.valueBlock.valueHexView.slice(),
        }),
        revocationDate: time(options.thisUpdate),
        ...(entry.reason === undefined
          ? {}
          : {
              crlEntryExtensions: new pkijs.Extensions({
                extensions: [extension('2.5.29.21', false, new asn1js.Enumerated({ value: entry.reason }))],
              }),
            }),
      });
    });
  }
  await crl.sign(issuer.keys.privateKey, 'SHA-384');
  return new Uint8Array(crl.toSchema(true).toBER(false));
}

/** Status a test OCSP response reports. */
export type TestOcspStatus = 'good' | 'revoked' | 'unknown';

/** Options of {@link createTestOcspResponse}. */
export interface TestOcspOptions {
  /** The certificate's status. Default `good`. */
  readonly status?: TestOcspStatus;
  /** CRL reason for a revoked certificate (6 = certificateHold). */
  readonly reason?: number;
  /** thisUpdate. */
  readonly thisUpdate: Date;
  /** nextUpdate (omitted when undefined). */
  readonly nextUpdate?: Date;
  /** A delegated responder certificate issued by `issuer` (else the issuer signs). */
  readonly responder?: IssuedCertificate;
}

function certStatus(
  status: TestOcspStatus,
  revocationTime: Date,
  reason: number | undefined,
): asn1js.BaseBlock {
  if (status === 'good') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
  if (status === 'unknown') return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
  const value: asn1js.BaseBlock[] = [new asn1js.GeneralizedTime({ valueDate: revocationTime })];
  if (reason !== undefined) {
    value.push(
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.Enumerated({ value: reason })],
      }),
    );
  }
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
}

/**
 * Builds a successful basic OCSP response about `subject` (issued by `issuer`), signed by the issuer or by a
 * delegated responder, with a SHA-384 CertID as NVIDIA's verifier requests it.
 */
export async function createTestOcspResponse(
  subject: Uint8Array,
  issuer: IssuedCertificate,
  options: TestOcspOptions,
): Promise<Bytes> {
  const certificate = pkijs.Certificate.fromBER(toBytes(subject));
  const issuerKey = issuer.certificate.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
  const certId = new pkijs.CertID({
    hashAlgorithm: new pkijs.AlgorithmIdentifier({
      algorithmId: OID_SHA384,
      algorithmParams: new asn1js.Null(),
    }),
    issuerNameHash: new asn1js.OctetString({
      valueHex: sha384(new Uint8Array(issuer.certificate.subject.toSchema().toBER(false))),
    }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: sha384(issuerKey) }),
    serialNumber: new asn1js.Integer({ valueHex: certificate.serialNumber.valueBlock.valueHexView.slice() }),
  });
  const single = new pkijs.SingleResponse({
    certID: certId,
    certStatus: certStatus(options.status ?? 'good', options.thisUpdate, options.reason),
    thisUpdate: options.thisUpdate,
    ...(options.nextUpdate === undefined ? {} : { nextUpdate: options.nextUpdate }),
  });
  const signer = options.responder ?? issuer;
  const responderId = new pkijs.RelativeDistinguishedNames();
  setName(responderId, signer.name);
  const basic = new pkijs.BasicOCSPResponse({
    tbsResponseData: new pkijs.ResponseData({
      responderID: responderId,
      producedAt: options.thisUpdate,
      responses: [single],
    }),
    ...(options.responder === undefined ? {} : { certs: [options.responder.certificate] }),
  });
  await basic.sign(signer.keys.privateKey, 'SHA-384');
  const response = new pkijs.OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new pkijs.ResponseBytes({
      responseType: OID_OCSP_BASIC,
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER(false));
}
