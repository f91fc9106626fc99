import {
  type Bytes,
  base64ToBytes,
  bytesToHex,
  bytesToUtf8,
  hexToBytes,
  isBytes,
  toBytes,
} from '@confidential-ai/bytes';
import { nvidiaError } from './errors.js';
import { pemCertificatesToDer } from './pem.js';

/** Most GPUs accepted in one piece of evidence (an HGX node has 8). */
export const MAX_GPUS = 64;
/** Largest evidence JSON text accepted, in characters. */
export const MAX_EVIDENCE_TEXT = 8 * 1024 * 1024;

/**
 * One entry of the nvtrust attestation SDK's evidence list (`cc_admin.collect_gpu_evidence_remote`):
 * `certificate` is base64 of the PEM chain (leaf first), `evidence` base64 of the SPDM report. Some collectors
 * add `nonce`, `driver_version`, `vbios_version` and `version`; when present they must agree with the report.
 */
export interface GpuEvidenceListEntry {
  /** Base64 of the PEM certificate chain (or the PEM text itself). */
  certificate: string;
  /** Base64 of the attestation report. */
  evidence: string;
  /** GPU architecture, e.g. `HOPPER`. */
  arch?: string;
  /** Nonce the collector asked for (hex), when recorded. */
  nonce?: string;
  /** Driver version reported by the driver, when recorded. */
  driver_version?: string;
  /** VBIOS version reported by the driver, when recorded. */
  vbios_version?: string;
  /** Other fields are ignored. */
  [key: string]: unknown;
}

/**
 * The GPU payload embedded by the vllm-proxy attestation report and by Venice / Phala attestations
 * (`nvidia_payload`, usually as a JSON string): `{nonce, arch, evidence_list}`.
 */
export interface NvidiaPayload {
  /** The nonce every report must be bound to (hex). */
  nonce?: string;
  /** GPU architecture, e.g. `HOPPER`. */
  arch?: string;
  /** The evidence list. */
  evidence_list: GpuEvidenceListEntry[];
  /** Other fields are ignored. */
  [key: string]: unknown;
}

/** One GPU's report with its certificate chain, as a caller who collected them directly holds them. */
export interface RawGpuEvidence {
  /** The attestation report (SPDM request ‖ response), as bytes or hex. */
  report: Uint8Array | string;
  /** The certificate chain, leaf first: PEM text or a list of DER certificates. */
  certificateChain: string | readonly Uint8Array[];
  /** GPU architecture; default `HOPPER`. */
  arch?: string;
}

/**
 * Evidence in any of the shapes providers serve: an `nvidia_payload` object or its JSON text, an SDK evidence
 * list or its JSON text (or UTF-8 bytes of either JSON text), or one GPU's raw report and chain.
 */
export type GpuEvidenceInput =
  | string
  | Uint8Array
  | NvidiaPayload
  | readonly GpuEvidenceListEntry[]
  | RawGpuEvidence;

/** One GPU's evidence, decoded. */
export interface GpuEvidenceItem {
  /** Position in the list. */
  readonly index: number;
  /** Architecture, upper case. */
  readonly arch: string;
  /** The attestation report bytes. */
  readonly report: Bytes;
  /** DER certificates, leaf first. */
  readonly certificateChain: readonly Bytes[];
  /** Unsigned claims the container made about this GPU (checked against the signed report). */
  readonly claims: {
    /** The entry's `nonce`. */
    readonly nonce?: string;
    /** The entry's `driver_version`. */
    readonly driverVersion?: string;
    /** The entry's `vbios_version`. */
    readonly vbiosVersion?: string;
  };
}

/** Decoded evidence. */
export interface GpuEvidenceSet {
  /** Which container shape was decoded. */
  readonly format: 'nvidia-payload' | 'evidence-list' | 'raw-report';
  /** The container's own nonce claim (`nvidia_payload.nonce`), lowercase hex. */
  readonly nonce: string | undefined;
  /** The GPUs. */
  readonly gpus: readonly GpuEvidenceItem[];
}

function malformed(message: string, cause?: unknown): never {
  throw nvidiaError('ERR_NVIDIA_EVIDENCE_MALFORMED', message, cause);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isBytes(value);
}

