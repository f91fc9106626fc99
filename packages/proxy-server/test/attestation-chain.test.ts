import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFakeChutesServer,
  type FakeChutesServer,
  type FakeFault,
} from '@confidential-ai/chutes-transport/testing';
import {
  createTestNvidiaPlatform,
  type TestNvidiaPlatform,
} from '@confidential-ai/nvidia-attestation/testing';
import { createLogger } from '@confidential-ai/server-kit';
import { createTestTdxPlatform, type TestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import { ed25519VerifyText, recoverPersonalSignAddress } from '@confidential-ai/tee-signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChutesAttestationEntry,
  canonicalJsonCompact,
  loadDcapMaterial,
  verifyChutesInstance,
} from '../src/chutes-attestation.js';
import { decodeJwtClaimsUnverified, loadNvidiaMaterial } from '../src/chutes-gpu-evidence.js';
import { loadConfig } from '../src/config.js';
import { attestationChainRoutes } from '../src/routes/attestation-chain.js';
import { type RunningServer, startServer } from '../src/server.js';
import { AUTH, captureLogs, createTestApp, TOKEN } from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected loosely (and asserted) in tests.
type Json = any;

const CHUTES_KEY = 'cpk_chain_test_3f9a1c7e5b2d';
const MODEL = 'fake/echo-model';
const MODEL_LARGE = 'fake/echo-model-large';
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const sha256Bytes = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const randomNonce = () => createHash('sha256').update(String(Math.random())).digest('hex');

/**
 * An independent canonical JSON for ASCII-only data without floats: recursively sorted keys, then JSON.stringify
 * (compact, as Python's `separators=(",", ":")`). Everything the tests canonicalize satisfies that.
 */
function sortedStringify(value: unknown): string {
  const sort = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sort);
    if (item && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item)
          .sort()
          .map((key) => [key, sort((item as Record<string, unknown>)[key])]),
      );
    }
    if (typeof item === 'number' && !Number.isInteger(item)) throw new Error('float in test data');
    return item;
  };
  const text = JSON.stringify(sort(value));
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error('non-ASCII test data');
  return text;
}

interface SignedPart {
  payload: Record<string, unknown>;
  signature: string;
  signing_algo: 'ecdsa' | 'ed25519';
  signing_address: string;
}

/** Verifies a receipt/binding signature with tee-signing's verifiers and, for Ed25519, node:crypto too. */
function expectSignedBy(part: SignedPart, server: RunningServer) {
  const text = sortedStringify(part.payload);
  if (part.signing_algo === 'ecdsa') {
    expect(part.signing_address).toBe(server.deps.signer.ecdsaAddress);
    expect(recoverPersonalSignAddress(text, part.signature)).toBe(part.signing_address);
  } else {
    expect(part.signing_address).toBe(server.deps.signer.ed25519Address);
    expect(ed25519VerifyText(part.signing_address, text, part.signature)).toBe(true);
    const spki = Buffer.concat([
      Buffer.from('302a300506032b6570032100', 'hex'),
      Buffer.from(part.signing_address, 'hex'),
    ]);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(nodeVerify(null, Buffer.from(text, 'utf8'), key, Buffer.from(part.signature, 'hex'))).toBe(true);
    // A different text does not verify.
    expect(nodeVerify(null, Buffer.from(`${text} `, 'utf8'), key, Buffer.from(part.signature, 'hex'))).toBe(
      false,
    );
  }
}

let platform: TestTdxPlatform;
let gpus: TestNvidiaPlatform;
let fake: FakeChutesServer;
let reported: RunningServer; // TDX status from Chutes' tdx_verification
let dcap: RunningServer; // offline DCAP with the synthetic root and UpToDate collateral
let wrongKey: RunningServer;
let dir: string;
const logs = captureLogs();

async function startProxy(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({
    env: {
      TOKEN,
      PROXY_PORT: '0',
      LOG_LEVEL: 'debug',
      CHUTES_ENABLED: 'true',
      CHUTES_API_KEY: CHUTES_KEY,
      CHUTES_BASE_URL: fake.url,
      CHUTES_ATTESTATION_BASE_URL: fake.url,
      VLLM_BASE_URL: fake.url,
      // The fake's GPU evidence chains to a TEST root: trusted here explicitly, never by default.
      CHUTES_NVIDIA_ROOT_FILE: join(dir, 'nvidia-root.pem'),
      ...env,
    },
  });
  // No secret scrubbing: the test proves the key is never handed to the logger at all.
  const logger = createLogger({ level: 'debug', destination: logs.destination });
  return startServer({ config, logger, processMetrics: false });
}

async function chain(
  server: RunningServer,
  query: Record<string, string>,
  headers: Record<string, string> = AUTH,
) {
  const response = await fetch(`${server.url}/v1/attestation/chain?${new URLSearchParams(query)}`, {
    headers,
  });
  const text = await response.text();
  expect(text).not.toContain(CHUTES_KEY);
  return {
    status: response.status,
    headers: response.headers,
    body: JSON.parse(text) as Record<string, Json>,
  };
}

