import { assertBytes, type Bytes, bytesToHex, toBytes } from '@confidential-ai/bytes';
import { TdxAttestationError } from './errors.js';
import { pemCertificatesToDer } from './pem.js';

/** Size of the quote header. */
export const TDX_QUOTE_HEADER_SIZE = 48;
/** Size of a TD report 1.0 body (quote v4, and quote v5 body type 2). */
export const TDX_TD_REPORT_BODY_SIZE = 584;
/** Size of a TD report 1.5 body (quote v5 body type 3): the 1.0 fields, TEE_TCB_SVN_2 and MR_SERVICETD. */
export const TDX_TD_REPORT15_BODY_SIZE = 648;
/** Size of the body descriptor of a version 5 quote (body type u16, body size u32) between header and body. */
export const TDX_QUOTE_BODY_DESCRIPTOR_SIZE = 6;
/** Quote v5 body type of a TD report 1.0 body (TDX 1.0 fields). */
export const TDX_BODY_TYPE_TD_REPORT10 = 2;
/** Quote v5 body type of a TD report 1.5 body (adds TEE_TCB_SVN_2 and MR_SERVICETD). */
export const TDX_BODY_TYPE_TD_REPORT15 = 3;
/** Number of leading bytes covered by the quote signature in a version 4 quote (header and TD report body). */
export const TDX_QUOTE_SIGNED_SIZE = TDX_QUOTE_HEADER_SIZE + TDX_TD_REPORT_BODY_SIZE;
/** Absolute offset of REPORTDATA in a version 4 TDX quote. */
export const TDX_REPORT_DATA_OFFSET = 568;
/** Absolute offset of REPORTDATA in a version 5 TDX quote (either body type). */
export const TDX_V5_REPORT_DATA_OFFSET = TDX_REPORT_DATA_OFFSET + TDX_QUOTE_BODY_DESCRIPTOR_SIZE;
/** Size of an SGX report body (the QE report). */
export const SGX_REPORT_BODY_SIZE = 384;
/** TEE type of TDX in the quote header. */
export const TDX_TEE_TYPE = 0x81;
/** Attestation key type 2: ECDSA on P-256 with SHA-256. */
export const ATTESTATION_KEY_TYPE_ECDSA_P256 = 2;
/** Intel's QE vendor id, `939a7233f79c4ca9940a0db3957f0607`. */
export const INTEL_QE_VENDOR_ID: Bytes = Uint8Array.from([
  0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
]);

/** The 48-byte quote header. */
export interface TdxQuoteHeader {
  /** Quote format version (4 or 5). */
  version: number;
  /** Attestation key type (2 = ECDSA-256 with P-256). */
  attestationKeyType: number;
  /** TEE type (`0x81` = TDX). */
  teeType: number;
  /** QE security version (header bytes 8..10, u16 LE). */
  qeSvn: number;
  /** PCE security version (header bytes 10..12, u16 LE). */
  pceSvn: number;
  /** QE vendor id (16 bytes). */
  qeVendorId: Bytes;
  /** Header user data (20 bytes; the first 16 hold the platform id for Intel's QE). */
  userData: Bytes;
}

/** TD_ATTRIBUTES, decoded. Bit numbers follow the Intel TDX module specification (u64 little endian). */
export interface TdAttributes {
  /** The 8 raw bytes. */
  raw: Bytes;
  /** The raw value as a little-endian u64. */
  value: bigint;
  /** Bit 0, DEBUG: the TD is debuggable; its memory and state are not confidential. */
  debug: boolean;
  /** Bit 28, SEPT_VE_DISABLE. */
  septVeDisable: boolean;
  /** Bit 30, PKS (protection keys for supervisor pages). */
  protectionKeys: boolean;
  /** Bit 31, KL (key locker). */
  keyLocker: boolean;
  /** Bit 63, PERFMON. */
  perfmon: boolean;
}

/**
 * A TD report body: the 584-byte TD report 1.0 (quote v4, quote v5 body type 2), or the 648-byte TD report 1.5
 * (quote v5 body type 3), which adds `teeTcbSvn2` and `mrServiceTd`.
 */
