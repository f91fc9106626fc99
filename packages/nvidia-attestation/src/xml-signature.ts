import { type Bytes, base64ToBytes, equalBytes, utf8ToBytes } from '@confidential-ai/bytes';
import type { CertificateInfo } from './certificate.js';
import { type SignatureMemo, type TrustAnchor, verifyCertificateChain } from './chain.js';
import { sha384 } from './digest.js';
import { type EcdsaBackend, verifyP384 } from './ecdsa.js';
import { nvidiaError } from './errors.js';
import { C14N_10, C14N_11, canonicalize } from './xml-c14n.js';
import { attribute, childElements, textContent, type XmlElement, XmlParseError } from './xml-parser.js';

// XML Signature (https://www.w3.org/TR/xmldsig-core1/) verification for the one shape NVIDIA signs RIMs with: an
// enveloped signature over the whole document (Reference URI=""), transforms enveloped-signature then C14N,
// SHA-384 digest, ECDSA P-384 / SHA-384 signature, the signer's certificate chain in KeyInfo/X509Data (leaf
// first). Everything else is refused, so that no other part of the document can be what gets verified.

/** The XML Signature namespace. */
export const XMLDSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';
/** ecdsa-sha384 signature method. */
export const XMLDSIG_ECDSA_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384';
/** SHA-384 digest method. */
export const XMLDSIG_SHA384 = 'http://www.w3.org/2001/04/xmldsig-more#sha384';
/** enveloped-signature transform. */
export const XMLDSIG_ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

const CANONICALIZATIONS = new Set([C14N_10, C14N_11]);

/** Options of {@link verifyEnvelopedSignature}. */
export interface EnvelopedSignatureOptions {
  /** Trust anchor of the signer chain. */
  readonly anchor: TrustAnchor;
  /** Verification time. */
  readonly at: Date;
  /** What is verified, for messages (`driver RIM`). */
  readonly what: string;
  /** Signature memo shared by the chains of one verification. */
  readonly memo: SignatureMemo;
  /** ECDSA implementation. */
  readonly backend?: EcdsaBackend;
  /** Reuse certificate signatures verified earlier in this process. Default true. */
  readonly reuse?: boolean;
}

/** A verified enveloped signature. */
export interface VerifiedXmlSignature {
  /** The signer chain from leaf to anchor. */
  readonly signerChain: readonly CertificateInfo[];
  /** The Signature element (excluded from what was signed). */
  readonly signature: XmlElement;
}

function invalid(what: string, message: string, cause?: unknown): never {
  throw nvidiaError('ERR_NVIDIA_RIM_SIGNATURE', `${what}: ${message}`, cause);
}

function isSignatureElement(element: XmlElement, localName: string): boolean {
  return element.namespaceUri === XMLDSIG_NAMESPACE && element.localName === localName;
}

/** The element children, which must be the named XML Signature elements in order; only white space between. */
function expectChildren(element: XmlElement, names: readonly string[], what: string): XmlElement[] {
  for (const child of element.children) {
    if (child.kind === 'text' && /[^ \t\n]/.test(child.value)) {
      invalid(what, `<${element.qualifiedName}> holds text between its elements`);
    }
  }
  const children = childElements(element);
  if (
    children.length !== names.length ||
    children.some((child, index) => !isSignatureElement(child, names[index]!))
  ) {
    invalid(what, `<${element.qualifiedName}> must hold exactly ${names.join(', ')}`);
  }
  return children;
}

function algorithmOf(element: XmlElement, what: string): string {
  if (childElements(element).length > 0 || textContent(element).trim() !== '') {
    invalid(what, `<${element.qualifiedName}> must be empty`);
  }
  const value = attribute(element, 'Algorithm');
  if (value === undefined) invalid(what, `<${element.qualifiedName}> has no Algorithm`);
  return value;
}

function base64Text(element: XmlElement, what: string): Bytes {
  if (childElements(element).length > 0) invalid(what, `<${element.qualifiedName}> must hold only text`);
  try {
    return base64ToBytes(textContent(element).replace(/[ \t\n]/g, ''));
  } catch (cause) {
    invalid(what, `<${element.qualifiedName}> is not base64`, cause);
  }
}

function findSignatures(element: XmlElement, out: XmlElement[]): XmlElement[] {
  for (const child of childElements(element)) {
    if (isSignatureElement(child, 'Signature')) out.push(child);
    findSignatures(child, out);
  }
  return out;
}