async function expectFailure(fault: FakeFault, error: string, server: RunningServer = reported) {
  fake.inject(fault);
  const result = await chain(server, { model: MODEL, nonce: randomNonce() });
  expect(result.status).toBe(502);
  expect(result.body.error.type).toBe('chutes_verification_failed');
  expect(result.body.error.message).toContain(error);
  expect(fake.faults).toHaveLength(0);
  return result;
}

beforeAll(async () => {
  platform = await createTestTdxPlatform();
  gpus = await createTestNvidiaPlatform();
  fake = await createFakeChutesServer({
    apiKey: CHUTES_KEY,
    tdxPlatform: platform,
    nvidiaPlatform: gpus,
    gpusPerInstance: 2,
    models: [MODEL, MODEL_LARGE],
    instancesPerChute: 2,
    adminRoutes: false,
  });
  dir = mkdtempSync(join(tmpdir(), 'chain-test-'));
  writeFileSync(join(dir, 'root.der'), platform.root);
  writeFileSync(join(dir, 'nvidia-root.pem'), gpus.deviceRootPem);
  const rims = await gpus.createRims();
  writeFileSync(join(dir, 'rims.json'), JSON.stringify([rims.driver, rims.vbios]));
  writeFileSync(join(dir, 'rim-root.der'), gpus.rimRoot);
  writeFileSync(join(dir, 'collateral.json'), JSON.stringify(await platform.createCollateral()));
  reported = await startProxy({});
  dcap = await startProxy({
    CHUTES_TDX_ROOT_FILE: join(dir, 'root.der'),
    CHUTES_TDX_COLLATERAL_FILE: join(dir, 'collateral.json'),
  });
  wrongKey = await startProxy({ CHUTES_API_KEY: 'cpk_wrong_key_0000' });
});

afterAll(async () => {
  await Promise.all([reported?.close(), dcap?.close(), wrongKey?.close()]);
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // Checked last, over every line every proxy logged in this file.
  expect(logs.text().length).toBeGreaterThan(0);
  expect(logs.text()).not.toContain(CHUTES_KEY);
});

