import { type Bytes, bytesToHex, concatBytes, equalBytes, toBytes } from '@confidential-ai/bytes';
import {
  bitStringBytes,
  children,
  content,
  DerError,
  decodeOid,
  decodeTime,
  ecdsaDerToRaw,
  encoded,
  expectTag,
  readRoot,
  TAG,
  type Tlv,
} from './der.js';
import { TdxAttestationError, type TdxAttestationErrorCode } from './errors.js';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const PRIME256V1 = '1.2.840.10045.3.1.7';
const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
const COMMON_NAME = '2.5.4.3';
/** Critical extensions this verifier understands (RFC 5280: reject unknown critical extensions). */
const KNOWN_CRITICAL = new Set([BASIC_CONSTRAINTS, KEY_USAGE]);
const KEY_CERT_SIGN = 5;
const CRL_SIGN = 6;

const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

function subtle(): SubtleCrypto {
  const value = globalThis.crypto?.subtle;
  if (value === undefined) throw new Error('WebCrypto (globalThis.crypto.subtle) is not available');
  return value;
}

/** An X.509 extension. */
export interface CertificateExtension {
  /** Critical flag. */
  critical: boolean;
  /** Content of extnValue (the DER of the extension's value). */
  value: Bytes;
}

/** The parts of an X.509 certificate this package uses. */
export interface ParsedCertificate {
  /** DER bytes. */
  der: Bytes;
  /** DER of tbsCertificate (the signed part). */
  tbs: Bytes;
  /** Signature algorithm OID (outer). */
  signatureAlgorithm: string;
  /** Signature (DER ECDSA-Sig-Value for ECDSA). */
  signature: Bytes;
  /** Serial number content bytes. */
  serialNumber: Bytes;
  /** DER of the issuer Name. */
  issuer: Bytes;
  /** DER of the subject Name. */
  subject: Bytes;
  /** Subject common name, for messages. */
  label: string;
  /** notBefore. */
  notBefore: Date;
  /** notAfter. */
  notAfter: Date;
  /** Uncompressed P-256 point (65 bytes), or undefined for another key type. */
  publicKey: Bytes | undefined;
  /** basicConstraints cA. */
  isCa: boolean;
  /** keyUsage bits (bit n of the BIT STRING = `1 << n`), undefined when absent. */
  keyUsage: number | undefined;
  /** Extensions by OID. */
  extensions: Map<string, CertificateExtension>;
}

/** The parts of a CRL this package uses. */
export interface ParsedCrl {
  /** DER bytes. */
  der: Bytes;
  /** DER of tbsCertList. */
  tbs: Bytes;
  /** Signature algorithm OID. */
  signatureAlgorithm: string;
  /** Signature (DER ECDSA-Sig-Value). */
  signature: Bytes;
  /** DER of the issuer Name. */
  issuer: Bytes;
  /** thisUpdate. */
  thisUpdate: Date;
  /** nextUpdate, when present. */
  nextUpdate: Date | undefined;
  /** Revoked serial numbers, lowercase hex of the INTEGER content. */
  revokedSerials: Set<string>;
}

function commonName(name: Tlv): string {
  for (const rdn of children(expectTag(name, TAG.sequence, 'Name'))) {
    for (const attribute of children(expectTag(rdn, TAG.set, 'RDN'))) {
      const [type, value] = children(expectTag(attribute, TAG.sequence, 'AttributeTypeAndValue'));
      if (type !== undefined && value !== undefined && decodeOid(type) === COMMON_NAME) {
        return new TextDecoder().decode(content(value));
      }
    }
  }
  return 'certificate';
}

function algorithm(tlv: Tlv | undefined): string {
  const [oid] = children(expectTag(tlv, TAG.sequence, 'AlgorithmIdentifier'));
  return decodeOid(expectTag(oid, TAG.oid, 'algorithm'));
}

