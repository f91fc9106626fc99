import { type Bytes, concatBytes, isBytes, toBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { Decoder, Tag } from 'cbor-x';
import { assertStrictCbor } from './cbor-check.js';
import { NitroAttestationError } from './errors.js';
import { type AttestationDocumentInput, type DocumentEncoding, decodeDocumentInput } from './input.js';

/** COSE algorithm identifier of ES384 (ECDSA P-384 with SHA-384). */
export const COSE_ALG_ES384 = -35;
/** CBOR tag of COSE_Sign1. */
export const COSE_SIGN1_TAG = 18;
/** Length of the raw r‖s P-384 signature. */
export const ES384_SIGNATURE_BYTES = 96;
/** Largest PCR index a document may carry. */
export const MAX_PCR_INDEX = 31;

/** The payload of an attestation document, with every field type-checked. Byte fields are fresh copies. */
export interface AttestationDocument {
  /** Enclave module id, e.g. `i-0918f6c55e3b61d89-enc018aa8b8e2285d13`. */
  readonly moduleId: string;
  /** Digest used for the PCRs; always `SHA384`. */
  readonly digest: 'SHA384';
  /** Milliseconds since the Unix epoch (UTC) at which the NSM produced the document. */
  readonly timestamp: number;
  /** PCR index → measurement (32, 48 or 64 bytes), in ascending index order. */
  readonly pcrs: ReadonlyMap<number, Bytes>;
  /** The leaf certificate (DER) whose key signed the document. */
  readonly certificate: Bytes;
  /** CA bundle as sent, ordered root first: `[ROOT, INTERM_1, …, INTERM_N]`. `cabundle[0]` is never trusted. */
  readonly cabundle: readonly Bytes[];
  /** Optional public key chosen by the enclave application; `null` when absent or CBOR null. */
  readonly publicKey: Bytes | null;
  /** Optional application data (nitriding: the 68-byte hash layout); `null` when absent or CBOR null. */
  readonly userData: Bytes | null;
  /** Optional nonce requested by the verifier; `null` when absent or CBOR null. */
  readonly nonce: Bytes | null;
}

/** The COSE_Sign1 envelope, with the signed byte strings exactly as received. */
export interface CoseSign1 {
  /** True when the document carried CBOR tag 18. */
  readonly tagged: boolean;
  /** The protected header bstr contents (`a1 01 38 22` for ES384). */
  readonly protectedHeader: Bytes;
  /** The payload bstr contents (the CBOR map the signature covers). */
  readonly payload: Bytes;
  /** Raw r‖s signature, 96 bytes. */
  readonly signature: Bytes;
}

/** Result of {@link parseAttestationDocument}. Parsing checks structure only; nothing is trusted yet. */
export interface ParsedAttestationDocument {
  /** The typed payload fields. */
  readonly document: AttestationDocument;
  /** The COSE envelope. */
  readonly cose: CoseSign1;
}

/** Options of {@link parseAttestationDocument}. */
export interface ParseOptions {
  /** How to read a string input. Default `auto`. */
  encoding?: DocumentEncoding;
}

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

function decodeCbor(bytes: Uint8Array, what: string, allowTopLevelTag = false): unknown {
  try {
    assertStrictCbor(bytes, { allowTopLevelTag });
    return decoder.decode(bytes);
  } catch (cause) {
    throw new NitroAttestationError('ERR_NITRO_CBOR_MALFORMED', `${what} is not well-formed CBOR`, { cause });
  }
}

function cose(message: string): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_COSE_MALFORMED', message);
}

function payloadError(message: string): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_PAYLOAD_INVALID', message);
}

function bytesField(value: unknown, name: string, min: number, max: number): Bytes {
  if (!isBytes(value)) throw payloadError(`payload field ${name} must be a byte string`);
  if (value.length < min || value.length > max) {
    throw payloadError(`payload field ${name} must be ${min}..${max} bytes, got ${value.length}`);
  }
  return toBytes(value);
}

function optionalBytesField(value: unknown, name: string, min: number, max: number): Bytes | null {
  if (value === undefined || value === null) return null;
  return bytesField(value, name, min, max);
}

const KNOWN_FIELDS = new Set([
  'module_id',
  'digest',
  'timestamp',
  'pcrs',
  'certificate',
  'cabundle',
  'public_key',
  'user_data',
  'nonce',
]);

