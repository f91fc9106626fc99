import { type Bytes, bytesToHex, toBytes } from '@confidential-ai/bytes';
import { nvidiaError } from './errors.js';

/** NVIDIA opaque-data field types (type-length-value, little-endian u16 type and length). */
export const OPAQUE_FIELD = {
  certIssuerName: 1,
  certAuthorityKeyIdentifier: 2,
  driverVersion: 3,
  gpuInfo: 4,
  sku: 5,
  vbiosVersion: 6,
  manufacturerId: 7,
  tamperDetection: 8,
  smc: 9,
  vpr: 10,
  nvdec0Status: 11,
  measurementCount: 12,
  cprInfo: 13,
  boardId: 14,
  chipSku: 15,
  chipSkuMod: 16,
  project: 17,
  projectSku: 18,
  projectSkuMod: 19,
  fwid: 20,
  protectedPcieStatus: 21,
  switchPdi: 22,
  floorsweptPorts: 23,
  positionId: 24,
  lockSwitchStatus: 25,
  gpuLinkConnection: 32,
  systemEnableStatus: 33,
  opaqueDataVersion: 34,
  chipInfo: 35,
  featureFlag: 36,
} as const;

/** One raw opaque-data field. */
export interface OpaqueField {
  /** Field type (see {@link OPAQUE_FIELD}). */
  readonly type: number;
  /** Field value. */
  readonly value: Bytes;
}

/** The decoded NVIDIA opaque data of a GPU attestation report (all of it is covered by the report signature). */
export interface NvidiaOpaqueData {
  /** Every field in order, raw. */
  readonly fields: readonly OpaqueField[];
  /** Driver version (type 3), e.g. `550.90.07`. */
  readonly driverVersion: string | undefined;
  /** VBIOS version (type 6) in NVIDIA's dotted form, upper case, e.g. `96.00.5E.00.01`. */
  readonly vbiosVersion: string | undefined;
  /** Project (type 17), e.g. `1010`. */
  readonly project: string | undefined;
  /** Project SKU (type 18), e.g. `0200`. */
  readonly projectSku: string | undefined;
  /** Chip SKU (type 15), e.g. `882`. */
  readonly chipSku: string | undefined;
  /** Board id (type 14), lowercase hex. */
  readonly boardId: string | undefined;
  /** Firmware ID (type 20), compared with the attestation certificate's. */
  readonly fwid: Bytes | undefined;
  /** NVDEC0 status (type 11): 0xAA enabled, 0x55 disabled. */
  readonly nvdec0Status: number | undefined;
  /** Protected PCIe status (type 21), the raw byte. */
  readonly protectedPcieStatus: number | undefined;
  /** Feature flag (type 36): `SPT`, `MPT`, `PPCIE`, or `unknown(n)`. */
  readonly featureFlag: string | undefined;
  /** Opaque data version (type 34). */
  readonly opaqueDataVersion: number | undefined;
  /** Chip name (type 35), Blackwell and later. */
  readonly chipInfo: string | undefined;
  /** Measurement counts (type 12), one little-endian u32 per measurement index. */
  readonly measurementCounts: readonly number[] | undefined;
}

const FEATURE_FLAGS = ['SPT', 'MPT', 'PPCIE'];

function malformed(message: string): never {
  throw nvidiaError('ERR_NVIDIA_EVIDENCE_MALFORMED', `opaque data: ${message}`);
}

/** A NUL-terminated or NUL-padded ASCII string: printable characters, then only NUL bytes. */
function asciiField(value: Uint8Array, name: string): string {
  let end = value.indexOf(0);
  if (end < 0) end = value.length;
  if (value.subarray(end).some((byte) => byte !== 0)) malformed(`${name} has data after its NUL terminator`);
  let text = '';
  for (const byte of value.subarray(0, end)) {
    if (byte < 0x20 || byte > 0x7e) malformed(`${name} is not printable ASCII`);
    text += String.fromCharCode(byte);
  }
  return text.trim();
}

function littleEndian(value: Uint8Array, name: string): number {
  if (value.length === 0 || value.length > 4) malformed(`${name} must be 1 to 4 bytes`);
  let out = 0;
  for (let index = value.length - 1; index >= 0; index--) out = out * 256 + value[index]!;
  return out;
}