function publicKeyOf(spki: Tlv): Bytes | undefined {
  const [algorithmTlv, key] = children(expectTag(spki, TAG.sequence, 'SubjectPublicKeyInfo'));
  const parts = children(expectTag(algorithmTlv, TAG.sequence, 'AlgorithmIdentifier'));
  if (parts.length !== 2 || decodeOid(parts[0]!) !== EC_PUBLIC_KEY || parts[1]!.tag !== TAG.oid)
    return undefined;
  if (decodeOid(parts[1]!) !== PRIME256V1) return undefined;
  const point = bitStringBytes(expectTag(key, TAG.bitString, 'subjectPublicKey'));
  return point.length === 65 && point[0] === 4 ? toBytes(point) : undefined;
}

function parseExtensions(wrapper: Tlv): Map<string, CertificateExtension> {
  const out = new Map<string, CertificateExtension>();
  const [list] = children(wrapper);
  for (const extension of children(expectTag(list, TAG.sequence, 'Extensions'))) {
    const parts = children(expectTag(extension, TAG.sequence, 'Extension'));
    const id = decodeOid(expectTag(parts[0], TAG.oid, 'extnID'));
    let critical = false;
    let valueTlv = parts[1];
    if (valueTlv?.tag === TAG.boolean) {
      const flag = content(valueTlv);
      if (flag.length !== 1 || flag[0] !== 0xff) throw new DerError('critical must be DER TRUE when present');
      critical = true;
      valueTlv = parts[2];
    }
    const value = content(expectTag(valueTlv, TAG.octetString, 'extnValue'));
    if (out.has(id)) throw new DerError(`duplicate extension ${id}`);
    out.set(id, { critical, value: toBytes(value) });
  }
  return out;
}

function basicConstraintsCa(extension: CertificateExtension | undefined): boolean {
  if (extension === undefined) return false;
  const items = children(expectTag(readRoot(extension.value), TAG.sequence, 'BasicConstraints'));
  const first = items[0];
  if (first?.tag !== TAG.boolean) return false;
  const flag = content(first);
  if (flag.length !== 1 || flag[0] !== 0xff) throw new DerError('cA must be DER TRUE when present');
  return true;
}

function keyUsageBits(extension: CertificateExtension | undefined): number | undefined {
  if (extension === undefined) return undefined;
  const bytes = content(expectTag(readRoot(extension.value), TAG.bitString, 'KeyUsage'));
  let bits = 0;
  for (let index = 1; index < Math.min(bytes.length, 3); index++) {
    for (let bit = 0; bit < 8; bit++) if (bytes[index]! & (0x80 >> bit)) bits |= 1 << ((index - 1) * 8 + bit);
  }
  return bits;
}

/** Parses a DER certificate; failures raise `code`. */
export function parseCertificate(
  der: Uint8Array,
  what: string,
  code: TdxAttestationErrorCode,
): ParsedCertificate {
  const bytes = toBytes(der);
  try {
    const top = children(expectTag(readRoot(bytes), TAG.sequence, 'Certificate'));
    if (top.length !== 3) throw new DerError('Certificate must hold three elements');
    const [tbs, signatureAlgorithm, signature] = top as [Tlv, Tlv, Tlv];
    const fields = children(expectTag(tbs, TAG.sequence, 'TBSCertificate'));
    let index = 0;
    if (fields[0]?.tag === 0xa0) index++; // [0] EXPLICIT version
    const serial = content(expectTag(fields[index++], TAG.integer, 'serialNumber'));
    const innerAlgorithm = algorithm(fields[index++]);
    const issuer = expectTag(fields[index++], TAG.sequence, 'issuer');
    const validity = children(expectTag(fields[index++], TAG.sequence, 'validity'));
    const subject = expectTag(fields[index++], TAG.sequence, 'subject');
    const spki = expectTag(fields[index++], TAG.sequence, 'subjectPublicKeyInfo');
    let extensions = new Map<string, CertificateExtension>();
    for (const rest of fields.slice(index)) {
      if (rest.tag === 0xa3) extensions = parseExtensions(rest);
      else if (rest.tag !== 0x81 && rest.tag !== 0x82) throw new DerError('unexpected TBSCertificate field');
    }
    const outerAlgorithm = algorithm(signatureAlgorithm);
    if (outerAlgorithm !== innerAlgorithm) throw new DerError('signature algorithms differ');
    if (validity.length !== 2) throw new DerError('validity must hold two times');
    for (const [id, extension] of extensions) {
      if (extension.critical && !KNOWN_CRITICAL.has(id) && !id.startsWith('1.2.840.113741.')) {
        throw new DerError(`unsupported critical extension ${id}`);
      }
    }
    return {
      der: bytes,
      tbs: toBytes(encoded(tbs)),
      signatureAlgorithm: outerAlgorithm,
      signature: toBytes(bitStringBytes(expectTag(signature, TAG.bitString, 'signatureValue'))),
      serialNumber: toBytes(serial),
      issuer: toBytes(encoded(issuer)),
      subject: toBytes(encoded(subject)),
      label: commonName(subject),
      notBefore: decodeTime(validity[0]!),
      notAfter: decodeTime(validity[1]!),
      publicKey: publicKeyOf(spki),
      isCa: basicConstraintsCa(extensions.get(BASIC_CONSTRAINTS)),
      keyUsage: keyUsageBits(extensions.get(KEY_USAGE)),
      extensions,
    };
  } catch (cause) {
    if (TdxAttestationError.isInstance(cause)) throw cause;
    throw new TdxAttestationError(code, `${what}: not a valid X.509 certificate`, { cause });
  }
}

