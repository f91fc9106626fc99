// tdx-attestation's vector (packages/tdx-attestation/test/vectors/dcap-qvl-parsed-tdx-quote.json: dcap-qvl's
// parse of its sample quote) and the real quote and collateral samples, checked as its quote and verify tests do.
import { bytesToHex } from '@confidential-ai/bytes';
import { parseTdxQuote, verifyTdxQuote } from '@confidential-ai/tdx-attestation';
import { type CaseEnvironment, check, codeOf, loadJson, type Outcome } from './types.js';

const FIXTURES = 'packages/tdx-attestation/samples';
/** Inside the real collateral's validity window (see the fixtures README). */
const FIXTURE_TIME = new Date('2025-07-01T00:00:00Z');

interface ParsedVector {
  header: Record<string, number>;
  fields: Record<string, string>;
}

/** The dcap-qvl parse vector and the real quote's verification verdicts. */
export async function tdxCases(env: CaseEnvironment): Promise<Outcome[]> {
  const vector = await loadJson<ParsedVector>(
    env.load,
    'packages/tdx-attestation/test/vectors/dcap-qvl-parsed-tdx-quote.json',
  );
  const quoteBytes = await env.load(`${FIXTURES}/tdx_quote.bin`);
  const collateral = new TextDecoder().decode(await env.load(`${FIXTURES}/tdx_quote_collateral.json`));
  const out: Outcome[] = [];
  out.push(
    await check('tdx-attestation/dcap-qvl-parsed-tdx-quote', () => {
      const quote = parseTdxQuote(quoteBytes);
      const f = vector.fields;
      const body = quote.body;
      const actual = [
        quote.header.version === vector.header.version,
        quote.header.attestationKeyType === vector.header.attestation_key_type,
        quote.header.teeType === vector.header.tee_type,
        quote.header.qeSvn === vector.header.qe_svn,
        quote.header.pceSvn === vector.header.pce_svn,
        bytesToHex(quote.header.qeVendorId) === f.qe_vendor_id,
        bytesToHex(quote.header.userData) === f.user_data,
        bytesToHex(body.teeTcbSvn) === f.tee_tcb_svn,
        bytesToHex(body.mrSeam) === f.mr_seam,
        bytesToHex(body.mrSignerSeam) === f.mr_signer_seam,
        bytesToHex(body.seamAttributes) === f.seam_attributes,
        bytesToHex(body.tdAttributes.raw) === f.td_attributes,
        bytesToHex(body.xfam) === f.xfam,
        bytesToHex(body.mrTd) === f.mr_td,
        bytesToHex(body.mrConfigId) === f.mr_config_id,
        bytesToHex(body.mrOwner) === f.mr_owner,
        bytesToHex(body.mrOwnerConfig) === f.mr_owner_config,
        body.rtmrs.map(bytesToHex).join() === [f.rt_mr0, f.rt_mr1, f.rt_mr2, f.rt_mr3].join(),
        bytesToHex(body.reportData) === f.report_data,
        bytesToHex(quote.signature) === f.ecdsa_signature,
        bytesToHex(quote.attestationKey) === f.ecdsa_attestation_key,
        bytesToHex(quote.qeReport.raw) === f.qe_report,
        bytesToHex(quote.qeReportSignature) === f.qe_report_signature,
        bytesToHex(quote.qeAuthData) === f.data,
      ];
      return [actual.every(Boolean), bytesToHex(body.mrTd).slice(0, 16)];
    }),
  );
  out.push(
    await check('tdx-attestation/real-quote/collateral-uptodate', async () => {
      const result = await verifyTdxQuote(quoteBytes, { collateral, now: FIXTURE_TIME });
      return [
        result.tcbStatus === 'UpToDate' && result.advisoryIds.length === 0 && result.verified.intelRoot,
        `${result.tcbStatus}`,
      ];
    }),
  );
  out.push(
    await check('tdx-attestation/real-quote/signature-chain-only', async () => {
      const result = await verifyTdxQuote(quoteBytes, { now: FIXTURE_TIME, chainOnly: true });
      return [
        result.tcbStatus === null && result.verified.pckCertificateChain && result.verified.intelRoot,
        result.pck.fmspc,
      ];
    }),
  );
  out.push(
    await check('tdx-attestation/real-quote/flipped-report-data', async () => {
      const tampered = new Uint8Array(quoteBytes);
      tampered[600]! ^= 1;
      const code = await codeOf(() => verifyTdxQuote(tampered, { now: FIXTURE_TIME }));
      return [code === 'ERR_TDX_QUOTE_SIGNATURE', code];
    }),
  );
  out.push(
    await check('tdx-attestation/real-quote/expired-collateral', async () => {
      const code = await codeOf(() =>
        verifyTdxQuote(quoteBytes, { collateral, now: new Date('2026-01-01T00:00:00Z') }),
      );
      return [code === 'ERR_TDX_COLLATERAL_EXPIRED', code];
    }),
  );
  return out;
}