describe('GET /v1/attestation/chain, verify_mode=proxy', () => {
  it.each(['ecdsa', 'ed25519'] as const)('verifies every instance and signs a receipt (%s)', async (algo) => {
    const nonce = randomNonce();
    const { status, body, headers } = await chain(reported, { model: MODEL, nonce, signing_algo: algo });
    expect(status).toBe(200);
    expect(headers.get('x-attestation-simulated')).toBe('true');
    expect(body.version).toBe('1');
    expect(body.verify_mode).toBe('proxy');
    expect(body.proxy.signing_public_key).toBe(body.proxy.attestation.signing_public_key);
    expect(body.proxy.attestation.request_nonce).toBe(nonce);

    const chute = fake.chutes[0]!;
    const bundle = body.upstream.attestation;
    expect(bundle.attestation_type).toBe('chutes');
    expect(bundle.chute_id).toBe(chute.chuteId);
    expect(bundle.nonce).toBe(nonce);
    expect(bundle.all_attestations.map((entry: { instance_id: string }) => entry.instance_id).sort()).toEqual(
      chute.instances.map((instance) => instance.instanceId).sort(),
    );
    expect(body.upstream.attestation_sha256).toBe(sha256(sortedStringify(bundle)));

    const receipt = body.verification_receipt as SignedPart;
    expect(receipt.signing_algo).toBe(algo);
    expectSignedBy(receipt, reported);
    expectSignedBy(body.binding_proof, reported);
    expect(receipt.payload.binding_signature).toBe(body.binding_proof.signature);
    expect(body.binding_proof.payload.upstream_attestation_sha256).toBe(body.upstream.attestation_sha256);
    const payload = receipt.payload as Record<string, Json>;
    expect(payload).toMatchObject({
      nonce,
      model: MODEL,
      chute_id: chute.chuteId,
      provider: 'chutes',
      verify_mode: 'proxy',
      verification_policy: 'chutes-v1',
      result: 'pass',
      request_hash: sha256(`${MODEL}:${nonce}`),
      upstream_attestation_sha256: body.upstream.attestation_sha256,
      upstream_base_url: fake.url,
      binding_signing_algo: algo,
    });
    const testRoot = {
      subject: expect.stringContaining('TEST NVIDIA Device Identity CA'),
      sha256: sha256Bytes(gpus.deviceRoot),
    };
    expect(payload.verification_summary).toMatchObject({
      instances_total: 2,
      instances_passed: 2,
      tdx_status_source: 'chutes-reported',
      tdx_quote_signature: 'not-verified',
      gpu_evidence_required: true,
      gpu_evidence: 'verified',
      // The configured TEST root anchored the GPU chains: named, never called NVIDIA's.
      gpu_trust_anchor: 'configured-root',
      gpu_trust_anchor_roots: [testRoot],
      gpu_measurements: 'not-compared',
      gpu_token_signature: 'not-verified',
      gpu_token_role: 'additional-signal',
    });
    expect(payload.instance_results).toHaveLength(2);
    for (const result of payload.instance_results) {
      expect(result).toMatchObject({
        result: 'pass',
        errors: [],
        tdx_status: 'UpToDate',
        checks: {
          e2e_pubkey: 'pass',
          tdx_quote: 'pass',
          report_data_binding: 'pass',
          td_debug_disabled: 'pass',
          tdx_quote_signature: 'not_checked',
          tdx_status: 'pass',
          gpu_evidence: 'pass',
          gpu_platform_token: 'pass',
        },
        gpu: {
          gpu_count: 2,
          trust_anchor: 'configured-root',
          device_root: testRoot,
          measurements: 'not-compared',
          driver_versions: [gpus.driverVersion],
        },
      });
    }
    expect(JSON.stringify(payload)).not.toContain('nvidia-device-identity-ca');
    // The binding digest, recomputed here from the bundle: REPORTDATA[0:32] at offset 568 of each quote.
    for (const entry of bundle.all_attestations) {
      const quote = Buffer.from(entry.intel_quote, 'base64');
      expect(quote.subarray(568, 600).toString('hex')).toBe(sha256(nonce + entry.e2e_pubkey));
    }
  });

  it('verifies quotes offline with the configured DCAP root and collateral, and says so', async () => {
    // Chutes' reported status is not consulted when collateral is configured.
    fake.inject({ type: 'tdx-status', status: 'OutOfDate', count: 2 });
    const { status, body } = await chain(dcap, {
      model: MODEL,
      nonce: randomNonce(),
      signing_algo: 'ed25519',
    });
    fake.clearFaults();
    expect(status).toBe(200);
    const payload = body.verification_receipt.payload;
    expect(payload.verification_summary).toMatchObject({
      tdx_status_source: 'dcap-collateral',
      tdx_quote_signature: 'dcap-verified',
      tdx_trust_anchor: 'configured',
    });
    for (const result of payload.instance_results) {
      expect(result.checks.tdx_quote_signature).toBe('pass');
      expect(result.tdx_status).toBe('UpToDate');
    }
    expectSignedBy(body.verification_receipt, dcap);
  });

  it('rejects a REPORTDATA binding mismatch (502)', async () => {
    const { body } = await expectFailure({ type: 'evidence-mismatch' }, 'report_data_binding_mismatch');
    expect(body.error.message).not.toContain('{"detail"');
  });

  it('rejects a debug TD: bit 0 of TD_ATTRIBUTES byte 0 (502), not bit 0 of byte 7', async () => {
    await expectFailure({ type: 'td-attributes', hex: '0100001000000000' }, 'tdx_debug_mode_enabled');
    // The reference reads the field big-endian and would flag this non-debug TD; it passes here.
    fake.inject({ type: 'td-attributes', hex: '0000001000000001' });
    const { status } = await chain(reported, { model: MODEL, nonce: randomNonce() });
    expect(status).toBe(200);
  });

  it('rejects a reported TDX status other than UpToDate (502)', async () => {
    await expectFailure({ type: 'tdx-status', status: 'OutOfDate' }, 'tdx_status_not_uptodate:OutOfDate');
  });

  it('rejects a quote from another platform when DCAP verification is configured (502)', async () => {
    const other = await createTestTdxPlatform();
    const original = fake;
    // A fresh fake signing with another platform, same models.
    fake = await createFakeChutesServer({ apiKey: CHUTES_KEY, tdxPlatform: other, models: [MODEL] });
    const proxy = await startProxy({ CHUTES_TDX_ROOT_FILE: join(dir, 'root.der') });
    try {
      const { status, body } = await chain(proxy, { model: MODEL, nonce: randomNonce() });
      expect(status).toBe(502);
      expect(body.error.type).toBe('chutes_verification_failed');
      expect(body.error.message).toContain('tdx_dcap_failed:ERR_TDX_CERT_CHAIN');
    } finally {
      await proxy.close();
      await fake.close();
      fake = original;
    }
  });

  it.each([
    ['tampered-report', 'gpu_evidence_invalid:ERR_NVIDIA_REPORT_SIGNATURE'],
    ['wrong-nonce', 'gpu_evidence_invalid:ERR_NVIDIA_NONCE_MISMATCH'],
    ['untrusted-root', 'gpu_evidence_invalid:ERR_NVIDIA_CERT_CHAIN'],
    ['malformed', 'gpu_evidence_invalid:ERR_NVIDIA_EVIDENCE_MALFORMED'],
    ['missing', 'gpu_evidence_missing'],
  ] as const)(
    'rejects bad GPU evidence although its GPU token claims success: %s (502)',
    async (variant, error) => {
      const { body } = await expectFailure({ type: 'gpu-evidence-bad', variant }, error);
      // Only the instance whose evidence is bad is named.
      expect(body.error.message.match(/gpu_evidence_/g)).toHaveLength(1);
    },
  );

  it('rejects GPU evidence that does not chain to NVIDIA when no TEST root is configured (502)', async () => {
    const strict = await startProxy({ CHUTES_NVIDIA_ROOT_FILE: '' });
    try {
      const { status, body } = await chain(strict, { model: MODEL, nonce: randomNonce() });
      expect(status).toBe(502);
      expect(body.error.type).toBe('chutes_verification_failed');
      expect(body.error.message.match(/gpu_evidence_invalid:ERR_NVIDIA_CERT_CHAIN/g)).toHaveLength(2);
    } finally {
      await strict.close();
    }
  });

  it('compares the GPU measurements with the configured RIMs, and fails evidence they do not match', async () => {
    const proxy = await startProxy({
      CHUTES_NVIDIA_RIM_FILE: join(dir, 'rims.json'),
      CHUTES_NVIDIA_RIM_ROOT_FILE: join(dir, 'rim-root.der'),
    });
    const other = await createTestNvidiaPlatform({ driverVersion: '570.86.15' });
    const wrongRims = await other.createRims();
    writeFileSync(join(dir, 'other-rims.json'), JSON.stringify([wrongRims.driver, wrongRims.vbios]));
    const foreign = await startProxy({
      CHUTES_NVIDIA_RIM_FILE: join(dir, 'other-rims.json'),
      CHUTES_NVIDIA_RIM_ROOT_FILE: join(dir, 'rim-root.der'),
    });
    try {
      const { status, body } = await chain(proxy, { model: MODEL, nonce: randomNonce() });
      expect(status).toBe(200);
      const payload = body.verification_receipt.payload;
      expect(payload.verification_summary.gpu_measurements).toBe('compared-with-rims');
      for (const result of payload.instance_results) expect(result.gpu.measurements).toBe('matched');
      // RIMs signed under another RIM root than the configured one do not verify.
      const refused = await chain(foreign, { model: MODEL, nonce: randomNonce() });
      expect(refused.status).toBe(502);
      expect(refused.body.error.message).toContain('gpu_evidence_invalid:ERR_NVIDIA_RIM_CERT_CHAIN');
    } finally {
      await Promise.all([proxy.close(), foreign.close()]);
    }
  });

  it('passes an instance without GPU evidence only with CHUTES_ATTESTATION_REQUIRE_GPU=false', async () => {
    const lax = await startProxy({ CHUTES_ATTESTATION_REQUIRE_GPU: 'false' });
    try {
      fake.inject({ type: 'gpu-evidence-bad', variant: 'missing', count: 2 });
      const { status, body } = await chain(lax, { model: MODEL, nonce: randomNonce() });
      expect(status).toBe(200);
      const payload = body.verification_receipt.payload;
      expect(payload.verification_summary).toMatchObject({
        gpu_evidence_required: false,
        gpu_evidence: 'absent',
      });
      for (const result of payload.instance_results) {
        expect(result.checks.gpu_evidence).toBe('absent');
        expect(result.gpu).toBeNull();
      }
      // Evidence that is present must still verify.
      fake.inject({ type: 'gpu-evidence-bad', variant: 'tampered-report' });
      const bad = await chain(lax, { model: MODEL, nonce: randomNonce() });
      expect(bad.status).toBe(502);
      expect(bad.body.error.message).toContain('gpu_evidence_invalid:ERR_NVIDIA_REPORT_SIGNATURE');
    } finally {
      fake.clearFaults();
      await lax.close();
    }
  });

  it.each([
    ['overall-false', 'gpu_overall_attestation_failed'],
    ['nonce-mismatch', 'gpu_eat_nonce_mismatch'],
    ['malformed', 'gpu_tokens_parse_failed'],
    ['error', 'gpu_tokens_error'],
  ] as const)(
    'still fails an instance whose GPU token claims a failure, an additional signal: %s (502)',
    async (variant, error) => {
      await expectFailure({ type: 'gpu-token-bad', variant }, error);
    },
  );

  it('does not need GPU tokens: verified GPU evidence is what counts', async () => {
    fake.inject({ type: 'gpu-token-bad', variant: 'missing', count: 2 });
    const { status, body } = await chain(reported, { model: MODEL, nonce: randomNonce() });
    expect(status).toBe(200);
    for (const result of body.verification_receipt.payload.instance_results) {
      expect(result.checks).toMatchObject({ gpu_evidence: 'pass', gpu_platform_token: 'absent' });
    }
  });
});

