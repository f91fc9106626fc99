import { type Bytes, bytesToUtf8, hexToBytes, isBytes } from '@confidential-ai/bytes';
import type { CertificateInfo } from './certificate.js';
import type { SignatureMemo, TrustAnchor } from './chain.js';
import type { EcdsaBackend } from './ecdsa.js';
import { nvidiaError } from './errors.js';
import { attribute, childElements, parseXml, textContent, type XmlElement } from './xml-parser.js';
import { verifyEnvelopedSignature } from './xml-signature.js';

// NVIDIA reference integrity manifests: ISO/IEC 19770-2 SWID tags following the TCG RIM information model, one
// for the driver and one per VBIOS, each `Payload/Resource` giving the reference values of one measurement index.

/** The SWID (ISO/IEC 19770-2:2015) namespace. */
export const SWID_NAMESPACE = 'http://standards.iso.org/iso/19770/-2/2015/schema.xsd';
/** The namespace of the SHA-384 `Hash<n>` attributes of a RIM resource. */
export const RIM_SHA384_NAMESPACE = 'http://www.w3.org/2001/04/xmlenc#sha384';
const TCG_RIM_NAMESPACE =
  'https://trustedcomputinggroup.org/resource/tcg-reference-integrity-manifest-rim-information-model/';

/** A RIM, as bytes or text (UTF-8 XML). */
export type RimInput = string | Uint8Array;

/** The reference values of one measurement index. */
export interface RimMeasurement {
  /** Index (0-based; describes SPDM measurement block `index + 1`). */
  readonly index: number;
  /** Resource name, e.g. `HashedMeasurement_1_FSP`. */
  readonly name: string;
  /** Whether the index is compared. */
  readonly active: boolean;
  /** Size of a reference value in bytes. */
  readonly size: number;
  /** The accepted values (any one may match). */
  readonly alternatives: readonly Bytes[];
}

/** A signature-verified RIM. */
export interface ReferenceIntegrityManifest {
  /** SWID tagId. */
  readonly tagId: string;
  /** SWID name (the chip, e.g. `GH100`). */
  readonly name: string;
  /** `Meta/@colloquialVersion`: the driver or VBIOS version it describes. */
  readonly version: string;
  /** `Meta/@product`. */
  readonly product: string | undefined;
  /** `Meta/@FirmwareManufacturerId` (TCG RIM namespace), e.g. `5703`. */
  readonly firmwareManufacturerId: string | undefined;
  /** Reference values by index. */
  readonly measurements: readonly RimMeasurement[];
  /** The signer chain from leaf to anchor. */
  readonly signerChain: readonly CertificateInfo[];
}

/** Options of {@link verifyRim}. */
export interface VerifyRimOptions {
  /** Trust anchor of the signer chain. */
  readonly anchor: TrustAnchor;
  /** Verification time. */
  readonly at: Date;
  /** Name for messages, e.g. `RIM 0`. */
  readonly what: string;
  /** Signature memo shared by the chains of one verification. */
  readonly memo: SignatureMemo;
  /** ECDSA implementation. */
  readonly backend?: EcdsaBackend;
  /** Reuse certificate signatures verified earlier in this process. Default true. */
  readonly reuse?: boolean;
}

function malformed(what: string, message: string, cause?: unknown): never {
  throw nvidiaError('ERR_NVIDIA_RIM_MALFORMED', `${what}: ${message}`, cause);
}

function single(parent: XmlElement, localName: string, what: string): XmlElement {
  const found = childElements(parent).filter(
    (child) => child.namespaceUri === SWID_NAMESPACE && child.localName === localName,
  );
  if (found.length !== 1) malformed(what, `must hold exactly one ${localName} element`);
  return found[0]!;
}

function decimal(value: string | undefined, name: string, min: number, max: number, what: string): number {
  if (value === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(value))
    malformed(what, `${name} must be a decimal number`);
  const number = Number(value);
  if (number < min || number > max) malformed(what, `${name} ${number} is out of range`);
  return number;
}

