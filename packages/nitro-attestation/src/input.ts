import { type Bytes, base64ToBytes, hexToBytes, isBytes, toBytes } from '@confidential-ai/bytes';
import { NitroAttestationError } from './errors.js';

/** Upper bound on a document's size; real documents are about 4.5 KiB. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;

/** How a string input is encoded. `auto` picks hex when the text is only hex digits, base64 otherwise. */
export type DocumentEncoding = 'auto' | 'base64' | 'hex';

/** An attestation document as raw bytes, or as base64 / hex text (surrounding whitespace is ignored). */
export type AttestationDocumentInput = Uint8Array | string;

const HEX_ONLY = /^[0-9a-fA-F]+$/;

/**
 * Turns a document given as bytes, base64 or hex into bytes. Whitespace (line breaks of wrapped base64, the
 * trailing newline of nitriding's response body) is removed from text first.
 * @throws NitroAttestationError `ERR_NITRO_INPUT_ENCODING` on bad text, an empty or oversized document.
 * @throws TypeError when `input` is neither a string nor a Uint8Array.
 */
export function decodeDocumentInput(
  input: AttestationDocumentInput,
  encoding: DocumentEncoding = 'auto',
): Bytes {
  let bytes: Bytes;
  if (isBytes(input)) {
    bytes = toBytes(input);
  } else if (typeof input === 'string') {
    if (input.length > MAX_DOCUMENT_BYTES * 2 + 1024) {
      throw new NitroAttestationError('ERR_NITRO_INPUT_ENCODING', 'attestation document text is too large');
    }
    const text = input.replace(/\s+/g, '');
    const useHex =
      encoding === 'hex' || (encoding === 'auto' && HEX_ONLY.test(text) && text.length % 2 === 0);
    try {
      bytes = useHex ? hexToBytes(text, { allowPrefix: encoding === 'hex' }) : base64ToBytes(text);
    } catch (cause) {
      throw new NitroAttestationError(
        'ERR_NITRO_INPUT_ENCODING',
        `attestation document is not valid ${useHex ? 'hex' : 'base64'}`,
        { cause },
      );
    }
  } else {
    throw new TypeError('document must be a Uint8Array or a base64/hex string');
  }
  if (bytes.length === 0)
    throw new NitroAttestationError('ERR_NITRO_INPUT_ENCODING', 'attestation document is empty');
  if (bytes.length > MAX_DOCUMENT_BYTES) {
    throw new NitroAttestationError('ERR_NITRO_INPUT_ENCODING', 'attestation document is too large');
  }
  return bytes;
}

/**
 * Decodes one PEM block with the given label (for example `CERTIFICATE`, `PUBLIC KEY`) into DER.
 * @throws TypeError when the text holds no such block or its base64 is invalid.
 */
export function pemToDer(pem: string, label: string): Bytes {
  if (typeof pem !== 'string') throw new TypeError(`PEM ${label} must be a string`);
  const match = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(pem);
  if (!match) throw new TypeError(`text holds no PEM "${label}" block`);
  try {
    return base64ToBytes(match[1]!.replace(/\s+/g, ''));
  } catch (cause) {
    throw new TypeError(`PEM "${label}" block has invalid base64`, { cause });
  }
}

/** Accepts DER bytes or a PEM string with the given label; returns DER. */
export function derOrPem(value: Uint8Array | string, label: string, name: string): Bytes {
  if (isBytes(value)) return toBytes(value);
  if (typeof value === 'string') return pemToDer(value, label);
  throw new TypeError(`${name} must be DER bytes or a PEM string`);
}