describe('GET /v1/attestation/chain, verify_mode=passthrough', () => {
  it.each(['ecdsa', 'ed25519'] as const)(
    'returns the bundle, its hash and a signed binding proof (%s)',
    async (algo) => {
      const nonce = randomNonce();
      // Even a failing instance is passed through: the client verifies.
      fake.inject({ type: 'evidence-mismatch' });
      const { status, body } = await chain(reported, {
        model: MODEL,
        nonce,
        verify_mode: 'PassThrough',
        signing_algo: algo,
      });
      expect(status).toBe(200);
      expect(body.verify_mode).toBe('passthrough');
      expect(body).not.toHaveProperty('verification_receipt');
      const hash = sha256(sortedStringify(body.upstream.attestation));
      expect(body.upstream).toMatchObject({
        provider: 'chutes',
        base_url: fake.url,
        model: MODEL,
        attestation_sha256: hash,
      });
      const proof = body.binding_proof as SignedPart;
      expect(proof.payload).toMatchObject({
        nonce,
        model: MODEL,
        provider: 'chutes',
        upstream_base_url: fake.url,
        upstream_attestation_sha256: hash,
      });
      expect(proof.signing_algo).toBe(algo);
      expectSignedBy(proof, reported);
      // The bundle carries the evidence as Chutes returned it.
      for (const entry of body.upstream.attestation.all_attestations) {
        expect(entry.nonce).toBe(nonce);
        expect(entry.tdx_verification).toEqual({ result: { status: 'UpToDate', advisory_ids: [] } });
        expect(Object.keys(entry).sort()).toEqual(
          [
            'certificate',
            'e2e_pubkey',
            'gpu_evidence',
            'gpu_tokens',
            'instance_id',
            'intel_quote',
            'nonce',
            'tdx_verification',
          ].sort(),
        );
      }
    },
  );
});

