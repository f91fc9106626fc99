import type { FakeVeniceFault } from '@confidential-ai/venice-e2ee/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, type Harness, postChat, rawError, startHarness, VENICE_KEY } from './helpers.js';

let harness: Harness;
const FLAT = 'e2ee-qwen3-6-27b';
const ACI = 'e2ee-glm-5-2-p';

beforeAll(async () => {
  harness = await startHarness();
});
afterEach(() => harness.fake.clearFaults());
afterAll(async () => {
  await harness?.close();
  expect(harness.logs.text()).not.toContain(VENICE_KEY);
});

function ask(model: string, target = harness) {
  return target.openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'attest' }] });
}

/** Fault → (models it applies to, reference code, HTTP status). Spec 5.5, 5.9, D1, D2. */
const FAULTS: Array<[FakeVeniceFault, string[], string, number]> = [
  ['missing-verified', [FLAT, ACI], 'attestation_missing_required_field', 502],
  ['not-verified', [FLAT, ACI], 'attestation_upstream_not_verified', 502],
  ['bad-nonce', [FLAT, ACI], 'attestation_nonce_mismatch', 502],
  ['wrong-model', [FLAT, ACI], 'attestation_model_mismatch', 502],
  ['invalid-key', [FLAT, ACI], 'attestation_invalid_signing_key', 502],
  ['conflicting-keys', [FLAT, ACI], 'attestation_invalid_signing_key', 502],
  ['bad-address', [FLAT, ACI], 'attestation_signing_address_mismatch', 502],
  ['wrong-key', [FLAT, ACI], 'attestation_signing_address_mismatch', 502],
  ['binding-address', [FLAT, ACI], 'attestation_signing_address_mismatch', 502],
  ['binding-nonce', [FLAT, ACI], 'attestation_nonce_mismatch', 502],
  ['binding-padding', [FLAT, ACI], 'attestation_invalid_tdx_evidence', 502],
  ['debug-flag', [FLAT, ACI], 'attestation_debug_mode_detected', 502],
  ['debug-quote', [FLAT, ACI], 'attestation_debug_mode_detected', 502],
  ['missing-quote', [FLAT, ACI], 'attestation_missing_tdx_evidence', 502],
  ['malformed-quote', [FLAT, ACI], 'attestation_invalid_tdx_evidence', 502],
  ['quote-mismatch', [ACI], 'attestation_invalid_tdx_evidence', 502],
  ['report-data-mismatch', [ACI], 'attestation_invalid_tdx_evidence', 502],
  // "Venice models/chat/attestation HTTP problems" are upstream_* codes (spec 5.9).
  ['attestation-500', [FLAT], 'upstream_status_error', 502],
  ['attestation-401', [FLAT], 'upstream_authentication_failed', 502],
  ['attestation-not-json', [FLAT], 'attestation_malformed_response', 502],
];

describe('attestation failures map to the reference codes', () => {
  for (const [fault, models, code, status] of FAULTS) {
    for (const model of models) {
      it(`${fault} (${model === FLAT ? 'Shape A' : 'Shape B'}) → ${status} ${code}`, async () => {
        harness.fake.setFault(fault);
        const chatsBefore = harness.fake.requests.filter((r) => r.url.endsWith('/chat/completions')).length;
        const failure = await errorOf(ask(model));
        const type = code.startsWith('upstream_authentication')
          ? 'proxy_upstream_authentication_error'
          : code.startsWith('upstream_')
            ? 'proxy_upstream_error'
            : 'proxy_attestation_error';
        expect(failure).toEqual({ status, type, code });
        // Fail closed: nothing was encrypted to an unverified key.
        expect(harness.fake.requests.filter((r) => r.url.endsWith('/chat/completions')).length).toBe(
          chatsBefore,
        );
      });
    }
  }

  it('the failed attestation is not cached: the next request in the same session re-attests', async () => {
    const headers = { 'x-venice-proxy-session-id': 'retry-session' };
    harness.fake.setFault('not-verified');
    const failure = await rawError(
      await postChat(harness, { model: FLAT, messages: [{ role: 'user', content: 'x' }] }, headers),
    );
    expect(failure.header).toBe('attestation_upstream_not_verified');
    harness.fake.clearFaults();
    const ok = await postChat(harness, { model: FLAT, messages: [{ role: 'user', content: 'x' }] }, headers);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-venice-proxy-key-binding')).toBe('true');
  });

  it('both shapes succeed without faults (D1) and report their provider', async () => {
    for (const [model, provider] of [
      [FLAT, 'near-ai'],
      [ACI, 'phala'],
    ] as const) {
      const { response } = await ask(model).withResponse();
      expect(response.headers.get('x-venice-proxy-tee-provider')).toBe(provider);
      expect(response.headers.get('x-venice-proxy-key-binding')).toBe('true');
    }
  });
});