/**
 * Verifies the enveloped XML signature of a document: exactly one `ds:Signature`, a child of the document
 * element, with one Reference to the whole document, transforms enveloped-signature then C14N 1.0/1.1, SHA-384
 * digest, ECDSA P-384 / SHA-384 signature value, and the signer chain (KeyInfo/X509Data, leaf first) verified to
 * the anchor at `at`.
 * @throws NvidiaAttestationError `ERR_NVIDIA_RIM_SIGNATURE`, `ERR_NVIDIA_RIM_CERT_CHAIN` or
 *   `ERR_NVIDIA_CERT_EXPIRED`.
 */
export async function verifyEnvelopedSignature(
  root: XmlElement,
  options: EnvelopedSignatureOptions,
): Promise<VerifiedXmlSignature> {
  const { what } = options;
  const signatures = findSignatures(root, []);
  if (signatures.length === 0) invalid(what, 'has no XML signature');
  if (signatures.length > 1) invalid(what, 'has more than one XML signature');
  const signature = signatures[0]!;
  if (signature.parent !== root) invalid(what, 'the signature is not a child of the document element');
  if (signature.attributes.length > 0) invalid(what, '<Signature> must have no attributes');
  const [signedInfo, signatureValue, keyInfo] = expectChildren(
    signature,
    ['SignedInfo', 'SignatureValue', 'KeyInfo'],
    what,
  ) as [XmlElement, XmlElement, XmlElement];
  const [canonicalization, method, reference] = expectChildren(
    signedInfo,
    ['CanonicalizationMethod', 'SignatureMethod', 'Reference'],
    what,
  ) as [XmlElement, XmlElement, XmlElement];
  const canonicalizationAlgorithm = algorithmOf(canonicalization, what);
  if (!CANONICALIZATIONS.has(canonicalizationAlgorithm)) {
    invalid(what, `unsupported canonicalization ${canonicalizationAlgorithm}`);
  }
  if (algorithmOf(method, what) !== XMLDSIG_ECDSA_SHA384)
    invalid(what, 'signature method is not ecdsa-sha384');
  if (reference.attributes.length !== 1 || attribute(reference, 'URI') !== '') {
    invalid(what, 'the Reference must be to the whole document (URI="") only');
  }
  const [transforms, digestMethod, digestValue] = expectChildren(
    reference,
    ['Transforms', 'DigestMethod', 'DigestValue'],
    what,
  ) as [XmlElement, XmlElement, XmlElement];
  const transformList = expectChildren(
    transforms,
    childElements(transforms).map(() => 'Transform'),
    what,
  ).map((transform) => algorithmOf(transform, what));
  const referenceCanonicalization = transformList[1] ?? C14N_10;
  if (
    transformList.length < 1 ||
    transformList.length > 2 ||
    transformList[0] !== XMLDSIG_ENVELOPED ||
    !CANONICALIZATIONS.has(referenceCanonicalization)
  ) {
    invalid(what, 'transforms must be enveloped-signature, then C14N 1.0 or 1.1');
  }
  if (algorithmOf(digestMethod, what) !== XMLDSIG_SHA384) invalid(what, 'digest method is not SHA-384');
  const expectedDigest = base64Text(digestValue, what);
  const signatureBytes = base64Text(signatureValue, what);
  if (signatureValue.attributes.length > 0) invalid(what, '<SignatureValue> must have no attributes');
  const [x509Data] = expectChildren(keyInfo, ['X509Data'], what) as [XmlElement];
  const certificates = expectChildren(
    x509Data,
    childElements(x509Data).map(() => 'X509Certificate'),
    what,
  ).map((certificate) => base64Text(certificate, what));
  if (certificates.length === 0) invalid(what, 'KeyInfo holds no certificate');

  let documentBytes: Bytes;
  let signedInfoBytes: Bytes;
  try {
    documentBytes = utf8ToBytes(
      canonicalize(root, {
        algorithm: referenceCanonicalization as typeof C14N_11,
        exclude: signature,
      }),
    );
    signedInfoBytes = utf8ToBytes(
      canonicalize(signedInfo, { algorithm: canonicalizationAlgorithm as typeof C14N_11 }),
    );
  } catch (cause) {
    if (cause instanceof XmlParseError) invalid(what, cause.message, cause);
    throw cause;
  }
  if (!equalBytes(sha384(documentBytes), expectedDigest))
    invalid(what, 'the digest of the document does not match');

  const signerChain = await verifyCertificateChain(certificates, {
    anchor: options.anchor,
    at: options.at,
    what: `${what} signer chain`,
    code: 'ERR_NVIDIA_RIM_CERT_CHAIN',
    memo: options.memo,
    ...(options.backend === undefined ? {} : { backend: options.backend }),
    ...(options.reuse === undefined ? {} : { reuse: options.reuse }),
  });
  if (!(await verifyP384(signerChain[0]!.spki, signatureBytes, signedInfoBytes, options.backend))) {
    invalid(what, 'the signature value does not verify with the signer certificate');
  }
  return { signerChain, signature };
}
