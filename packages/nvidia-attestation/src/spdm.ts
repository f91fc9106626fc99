import { type Bytes, toBytes } from '@confidential-ai/bytes';
import { P384_SIGNATURE_SIZE } from './ecdsa.js';
import { nvidiaError } from './errors.js';
import { type NvidiaOpaqueData, parseOpaqueData } from './opaque-data.js';

// DMTF SPDM 1.1 (DSP0274 1.1.x) GET_MEASUREMENTS request (10.11.1) and MEASUREMENTS response (10.11.2), as NVIDIA
// GPUs return them through NVML: the request the driver sent, followed by the signed response.

/** SPDM version 1.1, the only version NVIDIA Hopper GPUs answer with. */
export const SPDM_VERSION_1_1 = 0x11;
/** GET_MEASUREMENTS request code. */
export const SPDM_GET_MEASUREMENTS = 0xe0;
/** MEASUREMENTS response code. */
export const SPDM_MEASUREMENTS = 0x60;
/** Size of the GET_MEASUREMENTS request with a signature requested: header 4, nonce 32, slot 1. */
export const SPDM_REQUEST_SIZE = 37;
/** Size of a requester or responder nonce. */
export const SPDM_NONCE_SIZE = 32;
/** MeasurementSpecification bit for the DMTF measurement format. */
export const DMTF_MEASUREMENT_SPECIFICATION = 0x01;

/** The GET_MEASUREMENTS request. */
export interface SpdmMeasurementRequest {
  /** SPDMVersion (0x11). */
  readonly version: number;
  /** Param1: request attributes; bit 0 asks for a signature. */
  readonly attributes: number;
  /** Param2: measurement operation; 0xFF asks for every measurement. */
  readonly operation: number;
  /** The requester's nonce: the verifier's challenge. */
  readonly nonce: Bytes;
  /** SlotIDParam: the certificate slot whose key signs the response. */
  readonly slotId: number;
}

/** One DMTF measurement block. */
export interface SpdmMeasurementBlock {
  /** Index (1-based); RIM index `n` describes block index `n + 1`. */
  readonly index: number;
  /** DMTFSpecMeasurementValueType (bit 7: raw bit stream instead of a digest). */
  readonly valueType: number;
  /** DMTFSpecMeasurementValue. */
  readonly value: Bytes;
}

/** The MEASUREMENTS response. */
export interface SpdmMeasurementResponse {
  /** SPDMVersion (0x11). */
  readonly version: number;
  /** Param1 (reserved unless measurement index 0 was asked). */
  readonly param1: number;
  /** Param2: SlotIDParam of the signing slot. */
  readonly param2: number;
  /** Measurement blocks, in the order they appear. */
  readonly blocks: readonly SpdmMeasurementBlock[];
  /** The responder's nonce. */
  readonly responderNonce: Bytes;
  /** Raw opaque data. */
  readonly opaqueData: Bytes;
  /** Signature `r ‖ s` (96 bytes, ECDSA P-384 over SHA-384 of request ‖ response-without-signature). */
  readonly signature: Bytes;
}

/** A parsed GPU attestation report (SPDM request ‖ response). */
export interface GpuAttestationReport {
  /** The whole report as given. */
  readonly raw: Bytes;
  /** The request. */
  readonly request: SpdmMeasurementRequest;
  /** The response. */
  readonly response: SpdmMeasurementResponse;
  /** NVIDIA's decoded opaque data. */
  readonly opaque: NvidiaOpaqueData;
  /** The signed bytes: request ‖ response up to the signature. */
  readonly signedData: Bytes;
  /** Number of zero bytes after the signature (some collectors pad the report). */
  readonly trailingBytes: number;
}

function malformed(message: string): never {
  throw nvidiaError('ERR_NVIDIA_EVIDENCE_MALFORMED', `attestation report: ${message}`);
}

function unsupported(message: string): never {
  throw nvidiaError('ERR_NVIDIA_EVIDENCE_UNSUPPORTED', `attestation report: ${message}`);
}

