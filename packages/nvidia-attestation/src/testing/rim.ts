import { bytesToBase64, bytesToHex, utf8ToBytes } from '@confidential-ai/bytes';
import { sha384 } from '@noble/hashes/sha2.js';
import { RIM_SHA384_NAMESPACE, SWID_NAMESPACE } from '../rim.js';
import { C14N_11, canonicalize } from '../xml-c14n.js';
import { childElements, parseXml, type XmlElement } from '../xml-parser.js';
import {
  XMLDSIG_ECDSA_SHA384,
  XMLDSIG_ENVELOPED,
  XMLDSIG_NAMESPACE,
  XMLDSIG_SHA384,
} from '../xml-signature.js';
import { type IssuedCertificate, signP384 } from './pki.js';

// Builds RIMs in the shape NVIDIA publishes (SWID tag, TCG RIM Meta, one Resource per measurement index) and signs
// them the way NVIDIA does: enveloped XML signature, C14N 1.1, SHA-384, ECDSA P-384, signer chain in X509Data.

/** One reference entry of a synthetic RIM. */
export interface TestRimEntry {
  /** RIM index (0-based). */
  readonly index: number;
  /** Compared when true. */
  readonly active: boolean;
  /** Accepted values (48 bytes each). */
  readonly values: readonly Uint8Array[];
}

/** What goes into a synthetic RIM. */
export interface TestRimContents {
  /** `colloquialVersion`: the driver or VBIOS version. */
  readonly version: string;
  /** Entries for indices 0..n-1. */
  readonly entries: readonly TestRimEntry[];
}

const TCG_RIM =
  'https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/';
const DIGEST_PLACEHOLDER = 'DIGEST';
const SIGNATURE_PLACEHOLDER = 'SIGNATURE';

function wrap(base64: string): string {
  return base64.replace(/(.{64})/g, '$1\n');
}

function findSignedInfo(root: XmlElement): XmlElement {
  const signature = childElements(root).find(
    (child) => child.namespaceUri === XMLDSIG_NAMESPACE && child.localName === 'Signature',
  );
  const signedInfo = signature && childElements(signature)[0];
  if (signedInfo === undefined) throw new Error('internal: no SignedInfo in the RIM template');
  return signedInfo;
}

/** Builds and signs a RIM with `signer`, embedding `chain` (signer first) in KeyInfo. */
export async function createSignedRim(
  contents: TestRimContents,
  signer: IssuedCertificate,
  chain: readonly IssuedCertificate[],
): Promise<string> {
  const tagId = bytesToHex(
    sha384(utf8ToBytes(`test-rim:${contents.version}:${globalThis.crypto.randomUUID()}`)),
  );
  const resources = contents.entries
    .map((entry) => {
      const hashes = entry.values
        .map((value, position) => ` ns2:Hash${position}="${bytesToHex(value)}"`)
        .join('');
      return `        <ns0:Resource type="Measurement" index="${entry.index}" active="${entry.active ? 'True' : 'False'}" alternatives="${entry.values.length}"${hashes} name="Measurement_${entry.index}" size="48"/>`;
    })
    .join('\n');
  const head = [
    `<SoftwareIdentity xmlns="${SWID_NAMESPACE}" xmlns:ns0="${SWID_NAMESPACE}" xmlns:ns2="${RIM_SHA384_NAMESPACE}" corpus="false" name="GH100" patch="false" supplemental="false" tagId="${tagId}" version="1.0" tagVersion="0">`,
    '    <ns0:Entity name="TEST ONLY - not NVIDIA" role="softwareCreator tagCreator"/>',
    `    <ns0:Meta xmlns:ns1="${TCG_RIM}" colloquialVersion="${contents.version}" edition="GPU" product="GH100" revision="r1" PayloadType="direct" ns1:BindingSpec="RIMIM" ns1:BindingSpecVersion="1.01" ns1:PlatformManufacturerId="5703" ns1:PlatformManufacturerStr="TEST ONLY" ns1:PlatformModel="GH100" ns1:FirmwareManufacturer="TEST ONLY" ns1:FirmwareManufacturerId="5703"/>`,
    `    <ns0:Payload xmlns:SHA384="${RIM_SHA384_NAMESPACE}">`,
    resources,
    '    </ns0:Payload>',
    '',
  ].join('\n');
  const certificates = chain
    .map((item) => `<ds:X509Certificate>${wrap(bytesToBase64(item.der))}\n</ds:X509Certificate>`)
    .join('');
  const signedInfo =
    `<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="${C14N_11}"/><ds:SignatureMethod Algorithm="${XMLDSIG_ECDSA_SHA384}"/>` +
    `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="${XMLDSIG_ENVELOPED}"/><ds:Transform Algorithm="${C14N_11}"/></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${XMLDSIG_SHA384}"/><ds:DigestValue>${DIGEST_PLACEHOLDER}</ds:DigestValue></ds:Reference></ds:SignedInfo>`;
  const template =
    `${head}<ds:Signature xmlns:ds="${XMLDSIG_NAMESPACE}">${signedInfo}<ds:SignatureValue>${SIGNATURE_PLACEHOLDER}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data>${certificates}</ds:X509Data></ds:KeyInfo></ds:Signature></SoftwareIdentity>\n`;

  const parsed = parseXml(template);
  const signature = childElements(parsed).find((child) => child.localName === 'Signature');
  const digest = bytesToBase64(
    sha384(
      utf8ToBytes(canonicalize(parsed, { algorithm: C14N_11, ...(signature ? { exclude: signature } : {}) })),
    ),
  );
  const withDigest = template.replace(DIGEST_PLACEHOLDER, digest);
  const signedBytes = utf8ToBytes(canonicalize(findSignedInfo(parseXml(withDigest)), { algorithm: C14N_11 }));
  const value = bytesToBase64(await signP384(signer.keys.privateKey, signedBytes));
  return withDigest.replace(SIGNATURE_PLACEHOLDER, value);
}
