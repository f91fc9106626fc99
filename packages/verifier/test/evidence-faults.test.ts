import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64ToBytes, bytesToBase64, bytesToHex, hexToBytes } from '@confidential-ai/bytes';
import {
  createTestNvidiaPlatform,
  type TestNvidiaPlatform,
} from '@confidential-ai/nvidia-attestation/testing';
import { createTestTdxPlatform, type TestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import {
  createVllmProxySigner,
  exportPublicKeyPem,
  generateRsaSigningKeyPair,
} from '@confidential-ai/tee-signing';
import type { FakeVeniceFault } from '@confidential-ai/venice-e2ee/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChutesAttestation } from '../src/chutes.js';
import type { GpuEvidenceVerifier } from '../src/gpu.js';
import { attestTeeGateway } from '../src/tee-gateway.js';
import { verifyVeniceAttestation } from '../src/venice.js';
import type { Verdict } from '../src/verdict.js';
import { attestVllmProxy } from '../src/vllm-proxy.js';
import { type ComposedFixture, startComposed, TOKEN, VENICE_KEY } from './composed-server.js';

// Every kind of bad evidence gives a failed step with a stable code (fail closed), per service.

const step = (verdict: Verdict, name: string) => verdict.steps.find((entry) => entry.name === name)!;

/** A tiny HTTP server answering every GET with `answer(url)` (status, JSON body). */
async function serve(
  answer: (url: URL) => Promise<[number, unknown]>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    answer(new URL(request.url ?? '/', 'http://localhost')).then(
      ([status, body]) =>
        response
          .writeHead(status, { 'content-type': 'application/json' })
          .end(typeof body === 'string' ? body : JSON.stringify(body)),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('vllm-proxy reports with a real TDX quote (TEST platform), as a TEE deployment serves them', () => {
  let platform: TestTdxPlatform;
  let gpus: TestNvidiaPlatform;
  let otherGpus: TestNvidiaPlatform;
  const signer = createVllmProxySigner({ algorithm: 'ecdsa' });
  const other = createVllmProxySigner({ algorithm: 'ecdsa' });
  let mode:
    | 'honest'
    | 'wrong-identity'
    | 'wrong-nonce'
    | 'echo-other-nonce'
    | 'other-key'
    | 'not-json'
    | 'no-quote'
    | 'gpu'
    | 'gpu-test'
    | 'gpu-tampered'
    | 'gpu-wrong-nonce'
    | 'gpu-untrusted' = 'honest';
  let server: Awaited<ReturnType<typeof serve>>;

  /** The `evidence_list` of the report for `nonce` in the current mode. */
  const evidenceList = async (nonce: string): Promise<unknown[]> => {
    if (mode === 'gpu') return [{ evidence: 'x' }];
    if (!mode.startsWith('gpu-')) return [];
    const source = mode === 'gpu-untrusted' ? otherGpus : gpus;
    const bound = hexToBytes(mode === 'gpu-wrong-nonce' ? 'ef'.repeat(32) : nonce);
    const list = (await source.createEvidence({ nonce: bound, gpuCount: 2 })).evidenceList;
    if (mode === 'gpu-tampered') {
      const report = base64ToBytes(list[1]!.evidence);
      report[60]! ^= 0x01;
      list[1] = { ...list[1]!, evidence: bytesToBase64(report) };
    }
    return list;
  };

  beforeAll(async () => {
    platform = await createTestTdxPlatform();
    gpus = await createTestNvidiaPlatform();
    otherGpus = await createTestNvidiaPlatform();
    server = await serve(async (url) => {
      const nonce = url.searchParams.get('nonce')!;
      const identity = new Uint8Array(32);
      identity.set(
        hexToBytes(mode === 'wrong-identity' ? other.signingAddress : signer.signingAddress, {
          allowPrefix: true,
        }),
      );
      const reportData = new Uint8Array(64);
      reportData.set(identity);
      reportData.set(hexToBytes(mode === 'wrong-nonce' ? 'cd'.repeat(32) : nonce), 32);
      const quote = bytesToHex(await platform.createQuote({ reportData }));
      if (mode === 'not-json') return [200, 'not json'];
      const report = {
        signing_address: signer.signingAddress,
        signing_algo: 'ecdsa',
        request_nonce: mode === 'echo-other-nonce' ? 'ef'.repeat(32) : nonce,
        intel_quote: mode === 'no-quote' ? '' : quote,
        nvidia_payload: JSON.stringify({
          nonce,
          arch: 'HOPPER',
          evidence_list: await evidenceList(nonce),
        }),
        signing_public_key: mode === 'other-key' ? other.signingPublicKey : signer.signingPublicKey,
      };
      return [200, { ...report, all_attestations: [report] }];
    });
  });
  afterAll(() => server.close());

  const attest = (policy: Parameters<typeof attestVllmProxy>[0]['policy'] = {}) =>
    attestVllmProxy({
      baseUrl: `${server.url}/v1`,
      policy: {
        acceptSimulated: true,
        testRoots: { tdx: [platform.rootPem] },
        tdxMeasurements: 'any',
        ...policy,
      },
    });

  it('verifies the quote and the REPORTDATA binding against the TEST root (simulated, never passed)', async () => {
    mode = 'honest';
    const { verdict, key } = await attest();
    expect(verdict.status).toBe('simulated');
    expect(step(verdict, 'tdx-quote')).toMatchObject({
      status: 'simulated',
      evidence: { trustAnchor: 'test-root' },
    });
    expect(step(verdict, 'key-binding')).toMatchObject({
      status: 'simulated',
      evidence: { source: 'quote REPORTDATA' },
    });
    expect(key?.signingAddress).toBe(signer.signingAddress);
    const strict = await attestVllmProxy({ baseUrl: `${server.url}/v1`, policy: { tdxMeasurements: 'any' } });
    expect(strict.verdict.failedStep).toMatchObject({ name: 'tdx-quote', code: 'ERR_VERIFY_UNTRUSTED_ROOT' });
    expect(strict.key).toBeUndefined();
  });

  it.each([
    ['wrong-identity', 'key-binding', 'ERR_VERIFY_KEY_BINDING'],
    ['wrong-nonce', 'key-binding', 'ERR_VERIFY_NONCE_MISMATCH'],
    ['echo-other-nonce', 'attestation-report', 'ERR_VERIFY_NONCE_MISMATCH'],
    ['other-key', 'key-binding', 'ERR_VERIFY_KEY_BINDING'],
    ['not-json', 'attestation-report', 'ERR_VERIFY_EVIDENCE_MALFORMED'],
    ['no-quote', 'tdx-quote', 'ERR_VERIFY_TDX_QUOTE'],
  ] as const)('%s fails at %s with %s', async (fault, name, code) => {
    mode = fault;
    const { verdict, key } = await attest();
    expect(verdict.failedStep).toMatchObject({ name, code });
    expect(key).toBeUndefined();
  });

  it('verifies real-shaped TEST GPU evidence with the default verifier: "verified against the TEST root"', async () => {
    mode = 'gpu-test';
    const { verdict } = await attest({
      testRoots: { tdx: [platform.rootPem], nvidia: [gpus.deviceRootPem] },
    });
    expect(verdict.status, JSON.stringify(verdict.failedStep)).toBe('simulated');
    const gpu = step(verdict, 'gpu-evidence');
    expect(gpu).toMatchObject({
      status: 'simulated',
      evidence: {
        verifier: 'nvidia-attestation',
        trustAnchor: 'test-root',
        gpuCount: 2,
        measurements: 'not-compared',
      },
    });
    expect(gpu.message).toContain('verified against the TEST root "CN=TEST NVIDIA Device Identity CA');
    expect(gpu.message).toContain("not NVIDIA's");
    // Without acceptSimulated the same evidence fails, naming its root (the TDX steps fail first here).
    const strict = await attestVllmProxy({
      baseUrl: `${server.url}/v1`,
      policy: { testRoots: { tdx: [platform.rootPem] }, tdxMeasurements: 'any' },
    });
    expect(strict.verdict.status).toBe('failed');
  });

  it.each([
    ['gpu-tampered', 'ERR_VERIFY_GPU_EVIDENCE'],
    ['gpu-wrong-nonce', 'ERR_VERIFY_NONCE_MISMATCH'],
    ['gpu-untrusted', 'ERR_VERIFY_UNTRUSTED_ROOT'],
    ['gpu', 'ERR_VERIFY_GPU_EVIDENCE'],
  ] as const)('%s fails at gpu-evidence with %s', async (fault, code) => {
    mode = fault;
    const { verdict, key } = await attest({
      testRoots: { tdx: [platform.rootPem], nvidia: [gpus.deviceRoot] },
    });
    expect(verdict.failedStep).toMatchObject({ name: 'gpu-evidence', code });
    expect(key).toBeUndefined();
  });

  it('hands GPU evidence to a custom verifier, and reports "not checked" only when verification is off', async () => {
    mode = 'gpu';
    const seen: unknown[] = [];
    const gpuVerifier: GpuEvidenceVerifier = {
      name: 'test-gpu',
      async verify(input) {
        seen.push(input);
        return { status: 'failed', message: 'refused by the test verifier' };
      },
    };
    const refused = await attest({ gpuVerifier });
    expect(refused.verdict.failedStep).toMatchObject({
      name: 'gpu-evidence',
      code: 'ERR_VERIFY_GPU_EVIDENCE',
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ service: 'vllm-proxy', evidence: { arch: 'HOPPER' } });
    const unchecked = await attest({ gpuVerifier: false });
    expect(step(unchecked.verdict, 'gpu-evidence')).toMatchObject({ status: 'skipped' });
    expect(step(unchecked.verdict, 'gpu-evidence').message).toContain('turned off');
    const required = await attest({ gpuVerifier: false, requireGpu: true });
    expect(required.verdict.failedStep).toMatchObject({
      name: 'gpu-evidence',
      code: 'ERR_VERIFY_POLICY_MISSING',
    });
    mode = 'honest';
    const none = await attest({ requireGpu: true });
    expect(none.verdict.failedStep).toMatchObject({ name: 'gpu-evidence', code: 'ERR_VERIFY_GPU_EVIDENCE' });
  });

  it('fails an unreachable report with ERR_VERIFY_EVIDENCE_UNAVAILABLE', async () => {
    const { verdict } = await attestVllmProxy({
      baseUrl: 'http://127.0.0.1:1/v1',
      policy: { tdxMeasurements: 'any' },
    });
    expect(verdict.failedStep).toMatchObject({
      name: 'attestation-report',
      code: 'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
    });
  });
});

describe('TEE gateway without an enclave', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let teeId = '';
  beforeAll(async () => {
    const pair = await generateRsaSigningKeyPair();
    const pem = await exportPublicKeyPem(pair.publicKey);
    const { teeIdFromSpki } = await import('@confidential-ai/tee-signing');
    const { subjectPublicKeyInfo } = await import('@confidential-ai/nitro-attestation');
    teeId = teeIdFromSpki(await subjectPublicKeyInfo(pem));
    server = await serve(async (url) => {
      if (url.pathname === '/signing-key')
        return [200, { public_key: pem, tee_id: url.searchParams.has('x') ? '0x00' : teeId }];
      return [
        503,
        {
          error:
            'Attestation unavailable: not running inside an AWS Nitro Enclave and no nitriding URL is configured',
        },
      ];
    });
  });
  afterAll(() => server.close());

  it('is ERR_VERIFY_EVIDENCE_UNAVAILABLE by default and "simulated" only with acceptSimulated', async () => {
    const strict = await attestTeeGateway({ baseUrl: server.url, policy: { nitroPcrs: 'any' } });
    expect(step(strict.verdict, 'signing-key').status).toBe('passed');
    expect(strict.verdict.failedStep).toMatchObject({
      name: 'attestation-document',
      code: 'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
    });
    const demo = await attestTeeGateway({ baseUrl: server.url, policy: { acceptSimulated: true } });
    expect(demo.verdict.status).toBe('simulated');
    expect(demo.key?.real).toBe(false);
    expect(demo.key?.teeId).toBe(teeId);
  });
});

describe('Venice model attestation faults (fake Venice server, TEST root pinned)', () => {
  let fixture: ComposedFixture;
  beforeAll(async () => {
    fixture = await startComposed();
  });
  afterAll(() => fixture?.close());

  const attest = (model = 'e2ee-qwen3-6-27b') =>
    verifyVeniceAttestation({
      baseUrl: fixture.venice.baseUrl,
      apiKey: VENICE_KEY,
      model,
      policy: fixture.policy,
    });

  it('verifies both response shapes as simulated (TEST root), TCB from the TEST collateral', async () => {
    for (const model of ['e2ee-qwen3-6-27b', 'e2ee-glm-5-2-p']) {
      const { verdict, key } = await attest(model);
      expect(verdict.status, JSON.stringify(verdict.failedStep)).toBe('simulated');
      expect(step(verdict, 'tcb-status')).toMatchObject({
        status: 'simulated',
        evidence: { tcbStatus: 'UpToDate' },
      });
      expect(step(verdict, 'gpu-evidence')).toMatchObject({
        status: 'simulated',
        evidence: { trustAnchor: 'test-root', gpuCount: 8, deviceRoot: { nvidia: false } },
      });
      expect(key?.publicKeyHex).toMatch(/^04[0-9a-f]{128}$/);
    }
  });

  it.each([
    ['bad-nonce', 'attestation-report', 'ERR_VERIFY_NONCE_MISMATCH'],
    ['not-verified', 'attestation-report', 'ERR_VERIFY_EVIDENCE_MALFORMED'],
    ['wrong-model', 'attestation-report', 'ERR_VERIFY_EVIDENCE_MALFORMED'],
    ['attestation-500', 'attestation-report', 'ERR_VERIFY_EVIDENCE_UNAVAILABLE'],
    ['attestation-not-json', 'attestation-report', 'ERR_VERIFY_EVIDENCE_MALFORMED'],
    ['binding-address', 'key-binding', 'ERR_VERIFY_KEY_BINDING'],
    ['binding-nonce', 'key-binding', 'ERR_VERIFY_NONCE_MISMATCH'],
    ['bad-address', 'key-binding', 'ERR_VERIFY_KEY_BINDING'],
    ['debug-quote', 'tdx-quote', 'ERR_VERIFY_DEBUG_MODE'],
    ['missing-quote', 'tdx-quote', 'ERR_VERIFY_TDX_QUOTE'],
    ['tampered-quote-body', 'tdx-quote', 'ERR_VERIFY_TDX_QUOTE'],
    ['tampered-quote-signature', 'tdx-quote', 'ERR_VERIFY_TDX_QUOTE'],
    ['untrusted-quote', 'tdx-quote', 'ERR_VERIFY_UNTRUSTED_ROOT'],
    ['tampered-nvidia-report', 'gpu-evidence', 'ERR_VERIFY_GPU_EVIDENCE'],
    ['nvidia-wrong-nonce', 'gpu-evidence', 'ERR_VERIFY_NONCE_MISMATCH'],
    ['untrusted-nvidia', 'gpu-evidence', 'ERR_VERIFY_UNTRUSTED_ROOT'],
  ] as const)('%s fails at %s with %s', async (fault, name, code) => {
    fixture.venice.setFault(fault as FakeVeniceFault, true);
    try {
      const { verdict, key } = await attest();
      expect(verdict.failedStep).toMatchObject({ name, code });
      expect(key).toBeUndefined();
    } finally {
      fixture.venice.clearFaults();
    }
  });

  describe('Chutes instance evidence faults (through the composed proxy chain route)', () => {
    const attestChutes = () =>
      verifyChutesAttestation({
        baseUrl: `${fixture.server.url}/v1`,
        apiKey: TOKEN,
        model: 'fake/echo-model',
        policy: fixture.policy,
      });

    it('verifies every instance against the TEST root with TCB from the TEST collateral', async () => {
      const { verdict, instanceIds, key } = await attestChutes();
      expect(verdict.status, JSON.stringify(verdict.failedStep)).toBe('simulated');
      expect(instanceIds.length).toBe(2);
      expect(step(verdict, 'instance-tcb-status')).toMatchObject({ status: 'simulated' });
      expect((step(verdict, 'instance-tdx-quote').evidence.instances as unknown[]).length).toBe(2);
      // Each instance's two simulated GPUs, bound to SHA-256(nonce ‖ e2e_pubkey), verified against the TEST root.
      const gpu = step(verdict, 'instance-gpu-evidence');
      expect(gpu.status).toBe('simulated');
      for (const instance of gpu.evidence.instances as Array<Record<string, unknown>>) {
        expect(instance).toMatchObject({
          status: 'simulated',
          trustAnchor: 'test-root',
          gpuCount: 2,
          gpuTokenClaims: { present: true, agrees: true, signature: 'not-verified' },
        });
      }
      // The proxy's own simulated report: its TEST GPU evidence too.
      expect(step(verdict, 'gpu-evidence')).toMatchObject({
        status: 'simulated',
        evidence: { trustAnchor: 'test-root', payloadMarkedSimulated: true },
      });
      expect(key?.signingAlgo).toBe('ecdsa');
    });

    it.each([
      [{ type: 'evidence-mismatch' }, 'instance-evidence', 'ERR_VERIFY_KEY_BINDING'],
      [{ type: 'td-attributes', hex: '0100001000000000' }, 'instance-tdx-quote', 'ERR_VERIFY_DEBUG_MODE'],
      [{ type: 'bad-pubkey' }, 'instance-evidence', 'ERR_VERIFY_INSTANCE_EVIDENCE'],
      [
        { type: 'gpu-evidence-bad', variant: 'tampered-report' },
        'instance-gpu-evidence',
        'ERR_VERIFY_GPU_EVIDENCE',
      ],
      [
        { type: 'gpu-evidence-bad', variant: 'wrong-nonce' },
        'instance-gpu-evidence',
        'ERR_VERIFY_NONCE_MISMATCH',
      ],
      [
        { type: 'gpu-evidence-bad', variant: 'untrusted-root' },
        'instance-gpu-evidence',
        'ERR_VERIFY_UNTRUSTED_ROOT',
      ],
      [
        { type: 'gpu-evidence-bad', variant: 'malformed' },
        'instance-gpu-evidence',
        'ERR_VERIFY_GPU_EVIDENCE',
      ],
      [
        { type: 'gpu-token-bad', variant: 'overall-false' },
        'instance-gpu-evidence',
        'ERR_VERIFY_GPU_EVIDENCE',
      ],
    ] as const)('%j fails at %s with %s', async (fault, name, code) => {
      fixture.chutes.inject({ ...fault, count: 4 } as Parameters<typeof fixture.chutes.inject>[0]);
      try {
        const { verdict } = await attestChutes();
        expect(verdict.failedStep).toMatchObject({ name, code });
      } finally {
        fixture.chutes.clearFaults();
      }
    });

    it('fails missing GPU evidence only when the policy requires GPU evidence', async () => {
      fixture.chutes.inject({ type: 'gpu-evidence-bad', variant: 'missing', count: 4 });
      try {
        const lax = await attestChutes();
        expect(lax.verdict.status, JSON.stringify(lax.verdict.failedStep)).toBe('simulated');
        expect(step(lax.verdict, 'instance-gpu-evidence').status).toBe('skipped');
        const { verdict } = await verifyChutesAttestation({
          baseUrl: `${fixture.server.url}/v1`,
          apiKey: TOKEN,
          model: 'fake/echo-model',
          policy: { ...fixture.policy, requireGpu: true },
        });
        expect(verdict.failedStep).toMatchObject({
          name: 'instance-gpu-evidence',
          code: 'ERR_VERIFY_GPU_EVIDENCE',
        });
      } finally {
        fixture.chutes.clearFaults();
      }
    });

    it('fails the chain of a model the upstream does not serve with ERR_VERIFY_EVIDENCE_UNAVAILABLE', async () => {
      const { verdict } = await verifyChutesAttestation({
        baseUrl: `${fixture.server.url}/v1`,
        apiKey: TOKEN,
        model: 'no/such-model',
        policy: fixture.policy,
      });
      expect(verdict.failedStep).toMatchObject({
        name: 'attestation-report',
        code: 'ERR_VERIFY_EVIDENCE_UNAVAILABLE',
      });
    });
  });
});