function parsePayload(payload: Uint8Array): AttestationDocument {
  const map = decodeCbor(payload, 'attestation payload');
  if (!(map instanceof Map)) throw payloadError('attestation payload must be a CBOR map');
  for (const key of map.keys()) {
    if (typeof key !== 'string') throw payloadError('attestation payload has a non-text key');
    if (!KNOWN_FIELDS.has(key))
      throw payloadError(`attestation payload has an unknown field "${key.slice(0, 32)}"`);
  }

  const moduleId = map.get('module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0 || moduleId.length > 256) {
    throw payloadError('payload field module_id must be non-empty text');
  }
  if (map.get('digest') !== 'SHA384') throw payloadError('payload field digest must be "SHA384"');

  const rawTimestamp = map.get('timestamp');
  let timestamp: number;
  if (typeof rawTimestamp === 'bigint') {
    if (rawTimestamp <= 0n || rawTimestamp > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw payloadError('payload field timestamp is out of range');
    }
    timestamp = Number(rawTimestamp);
  } else if (typeof rawTimestamp === 'number' && Number.isSafeInteger(rawTimestamp) && rawTimestamp > 0) {
    timestamp = rawTimestamp;
  } else {
    throw payloadError('payload field timestamp must be a positive integer');
  }

  const rawPcrs = map.get('pcrs');
  if (!(rawPcrs instanceof Map)) throw payloadError('payload field pcrs must be a map');
  if (rawPcrs.size < 1 || rawPcrs.size > MAX_PCR_INDEX + 1)
    throw payloadError('payload field pcrs must have 1..32 entries');
  const entries: [number, Bytes][] = [];
  for (const [index, value] of rawPcrs) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > MAX_PCR_INDEX) {
      throw payloadError('payload field pcrs has a key that is not an integer 0..31');
    }
    if (!isBytes(value) || (value.length !== 32 && value.length !== 48 && value.length !== 64)) {
      throw payloadError(`PCR${index} must be a byte string of 32, 48 or 64 bytes`);
    }
    entries.push([index, toBytes(value)]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  const pcrs: ReadonlyMap<number, Bytes> = new Map(entries);

  const certificate = bytesField(map.get('certificate'), 'certificate', 1, 1024);
  const rawBundle = map.get('cabundle');
  if (!Array.isArray(rawBundle) || rawBundle.length < 1 || rawBundle.length > 16) {
    throw payloadError('payload field cabundle must be an array of 1..16 certificates');
  }
  const cabundle = rawBundle.map((entry, index) => bytesField(entry, `cabundle[${index}]`, 1, 1024));

  return {
    moduleId,
    digest: 'SHA384',
    timestamp,
    pcrs,
    certificate,
    cabundle,
    publicKey: optionalBytesField(map.get('public_key'), 'public_key', 1, 1024),
    userData: optionalBytesField(map.get('user_data'), 'user_data', 0, 512),
    nonce: optionalBytesField(map.get('nonce'), 'nonce', 0, 512),
  };
}

/**
 * Decodes an AWS Nitro Enclaves attestation document: a COSE_Sign1 (tagged 18 or untagged) whose payload is a
 * CBOR map (definite or indefinite length). Every field is type- and size-checked; unknown payload fields are
 * rejected. This does **not** verify anything: use {@link verifyAttestationDocument} for that.
 *
 * @param input raw bytes, or base64 / hex text.
 * @throws NitroAttestationError `ERR_NITRO_INPUT_ENCODING`, `ERR_NITRO_CBOR_MALFORMED`,
 *   `ERR_NITRO_COSE_MALFORMED` or `ERR_NITRO_PAYLOAD_INVALID`.
 * @example
 * ```ts
 * const { document } = parseAttestationDocument(base64Text);
 * console.log(document.moduleId, new Date(document.timestamp));
 * ```
 */
export function parseAttestationDocument(
  input: AttestationDocumentInput,
  options: ParseOptions = {},
): ParsedAttestationDocument {
  const bytes = decodeDocumentInput(input, options.encoding ?? 'auto');
  let outer = decodeCbor(bytes, 'attestation document', true);
  let tagged = false;
  if (outer instanceof Tag) {
    if (outer.tag !== COSE_SIGN1_TAG)
      throw cose(`attestation document has CBOR tag ${outer.tag}, expected 18`);
    tagged = true;
    outer = outer.value;
  }
  if (!Array.isArray(outer) || outer.length !== 4)
    throw cose('attestation document is not a COSE_Sign1 array of 4');
  const [protectedHeader, unprotectedHeader, payload, signature] = outer as unknown[];
  if (!isBytes(protectedHeader)) throw cose('COSE protected header must be a byte string');
  if (!(unprotectedHeader instanceof Map)) throw cose('COSE unprotected header must be a map');
  if (!isBytes(payload)) throw cose('COSE payload must be a byte string');
  if (!isBytes(signature)) throw cose('COSE signature must be a byte string');
  if (signature.length !== ES384_SIGNATURE_BYTES) throw cose('COSE signature must be 96 bytes (ES384 r‖s)');

  let header: unknown;
  try {
    header = decoder.decode(protectedHeader);
  } catch (cause) {
    throw new NitroAttestationError('ERR_NITRO_COSE_MALFORMED', 'COSE protected header is not CBOR', {
      cause,
    });
  }
  if (!(header instanceof Map) || header.size !== 1 || header.get(1) !== COSE_ALG_ES384) {
    throw cose('COSE protected header must be {1: -35} (ES384)');
  }

  return {
    document: parsePayload(payload),
    cose: {
      tagged,
      protectedHeader: toBytes(protectedHeader),
      payload: toBytes(payload),
      signature: toBytes(signature),
    },
  };
}

function byteStringHeader(length: number): Bytes {
  if (length < 24) return new Uint8Array([0x40 | length]);
  if (length < 0x100) return new Uint8Array([0x58, length]);
  if (length < 0x10000) return new Uint8Array([0x59, length >> 8, length & 0xff]);
  return new Uint8Array([0x5a, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
}

const SIG_STRUCTURE_PREFIX = concatBytes(new Uint8Array([0x84, 0x6a]), utf8ToBytes('Signature1'));

/**
 * Encodes the RFC 8152 `Sig_structure` of a COSE_Sign1: `["Signature1", protected, h'', payload]`, with the
 * protected header and payload bytes exactly as received. This is what the ES384 signature covers.
 */
export function encodeSigStructure(cose: Pick<CoseSign1, 'protectedHeader' | 'payload'>): Bytes {
  return concatBytes(
    SIG_STRUCTURE_PREFIX,
    byteStringHeader(cose.protectedHeader.length),
    cose.protectedHeader,
    new Uint8Array([0x40]),
    byteStringHeader(cose.payload.length),
    cose.payload,
  );
}