/** Parses a DER CRL; failures raise `ERR_TDX_COLLATERAL_MALFORMED`. */
export function parseCrl(der: Uint8Array, what: string): ParsedCrl {
  const bytes = toBytes(der);
  try {
    const top = children(expectTag(readRoot(bytes), TAG.sequence, 'CertificateList'));
    if (top.length !== 3) throw new DerError('CertificateList must hold three elements');
    const [tbs, signatureAlgorithm, signature] = top as [Tlv, Tlv, Tlv];
    const fields = children(expectTag(tbs, TAG.sequence, 'TBSCertList'));
    let index = 0;
    if (fields[0]?.tag === TAG.integer) index++; // version
    const innerAlgorithm = algorithm(fields[index++]);
    const issuer = expectTag(fields[index++], TAG.sequence, 'issuer');
    const thisUpdate = decodeTime(fields[index++] ?? issuer);
    let nextUpdate: Date | undefined;
    const maybeNext = fields[index];
    if (maybeNext !== undefined && (maybeNext.tag === TAG.utcTime || maybeNext.tag === TAG.generalizedTime)) {
      nextUpdate = decodeTime(maybeNext);
      index++;
    }
    const revokedSerials = new Set<string>();
    if (fields[index]?.tag === TAG.sequence) {
      for (const entry of children(fields[index++]!)) {
        const [serial, date] = children(expectTag(entry, TAG.sequence, 'revokedCertificate'));
        revokedSerials.add(bytesToHex(content(expectTag(serial, TAG.integer, 'userCertificate'))));
        decodeTime(date ?? serial!);
      }
    }
    if (fields[index]?.tag === 0xa0) index++; // crlExtensions
    if (index !== fields.length) throw new DerError('unexpected TBSCertList field');
    const outerAlgorithm = algorithm(signatureAlgorithm);
    if (outerAlgorithm !== innerAlgorithm) throw new DerError('signature algorithms differ');
    return {
      der: bytes,
      tbs: toBytes(encoded(tbs)),
      signatureAlgorithm: outerAlgorithm,
      signature: toBytes(bitStringBytes(expectTag(signature, TAG.bitString, 'signatureValue'))),
      issuer: toBytes(encoded(issuer)),
      thisUpdate,
      nextUpdate,
      revokedSerials,
    };
  } catch (cause) {
    throw new TdxAttestationError('ERR_TDX_COLLATERAL_MALFORMED', `${what}: not a valid CRL`, { cause });
  }
}

const KEY_CACHE_LIMIT = 256;
const webKeys = new Map<string, Promise<CryptoKey | undefined>>();

function remember<T>(cache: Map<string, T>, id: string, value: T): T {
  if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
  cache.set(id, value);
  return value;
}

