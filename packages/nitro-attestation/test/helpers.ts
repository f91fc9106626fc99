import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturesDir + name));
}

export function fixtureText(name: string): string {
  return readFileSync(fixturesDir + name, 'utf8');
}

export interface ExpectedDocument {
  file: string;
  encoding: 'base64' | 'binary';
  module_id: string;
  digest: string;
  timestamp_ms: number;
  verify_at: string;
  pcrs_all: Record<string, string>;
  pcr_count: number;
  public_key_hex: string | null;
  user_data_hex: string | null;
  nonce_hex: string | null;
  cabundle_len: number;
  chain: { subject: string; not_before: string; not_after: string }[];
  chain_valid_window_utc: [string, string];
}

export interface Expected {
  root_ca: {
    sha256_fingerprint: string;
    subject: string;
    serial_hex: string;
    not_before: string;
    not_after: string;
  };
  documents: ExpectedDocument[];
}

export const expected = JSON.parse(fixtureText('expected.json')) as Expected;

/** The document bytes as stored (base64 text for the .b64 file, raw for .cbor). */
export function documentInput(doc: ExpectedDocument): Uint8Array | string {
  return doc.encoding === 'base64' ? fixtureText(doc.file) : fixtureBytes(doc.file);
}

export const debugDoc = expected.documents.find((doc) => doc.file.includes('debug'))!;
export const prodDoc = expected.documents.find((doc) => doc.file.includes('prod'))!;
