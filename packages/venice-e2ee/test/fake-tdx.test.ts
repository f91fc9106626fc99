// The fake's attestation quotes are real signed TDX v4 quotes from a synthetic platform. These tests fetch them
// over loopback HTTP and run the full offline verification (requireTdx): it passes with the fake's root and
// fails, with a typed error and a stable code, with Intel's pinned root and with tampered or foreign quotes.
// The quote layout and every signature are also checked independently with node:crypto (spec section 7).
import { createHash, createPublicKey, verify as nodeVerify, X509Certificate } from 'node:crypto';
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '@confidential-ai/bytes';
import {
  INTEL_SGX_ROOT_CA_SHA256,
  TdxAttestationError,
  type TdxAttestationErrorCode,
} from '@confidential-ai/tdx-attestation';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signingAddressBytes } from '../src/address.js';
import { type AttestationPolicy, attestModel, fetchAttestation } from '../src/attestation.js';
import { VeniceE2eeError, type VeniceE2eeErrorCode } from '../src/errors.js';
import { createVeniceFetch } from '../src/fetch.js';
import { createFakeVeniceServer, type FakeVeniceServer } from '../src/testing/index.js';

const FLAT = 'e2ee-qwen3-6-27b';
const ACI = 'e2ee-glm-5-2-p';

let fake: FakeVeniceServer;
let trusted: AttestationPolicy;

beforeAll(async () => {
  fake = await createFakeVeniceServer({ apiKey: 'test-key' });
  trusted = {
    requireTdx: true,
    trustedRootCa: await fake.tdxRoot(),
    tdxCollateral: await fake.tdxCollateral(),
  };
});
afterEach(() => fake.clearFaults());
afterAll(async () => {
  await fake?.close();
});

function attest(model: string, policy: AttestationPolicy) {
  return attestModel({ baseUrl: fake.baseUrl, apiKey: 'test-key', model, ...policy });
}

/** The VeniceE2eeError code and, when the cause is a tdx-attestation error, its code. */
async function failureOf(
  promise: Promise<unknown>,
): Promise<{ code: VeniceE2eeErrorCode; tdx: TdxAttestationErrorCode | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (!VeniceE2eeError.isInstance(error)) throw error;
    const cause = (error as Error).cause;
    return { code: error.code, tdx: TdxAttestationError.isInstance(cause) ? cause.code : undefined };
  }
  throw new Error('expected the attestation to fail');
}

describe('requireTdx against the fake over HTTP', () => {
  it('passes with the fake root and collateral (both shapes): chain verified, TCB UpToDate', async () => {
    for (const model of [FLAT, ACI]) {
      const key = await attest(model, trusted);
      expect(key.tdxVerified).toBe(true);
      expect(key.tcbStatus).toBe('UpToDate');
      expect(equalBytes(key.reportData.subarray(0, 20), signingAddressBytes(key.publicKey))).toBe(true);
      expect(bytesToHex(key.reportData.subarray(32))).toBe(key.nonce);
    }
    const { tdxCollateral: _collateral, ...chainOnly } = trusted;
    const key = await attest(FLAT, chainOnly);
    expect(key.tdxVerified).toBe(true);
    expect(key.tcbStatus).toBeUndefined();
  });

  it('fails with the pinned Intel root: ERR_ATTESTATION_INVALID_TDX_EVIDENCE (cause ERR_TDX_CERT_CHAIN)', async () => {
    expect(await failureOf(attest(FLAT, { requireTdx: true }))).toEqual({
      code: 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
      tdx: 'ERR_TDX_CERT_CHAIN',
    });
    // Without requireTdx only the structure and the key binding are checked: the same quote is accepted.
    expect((await attest(FLAT, {})).tdxVerified).toBe(false);
  });

  it('fails on a bit flip in the signed body and in the quote signature', async () => {
    for (const fault of ['tampered-quote-body', 'tampered-quote-signature'] as const) {
      for (const model of [FLAT, ACI]) {
        fake.setFault(fault);
        expect(await failureOf(attest(model, trusted))).toEqual({
          code: 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
          tdx: 'ERR_TDX_QUOTE_SIGNATURE',
        });
        // The structural checks alone do not notice: the chain verification is what catches it.
        expect((await attest(model, {})).tdxVerified).toBe(false);
        fake.clearFaults();
      }
    }
  });

  it('fails on a well-formed quote from another platform (untrusted root)', async () => {
    fake.setFault('untrusted-quote');
    expect(await failureOf(attest(FLAT, trusted))).toEqual({
      code: 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE',
      tdx: 'ERR_TDX_CERT_CHAIN',
    });
  });

  it('a REPORTDATA mismatch still fails on a quote whose chain verifies', async () => {
    const cases = [
      ['binding-nonce', FLAT, 'ERR_ATTESTATION_NONCE_MISMATCH'],
      ['binding-address', ACI, 'ERR_ATTESTATION_SIGNING_ADDRESS_MISMATCH'],
      ['binding-padding', FLAT, 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE'],
      ['report-data-mismatch', ACI, 'ERR_ATTESTATION_INVALID_TDX_EVIDENCE'],
      ['debug-quote', FLAT, 'ERR_ATTESTATION_DEBUG_MODE_DETECTED'],
    ] as const;
    for (const [fault, model, code] of cases) {
      fake.setFault(fault);
      expect(`${fault}: ${(await failureOf(attest(model, trusted))).code}`).toBe(`${fault}: ${code}`);
      fake.clearFaults();
    }
  });

  it('the real openai SDK through createVeniceFetch: verified chat, then a refusal for a tampered quote', async () => {
    const veniceFetch = createVeniceFetch({ attestation: trusted });
    try {
      const openai = new OpenAI({
        baseURL: fake.baseUrl,
        apiKey: 'test-key',
        fetch: veniceFetch,
        maxRetries: 0,
      });
      const { data, response } = await openai.chat.completions
        .create({ model: FLAT, messages: [{ role: 'user', content: 'hello' }] })
        .withResponse();
      expect(data.choices[0]?.message.content).toBe('You said: hello');
      expect(response.headers.get('x-venice-proxy-tdx-verified')).toBe('true');

      fake.setFault('tampered-quote-signature');
      const chatsBefore = fake.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length;
      const failure = await openai.chat.completions
        .create({ model: ACI, messages: [{ role: 'user', content: 'hello' }] })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(OpenAI.APIError);
      expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('attestation_invalid_tdx_evidence');
      // Fail closed: nothing was encrypted to the unverified key.
      expect(fake.requests.filter((entry) => entry.url.endsWith('/chat/completions')).length).toBe(
        chatsBefore,
      );
    } finally {
      veniceFetch.close();
    }
  });
});

/** Reads a u16/u32 little-endian value. */
function le(bytes: Uint8Array, offset: number, size: 2 | 4): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return size === 2 ? view.getUint16(offset, true) : view.getUint32(offset, true);
}