function parseMeasurementRecord(record: Uint8Array, count: number): SpdmMeasurementBlock[] {
  const blocks: SpdmMeasurementBlock[] = [];
  const seen = new Set<number>();
  let offset = 0;
  while (offset < record.length) {
    if (offset + 4 > record.length) malformed('truncated measurement block header');
    const index = record[offset]!;
    const specification = record[offset + 1]!;
    const size = record[offset + 2]! | (record[offset + 3]! << 8);
    offset += 4;
    if (offset + size > record.length) malformed(`measurement block ${index} exceeds the record`);
    if (index === 0 || index === 0xff) malformed(`measurement block index ${index} is reserved`);
    if (seen.has(index)) malformed(`measurement block ${index} appears twice`);
    seen.add(index);
    if (specification !== DMTF_MEASUREMENT_SPECIFICATION) {
      unsupported(`measurement block ${index} does not use the DMTF measurement specification`);
    }
    if (size < 3) malformed(`measurement block ${index} is too short for a DMTF measurement`);
    const valueType = record[offset]!;
    const valueSize = record[offset + 1]! | (record[offset + 2]! << 8);
    if (valueSize !== size - 3)
      malformed(`measurement block ${index} value size disagrees with its block size`);
    blocks.push({ index, valueType, value: toBytes(record.subarray(offset + 3, offset + size)) });
    offset += size;
  }
  if (blocks.length !== count) {
    malformed(`NumberOfBlocks is ${count} but the record holds ${blocks.length} blocks`);
  }
  return blocks;
}

/**
 * Parses a GPU attestation report: the SPDM 1.1 GET_MEASUREMENTS request (37 bytes) followed by the MEASUREMENTS
 * response with DMTF measurement blocks, NVIDIA opaque data and a 96-byte ECDSA P-384 signature. Zero bytes after
 * the signature are tolerated (reported as `trailingBytes`); anything else after it is rejected.
 * @throws NvidiaAttestationError `ERR_NVIDIA_EVIDENCE_MALFORMED` or `ERR_NVIDIA_EVIDENCE_UNSUPPORTED`.
 * @throws TypeError when `report` is not a Uint8Array.
 */
export function parseGpuAttestationReport(report: Uint8Array): GpuAttestationReport {
  if (!(report instanceof Uint8Array)) throw new TypeError('report must be a Uint8Array');
  const raw = toBytes(report);
  if (raw.length < SPDM_REQUEST_SIZE + 8) malformed(`${raw.length} bytes is too short`);
  if (raw[0] !== SPDM_VERSION_1_1) unsupported(`request SPDM version 0x${raw[0]!.toString(16)} is not 1.1`);
  if (raw[1] !== SPDM_GET_MEASUREMENTS) malformed('does not start with a GET_MEASUREMENTS request');
  const request: SpdmMeasurementRequest = {
    version: raw[0]!,
    attributes: raw[2]!,
    operation: raw[3]!,
    nonce: raw.slice(4, 4 + SPDM_NONCE_SIZE),
    slotId: raw[36]!,
  };
  if ((request.attributes & 0x01) === 0) unsupported('the request does not ask for a signed response');
  if (request.attributes !== 0x01) unsupported(`request attributes 0x${request.attributes.toString(16)}`);
  if (request.operation !== 0xff) unsupported('the request does not ask for every measurement');
  if (request.slotId > 7) malformed(`request slot ${request.slotId} is out of range`);

  const start = SPDM_REQUEST_SIZE;
  const response = raw.subarray(start);
  if (response[0] !== SPDM_VERSION_1_1) unsupported('response SPDM version is not 1.1');
  if (response[1] !== SPDM_MEASUREMENTS) malformed('the response is not a MEASUREMENTS response');
  const param1 = response[2]!;
  const param2 = response[3]!;
  if ((param2 & 0x0f) !== request.slotId) malformed('the response slot differs from the requested slot');
  const count = response[4]!;
  const recordLength = response[5]! | (response[6]! << 8) | (response[7]! << 16);
  let offset = 8;
  if (offset + recordLength + SPDM_NONCE_SIZE + 2 > response.length)
    malformed('truncated measurement record');
  const blocks = parseMeasurementRecord(response.subarray(offset, offset + recordLength), count);
  offset += recordLength;
  const responderNonce = toBytes(response.subarray(offset, offset + SPDM_NONCE_SIZE));
  offset += SPDM_NONCE_SIZE;
  const opaqueLength = response[offset]! | (response[offset + 1]! << 8);
  offset += 2;
  if (offset + opaqueLength + P384_SIGNATURE_SIZE > response.length)
    malformed('truncated opaque data or signature');
  const opaqueData = toBytes(response.subarray(offset, offset + opaqueLength));
  offset += opaqueLength;
  const signature = toBytes(response.subarray(offset, offset + P384_SIGNATURE_SIZE));
  const signedLength = start + offset;
  offset += P384_SIGNATURE_SIZE;
  const trailing = response.subarray(offset);
  if (trailing.some((byte) => byte !== 0)) malformed('non-zero bytes follow the signature');
  return {
    raw,
    request,
    response: { version: response[0]!, param1, param2, blocks, responderNonce, opaqueData, signature },
    opaque: parseOpaqueData(opaqueData),
    signedData: raw.subarray(0, signedLength),
    trailingBytes: trailing.length,
  };
}
