// Verdicts on every public TDX sample we found, compared with Phala's dcap-qvl run in the same process:
// @phala/dcap-qvl (the JavaScript port, reads quote v4 and v5) and @phala/dcap-qvl-web (the Rust crate built to
// WebAssembly, v4 only in the published 0.3.3), plus the verdicts recorded in test/vectors/dcap-qvl-verdicts.json.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, js_verify } from '@phala/dcap-qvl-web';
import { describe, expect, it } from 'vitest';
import { parseTdxQuote, TdxAttestationError, verifyTdxQuote } from '../src/index.js';

interface Case {
  name: string;
  quote: string;
  collateral: { base: string; tcbInfo?: string };
  at: string;
  expected: { status: string; advisoryIds: string[] } | { error: string; dcapQvl: string };
}

type Verdict = { status: string; advisoryIds: string[] } | { error: string };

const vectors = new URL('./vectors/', import.meta.url);
const file = (path: string) => readFileSync(new URL(path, vectors));
const { cases } = JSON.parse(file('dcap-qvl-verdicts.json').toString('utf8')) as { cases: Case[] };

/** dcap-qvl's error messages and the code this package gives for the same verdict. */
const DCAP_QVL_ERRORS: Record<string, string> = {
  'No matching TCB level found': 'ERR_TDX_TCB_UNRECOGNIZED',
  'SEPT_VE_DISABLE is not enabled': 'ERR_TDX_TD_ATTRIBUTES',
  'Reserved bits in TD attributes are set': 'ERR_TDX_TD_ATTRIBUTES',
  'Debug mode is enabled': 'ERR_TDX_DEBUG',
};

function collateralOf(item: Case): Record<string, string> {
  const collateral = JSON.parse(file(item.collateral.base).toString('utf8')) as Record<string, string>;
  if (item.collateral.tcbInfo !== undefined) {
    // An Intel PCS TCB info response: the signed text is exactly what lies between `{"tcbInfo":` and `,"signature"`.
    const response = file(item.collateral.tcbInfo).toString('utf8');
    const prefix = '{"tcbInfo":';
    const end = response.lastIndexOf(',"signature":"');
    expect(response.startsWith(prefix) && end > 0).toBe(true);
    collateral.tcb_info = response.slice(prefix.length, end);
    collateral.tcb_info_signature = (JSON.parse(response) as { signature: string }).signature;
  }
  return collateral;
}

async function ours(quote: Uint8Array, collateral: Record<string, string>, at: string): Promise<Verdict> {
  try {
    const result = await verifyTdxQuote(quote, { collateral, now: at });
    return { status: result.tcbStatus!, advisoryIds: result.advisoryIds };
  } catch (error) {
    if (!TdxAttestationError.isInstance(error)) throw error;
    return { error: error.code };
  }
}

function fromDcapQvl(run: () => { status: string; advisory_ids: string[] }): Verdict & { message?: string } {
  try {
    const result = run();
    return { status: result.status, advisoryIds: result.advisory_ids };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { error: DCAP_QVL_ERRORS[message] ?? `unmapped: ${message}`, message };
  }
}

const require = createRequire(import.meta.url);
const dcapQvlJs = require('@phala/dcap-qvl') as {
  verify(
    quote: Uint8Array,
    collateral: unknown,
    nowSeconds: number,
  ): { status: string; advisory_ids: string[] };
};
initSync({ module: readFileSync(require.resolve('@phala/dcap-qvl-web/dcap-qvl-web_bg.wasm')) });

describe('verdicts equal dcap-qvl on every public sample', () => {
  it('covers quote versions 4 and 5 and more than one verdict', () => {
    const versions = new Set(
      cases.map((item) => parseTdxQuote(new Uint8Array(file(item.quote))).header.version),
    );
    expect([...versions].sort()).toEqual([4, 5]);
    expect(new Set(cases.map((item) => JSON.stringify(item.expected))).size).toBeGreaterThanOrEqual(5);
  });

  for (const item of cases) {
    it(item.name, async () => {
      const quote = new Uint8Array(file(item.quote));
      const collateral = collateralOf(item);
      const seconds = Date.parse(item.at) / 1000;
      const expected: Verdict =
        'error' in item.expected
          ? { error: item.expected.error }
          : { status: item.expected.status, advisoryIds: item.expected.advisoryIds };

      expect(await ours(quote, collateral, item.at)).toEqual(expected);

      // The JavaScript port of dcap-qvl, live, with the same quote, collateral and time.
      const js = fromDcapQvl(() => dcapQvlJs.verify(quote, collateral, seconds));
      if ('error' in item.expected) expect(js.message).toBe(item.expected.dcapQvl);
      const { message: _message, ...jsVerdict } = js;
      expect(jsVerdict).toEqual(expected);

      // The Rust crate (WebAssembly build 0.3.3), live, for version 4 quotes: it predates quote v5 parsing,
      // reports a platform below every TCB level as status "Unknown" (later versions fail with "No matching
      // TCB level found") and takes the PERFMON bit (63) for a reserved bit.
      if (parseTdxQuote(quote).header.version === 4) {
        const wasm = fromDcapQvl(() => js_verify(quote, collateral, BigInt(seconds)));
        const { message: _wasmMessage, ...wasmVerdict } = wasm;
        const perfmon = parseTdxQuote(quote).body.tdAttributes.perfmon;
        if ('status' in wasmVerdict && wasmVerdict.status === 'Unknown') {
          expect(expected).toEqual({ error: 'ERR_TDX_TCB_UNRECOGNIZED' });
        } else if (perfmon && wasm.message === 'Reserved bits in TD attributes are set') {
          expect(expected).toEqual({ error: 'ERR_TDX_TCB_UNRECOGNIZED' });
        } else {
          expect(wasmVerdict).toEqual(expected);
        }
      }
    });
  }
});
