// The synthetic PKI of ./testing: P-256 keys, certificates with Intel's SGX extensions, CRLs (pkijs).
import { type Bytes, toBytes } from '@confidential-ai/bytes';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { derToPem } from './pem.js';
import { SGX_EXTENSIONS_OID } from './sgx-extensions.js';

const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** WebCrypto SubtleCrypto, or an error when the runtime has none. */
export function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle;
  if (value === undefined) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available');
  return value;
}

/** A fresh extractable P-256 key pair. */
export async function keyPair(): Promise<CryptoKeyPair> {
  return (await subtle().generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** ECDSA-P256/SHA-256 signature, raw `r || s`. */
export async function signRaw(key: CryptoKey, data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().sign(SIGN, key, toBytes(data)));
}

/** UTCTime before 2050, GeneralizedTime from 2050 on (RFC 5280 section 4.1.2.5). */
function time(value: Date): pkijs.Time {
  return new pkijs.Time({ type: value.getUTCFullYear() < 2050 ? 0 : 1, value });
}

let serialCounter = 0;
function serial(): asn1js.Integer {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = 0x10 | (serialCounter++ & 0x0f);
  return new asn1js.Integer({ valueHex: bytes });
}

function setName(name: pkijs.RelativeDistinguishedNames, commonName: string): void {
  name.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: commonName }) }),
    new pkijs.AttributeTypeAndValue({
      type: '2.5.4.10',
      value: new asn1js.Utf8String({ value: 'Test Corporation' }),
    }),
  );
}

/** An X.509 extension holding the DER of `value`. */
export function extension(extnID: string, critical: boolean, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

function pair(oid: string, value: asn1js.AsnType): asn1js.Sequence {
  return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), value] });
}

/** Intel's SGX extension (OID 1.2.840.113741.1.13.1) with PPID, TCB components, PCESVN, PCE-ID and FMSPC. */
export function sgxExtension(
  fmspc: Uint8Array,
  pceSvn: number,
  components: readonly number[],
): asn1js.Sequence {
  const base = SGX_EXTENSIONS_OID;
  const tcb = components.map((svn, index) =>
    pair(`${base}.2.${index + 1}`, new asn1js.Integer({ value: svn })),
  );
  tcb.push(pair(`${base}.2.17`, new asn1js.Integer({ value: pceSvn })));
  tcb.push(pair(`${base}.2.18`, new asn1js.OctetString({ valueHex: Uint8Array.from(components) })));
  return new asn1js.Sequence({
    value: [
      pair(`${base}.1`, new asn1js.OctetString({ valueHex: new Uint8Array(16).fill(0x77) })),
      pair(`${base}.2`, new asn1js.Sequence({ value: tcb })),
      pair(`${base}.3`, new asn1js.OctetString({ valueHex: new Uint8Array(2) })),
      pair(`${base}.4`, new asn1js.OctetString({ valueHex: toBytes(fmspc) })),
      pair(`${base}.5`, new asn1js.Enumerated({ value: 0 })),
    ],
  });
}

/** A certificate made by {@link issue}, with its key pair. */
export interface Issued {
  /** DER of the certificate. */
  der: Bytes;
  /** The certificate, parsed. */
  certificate: pkijs.Certificate;
  /** Its key pair. */
  keys: CryptoKeyPair;
  /** Its common name. */
  name: string;
}

/** Issues a certificate for `name` signed by `issuer` (self-signed without one) with a new key pair. */
export async function issue(
  name: string,
  issuer: { name: string; keys: CryptoKeyPair } | undefined,
  validity: { notBefore: Date; notAfter: Date },
  extensions: pkijs.Extension[],
): Promise<Issued> {
  const keys = await keyPair();
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = serial();
  setName(certificate.subject, name);
  setName(certificate.issuer, issuer?.name ?? name);
  certificate.notBefore = time(validity.notBefore);
  certificate.notAfter = time(validity.notAfter);
  certificate.extensions = extensions;
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey);
  await certificate.sign((issuer?.keys ?? keys).privateKey, 'SHA-256');
  const der = new Uint8Array(certificate.toSchema(true).toBER(false));
  return { der, certificate: pkijs.Certificate.fromBER(der), keys, name };
}

/** Critical basic constraints (CA) and key usage keyCertSign, cRLSign. */
export function caExtensions(): pkijs.Extension[] {
  return [
    extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: true }).toSchema()),
    extension('2.5.29.15', true, new asn1js.BitString({ valueHex: Uint8Array.of(0x06), unusedBits: 1 })),
  ];
}

/** Critical basic constraints (not a CA). */
export function leafExtensions(): pkijs.Extension[] {
  return [extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: false }).toSchema())];
}

/** A CRL of `issuer` listing `revoked`. */
export async function createCrl(
  issuer: Issued,
  thisUpdate: Date,
  nextUpdate: Date,
  revoked: readonly Issued[],
): Promise<Bytes> {
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  setName(crl.issuer, issuer.name);
  crl.thisUpdate = time(thisUpdate);
  crl.nextUpdate = time(nextUpdate);
  if (revoked.length > 0) {
    crl.revokedCertificates = revoked.map(
      (item) =>
        new pkijs.RevokedCertificate({
          userCertificate: new asn1js.Integer({
            valueHex: item.certificate.serialNumber.valueBlock.valueHexView.slice(),
          }),
          revocationDate: time(thisUpdate),
        }),
    );
  }
  await crl.sign(issuer.keys.privateKey, 'SHA-256');
  return new Uint8Array(crl.toSchema(true).toBER(false));
}

/** The certificates as one PEM text, in order. */
export function pem(...certificates: Issued[]): string {
  return certificates.map((item) => derToPem(item.der)).join('');
}
