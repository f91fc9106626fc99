import { type Bytes, bytesToBase64, concatBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** Options of {@link createSyntheticTdxQuote}. */
export interface SyntheticTdxQuoteOptions {
  /** The 64-byte REPORTDATA to place in the TD report body. */
  reportData: Uint8Array;
  /** Set TD_ATTRIBUTES bit 0 (debug). Default false. */
  debug?: boolean;
  /** Number of zero bytes appended after the signature data (real Venice quotes carry 70). Default 0. */
  trailingBytes?: number;
  /** Fixed 32-byte P-256 attestation key (tests); default random. */
  attestationPrivateKey?: Uint8Array;
}

const QE_VENDOR_ID = Uint8Array.from([
  0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
]);

function u16(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >> 8) & 0xff);
}

function u32(value: number): Uint8Array {
  return Uint8Array.of(value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0xff);
}

function pemBlock(der: Uint8Array): string {
  const body = bytesToBase64(der).replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

/**
 * Builds a synthetic TDX quote v4 with the exact layout of spec section 7.1: header (version 4, key type 2,
 * tee_type `0x81`, Intel's QE vendor id), a TD report body carrying `reportData` and the debug bit, and
 * signature data (type 6 wrapping type 5) with a real P-256 quote signature over bytes 0..632 by a fresh
 * attestation key, a QE report whose REPORTDATA is SHA-256(attestation key ‖ QE auth data) ‖ 32 zero bytes
 * signed by a fresh "PCK" key, and a PEM "chain" of placeholder blocks.
 *
 * The quote parses and its REPORTDATA binding can be checked, but it does NOT chain to the Intel SGX Root CA
 * (its PEM blocks are not real certificates), so `requireTdx` verification rejects it: `requireTdx` needs
 * real quotes.
 */
export function createSyntheticTdxQuote(options: SyntheticTdxQuoteOptions): Bytes {
  if (!(options.reportData instanceof Uint8Array) || options.reportData.length !== 64) {
    throw new RangeError('reportData must be 64 bytes');
  }
  const header = concatBytes(u16(4), u16(2), u32(0x81), u16(0), u16(0), QE_VENDOR_ID, new Uint8Array(20));
  const body = new Uint8Array(584);
  body.fill(0x11, 0, 16); // TEE_TCB_SVN
  body.fill(0x22, 16, 64); // MRSEAM
  if (options.debug) body[120] = 1; // TD_ATTRIBUTES bit 0
  body[123] = 0x10; // SEPT_VE_DISABLE, as in real quotes
  body.fill(0x33, 136, 184); // MRTD
  for (let index = 0; index < 4; index++) body.fill(0x40 + index, 328 + 48 * index, 376 + 48 * index); // RTMRs
  body.set(options.reportData, 520);
  const signed = concatBytes(header, body);

  const attestationPrivate = options.attestationPrivateKey ?? p256.utils.randomSecretKey();
  const attestationPublic = p256.getPublicKey(attestationPrivate, false).subarray(1);
  const quoteSignature = p256.sign(signed, attestationPrivate);

  const authData = sha256(utf8ToBytes('synthetic QE auth data'));
  const qeReport = new Uint8Array(384);
  qeReport.fill(0x55, 64, 96); // MRENCLAVE
  qeReport.fill(0x66, 128, 160); // MRSIGNER
  qeReport.set(sha256(concatBytes(attestationPublic, authData)), 320);
  const pckPrivate = p256.utils.randomSecretKey();
  const qeReportSignature = p256.sign(qeReport, pckPrivate);

  const placeholder = (label: string) =>
    concatBytes(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00), utf8ToBytes(label));
  const pem = utf8ToBytes(
    pemBlock(placeholder('synthetic PCK leaf')) +
      pemBlock(placeholder('synthetic PCK Platform CA')) +
      pemBlock(placeholder('synthetic root (not Intel)')),
  );
  const inner = concatBytes(
    qeReport,
    qeReportSignature,
    u16(authData.length),
    authData,
    u16(5),
    u32(pem.length),
    pem,
  );
  const signatureData = concatBytes(quoteSignature, attestationPublic, u16(6), u32(inner.length), inner);
  return concatBytes(
    signed,
    u32(signatureData.length),
    signatureData,
    new Uint8Array(options.trailingBytes ?? 0),
  );
}