export interface TdReportBody {
  /** TEE_TCB_SVN (16 bytes). */
  teeTcbSvn: Bytes;
  /** MRSEAM: measurement of the TDX module (48 bytes). */
  mrSeam: Bytes;
  /** MRSIGNERSEAM: signer of the TDX module (48 bytes, zero for Intel's module). */
  mrSignerSeam: Bytes;
  /** SEAM_ATTRIBUTES (8 bytes). */
  seamAttributes: Bytes;
  /** TD_ATTRIBUTES, decoded. */
  tdAttributes: TdAttributes;
  /** XFAM (8 bytes). */
  xfam: Bytes;
  /** MRTD: measurement of the initial TD contents (48 bytes). */
  mrTd: Bytes;
  /** MRCONFIGID (48 bytes). */
  mrConfigId: Bytes;
  /** MROWNER (48 bytes). */
  mrOwner: Bytes;
  /** MROWNERCONFIG (48 bytes). */
  mrOwnerConfig: Bytes;
  /** RTMR0 to RTMR3 (48 bytes each). */
  rtmrs: [Bytes, Bytes, Bytes, Bytes];
  /** REPORTDATA (64 bytes). */
  reportData: Bytes;
  /**
   * TD report 1.5 only: TEE_TCB_SVN_2 (16 bytes), the SVNs of the TDX module the platform runs now (it differs
   * from `teeTcbSvn`, the module the TD was launched under, after a TD-preserving module update).
   */
  teeTcbSvn2?: Bytes;
  /** TD report 1.5 only: MR_SERVICETD (48 bytes), the measurement of bound service TDs (zero when none). */
  mrServiceTd?: Bytes;
}

/** The quoting enclave's SGX report body (384 bytes), signed by the PCK key. */
export interface QeReport {
  /** The 384 raw bytes (the QE report signature covers them). */
  raw: Bytes;
  /** CPUSVN (16 bytes). */
  cpuSvn: Bytes;
  /** MISCSELECT (u32 LE). */
  miscSelect: number;
  /** ATTRIBUTES (16 bytes). */
  attributes: Bytes;
  /** MRENCLAVE (32 bytes). */
  mrEnclave: Bytes;
  /** MRSIGNER (32 bytes). */
  mrSigner: Bytes;
  /** ISVPRODID (u16 LE). */
  isvProdId: number;
  /** ISVSVN (u16 LE). */
  isvSvn: number;
  /** REPORTDATA (64 bytes): SHA-256(attestation key || QE auth data) followed by 32 zero bytes. */
  reportData: Bytes;
}

/** A parsed TDX quote, version 4 or 5, with ECDSA-P256 signature data and a PCK certificate chain. */
export interface TdxQuote {
  /** The whole quote as given (including any trailing bytes). */
  raw: Bytes;
  /** Header. */
  header: TdxQuoteHeader;
  /**
   * Body type: {@link TDX_BODY_TYPE_TD_REPORT10} (2) for version 4 quotes and v5 TD report 1.0 bodies,
   * {@link TDX_BODY_TYPE_TD_REPORT15} (3) for v5 TD report 1.5 bodies.
   */
  bodyType: number;
  /** TD report body. */
  body: TdReportBody;
  /** Absolute offset of the TD report body (48 in v4, 54 in v5). */
  bodyOffset: number;
  /**
   * The message of the quote signature: header and body (bytes 0..632 in v4), plus the body descriptor in v5
   * (bytes 0..638 for body type 2, 0..702 for body type 3).
   */
  signedData: Bytes;
  /** Quote signature, raw `r || s` (64 bytes). */
  signature: Bytes;
  /** Attestation public key, raw P-256 `X || Y` (64 bytes). */
  attestationKey: Bytes;
  /** QE report. */
  qeReport: QeReport;
  /** QE report signature by the PCK leaf key, raw `r || s` (64 bytes). */
  qeReportSignature: Bytes;
  /** QE authentication data. */
  qeAuthData: Bytes;
  /** PCK certificate chain as PEM text (certification data type 5). */
  pckCertChainPem: string;
  /** The PCK chain certificates in DER, leaf first. */
  pckCertChain: Bytes[];
  /** Number of bytes after the signature data (accepted; a real Venice quote has 70 zero bytes there). */
  trailingBytes: number;
}

function malformed(message: string): TdxAttestationError {
  return new TdxAttestationError('ERR_TDX_QUOTE_MALFORMED', message);
}

function unsupported(message: string): TdxAttestationError {
  return new TdxAttestationError('ERR_TDX_QUOTE_UNSUPPORTED', message);
}

/** A bounds-checked little-endian reader. */
class Reader {
  private position: number;
  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
    private readonly what: string,
  ) {
    this.position = start;
  }
  get offset(): number {
    return this.position;
  }
  get remaining(): number {
    return this.end - this.position;
  }
  take(length: number, field: string): Bytes {
    if (length < 0 || length > this.remaining) {
      throw malformed(
        `${this.what}: truncated at ${field} (need ${length} bytes at offset ${this.position})`,
      );
    }
    const out = toBytes(this.bytes.subarray(this.position, this.position + length));
    this.position += length;
    return out;
  }
  u16(field: string): number {
    const b = this.take(2, field);
    return b[0]! | (b[1]! << 8);
  }
  u32(field: string): number {
    const b = this.take(4, field);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }
}

function u16At(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8);
}

function u32At(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>>
    0
  );
}

