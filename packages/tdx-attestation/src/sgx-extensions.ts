import { type Bytes, toBytes } from '@confidential-ai/bytes';
import {
  children,
  content,
  DerError,
  decodeOid,
  decodeSmallUnsigned,
  expectTag,
  readRoot,
  TAG,
  type Tlv,
} from './der.js';
import { TdxAttestationError } from './errors.js';
import { type ParsedCertificate, parseCertificate } from './x509.js';

/** OID of Intel's SGX extensions in PCK certificates. */
export const SGX_EXTENSIONS_OID = '1.2.840.113741.1.13.1';

/** The SGX extensions of a PCK certificate that TCB evaluation needs. */
export interface PckExtensions {
  /** PPID (16 bytes), when present. */
  ppid?: Bytes;
  /** The 16 SGX TCB component SVNs (TCB/comp01..comp16). */
  sgxTcbComponents: number[];
  /** PCESVN. */
  pceSvn: number;
  /** CPUSVN (16 bytes). */
  cpuSvn: Bytes;
  /** PCE-ID (2 bytes). */
  pceId: Bytes;
  /** FMSPC (6 bytes). */
  fmspc: Bytes;
  /** SGX type (0 standard, 1 scalable, 2 scalable with integrity), when present. */
  sgxType?: number;
}

function fail(message: string, cause?: unknown): TdxAttestationError {
  return new TdxAttestationError('ERR_TDX_CERT_CHAIN', `PCK certificate SGX extensions: ${message}`, {
    cause,
  });
}

function pairs(value: Tlv | undefined, what: string): Map<string, Tlv> {
  const out = new Map<string, Tlv>();
  for (const item of children(expectTag(value, TAG.sequence, what))) {
    const parts = children(expectTag(item, TAG.sequence, `${what} entry`));
    if (parts.length !== 2) throw new DerError(`${what} entry is not an (OID, value) pair`);
    const key = decodeOid(parts[0]!);
    if (out.has(key)) throw new DerError(`${what} repeats ${key}`);
    out.set(key, parts[1]!);
  }
  return out;
}

function octets(value: Tlv | undefined, what: string, length: number): Bytes {
  const bytes = content(expectTag(value, TAG.octetString, what));
  if (bytes.length !== length) throw new DerError(`${what} must be ${length} bytes, got ${bytes.length}`);
  return toBytes(bytes);
}

function integer(value: Tlv | undefined, what: string, max: number): number {
  if (value === undefined) throw new DerError(`${what} is missing`);
  return decodeSmallUnsigned(value, max);
}

/**
 * Reads the SGX extensions (OID 1.2.840.113741.1.13.1) of a PCK certificate: TCB component SVNs, PCESVN,
 * CPUSVN, PCE-ID, FMSPC.
 * @param certificate the PCK leaf certificate, DER bytes
 * @throws TdxAttestationError `ERR_TDX_CERT_CHAIN` when the certificate or the extension is missing or malformed
 */
export function readPckExtensions(certificate: Uint8Array | ParsedCertificate): PckExtensions {
  const parsed =
    certificate instanceof Uint8Array
      ? parseCertificate(certificate, 'PCK certificate', 'ERR_TDX_CERT_CHAIN')
      : certificate;
  const extension = parsed.extensions.get(SGX_EXTENSIONS_OID);
  if (extension === undefined) throw fail('extension 1.2.840.113741.1.13.1 is missing');
  try {
    const base = SGX_EXTENSIONS_OID;
    const top = pairs(readRoot(extension.value), 'extension');
    const tcb = pairs(top.get(`${base}.2`), 'TCB');
    const sgxTcbComponents: number[] = [];
    for (let index = 1; index <= 16; index++) {
      sgxTcbComponents.push(
        integer(tcb.get(`${base}.2.${index}`), `TCB comp${String(index).padStart(2, '0')}`, 255),
      );
    }
    const out: PckExtensions = {
      sgxTcbComponents,
      pceSvn: integer(tcb.get(`${base}.2.17`), 'PCESVN', 65535),
      cpuSvn: octets(tcb.get(`${base}.2.18`), 'CPUSVN', 16),
      pceId: octets(top.get(`${base}.3`), 'PCE-ID', 2),
      fmspc: octets(top.get(`${base}.4`), 'FMSPC', 6),
    };
    const ppid = top.get(`${base}.1`);
    if (ppid !== undefined) out.ppid = octets(ppid, 'PPID', 16);
    const sgxType = top.get(`${base}.5`);
    if (sgxType !== undefined) out.sgxType = integer(sgxType, 'SGX type', 255);
    return out;
  } catch (cause) {
    if (TdxAttestationError.isInstance(cause)) throw cause;
    throw fail(cause instanceof Error ? cause.message : 'malformed', cause);
  }
}
