import { type Bytes, base64ToBytes, bytesToBase64 } from '@confidential-ai/bytes';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/**
 * Splits a PEM text into the DER bytes of its `CERTIFICATE` blocks, in order. Only whitespace may appear
 * outside the blocks. Returns `undefined` when the text is not such a chain, so that the caller can raise its
 * own typed error.
 */
export function pemCertificatesToDer(text: string): Bytes[] | undefined {
  const out: Bytes[] = [];
  let position = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, position);
    const gap = text.slice(position, begin < 0 ? text.length : begin);
    if (!/^\s*$/.test(gap)) return undefined;
    if (begin < 0) break;
    const end = text.indexOf(END, begin + BEGIN.length);
    if (end < 0) return undefined;
    const body = text.slice(begin + BEGIN.length, end).replace(/[\r\n\t ]/g, '');
    if (body.length === 0) return undefined;
    try {
      out.push(base64ToBytes(body));
    } catch {
      return undefined;
    }
    position = end + END.length;
  }
  return out.length > 0 ? out : undefined;
}

/** Encodes DER certificate bytes as PEM text (64-column base64). */
export function derToPem(der: Uint8Array): string {
  const body = bytesToBase64(der).replace(/(.{64})/g, '$1\n');
  return `${BEGIN}\n${body}${body.endsWith('\n') ? '' : '\n'}${END}\n`;
}