/** Decodes 8 bytes of TD_ATTRIBUTES. */
export function decodeTdAttributes(raw: Uint8Array): TdAttributes {
  assertBytes(raw, 'raw', 8);
  let value = 0n;
  for (let i = 7; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]!);
  const bit = (n: bigint) => ((value >> n) & 1n) === 1n;
  return {
    raw: toBytes(raw),
    value,
    debug: bit(0n),
    septVeDisable: bit(28n),
    protectionKeys: bit(30n),
    keyLocker: bit(31n),
    perfmon: bit(63n),
  };
}

/** Parses a 384-byte SGX report body (the QE report). */
export function parseQeReport(raw: Uint8Array): QeReport {
  assertBytes(raw, 'raw', SGX_REPORT_BODY_SIZE);
  const bytes = toBytes(raw);
  return {
    raw: bytes,
    cpuSvn: bytes.slice(0, 16),
    miscSelect: u32At(bytes, 16),
    attributes: bytes.slice(48, 64),
    mrEnclave: bytes.slice(64, 96),
    mrSigner: bytes.slice(128, 160),
    isvProdId: u16At(bytes, 256),
    isvSvn: u16At(bytes, 258),
    reportData: bytes.slice(320, 384),
  };
}

function parseBody(bytes: Uint8Array, bodyType: number): TdReportBody {
  const at = (offset: number, length: number) => toBytes(bytes.subarray(offset, offset + length));
  const body: TdReportBody = {
    teeTcbSvn: at(0, 16),
    mrSeam: at(16, 48),
    mrSignerSeam: at(64, 48),
    seamAttributes: at(112, 8),
    tdAttributes: decodeTdAttributes(bytes.subarray(120, 128)),
    xfam: at(128, 8),
    mrTd: at(136, 48),
    mrConfigId: at(184, 48),
    mrOwner: at(232, 48),
    mrOwnerConfig: at(280, 48),
    rtmrs: [at(328, 48), at(376, 48), at(424, 48), at(472, 48)],
    reportData: at(520, 64),
  };
  if (bodyType === TDX_BODY_TYPE_TD_REPORT15) {
    body.teeTcbSvn2 = at(584, 16);
    body.mrServiceTd = at(600, 48);
  }
  return body;
}

function isPrintableAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0 || b === 9 || b === 10 || b === 13) continue;
    if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}

/** Where the body of a quote lies, from its version and (in v5) its body descriptor. */
function locateBody(raw: Bytes, version: number): { type: number; offset: number; size: number } {
  if (version === 4)
    return { type: TDX_BODY_TYPE_TD_REPORT10, offset: TDX_QUOTE_HEADER_SIZE, size: TDX_TD_REPORT_BODY_SIZE };
  const descriptorEnd = TDX_QUOTE_HEADER_SIZE + TDX_QUOTE_BODY_DESCRIPTOR_SIZE;
  if (raw.length < descriptorEnd) {
    throw malformed(
      `quote: truncated (${raw.length} bytes, the v5 body descriptor ends at ${descriptorEnd})`,
    );
  }
  const type = u16At(raw, TDX_QUOTE_HEADER_SIZE);
  const size = u32At(raw, TDX_QUOTE_HEADER_SIZE + 2);
  let expected: number;
  if (type === TDX_BODY_TYPE_TD_REPORT10) expected = TDX_TD_REPORT_BODY_SIZE;
  else if (type === TDX_BODY_TYPE_TD_REPORT15) expected = TDX_TD_REPORT15_BODY_SIZE;
  else if (type === 1) throw unsupported('quote: body type 1 (SGX enclave report) is not a TD report');
  else throw unsupported(`quote: body type ${type} is not supported (expected 2 or 3)`);
  if (size !== expected) {
    throw malformed(
      `quote: body type ${type} declares ${size} bytes (a TD report ${type === 2 ? '1.0' : '1.5'} body has ${expected})`,
    );
  }
  return { type, offset: descriptorEnd, size };
}

/**
 * Parses a TDX quote, version 4 or 5, with ECDSA-P256 signature data whose certification data is type 6 (QE
 * report certification data) wrapping type 5 (PCK certificate chain). A version 5 quote carries a body
 * descriptor after the header: body type 2 (TD report 1.0, 584 bytes) or 3 (TD report 1.5, 648 bytes, adding
 * TEE_TCB_SVN_2 and MR_SERVICETD); the size must be the one of its type. Every length is bounds-checked; bytes
 * after the signature data are accepted and counted in `trailingBytes`. Parsing checks structure only: no
 * signature or certificate is verified (see {@link verifyTdxQuote}).
 *
 * @param quote the quote bytes (binary, not hex)
 * @returns the parsed quote; byte fields are fresh copies
 * @throws TypeError when `quote` is not a Uint8Array
 * @throws TdxAttestationError `ERR_TDX_QUOTE_MALFORMED` for truncated or inconsistent bytes,
 *   `ERR_TDX_QUOTE_UNSUPPORTED` for another version, key type, TEE type, QE vendor, body type or certification
 *   data type
 * @example Imported from the package root:
 * ```ts
 * const quote = parseTdxQuote(bytes);
 * console.log(quote.header.version, quote.body.tdAttributes.debug, quote.body.reportData);
 * ```
 */
