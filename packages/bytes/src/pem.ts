import { base64ToBytes, bytesToBase64 } from './base64.js';
import type { Bytes } from './bytes.js';

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
const WHITESPACE_GAP = /^\s*$/;
const WHITESPACE_OR_NUL_GAP = /^[\s\0]*$/;

/** Options of {@link pemCertificatesToDer}. */
export interface PemCertificatesOptions {
  /**
   * Also accept NUL characters outside the blocks (the PEM chain inside a TDX quote's certification data is
   * NUL-terminated). Default `false`: only whitespace may appear outside the blocks.
   */
  readonly allowNul?: boolean;
}

/**
 * Splits a PEM text into the DER bytes of its `CERTIFICATE` blocks, in order. Only whitespace (and NUL
 * characters with `allowNul`) may appear outside the blocks; inside a block, line breaks, tabs and spaces are
 * dropped and the rest must be strict base64. Returns `undefined` when the text is not such a chain (no block,
 * an unterminated or empty block, other text between blocks, bad base64), so that the caller can raise its own
 * typed error. The DER inside is not parsed.
 */
export function pemCertificatesToDer(
  text: string,
  options: PemCertificatesOptions = {},
): Bytes[] | undefined {
  const gapPattern = options.allowNul === true ? WHITESPACE_OR_NUL_GAP : WHITESPACE_GAP;
  const out: Bytes[] = [];
  let position = 0;
  for (;;) {
    const begin = text.indexOf(BEGIN, position);
    const gap = text.slice(position, begin < 0 ? text.length : begin);
    if (!gapPattern.test(gap)) return undefined;
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

/** Encodes certificate DER bytes as one PEM `CERTIFICATE` block (base64 in 64-column lines, final newline). */
export function derToPem(der: Uint8Array): string {
  const body = bytesToBase64(der).replace(/(.{64})/g, '$1\n');
  return `${BEGIN}\n${body}${body.endsWith('\n') ? '' : '\n'}${END}\n`;
}