/**
 * Formats the 8-byte VBIOS version field the way NVIDIA's verifier does: bytes b0..b7 (little-endian) give
 * `b3.b2.b1.b0.b4` in hex, e.g. `00 5e 00 96 01 00 00 00` → `96.00.5E.00.01`.
 */
export function formatVbiosVersion(value: Uint8Array): string {
  if (value.length !== 8) malformed('VBIOS version must be 8 bytes');
  return [value[3]!, value[2]!, value[1]!, value[0]!, value[4]!]
    .map((byte) => byte.toString(16).padStart(2, '0').toUpperCase())
    .join('.');
}

/**
 * Decodes NVIDIA's opaque data (a list of little-endian `u16 type ‖ u16 length ‖ value` fields). Unknown types
 * are kept raw; a truncated field, a repeated type or a malformed known field fails.
 * @throws NvidiaAttestationError `ERR_NVIDIA_EVIDENCE_MALFORMED`.
 */
export function parseOpaqueData(bytes: Uint8Array): NvidiaOpaqueData {
  const fields: OpaqueField[] = [];
  const byType = new Map<number, Bytes>();
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) malformed('truncated field header');
    const type = bytes[offset]! | (bytes[offset + 1]! << 8);
    const length = bytes[offset + 2]! | (bytes[offset + 3]! << 8);
    offset += 4;
    if (offset + length > bytes.length) malformed(`field ${type} exceeds the opaque data`);
    const value = toBytes(bytes.subarray(offset, offset + length));
    offset += length;
    if (byType.has(type)) malformed(`field ${type} appears twice`);
    byType.set(type, value);
    fields.push({ type, value });
  }
  const get = (type: number) => byType.get(type);
  const text = (type: number, name: string) => {
    const value = get(type);
    return value === undefined ? undefined : asciiField(value, name);
  };
  const byte = (type: number, name: string) => {
    const value = get(type);
    if (value === undefined) return undefined;
    if (value.length !== 1) malformed(`${name} must be one byte`);
    return value[0]!;
  };
  const number = (type: number, name: string) => {
    const value = get(type);
    return value === undefined ? undefined : littleEndian(value, name);
  };
  const vbios = get(OPAQUE_FIELD.vbiosVersion);
  const counts = get(OPAQUE_FIELD.measurementCount);
  if (counts !== undefined && counts.length % 4 !== 0) malformed('measurement count is not a list of u32');
  const feature = number(OPAQUE_FIELD.featureFlag, 'feature flag');
  const chipInfo = get(OPAQUE_FIELD.chipInfo);
  const boardId = get(OPAQUE_FIELD.boardId);
  return {
    fields,
    driverVersion: text(OPAQUE_FIELD.driverVersion, 'driver version'),
    vbiosVersion: vbios === undefined ? undefined : formatVbiosVersion(vbios),
    project: text(OPAQUE_FIELD.project, 'project'),
    projectSku: text(OPAQUE_FIELD.projectSku, 'project SKU'),
    chipSku: text(OPAQUE_FIELD.chipSku, 'chip SKU'),
    boardId: boardId === undefined ? undefined : bytesToHex(boardId),
    fwid: get(OPAQUE_FIELD.fwid),
    nvdec0Status: byte(OPAQUE_FIELD.nvdec0Status, 'NVDEC0 status'),
    protectedPcieStatus: byte(OPAQUE_FIELD.protectedPcieStatus, 'protected PCIe status'),
    featureFlag: feature === undefined ? undefined : (FEATURE_FLAGS[feature] ?? `unknown(${feature})`),
    opaqueDataVersion: number(OPAQUE_FIELD.opaqueDataVersion, 'opaque data version'),
    chipInfo: chipInfo === undefined ? undefined : asciiField(chipInfo, 'chip info'),
    measurementCounts:
      counts === undefined
        ? undefined
        : Array.from({ length: counts.length / 4 }, (_, index) =>
            littleEndian(counts.subarray(index * 4, index * 4 + 4), 'measurement count'),
          ),
  };
}
