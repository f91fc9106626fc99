import { bytesToHex } from '@confidential-ai/bytes';
import { pemToDer } from '@confidential-ai/nitro-attestation';
import { sha256 } from '@confidential-ai/tee-signing';
import * as pkijs from 'pkijs';

/** How a root certificate is shown in verdicts: its subject and SHA-256 fingerprint. */
export interface RootDescription {
  /** Subject in `CN=…, O=…` form, or `unparseable certificate`. */
  readonly subject: string;
  /** SHA-256 of the DER, lowercase hex. */
  readonly sha256: string;
}

const NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
};

/** Names a certificate by its subject (CN, OU, O, C) and fingerprint; never throws. */
export function describeCertificate(der: Uint8Array): RootDescription {
  const fingerprint = bytesToHex(sha256(der));
  try {
    const certificate = pkijs.Certificate.fromBER(new Uint8Array(der));
    const parts = certificate.subject.typesAndValues
      .filter((entry) => NAMES[entry.type] !== undefined)
      .map((entry) => `${NAMES[entry.type]}=${String(entry.value.valueBlock.value)}`);
    return { subject: parts.length > 0 ? parts.join(', ') : '(empty subject)', sha256: fingerprint };
  } catch {
    return { subject: 'unparseable certificate', sha256: fingerprint };
  }
}

/** Decodes one PEM certificate (or passes DER through) to DER bytes, or undefined when it is neither. */
export function certificateDer(input: Uint8Array | string): Uint8Array | undefined {
  if (input instanceof Uint8Array) return input;
  try {
    return pemToDer(input, 'CERTIFICATE');
  } catch {
    return undefined;
  }
}

/** True for a certificate whose issuer name equals its subject name (a root); false when it does not parse. */
export function isSelfIssued(der: Uint8Array): boolean {
  try {
    const certificate = pkijs.Certificate.fromBER(new Uint8Array(der));
    return certificate.issuer.isEqual(certificate.subject);
  } catch {
    return false;
  }
}
