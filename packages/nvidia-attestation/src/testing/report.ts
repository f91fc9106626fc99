import { type Bytes, concatBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { OPAQUE_FIELD } from '../opaque-data.js';
import { SPDM_GET_MEASUREMENTS, SPDM_MEASUREMENTS, SPDM_NONCE_SIZE, SPDM_VERSION_1_1 } from '../spdm.js';
import { signP384 } from './pki.js';

// Builds SPDM 1.1 GET_MEASUREMENTS request ‖ MEASUREMENTS response pairs in the layout Hopper GPUs produce.

/** What goes into a synthetic report. */
export interface ReportContents {
  /** Requester nonce (32 bytes). */
  readonly nonce: Uint8Array;
  /** Measurement values for blocks 1..n (48 bytes each on Hopper). */
  readonly measurements: readonly Uint8Array[];
  /** Driver version string, e.g. `570.86.15`. */
  readonly driverVersion: string;
  /** VBIOS version in dotted form, e.g. `96.00.9F.00.01`. */
  readonly vbiosVersion: string;
  /** Firmware ID placed in the opaque data (omitted when undefined). */
  readonly fwid?: Uint8Array;
  /** Project, project SKU, chip SKU. */
  readonly board: { readonly project: string; readonly projectSku: string; readonly chipSku: string };
  /** Zero bytes appended after the signature. */
  readonly trailingBytes?: number;
}

function u16(value: number): Bytes {
  return Uint8Array.of(value & 0xff, (value >> 8) & 0xff);
}

function field(type: number, value: Uint8Array): Bytes {
  return concatBytes(u16(type), u16(value.length), value);
}

function ascii(text: string, size: number): Bytes {
  const out = new Uint8Array(size);
  out.set(utf8ToBytes(text).subarray(0, size - 1));
  return out;
}

/** Encodes `96.00.9F.00.01` as the 8-byte little-endian field (inverse of NVIDIA's formatting). */
export function encodeVbiosVersion(version: string): Bytes {
  const parts = version.split('.').map((part) => Number.parseInt(part, 16));
  if (parts.length !== 5 || parts.some((part) => !(part >= 0 && part <= 255))) {
    throw new RangeError(`vbiosVersion must look like 96.00.9F.00.01, got ${version}`);
  }
  const [b3, b2, b1, b0, b4] = parts as [number, number, number, number, number];
  return Uint8Array.of(b0, b1, b2, b3, b4, 0, 0, 0);
}

/** Builds and signs a report with the attestation key. */
export async function createReport(contents: ReportContents, key: CryptoKey): Promise<Bytes> {
  if (contents.nonce.length !== SPDM_NONCE_SIZE) throw new RangeError('nonce must be 32 bytes');
  const request = concatBytes(
    Uint8Array.of(SPDM_VERSION_1_1, SPDM_GET_MEASUREMENTS, 0x01, 0xff),
    contents.nonce,
    Uint8Array.of(0),
  );
  const record = concatBytes(
    ...contents.measurements.map((value, position) =>
      concatBytes(
        Uint8Array.of(position + 1, 0x01),
        u16(value.length + 3),
        Uint8Array.of(0x01),
        u16(value.length),
        value,
      ),
    ),
  );
  const opaque = concatBytes(
    field(OPAQUE_FIELD.driverVersion, ascii(contents.driverVersion, contents.driverVersion.length + 1)),
    field(OPAQUE_FIELD.gpuInfo, Uint8Array.of(0x80, 0x01, 0, 0, 0, 0, 0, 0)),
    field(OPAQUE_FIELD.vbiosVersion, encodeVbiosVersion(contents.vbiosVersion)),
    field(OPAQUE_FIELD.nvdec0Status, Uint8Array.of(0x55)),
    field(OPAQUE_FIELD.chipSku, ascii(contents.board.chipSku, 9)),
    field(OPAQUE_FIELD.project, ascii(contents.board.project, 5)),
    field(OPAQUE_FIELD.projectSku, ascii(contents.board.projectSku, 5)),
    ...(contents.fwid === undefined ? [] : [field(OPAQUE_FIELD.fwid, contents.fwid)]),
    field(OPAQUE_FIELD.protectedPcieStatus, Uint8Array.of(0x55)),
  );
  const random = globalThis.crypto.getRandomValues(new Uint8Array(SPDM_NONCE_SIZE));
  const response = concatBytes(
    Uint8Array.of(SPDM_VERSION_1_1, SPDM_MEASUREMENTS, 0, 0, contents.measurements.length),
    Uint8Array.of(record.length & 0xff, (record.length >> 8) & 0xff, (record.length >> 16) & 0xff),
    record,
    random,
    u16(opaque.length),
    opaque,
  );
  const signed = concatBytes(request, response);
  const signature = await signP384(key, signed);
  return concatBytes(signed, signature, new Uint8Array(contents.trailingBytes ?? 0));
}