function readMeasurement(resource: XmlElement, what: string): RimMeasurement {
  if (resource.namespaceUri !== SWID_NAMESPACE || resource.localName !== 'Resource') {
    malformed(what, `Payload holds an unexpected <${resource.qualifiedName}>`);
  }
  if (attribute(resource, 'type') !== 'Measurement') malformed(what, 'a Resource is not of type Measurement');
  if (childElements(resource).length > 0 || textContent(resource).trim() !== '') {
    malformed(what, 'a Resource must be empty');
  }
  const index = decimal(attribute(resource, 'index'), 'index', 0, 254, what);
  const where = `${what} measurement ${index}`;
  const activeText = attribute(resource, 'active');
  if (activeText !== 'True' && activeText !== 'False') malformed(where, 'active must be True or False');
  const size = decimal(attribute(resource, 'size'), 'size', 1, 64, where);
  const count = decimal(attribute(resource, 'alternatives'), 'alternatives', 1, 64, where);
  const alternatives: Bytes[] = [];
  for (let position = 0; position < count; position++) {
    const text = attribute(resource, `Hash${position}`, RIM_SHA384_NAMESPACE);
    if (text === undefined) malformed(where, `lacks Hash${position}`);
    let value: Bytes;
    try {
      value = hexToBytes(text);
    } catch (cause) {
      malformed(where, `Hash${position} is not hex`, cause);
    }
    if (value.length !== size) malformed(where, `Hash${position} is not ${size} bytes`);
    alternatives.push(value);
  }
  return {
    index,
    name: attribute(resource, 'name') ?? '',
    active: activeText === 'True',
    size,
    alternatives,
  };
}

/** Reads the SWID fields of a (verified) RIM document. */
function readManifest(root: XmlElement, what: string): Omit<ReferenceIntegrityManifest, 'signerChain'> {
  if (root.namespaceUri !== SWID_NAMESPACE || root.localName !== 'SoftwareIdentity') {
    malformed(what, 'the document element is not a SWID SoftwareIdentity');
  }
  const tagId = attribute(root, 'tagId');
  const name = attribute(root, 'name');
  if (!tagId || !name) malformed(what, 'SoftwareIdentity lacks tagId or name');
  const meta = single(root, 'Meta', what);
  const version = attribute(meta, 'colloquialVersion');
  if (!version || !/^[0-9A-Za-z._-]{1,64}$/.test(version)) malformed(what, 'Meta lacks a colloquialVersion');
  const payload = single(root, 'Payload', what);
  if (payload.children.some((child) => child.kind === 'text' && child.value.trim() !== '')) {
    malformed(what, 'Payload holds text');
  }
  const measurements = childElements(payload).map((resource) => readMeasurement(resource, what));
  if (measurements.length === 0) malformed(what, 'Payload holds no measurement');
  const seen = new Set<number>();
  for (const measurement of measurements) {
    if (seen.has(measurement.index)) malformed(what, `measurement index ${measurement.index} appears twice`);
    seen.add(measurement.index);
  }
  return {
    tagId,
    name,
    version,
    product: attribute(meta, 'product'),
    firmwareManufacturerId: attribute(meta, 'FirmwareManufacturerId', TCG_RIM_NAMESPACE),
    measurements,
  };
}

/**
 * Verifies a RIM: parses the XML strictly, verifies its enveloped XML signature and signer chain to the RIM
 * trust anchor at `at`, then reads the SWID fields and reference values from the verified document.
 * @throws NvidiaAttestationError `ERR_NVIDIA_RIM_MALFORMED`, `ERR_NVIDIA_RIM_SIGNATURE`,
 *   `ERR_NVIDIA_RIM_CERT_CHAIN` or `ERR_NVIDIA_CERT_EXPIRED`.
 */
export async function verifyRim(
  input: RimInput,
  options: VerifyRimOptions,
): Promise<ReferenceIntegrityManifest> {
  const { what } = options;
  let text: string;
  if (typeof input === 'string') text = input;
  else if (isBytes(input)) {
    try {
      text = bytesToUtf8(input);
    } catch (cause) {
      malformed(what, 'is not UTF-8', cause);
    }
  } else throw new TypeError('a RIM must be XML text or UTF-8 bytes');
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (cause) {
    malformed(what, `is not well-formed XML (${(cause as Error).message})`, cause);
  }
  const verified = await verifyEnvelopedSignature(root, {
    anchor: options.anchor,
    at: options.at,
    what,
    memo: options.memo,
    ...(options.backend === undefined ? {} : { backend: options.backend }),
    ...(options.reuse === undefined ? {} : { reuse: options.reuse }),
  });
  return { ...readManifest(root, what), signerChain: verified.signerChain };
}