describe('policy settings', () => {
  it('allow_debug = true accepts a debug TD and reports it', async () => {
    const permissive = await startHarness({ toml: '[attestation]\nallow_debug = true' });
    try {
      permissive.fake.setFault('debug-quote');
      const { response } = await ask(FLAT, permissive).withResponse();
      expect(response.headers.get('x-venice-proxy-tdx-debug')).toBe('true');
    } finally {
      await permissive.close();
    }
  });

  it('NVIDIA gate modes: never ignores, required needs a payload, a configured upstream keeps NVIDIA’s pinned root (the fake’s test-root GPU evidence fails)', async () => {
    const { response } = await ask(FLAT).withResponse();
    expect(response.headers.get('x-venice-proxy-nvidia-verified')).toBe('ignored');
    harness.fake.setFault('no-nvidia');
    const absent = await ask(FLAT).withResponse();
    expect(absent.response.headers.get('x-venice-proxy-nvidia-verified')).toBe('not-present');

    const required = await startHarness({ toml: '[attestation]\nrequire_nvidia = "required"' });
    const whenPresent = await startHarness({ toml: '[attestation]\nrequire_nvidia = "when_present"' });
    try {
      required.fake.setFault('no-nvidia');
      expect(await errorOf(ask(FLAT, required))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_missing_nvidia_evidence',
      });
      required.fake.clearFaults();
      expect(await errorOf(ask(FLAT, required))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_invalid_nvidia_evidence',
      });
      whenPresent.fake.setFault('no-nvidia');
      const passes = await ask(FLAT, whenPresent).withResponse();
      expect(passes.response.headers.get('x-venice-proxy-nvidia-verified')).toBe('not-present');
      whenPresent.fake.clearFaults();
      whenPresent.fake.setFault('nvidia-number');
      expect(await errorOf(ask(FLAT, whenPresent))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_invalid_nvidia_evidence',
      });
    } finally {
      await required.close();
      await whenPresent.close();
    }
  });

  it('require_tdx = true with a configured base URL keeps Intel’s pinned root: the fake’s test-root quotes fail; they pass with that root given through the API', async () => {
    const { createTestTdxPlatform } = await import('@confidential-ai/tdx-attestation/testing');
    const platform = await createTestTdxPlatform();
    const strict = await startHarness({
      toml: '[attestation]\nrequire_tdx = true',
      fake: { tdxPlatform: platform },
    });
    try {
      expect(await errorOf(ask(FLAT, strict))).toEqual({
        status: 502,
        type: 'proxy_attestation_error',
        code: 'attestation_invalid_tdx_evidence',
      });
    } finally {
      await strict.close();
    }
    const chained = await startHarness({
      toml: '[attestation]\nrequire_tdx = true',
      fake: { tdxPlatform: platform },
      attestation: { trustedRootCa: platform.root, tdxCollateral: await platform.createCollateral() },
    });
    try {
      for (const model of [FLAT, ACI]) {
        const { data, response } = await ask(model, chained).withResponse();
        expect(data.choices[0]!.message.content).toBe('You said: attest');
        expect(response.headers.get('x-venice-proxy-tdx-verified')).toBe('true');
      }
      // The binding is still checked on a chain that verifies.
      chained.fake.setFault('binding-nonce');
      expect((await errorOf(ask(FLAT, chained))).code).toBe('attestation_nonce_mismatch');
    } finally {
      await chained.close();
    }
  });
});
