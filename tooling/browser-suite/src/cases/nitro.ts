// nitro-attestation's real-document fixtures (packages/nitro-attestation/fixtures, with expected.json as the
// oracle), checked as its fixtures test does: every field at the document's own time, and the typed failures.
import { base64ToBytes, bytesToHex } from '@confidential-ai/bytes';
import { verifyAttestationDocument } from '@confidential-ai/nitro-attestation';
import { type CaseEnvironment, check, codeOf, loadJson, type Outcome } from './types.js';

const FIXTURES = 'packages/nitro-attestation/fixtures';

interface ExpectedDocument {
  file: string;
  encoding: string;
  module_id: string;
  timestamp_ms: number;
  verify_at: string;
  pcrs_all: Record<string, string>;
  public_key_hex: string | null;
  user_data_hex: string | null;
  nonce_hex: string | null;
  cabundle_len: number;
  chain: { subject: string }[];
}

/** Both real Nitro documents, verified and tampered. */
export async function nitroCases(env: CaseEnvironment): Promise<Outcome[]> {
  const expected = await loadJson<{ documents: ExpectedDocument[] }>(env.load, `${FIXTURES}/expected.json`);
  const out: Outcome[] = [];
  for (const doc of expected.documents) {
    const raw = await env.load(`${FIXTURES}/${doc.file}`);
    const bytes = doc.encoding === 'base64' ? base64ToBytes(new TextDecoder().decode(raw).trim()) : raw;
    const at = new Date(doc.verify_at);
    const debug = doc.file.includes('debug');
    out.push(
      await check(`nitro-attestation/${doc.file}/verifies-at-its-time`, async () => {
        const result = await verifyAttestationDocument(bytes, { at, allowDebug: debug });
        const document = result.document;
        const pcrs = Object.fromEntries(
          [...document.pcrs].map(([index, value]) => [String(index), bytesToHex(value)]),
        );
        const ok =
          document.moduleId === doc.module_id &&
          document.timestamp === doc.timestamp_ms &&
          JSON.stringify(pcrs) === JSON.stringify(doc.pcrs_all) &&
          (document.publicKey && bytesToHex(document.publicKey)) === doc.public_key_hex &&
          (document.userData && bytesToHex(document.userData)) === doc.user_data_hex &&
          (document.nonce && bytesToHex(document.nonce)) === doc.nonce_hex &&
          document.cabundle.length === doc.cabundle_len &&
          result.chain.map((certificate) => certificate.subject).join('|') ===
            doc.chain.map((entry) => entry.subject).join('|') &&
          result.debug === debug;
        return [ok, `${document.moduleId} debug=${result.debug}`];
      }),
    );
    out.push(
      await check(`nitro-attestation/${doc.file}/expired-now`, async () => {
        const code = await codeOf(() =>
          verifyAttestationDocument(bytes, { at: new Date('2026-12-01T00:00:00Z'), allowDebug: true }),
        );
        return [code === 'ERR_NITRO_CERTIFICATE_EXPIRED', code];
      }),
    );
    out.push(
      await check(`nitro-attestation/${doc.file}/flipped-signature`, async () => {
        const tampered = new Uint8Array(bytes);
        tampered[tampered.length - 5]! ^= 1;
        const code = await codeOf(() => verifyAttestationDocument(tampered, { at, allowDebug: true }));
        return [code === 'ERR_NITRO_SIGNATURE_INVALID', code];
      }),
    );
    out.push(
      await check(`nitro-attestation/${doc.file}/debug-policy`, async () => {
        const code = await codeOf(() => verifyAttestationDocument(bytes, { at }));
        return [code === (debug ? 'ERR_NITRO_DEBUG_MODE' : 'none'), code];
      }),
    );
  }
  return out;
}