describe('GET /v1/attestation/chain request validation and upstream errors', () => {
  const nonce = 'a'.repeat(64);

  it.each([
    ['63 hex characters', 'a'.repeat(63)],
    ['65 hex characters', 'a'.repeat(65)],
    ['non-hex', `${'a'.repeat(63)}g`],
    ['16 characters (the reference minimum)', 'abcdefabcdefabcd'],
  ])('rejects a nonce of %s (400 invalid_nonce, as the report route)', async (_label, bad) => {
    const result = await chain(reported, { model: MODEL, nonce: bad });
    expect(result.status).toBe(400);
    expect(result.body.error).toMatchObject({ type: 'invalid_nonce', param: 'nonce' });
    const report = await fetch(`${reported.url}/v1/attestation/report?nonce=${bad}`, { headers: AUTH });
    expect(report.status).toBe(400);
    expect(((await report.json()) as { error: { type: string } }).error.type).toBe(result.body.error.type);
  });

  it('rejects a missing nonce, a bad verify_mode, an empty model and a bad signing_algo (400)', async () => {
    expect((await chain(reported, { model: MODEL })).body.error.type).toBe('invalid_nonce');
    const mode = await chain(reported, { model: MODEL, nonce, verify_mode: 'trust-me' });
    expect(mode.status).toBe(400);
    expect(mode.body.error).toMatchObject({ type: 'invalid_verify_mode', param: 'verify_mode' });
    for (const model of ['', '   ']) {
      const empty = await chain(reported, { model, nonce });
      expect(empty.status).toBe(400);
      expect(empty.body.error).toMatchObject({ type: 'invalid_model', param: 'model' });
    }
    expect((await chain(reported, { nonce })).body.error.type).toBe('invalid_model');
    const algo = await chain(reported, { model: MODEL, nonce, signing_algo: 'rsa' });
    expect(algo.status).toBe(400);
    expect(algo.body.error.type).toBe('invalid_signing_algo');
  });

  it('needs the bearer token', async () => {
    const result = await chain(reported, { model: MODEL, nonce }, {});
    expect(result.status).toBe(401);
    expect(result.body.error.type).toBe('authentication_error');
  });

  it('answers 404 upstream_model_not_found for an unknown model and for a name that only matches as a substring', async () => {
    for (const model of ['no/such-model', 'fake/echo']) {
      const result = await chain(reported, { model, nonce });
      expect(result.status).toBe(404);
      expect(result.body.error.type).toBe('upstream_model_not_found');
    }
  });

  it('relays an upstream 429 as 429 upstream_rate_limited with Retry-After (listing and evidence)', async () => {
    fake.inject({ type: 'rate-limit', path: 'listing', retryAfter: 12 });
    const listing = await chain(reported, { model: MODEL_LARGE, nonce });
    expect(listing.status).toBe(429);
    expect(listing.body.error.type).toBe('upstream_rate_limited');
    expect(listing.body.error.message).toContain('12');
    expect(listing.headers.get('retry-after')).toBe('12');

    fake.inject({ type: 'rate-limit', path: 'evidence', retryAfter: 7 });
    const evidence = await chain(reported, { model: MODEL, nonce });
    expect(evidence.status).toBe(429);
    expect(evidence.body.error.message).toContain('retry after 7 seconds');
    expect(evidence.headers.get('retry-after')).toBe('7');
    expect(fake.faults).toHaveLength(0);
  });

  it('caches model -> chute_id and shares one lookup between concurrent requests', async () => {
    const before = fake.stats.chuteListingCalls;
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        chain(dcap, { model: MODEL_LARGE, nonce: randomNonce(), verify_mode: 'passthrough' }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    await chain(dcap, { model: MODEL_LARGE, nonce: randomNonce(), verify_mode: 'passthrough' });
    expect(fake.stats.chuteListingCalls - before).toBe(1);
    expect(results[0]!.body.upstream.attestation.chute_id).toBe(fake.chutes[1]!.chuteId);
  });

  it('looks the chute up on every request with CHUTES_CHUTE_ID_CACHE_TTL_SECONDS=0', async () => {
    const proxy = await startProxy({ CHUTES_CHUTE_ID_CACHE_TTL_SECONDS: '0' });
    try {
      const before = fake.stats.chuteListingCalls;
      for (let index = 0; index < 2; index++) {
        const result = await chain(proxy, { model: MODEL, nonce: randomNonce(), verify_mode: 'passthrough' });
        expect(result.status).toBe(200);
      }
      expect(fake.stats.chuteListingCalls - before).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('reads its settings with the reference defaults and rejects bad values', () => {
    expect(loadConfig({ env: {} }).chutes).toMatchObject({
      apiBaseUrl: undefined,
      chuteIdCacheTtlSeconds: 3600,
      attestationTimeoutMs: 30_000,
      attestationRequireGpu: true,
      tdxRootFile: undefined,
      tdxCollateralFile: undefined,
      nvidiaRootFile: undefined,
      nvidiaRimFile: undefined,
      nvidiaRimRootFile: undefined,
    });
    const set = loadConfig({
      env: {
        CHUTES_ATTESTATION_BASE_URL: 'https://platform.example/',
        CHUTES_CHUTE_ID_CACHE_TTL_SECONDS: '60',
        CHUTES_ATTESTATION_REQUIRE_GPU: 'off',
        CHUTES_TDX_ROOT_FILE: '/etc/root.pem',
        CHUTES_TDX_COLLATERAL_FILE: '/etc/collateral.json',
        CHUTES_NVIDIA_ROOT_FILE: '/etc/nvidia-root.pem',
        CHUTES_NVIDIA_RIM_FILE: '/etc/rims.json',
        CHUTES_NVIDIA_RIM_ROOT_FILE: '/etc/rim-root.pem',
      },
    }).chutes;
    expect(set).toMatchObject({
      apiBaseUrl: 'https://platform.example',
      chuteIdCacheTtlSeconds: 60,
      attestationRequireGpu: false,
      tdxRootFile: '/etc/root.pem',
      tdxCollateralFile: '/etc/collateral.json',
      nvidiaRootFile: '/etc/nvidia-root.pem',
      nvidiaRimFile: '/etc/rims.json',
      nvidiaRimRootFile: '/etc/rim-root.pem',
    });
    expect(() => loadConfig({ env: { CHUTES_CHUTE_ID_CACHE_TTL_SECONDS: '-1' } })).toThrow(
      /CHUTES_CHUTE_ID_CACHE_TTL_SECONDS/,
    );
    expect(() => loadConfig({ env: { CHUTES_ATTESTATION_REQUIRE_GPU: 'maybe' } })).toThrow(
      /CHUTES_ATTESTATION_REQUIRE_GPU/,
    );
  });

  it('fails startup when a configured DCAP file is missing', async () => {
    await expect(startProxy({ CHUTES_TDX_COLLATERAL_FILE: join(dir, 'missing.json') })).rejects.toThrow(
      /chutes\.tdx_collateral_file/,
    );
  });

  it("makes the simulator's TEST root on first use, not when the route is built; a failure is retried", async () => {
    const simulator = await createFakeChutesServer({ port: 0, apiKey: CHUTES_KEY, adminRoutes: false });
    try {
      let calls = 0;
      const nvidiaRoot = async () => {
        calls += 1;
        if (calls === 1) throw new Error('the simulator could not make its test PKI');
        return simulator.nvidiaRoot();
      };
      const { app } = createTestApp({
        env: { CHUTES_ENABLED: 'true', CHUTES_API_KEY: CHUTES_KEY, CHUTES_SIMULATE: 'true' },
        chutesBaseUrl: simulator.url,
        chutesFetch: globalThis.fetch,
        modules: [attestationChainRoutes],
        overrides: { embeddedChutes: { nvidiaRoot } },
      });
      expect(calls).toBe(0);
      const url = () => `/v1/attestation/chain?model=${encodeURIComponent(MODEL)}&nonce=${randomNonce()}`;
      const failed = await app.request(url(), { headers: AUTH });
      expect(failed.status).toBeGreaterThanOrEqual(500);
      expect(calls).toBe(1);
      const answered = await app.request(url(), { headers: AUTH });
      expect(answered.status).toBe(200);
      const receipt = (
        (await answered.json()) as { verification_receipt: { payload: Record<string, unknown> } }
      ).verification_receipt.payload;
      expect(receipt.verification_summary).toMatchObject({
        gpu_evidence: 'verified',
        gpu_trust_anchor: 'embedded-test-root',
      });
      expect((await app.request(url(), { headers: AUTH })).status).toBe(200);
      expect(calls).toBe(2);
    } finally {
      await simulator.close();
    }
  });

  it('uses the embedded fake Chutes server as platform API with chutes.simulate', async () => {
    const config = loadConfig({
      env: {
        TOKEN,
        PROXY_PORT: '0',
        CHUTES_ENABLED: 'true',
        CHUTES_API_KEY: CHUTES_KEY,
        CHUTES_SIMULATE: 'true',
        LOG_LEVEL: 'warn',
      },
    });
    const proxy = await startServer({
      config,
      logger: createLogger({ level: 'warn', destination: logs.destination }),
      processMetrics: false,
    });
    try {
      expect(proxy.embeddedChutesUrl).toBeDefined();
      const result = await chain(proxy, { model: 'fake/echo-model', nonce: randomNonce() });
      expect(result.status).toBe(200);
      const payload = result.body.verification_receipt.payload;
      expect(payload.upstream_base_url).toBe(proxy.embeddedChutesUrl);
      // The simulator's GPU evidence verified against its own TEST root, and the receipt says exactly that.
      expect(payload.verification_summary).toMatchObject({
        gpu_evidence: 'verified',
        gpu_trust_anchor: 'embedded-test-root',
      });
      const root = await proxy.deps.embeddedChutes!.nvidiaRoot();
      for (const instance of payload.instance_results) {
        expect(instance.gpu).toMatchObject({
          trust_anchor: 'embedded-test-root',
          device_root: { sha256: sha256Bytes(root), subject: expect.stringContaining('TEST') },
        });
      }
      expectSignedBy(result.body.verification_receipt, proxy);
    } finally {
      await proxy.close();
    }
  });

  it('maps rejected Chutes credentials to 502 upstream_auth_failed', async () => {
    const result = await chain(wrongKey, { model: MODEL, nonce });
    expect(result.status).toBe(502);
    expect(result.body.error.type).toBe('upstream_auth_failed');
  });

  it('maps an unreachable platform API to 502 upstream_unreachable', async () => {
    const proxy = await startProxy({ CHUTES_ATTESTATION_BASE_URL: 'http://127.0.0.1:9' });
    try {
      const result = await chain(proxy, { model: MODEL, nonce });
      expect(result.status).toBe(502);
      expect(result.body.error.type).toBe('upstream_unreachable');
    } finally {
      await proxy.close();
    }
  });

  it('answers 503 when Chutes is disabled or has no key (as the sidecar routes)', async () => {
    const disabled = createTestApp({ env: { CHUTES_ENABLED: 'false' } });
    const off = await disabled.app.request(`/v1/attestation/chain?model=${MODEL}&nonce=${nonce}`, {
      headers: AUTH,
    });
    expect(off.status).toBe(503);
    expect(((await off.json()) as { error: { type: string } }).error.type).toBe('chutes_disabled');
    const noKey = createTestApp({ env: { CHUTES_ENABLED: 'true' } });
    const missing = await noKey.app.request(`/v1/attestation/chain?model=${MODEL}&nonce=${nonce}`, {
      headers: AUTH,
    });
    expect(missing.status).toBe(503);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('chutes_misconfigured');
  });
});

describe('verification building blocks', () => {
  const vectors = JSON.parse(
    readFileSync(new URL('./vectors/canonical-json.json', import.meta.url), 'utf8'),
  ) as {
    vectors: Array<{ input: string; expected: string }>;
  };

  it.each(vectors.vectors)(
    'canonicalJsonCompact matches Python json.dumps: $expected',
    ({ input, expected }) => {
      expect(canonicalJsonCompact(JSON.parse(input))).toBe(expected);
    },
  );

  it('decodes JWT claims strictly without verifying them', () => {
    const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    expect(decodeJwtClaimsUnverified(`${part({ alg: 'none' })}.${part({ a: 1 })}.sig`)).toEqual({ a: 1 });
    for (const bad of ['a.b', `${part({})}.${part([1])}.s`, `${part({})}.!!!.s`, 42, `${part({})}..s`]) {
      expect(() => decodeJwtClaimsUnverified(bad)).toThrow();
    }
  });

  it('judges the TCB status from DCAP collateral, and fails closed on Revoked/OutOfDate or a foreign root', async () => {
    const nonce = 'c'.repeat(64);
    const pubkey = Buffer.alloc(1184, 7).toString('base64');
    const digest = createHash('sha256')
      .update(nonce + pubkey)
      .digest();
    const reportData = new Uint8Array(64);
    reportData.set(digest, 0);
    const quote = Buffer.from(await platform.createQuote({ reportData })).toString('base64');
    const entry: ChutesAttestationEntry = {
      instance_id: 'i-1',
      nonce,
      e2e_pubkey: pubkey,
      intel_quote: quote,
      gpu_evidence: [],
      gpu_tokens: null,
      tdx_verification: { result: { status: 'UpToDate' } },
      certificate: null,
    };
    const dcapWith = async (collateral?: object) => ({
      root: platform.root,
      collaterals: collateral ? [collateral as never] : [],
    });
    const ok = await verifyChutesInstance(entry, {
      nonce,
      requireGpu: false,
      dcap: await dcapWith(await platform.createCollateral()),
    });
    expect(ok).toMatchObject({
      result: 'pass',
      tdx_status: 'UpToDate',
      tdx_status_source: 'dcap-collateral',
    });
    expect(ok.checks.gpu_platform_token).toBe('absent');
    expect(ok.checks.gpu_evidence).toBe('absent');
    expect(ok.gpu).toBeNull();

    const outOfDate = await verifyChutesInstance(entry, {
      nonce,
      requireGpu: false,
      dcap: await dcapWith(await platform.createCollateral({ platformStatus: 'OutOfDate' })),
    });
    expect(outOfDate.errors).toEqual(['tdx_status_not_uptodate:OutOfDate']);

    const revoked = await verifyChutesInstance(entry, {
      nonce,
      requireGpu: false,
      dcap: await dcapWith(await platform.createCollateral({ revokePckCertificate: true })),
    });
    expect(revoked.errors).toEqual(['tdx_dcap_failed:ERR_TDX_CERT_REVOKED']);

    // Root only: signature chain verified, status from Chutes' report.
    const rootOnly = await verifyChutesInstance(
      { ...entry, tdx_verification: { result: { status: 'SWHardeningNeeded' } } },
      { nonce, requireGpu: false, dcap: await dcapWith() },
    );
    expect(rootOnly.checks.tdx_quote_signature).toBe('pass');
    expect(rootOnly.errors).toEqual(['tdx_status_not_uptodate:SWHardeningNeeded']);

    // The pinned Intel root does not anchor the synthetic platform.
    const intel = await verifyChutesInstance(entry, {
      nonce,
      requireGpu: false,
      dcap: { root: undefined, collaterals: [] },
    });
    expect(intel.errors).toEqual(['tdx_dcap_failed:ERR_TDX_CERT_CHAIN']);

    // A wrong nonce breaks the binding; a short key and junk quote are reported, never thrown.
    const wrongNonce = await verifyChutesInstance(entry, { nonce: 'd'.repeat(64), requireGpu: false });
    expect(wrongNonce.errors).toEqual(['report_data_binding_mismatch']);
    const junk = await verifyChutesInstance(
      { ...entry, e2e_pubkey: 'AAAA', intel_quote: 'AAAA' },
      { nonce, requireGpu: true },
    );
    expect(junk.errors).toEqual([
      'e2e_pubkey_invalid',
      'tdx_quote_malformed:ERR_TDX_QUOTE_MALFORMED',
      'gpu_evidence_missing',
    ]);
    expect(junk.result).toBe('fail');
  });

  it('verifies GPU evidence bound to the digest, with the TEST root only when given', async () => {
    const nonce = 'e'.repeat(64);
    const pubkey = Buffer.alloc(1184, 9).toString('base64');
    const digest = createHash('sha256')
      .update(nonce + pubkey)
      .digest();
    const reportData = new Uint8Array(64);
    reportData.set(digest, 0);
    const { evidenceList } = await gpus.createEvidence({ nonce: digest, gpuCount: 3 });
    const entry: ChutesAttestationEntry = {
      instance_id: 'i-2',
      nonce,
      e2e_pubkey: pubkey,
      intel_quote: Buffer.from(await platform.createQuote({ reportData })).toString('base64'),
      gpu_evidence: evidenceList,
      gpu_tokens: null,
      tdx_verification: { result: { status: 'UpToDate' } },
      certificate: null,
    };
    const material = loadNvidiaMaterial({
      nvidiaRootFile: join(dir, 'nvidia-root.pem'),
      nvidiaRimFile: undefined,
      nvidiaRimRootFile: undefined,
    });
    const ok = await verifyChutesInstance(entry, { nonce, requireGpu: true, nvidia: material });
    expect(ok).toMatchObject({ result: 'pass', gpu: { gpu_count: 3, trust_anchor: 'configured-root' } });
    // NVIDIA's pinned root (the default) does not anchor it; a digest of another nonce does not bind it.
    const pinned = await verifyChutesInstance(entry, { nonce, requireGpu: true });
    expect(pinned.errors).toEqual(['gpu_evidence_invalid:ERR_NVIDIA_CERT_CHAIN']);
    const { evidenceList: stale } = await gpus.createEvidence({
      nonce: Buffer.from(nonce, 'hex'),
      gpuCount: 1,
    });
    const rawNonce = await verifyChutesInstance(
      { ...entry, gpu_evidence: stale },
      { nonce, requireGpu: true, nvidia: material },
    );
    expect(rawNonce.errors).toEqual(['gpu_evidence_invalid:ERR_NVIDIA_NONCE_MISMATCH']);
  });

  it('reports unreadable or malformed GPU collateral files as configuration errors', () => {
    const none = { nvidiaRootFile: undefined, nvidiaRimFile: undefined, nvidiaRimRootFile: undefined };
    expect(loadNvidiaMaterial(none)).toEqual({
      root: undefined,
      rootSource: 'nvidia-device-identity-ca',
      rims: [],
      rimRoot: undefined,
    });
    expect(() => loadNvidiaMaterial({ ...none, nvidiaRootFile: join(dir, 'missing.pem') })).toThrow(
      /chutes\.nvidia_root_file/,
    );
    writeFileSync(
      join(dir, 'not-a-cert.pem'),
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    );
    expect(() => loadNvidiaMaterial({ ...none, nvidiaRimRootFile: join(dir, 'not-a-cert.pem') })).toThrow(
      /chutes\.nvidia_rim_root_file/,
    );
    for (const [name, content] of [
      ['rims-not-json.json', '<xml/>'],
      ['rims-empty.json', '[]'],
      ['rims-not-xml.json', '["not xml"]'],
    ]) {
      writeFileSync(join(dir, name!), content!);
      expect(() => loadNvidiaMaterial({ ...none, nvidiaRimFile: join(dir, name!) })).toThrow(
        /chutes\.nvidia_rim_file/,
      );
    }
    // The embedded simulator's root is used only when no root file is configured.
    const embedded = loadNvidiaMaterial(none, gpus.deviceRoot);
    expect(embedded.rootSource).toBe('embedded-test-root');
    expect(
      loadNvidiaMaterial({ ...none, nvidiaRootFile: join(dir, 'nvidia-root.pem') }, gpus.deviceRoot)
        .rootSource,
    ).toBe('configured-root');
  });

  it('reports unreadable DCAP files as configuration errors', () => {
    expect(() =>
      loadDcapMaterial({ tdxRootFile: join(tmpdir(), 'no-such-root.pem'), tdxCollateralFile: undefined }),
    ).toThrow(/chutes\.tdx_root_file/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[]');
    expect(() => loadDcapMaterial({ tdxRootFile: undefined, tdxCollateralFile: bad })).toThrow(/collateral/);
    expect(loadDcapMaterial({ tdxRootFile: undefined, tdxCollateralFile: undefined })).toBeUndefined();
  });
});