function optionalString(entry: Record<string, unknown>, key: string, where: string): string | undefined {
  const value = entry[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') malformed(`${where}.${key} must be a string`);
  return value;
}

function architecture(value: unknown, where: string): string {
  if (value === undefined || value === null) return 'HOPPER';
  if (typeof value !== 'string' || value.length === 0) malformed(`${where}.arch must be a non-empty string`);
  return value.toUpperCase();
}

function chainFromText(text: string, where: string): Bytes[] {
  const chain = pemCertificatesToDer(text);
  if (chain === undefined) malformed(`${where} is not a PEM certificate chain`);
  return chain;
}

function decodeCertificateField(value: unknown, where: string): Bytes[] {
  if (typeof value !== 'string' || value.length === 0) malformed(`${where} must be a non-empty string`);
  if (value.includes('-----BEGIN')) return chainFromText(value, where);
  let pem: string;
  try {
    pem = bytesToUtf8(base64ToBytes(value.replace(/\s/g, '')));
  } catch (cause) {
    malformed(`${where} is neither base64 of a PEM chain nor PEM`, cause);
  }
  return chainFromText(pem, where);
}

function decodeListEntry(entry: unknown, index: number, inheritedArch: string | undefined): GpuEvidenceItem {
  const where = `evidence_list[${index}]`;
  if (!isObject(entry)) malformed(`${where} must be an object`);
  const evidence = entry['evidence'];
  if (typeof evidence !== 'string' || evidence.length === 0)
    malformed(`${where}.evidence must be a non-empty string`);
  let report: Bytes;
  try {
    report = base64ToBytes(evidence.replace(/\s/g, ''));
  } catch (cause) {
    malformed(`${where}.evidence is not base64`, cause);
  }
  const nonce = optionalString(entry, 'nonce', where);
  const driverVersion = optionalString(entry, 'driver_version', where);
  const vbiosVersion = optionalString(entry, 'vbios_version', where);
  return {
    index,
    arch: architecture(entry['arch'] ?? inheritedArch, where),
    report,
    certificateChain: decodeCertificateField(entry['certificate'], `${where}.certificate`),
    claims: {
      ...(nonce === undefined ? {} : { nonce }),
      ...(driverVersion === undefined ? {} : { driverVersion }),
      ...(vbiosVersion === undefined ? {} : { vbiosVersion }),
    },
  };
}

function decodeList(list: readonly unknown[], inheritedArch: string | undefined): GpuEvidenceItem[] {
  if (list.length === 0) malformed('the evidence list is empty');
  if (list.length > MAX_GPUS) malformed(`the evidence list holds more than ${MAX_GPUS} GPUs`);
  return list.map((entry, index) => decodeListEntry(entry, index, inheritedArch));
}

function decodeRaw(input: Record<string, unknown>): GpuEvidenceItem {
  const report = input['report'];
  let bytes: Bytes;
  if (isBytes(report)) bytes = toBytes(report);
  else if (typeof report === 'string') {
    try {
      bytes = hexToBytes(report.trim(), { allowPrefix: true });
    } catch (cause) {
      malformed('report is not hex', cause);
    }
  } else malformed('report must be bytes or hex');
  const chain = input['certificateChain'];
  let certificateChain: Bytes[];
  if (typeof chain === 'string') certificateChain = chainFromText(chain, 'certificateChain');
  else if (Array.isArray(chain) && chain.length > 0 && chain.every(isBytes)) {
    certificateChain = chain.map((der: Uint8Array) => toBytes(der));
  } else malformed('certificateChain must be PEM text or a non-empty list of DER certificates');
  return {
    index: 0,
    arch: architecture(input['arch'], 'evidence'),
    report: bytes,
    certificateChain,
    claims: {},
  };
}

function payloadNonce(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') malformed('nvidia_payload.nonce must be a hex string');
  try {
    return bytesToHexLower(value);
  } catch (cause) {
    malformed('nvidia_payload.nonce is not hex', cause);
  }
}

function bytesToHexLower(value: string): string {
  return bytesToHex(hexToBytes(value.trim(), { allowPrefix: true }));
}

/**
 * Decodes GPU evidence from any shape providers serve into a list of reports with their certificate chains. It
 * checks only the container; {@link verifyGpuEvidence} verifies what it holds.
 * @throws NvidiaAttestationError `ERR_NVIDIA_EVIDENCE_MALFORMED` for anything that is not such a container.
 */
export function parseGpuEvidence(input: GpuEvidenceInput): GpuEvidenceSet {
  let value: unknown = input;
  if (isBytes(value)) {
    try {
      value = bytesToUtf8(value);
    } catch (cause) {
      malformed('evidence bytes are not UTF-8 JSON text', cause);
    }
  }
  if (typeof value === 'string') {
    if (value.length > MAX_EVIDENCE_TEXT) malformed('evidence text is too large');
    try {
      value = JSON.parse(value);
    } catch (cause) {
      malformed('evidence text is not JSON', cause);
    }
  }
  if (Array.isArray(value))
    return { format: 'evidence-list', nonce: undefined, gpus: decodeList(value, undefined) };
  if (!isObject(value))
    malformed('evidence must be an nvidia_payload object, an evidence list or a raw report');
  if ('evidence_list' in value) {
    const list = value['evidence_list'];
    if (!Array.isArray(list)) malformed('nvidia_payload.evidence_list must be an array');
    const arch = value['arch'] === undefined ? undefined : architecture(value['arch'], 'nvidia_payload');
    return { format: 'nvidia-payload', nonce: payloadNonce(value['nonce']), gpus: decodeList(list, arch) };
  }
  if ('report' in value) return { format: 'raw-report', nonce: undefined, gpus: [decodeRaw(value)] };
  malformed('evidence object has neither evidence_list nor report');
}