/** A P-256 public key (raw X ‖ Y) as a node:crypto KeyObject, via JWK. */
function p256Key(xy: Uint8Array) {
  const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(xy.subarray(0, 32)), y: b64url(xy.subarray(32, 64)) },
    format: 'jwk',
  });
}

function verifyP256(data: Uint8Array, signature: Uint8Array, key: ReturnType<typeof createPublicKey>) {
  return nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

describe('independent check of the fake quote with node:crypto (spec section 7.1, 7.2)', () => {
  it('layout, quote signature, QE report binding and signature, PCK chain to tdxRoot()', async () => {
    const { report, nonce } = await fetchAttestation({
      baseUrl: fake.baseUrl,
      apiKey: 'test-key',
      model: FLAT,
    });
    const quote = hexToBytes((report as { intel_quote: string }).intel_quote);
    const publicKey = hexToBytes((report as { signing_public_key: string }).signing_public_key);

    // Header: version 4, key type 2 (ECDSA P-256), tee_type 0x81, Intel QE vendor id.
    expect([le(quote, 0, 2), le(quote, 2, 2), le(quote, 4, 4)]).toEqual([4, 2, 0x81]);
    expect(bytesToHex(quote.subarray(12, 28))).toBe('939a7233f79c4ca9940a0db3957f0607');
    // REPORTDATA (absolute 568..632) = address ‖ 12 zero bytes ‖ nonce.
    expect(
      equalBytes(
        quote.subarray(568, 632),
        concatBytes(signingAddressBytes(publicKey), new Uint8Array(12), hexToBytes(nonce)),
      ),
    ).toBe(true);

    // Signature data: signature(64) ‖ attestation key(64) ‖ type 6 ‖ size ‖ QE report(384) ‖ sig(64) ‖ auth ‖ type 5.
    const signatureDataLength = le(quote, 632, 4);
    const signature = quote.subarray(636, 700);
    const attestationKey = quote.subarray(700, 764);
    expect(le(quote, 764, 2)).toBe(6);
    const qeReport = quote.subarray(770, 1154);
    const qeSignature = quote.subarray(1154, 1218);
    const authLength = le(quote, 1218, 2);
    const authData = quote.subarray(1220, 1220 + authLength);
    let at = 1220 + authLength;
    expect(le(quote, at, 2)).toBe(5);
    const chainLength = le(quote, at + 2, 4);
    at += 6;
    const chainPem = new TextDecoder().decode(quote.subarray(at, at + chainLength));
    // The 70 trailing zero bytes of real Venice quotes follow the signature data.
    expect(quote.length - (636 + signatureDataLength)).toBe(70);
    expect(quote.subarray(636 + signatureDataLength).every((byte) => byte === 0)).toBe(true);

    // (a) quote signature over bytes 0..632 with the attestation key.
    expect(verifyP256(quote.subarray(0, 632), signature, p256Key(attestationKey))).toBe(true);
    const flipped = Uint8Array.from(quote.subarray(0, 632));
    flipped[200]! ^= 1;
    expect(verifyP256(flipped, signature, p256Key(attestationKey))).toBe(false);
    // (c) QE report REPORTDATA = SHA-256(attestation key ‖ auth data) ‖ 32 zero bytes.
    const binding = createHash('sha256').update(attestationKey).update(authData).digest();
    expect(equalBytes(qeReport.subarray(320, 352), binding)).toBe(true);
    expect(qeReport.subarray(352, 384).every((byte) => byte === 0)).toBe(true);

    // (b) QE report signature by the PCK leaf; (d) chain leaf → PCK CA → root = tdxRoot(), not Intel's.
    const certificates = chainPem
      .split(/(?=-----BEGIN CERTIFICATE-----)/)
      .filter((part) => part.includes('BEGIN'))
      .map((part) => new X509Certificate(part));
    expect(certificates).toHaveLength(3);
    const [leaf, intermediate, root] = certificates as [X509Certificate, X509Certificate, X509Certificate];
    expect(verifyP256(qeReport, qeSignature, leaf.publicKey)).toBe(true);
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(equalBytes(new Uint8Array(root.raw), await fake.tdxRoot())).toBe(true);
    expect(createHash('sha256').update(root.raw).digest('hex')).not.toBe(INTEL_SGX_ROOT_CA_SHA256);
  });
});