function importWebKey(point: Bytes, id: string): Promise<CryptoKey | undefined> {
  return (
    webKeys.get(id) ??
    remember(
      webKeys,
      id,
      subtle()
        .importKey('raw', point, P256, false, ['verify'])
        .catch(() => undefined),
    )
  );
}

/**
 * Verifies an ECDSA-P256/SHA-256 signature in raw `r || s` form with a public key given as raw `X || Y`
 * (64 bytes) or an uncompressed point (65 bytes). Never throws for bad input: an invalid key or signature
 * gives `false`. Imported keys are cached by their bytes (bounded).
 */
export async function verifyP256(
  publicKey: Uint8Array,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  const point = publicKey.length === 64 ? concatBytes(Uint8Array.of(4), publicKey) : toBytes(publicKey);
  if (point.length !== 65 || point[0] !== 4 || signature.length !== 64) return false;
  const id = bytesToHex(point);
  const key = await importWebKey(point, id);
  if (key === undefined) return false;
  try {
    return await subtle().verify(ECDSA_SHA256, key, toBytes(signature), toBytes(message));
  } catch {
    return false;
  }
}

/** Verifies a raw `r || s` ECDSA-P256 signature over `message` with a certificate's key. */
export async function verifyWithCertificate(
  certificate: ParsedCertificate,
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  if (certificate.publicKey === undefined) return false;
  return verifyP256(certificate.publicKey, signature, message);
}

/** Verifies an X.509 signed object (certificate or CRL) made with ecdsa-with-SHA256 by `issuer`. */
async function verifySignedObject(
  object: { signatureAlgorithm: string; signature: Uint8Array; tbs: Uint8Array },
  issuer: ParsedCertificate,
): Promise<boolean> {
  if (object.signatureAlgorithm !== ECDSA_WITH_SHA256) return false;
  let raw: Bytes;
  try {
    raw = ecdsaDerToRaw(object.signature);
  } catch {
    return false;
  }
  return verifyWithCertificate(issuer, raw, object.tbs);
}

/** Options of {@link verifyCertificateChain}. */
export interface ChainOptions {
  /** DER of the pinned trust anchor. */
  root: Uint8Array;
  /** Verification time. */
  now: Date;
  /** What the chain is, for messages. */
  what: string;
  /**
   * Signature results already established in this verification, keyed by certificate DER and issuer key;
   * lets several chains that share certificates (root, PCK CA, TCB signing) check each signature once.
   */
  verified?: Map<string, Promise<boolean>>;
}

function verifyIssued(
  subject: ParsedCertificate,
  issuer: ParsedCertificate,
  verified?: Map<string, Promise<boolean>>,
): Promise<boolean> {
  if (verified === undefined) return verifySignedObject(subject, issuer);
  const id = `${bytesToHex(subject.der)}|${issuer.publicKey ? bytesToHex(issuer.publicKey) : ''}`;
  let result = verified.get(id);
  if (result === undefined) {
    result = verifySignedObject(subject, issuer);
    verified.set(id, result);
  }
  return result;
}

/**
 * Verifies a chain given leaf first. The chain must end at the pinned root (byte-equal), or its last
 * certificate must be issued by it. Checks name chaining, signatures, CA flag and keyCertSign of issuers,
 * and validity of every certificate at `now`. Returns the chain from leaf to root (root included).
 */
