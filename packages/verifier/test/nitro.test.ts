import { readFileSync } from 'node:fs';
import { bytesToHex } from '@confidential-ai/bytes';
import { signingKeyHash } from '@confidential-ai/nitro-attestation';
import { exportPublicKeyPem, generateRsaSigningKeyPair } from '@confidential-ai/tee-signing';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkNitroDocument, parseNitroMeasurements } from '../src/nitro.js';
import { resolvePolicy, type VerificationPolicy } from '../src/policy.js';
import { type Verdict, VerdictBuilder } from '../src/verdict.js';
import { fixture, flipped } from './helpers.js';
import { createTestNitroEnclave, type TestNitroEnclave } from './nitro-enclave.js';

interface ExpectedDocument {
  file: string;
  timestamp_ms: number;
  pcrs_all: Record<string, string>;
  nonce_hex?: string;
}
const expected = JSON.parse(
  readFileSync(new URL('./fixtures/nitro-expected.json', import.meta.url), 'utf8'),
) as {
  documents: ExpectedDocument[];
};
const prod = expected.documents.find((document) => document.file === 'evervault_beta_prod_2022-10-13.cbor')!;
const debug = expected.documents.find((document) => document.file === 'evervault_ga_debug_2023-09-18.b64')!;

async function verdictOf(
  document: string | Uint8Array,
  nonce: string,
  signingKeyPem: string,
  policy: VerificationPolicy,
): Promise<Verdict> {
  const resolved = resolvePolicy(policy);
  const builder = new VerdictBuilder(
    'tee-gateway',
    ['attestation-document', 'measurements', 'key-binding'],
    resolved,
  );
  await checkNitroDocument(builder, document, { nonce, signingKeyPem, policy: resolved });
  return builder.finish();
}

const step = (verdict: Verdict, name: string) => verdict.steps.find((entry) => entry.name === name)!;

let keyPem: string;
beforeAll(async () => {
  keyPem = await exportPublicKeyPem((await generateRsaSigningKeyPair()).publicKey);
});

describe('Nitro steps on real AWS documents (evervault fixtures)', () => {
  it('verifies the production document as real against the AWS root, PCRs from the oracle', async () => {
    const nonceHex = prod.nonce_hex!;
    const pcrs = { 0: prod.pcrs_all['0']!, 1: prod.pcrs_all['1']!, 2: prod.pcrs_all['2']! };
    const verdict = await verdictOf(fixture('evervault_beta_prod_2022-10-13.cbor'), nonceHex, keyPem, {
      now: () => new Date(prod.timestamp_ms),
      nitroPcrs: pcrs,
    });
    expect(step(verdict, 'attestation-document')).toMatchObject({
      status: 'passed',
      evidence: {
        trustAnchor: 'aws-nitro-root-g1',
        rootSha256: '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b',
      },
    });
    expect(step(verdict, 'measurements').status).toBe('passed');
    // Evervault's enclave is not a nitriding one: user_data is null, so no signing key is bound.
    expect(step(verdict, 'key-binding')).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_KEY_BINDING' });
  });

  it('fails a wrong PCR, a missing PCR policy, a wrong nonce and a document checked at the current time', async () => {
    const at = () => new Date(prod.timestamp_ms);
    const document = fixture('evervault_beta_prod_2022-10-13.cbor');
    const nonce = prod.nonce_hex!;
    const wrongPcr = await verdictOf(document, nonce, keyPem, { now: at, nitroPcrs: { 0: '00'.repeat(48) } });
    expect(step(wrongPcr, 'measurements')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_MEASUREMENTS',
    });
    const noPolicy = await verdictOf(document, nonce, keyPem, { now: at });
    expect(step(noPolicy, 'measurements')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_POLICY_MISSING',
    });
    const wrongNonce = await verdictOf(document, 'ab'.repeat(20), keyPem, { now: at, nitroPcrs: 'any' });
    expect(step(wrongNonce, 'attestation-document')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_NONCE_MISMATCH',
    });
    const expired = await verdictOf(document, nonce, keyPem, { nitroPcrs: 'any' });
    expect(step(expired, 'attestation-document')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_NITRO_DOCUMENT',
    });
    const tampered = await verdictOf(flipped(document, document.length - 10), nonce, keyPem, {
      now: at,
      nitroPcrs: 'any',
    });
    expect(step(tampered, 'attestation-document')).toMatchObject({
      status: 'failed',
      evidence: { nitroCode: 'ERR_NITRO_SIGNATURE_INVALID' },
    });
  });

  it('refuses the debug-mode document unless allowDebug', async () => {
    const text = new TextDecoder().decode(fixture('evervault_ga_debug_2023-09-18.b64'));
    const at = () => new Date(debug.timestamp_ms);
    const refused = await verdictOf(text, debug.nonce_hex!, keyPem, { now: at, nitroPcrs: 'any' });
    expect(step(refused, 'attestation-document')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_DEBUG_MODE',
    });
    const allowed = await verdictOf(text, debug.nonce_hex!, keyPem, {
      now: at,
      nitroPcrs: 'any',
      allowDebug: true,
    });
    expect(step(allowed, 'attestation-document').status).toBe('passed');
  });
});