export function parseTdxQuote(quote: Uint8Array): TdxQuote {
  assertBytes(quote, 'quote');
  const raw = toBytes(quote);
  if (raw.length < TDX_QUOTE_HEADER_SIZE) {
    throw malformed(`quote: truncated (${raw.length} bytes, the header alone has ${TDX_QUOTE_HEADER_SIZE})`);
  }
  const header: TdxQuoteHeader = {
    version: u16At(raw, 0),
    attestationKeyType: u16At(raw, 2),
    teeType: u32At(raw, 4),
    qeSvn: u16At(raw, 8),
    pceSvn: u16At(raw, 10),
    qeVendorId: raw.slice(12, 28),
    userData: raw.slice(28, 48),
  };
  if (header.version !== 4 && header.version !== 5)
    throw unsupported(`quote: version ${header.version} is not supported (expected 4 or 5)`);
  if (header.attestationKeyType !== ATTESTATION_KEY_TYPE_ECDSA_P256) {
    throw unsupported(
      `quote: attestation key type ${header.attestationKeyType} is not supported (expected 2)`,
    );
  }
  if (header.teeType !== TDX_TEE_TYPE) {
    throw unsupported(`quote: TEE type 0x${header.teeType.toString(16)} is not TDX (0x81)`);
  }
  if (bytesToHex(header.qeVendorId) !== bytesToHex(INTEL_QE_VENDOR_ID)) {
    throw unsupported(`quote: QE vendor id ${bytesToHex(header.qeVendorId)} is not Intel's`);
  }
  const located = locateBody(raw, header.version);
  const signedSize = located.offset + located.size;
  if (raw.length < signedSize + 4) {
    throw malformed(`quote: truncated (${raw.length} bytes, need at least ${signedSize + 4})`);
  }
  const body = parseBody(raw.subarray(located.offset, signedSize), located.type);

  const signatureLength = u32At(raw, signedSize);
  const signatureStart = signedSize + 4;
  if (signatureLength > raw.length - signatureStart) {
    throw malformed(
      `quote: signature data length ${signatureLength} exceeds the ${raw.length - signatureStart} bytes left`,
    );
  }
  const signatureEnd = signatureStart + signatureLength;
  const reader = new Reader(raw, signatureStart, signatureEnd, 'quote signature data');
  const signature = reader.take(64, 'quote signature');
  const attestationKey = reader.take(64, 'attestation key');
  const certificationType = reader.u16('certification data type');
  if (certificationType !== 6) {
    throw unsupported(`quote: certification data type ${certificationType} is not supported (expected 6)`);
  }
  const certificationSize = reader.u32('certification data size');
  if (certificationSize !== reader.remaining) {
    throw malformed(
      `quote: certification data size ${certificationSize} does not match the ${reader.remaining} bytes of signature data left`,
    );
  }
  const inner = new Reader(
    raw,
    reader.offset,
    reader.offset + certificationSize,
    'QE report certification data',
  );
  const qeReport = parseQeReport(inner.take(SGX_REPORT_BODY_SIZE, 'QE report'));
  const qeReportSignature = inner.take(64, 'QE report signature');
  const authLength = inner.u16('QE auth data size');
  const qeAuthData = inner.take(authLength, 'QE auth data');
  const pckType = inner.u16('PCK certification data type');
  if (pckType !== 5) {
    throw unsupported(
      `quote: inner certification data type ${pckType} is not supported (expected 5, PCK chain)`,
    );
  }
  const pckSize = inner.u32('PCK certification data size');
  if (pckSize !== inner.remaining) {
    throw malformed(
      `quote: PCK certification data size ${pckSize} does not match the ${inner.remaining} bytes left`,
    );
  }
  const pemBytes = inner.take(pckSize, 'PCK certificate chain');
  if (!isPrintableAscii(pemBytes)) throw malformed('quote: PCK certificate chain is not PEM text');
  const pckCertChainPem = new TextDecoder('ascii').decode(pemBytes);
  const pckCertChain = pemCertificatesToDer(pckCertChainPem);
  if (pckCertChain === undefined)
    throw malformed('quote: PCK certificate chain is not a PEM certificate list');

  return {
    raw,
    header,
    bodyType: located.type,
    body,
    bodyOffset: located.offset,
    signedData: raw.slice(0, signedSize),
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckCertChainPem: pckCertChainPem.replace(/\0+$/, ''),
    pckCertChain,
    trailingBytes: raw.length - signatureEnd,
  };
}