export async function verifyCertificateChain(
  chainDer: readonly Uint8Array[],
  options: ChainOptions,
): Promise<ParsedCertificate[]> {
  const { what, now } = options;
  if (chainDer.length === 0)
    throw new TdxAttestationError('ERR_TDX_CERT_CHAIN', `${what}: empty certificate chain`);
  const chain = chainDer.map((der, index) =>
    parseCertificate(der, `${what}[${index}]`, 'ERR_TDX_CERT_CHAIN'),
  );
  const root = parseCertificate(options.root, 'trust anchor', 'ERR_TDX_CERT_CHAIN');
  const last = chain[chain.length - 1]!;
  if (!equalBytes(last.der, root.der)) {
    if (equalBytes(last.issuer, last.subject)) {
      throw new TdxAttestationError(
        'ERR_TDX_CERT_CHAIN',
        `${what}: chain ends at a root that is not the trust anchor`,
      );
    }
    chain.push(root);
  }
  // Start every signature check at once (WebCrypto runs them off the main thread), then judge in chain order.
  const anchorSignature = verifyIssued(root, root, options.verified);
  const signatures = chain
    .slice(0, -1)
    .map((subject, index) => verifyIssued(subject, chain[index + 1]!, options.verified));
  const results = await Promise.all([anchorSignature, ...signatures]);
  if (!equalBytes(root.issuer, root.subject) || !results[0]) {
    throw new TdxAttestationError(
      'ERR_TDX_CERT_CHAIN',
      `${what}: trust anchor is not a self-signed certificate`,
    );
  }
  for (let index = 0; index < chain.length - 1; index++) {
    const subject = chain[index]!;
    const issuer = chain[index + 1]!;
    if (!equalBytes(subject.issuer, issuer.subject)) {
      throw new TdxAttestationError(
        'ERR_TDX_CERT_CHAIN',
        `${what}: "${subject.label}" is not issued by "${issuer.label}"`,
      );
    }
    if (!issuer.isCa || (issuer.keyUsage !== undefined && (issuer.keyUsage & (1 << KEY_CERT_SIGN)) === 0)) {
      throw new TdxAttestationError(
        'ERR_TDX_CERT_CHAIN',
        `${what}: issuer "${issuer.label}" is not a CA certificate`,
      );
    }
    if (!results[index + 1]) {
      throw new TdxAttestationError(
        'ERR_TDX_CERT_CHAIN',
        `${what}: signature of "${subject.label}" does not verify with "${issuer.label}"`,
      );
    }
  }
  for (const certificate of chain) {
    if (now < certificate.notBefore || now > certificate.notAfter) {
      throw new TdxAttestationError(
        'ERR_TDX_CERT_EXPIRED',
        `${what}: "${certificate.label}" is not valid at ${now.toISOString()} (valid ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()})`,
      );
    }
  }
  return chain;
}

/** Verifies a CRL's issuer, signature and that `now` lies in [thisUpdate, nextUpdate]. */
export async function verifyCrl(
  crl: ParsedCrl,
  issuer: ParsedCertificate,
  now: Date,
  what: string,
): Promise<void> {
  if (!equalBytes(crl.issuer, issuer.subject)) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_SIGNATURE',
      `${what}: CRL issuer is not "${issuer.label}"`,
    );
  }
  if (issuer.keyUsage !== undefined && (issuer.keyUsage & (1 << CRL_SIGN)) === 0) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_SIGNATURE',
      `${what}: "${issuer.label}" may not sign CRLs`,
    );
  }
  if (!(await verifySignedObject(crl, issuer))) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_SIGNATURE',
      `${what}: CRL signature does not verify with "${issuer.label}"`,
    );
  }
  if (crl.nextUpdate === undefined) {
    throw new TdxAttestationError('ERR_TDX_COLLATERAL_MALFORMED', `${what}: CRL has no nextUpdate`);
  }
  if (now < crl.thisUpdate || now > crl.nextUpdate) {
    throw new TdxAttestationError(
      'ERR_TDX_COLLATERAL_EXPIRED',
      `${what}: CRL is not current at ${now.toISOString()} (thisUpdate ${crl.thisUpdate.toISOString()}, nextUpdate ${crl.nextUpdate.toISOString()})`,
    );
  }
}

/** Throws `ERR_TDX_CERT_REVOKED` when a certificate is listed on a CRL from its issuer. */
export function checkNotRevoked(
  certificates: readonly ParsedCertificate[],
  crls: readonly ParsedCrl[],
  what: string,
): void {
  for (const certificate of certificates) {
    const serial = bytesToHex(certificate.serialNumber);
    for (const crl of crls) {
      if (equalBytes(crl.issuer, certificate.issuer) && crl.revokedSerials.has(serial)) {
        throw new TdxAttestationError(
          'ERR_TDX_CERT_REVOKED',
          `${what}: "${certificate.label}" is revoked (serial ${serial})`,
        );
      }
    }
  }
}