describe('Nitro steps on a TEST enclave (nitriding user_data binding)', () => {
  let enclave: TestNitroEnclave;
  const nonce = new Uint8Array(20).fill(9);
  beforeAll(async () => {
    enclave = await createTestNitroEnclave();
  });

  it('binds the signing key, verified against the pinned TEST root as simulated', async () => {
    const document = await enclave.document(nonce, await signingKeyHash(keyPem));
    const verdict = await verdictOf(document, bytesToHex(nonce), keyPem, {
      acceptSimulated: true,
      testRoots: { nitro: [enclave.rootPem] },
      nitroPcrs: enclave.pcrs,
    });
    expect(verdict.status).toBe('simulated');
    expect(step(verdict, 'attestation-document')).toMatchObject({
      status: 'simulated',
      evidence: { trustAnchor: 'test-root' },
    });
    expect(step(verdict, 'attestation-document').message).toContain('TEST root');
    expect(step(verdict, 'key-binding').status).toBe('simulated');
    const strict = await verdictOf(document, bytesToHex(nonce), keyPem, { nitroPcrs: enclave.pcrs });
    expect(step(strict, 'attestation-document')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_UNTRUSTED_ROOT',
    });
  });

  it('verifies as real against a root pinned by trustAnchors (named), without acceptSimulated', async () => {
    const document = await enclave.document(nonce, await signingKeyHash(keyPem));
    const verdict = await verdictOf(document, bytesToHex(nonce), keyPem, {
      trustAnchors: { nitro: [enclave.rootPem] },
      nitroPcrs: enclave.pcrs,
    });
    expect(verdict.status).toBe('verified');
    expect(step(verdict, 'attestation-document')).toMatchObject({
      status: 'passed',
      evidence: { trustAnchor: 'policy-root' },
    });
    expect(step(verdict, 'attestation-document').message).toContain('root pinned by policy.trustAnchors');
    expect(step(verdict, 'measurements').status).toBe('passed');
    expect(step(verdict, 'key-binding').status).toBe('passed');
    const other = await createTestNitroEnclave();
    const refused = await verdictOf(document, bytesToHex(nonce), keyPem, {
      trustAnchors: { nitro: [other.rootPem] },
      nitroPcrs: enclave.pcrs,
    });
    expect(step(refused, 'attestation-document')).toMatchObject({
      status: 'failed',
      code: 'ERR_VERIFY_UNTRUSTED_ROOT',
    });
  });

  it('fails a document that binds another key', async () => {
    const other = await exportPublicKeyPem((await generateRsaSigningKeyPair()).publicKey);
    const document = await enclave.document(nonce, await signingKeyHash(other));
    const verdict = await verdictOf(document, bytesToHex(nonce), keyPem, {
      acceptSimulated: true,
      nitroPcrs: 'any',
    });
    expect(step(verdict, 'key-binding')).toMatchObject({ status: 'failed', code: 'ERR_VERIFY_KEY_BINDING' });
  });
});

describe('parseNitroMeasurements', () => {
  it("reads tee-gateway's measurements.txt, flat PCR maps and index maps", () => {
    const pcr = (fill: string) => fill.repeat(96);
    const file = JSON.stringify({
      Measurements: { HashAlgorithm: 'Sha384 { ... }', PCR0: pcr('a'), PCR1: pcr('b'), PCR2: pcr('c') },
    });
    expect(parseNitroMeasurements(file)).toEqual({ 0: pcr('a'), 1: pcr('b'), 2: pcr('c') });
    expect(parseNitroMeasurements({ PCR0: `0x${pcr('A')}` })).toEqual({ 0: pcr('a') });
    expect(parseNitroMeasurements({ 8: pcr('d') })).toEqual({ 8: pcr('d') });
    expect(() => parseNitroMeasurements('{"Measurements":{}}')).toThrow(TypeError);
    expect(() => parseNitroMeasurements({ PCR0: 'xyz' })).toThrow(TypeError);
    expect(() => parseNitroMeasurements('not json')).toThrow(TypeError);
  });
});
