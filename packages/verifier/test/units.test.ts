import { describe, expect, it } from 'vitest';
import { evidenceBaseOf } from '../src/answer-verifiers.js';
import { VERIFIER_ERROR_CODES, VerifierError } from '../src/errors.js';
import { formatVerdict } from '../src/format.js';
import { resolvePolicy } from '../src/policy.js';
import { combineVerdicts, VerdictBuilder } from '../src/verdict.js';
import { createVerifiedFetch, verdictOf } from '../src/verified-fetch.js';
import { completionIdOf } from '../src/vllm-proxy.js';

const CHAT = 'http://127.0.0.1:9/v1/chat/completions';

describe('createVerifiedFetch (no server: an inner fetch that records calls)', () => {
  it('refuses request bodies whose exact bytes cannot be known, before sending anything', async () => {
    const calls: string[] = [];
    const fetch = createVerifiedFetch({
      service: 'vllm-proxy',
      fetch: async (input) => {
        calls.push(String(input));
        return new Response('{}');
      },
    });
    const body = new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
    const error = await fetch(CHAT, { method: 'POST', body, duplex: 'half' } as RequestInit).catch(
      (caught: unknown) => caught,
    );
    expect(VerifierError.isInstance(error) && error.code).toBe('ERR_VERIFY_REQUEST_UNSUPPORTED');
    expect(calls).toEqual([]);
  });

  it('passes other routes and error statuses through unchanged', async () => {
    const answer = new Response('{"error":{"message":"nope"}}', { status: 401 });
    const fetch = createVerifiedFetch({ service: 'vllm-proxy', fetch: async () => answer });
    expect(await fetch(CHAT, { method: 'POST', body: '{}' })).toBe(answer);
    const models = new Response('{"data":[]}');
    const listing = createVerifiedFetch({ service: 'vllm-proxy', fetch: async () => models });
    expect(await listing('http://127.0.0.1:9/v1/models')).toBe(models);
  });

  it('fails an answer larger than maxResponseBytes with ERR_VERIFY_RESPONSE_TOO_LARGE when read', async () => {
    const fetch = createVerifiedFetch({
      service: 'vllm-proxy',
      maxResponseBytes: 16,
      fetch: async () =>
        new Response(JSON.stringify({ id: 'x', text: 'y'.repeat(100) }), {
          headers: { 'content-type': 'application/json' },
        }),
    });
    const response = await fetch(CHAT, { method: 'POST', body: '{}' });
    expect(response.headers.get('x-verifier-status')).toBe('failed');
    const error = await response.json().catch((caught: unknown) => caught);
    expect(VerifierError.isInstance(error) && error.code).toBe('ERR_VERIFY_RESPONSE_TOO_LARGE');
  });

  it('fails an answer without a completion id (nothing to look the signature up by)', async () => {
    const fetch = createVerifiedFetch({
      service: 'vllm-proxy',
      fetch: async () => new Response('{"choices":[]}', { headers: { 'content-type': 'application/json' } }),
    });
    const response = await fetch(CHAT, { method: 'POST', body: '{}' });
    const error = (await response.text().catch((caught: unknown) => caught)) as VerifierError;
    expect(error.code).toBe('ERR_VERIFY_RESPONSE_MALFORMED');
    expect(error.step).toBe('response-hash');
    expect((await verdictOf(response))?.failedStep?.name).toBe('response-hash');
    expect(fetch.lastVerdict?.ok).toBe(false);
  });

  it('gives no verdict when the caller stops reading a stream early', async () => {
    const fetch = createVerifiedFetch({
      service: 'vllm-proxy',
      fetch: async () =>
        new Response('data: {"id":"a"}\n\n', { headers: { 'content-type': 'text/event-stream' } }),
    });
    const response = await fetch(CHAT, { method: 'POST', body: '{"stream":true}' });
    await response.body!.cancel();
    const error = await verdictOf(response)!.catch((caught: unknown) => caught);
    expect(VerifierError.isInstance(error) && error.code).toBe('ERR_VERIFY_RESPONSE_MALFORMED');
  });

  it('validates its options', () => {
    expect(() => createVerifiedFetch({ service: 'other' as 'venice' })).toThrow(TypeError);
    expect(() => createVerifiedFetch({ service: 'venice', maxResponseBytes: 0 })).toThrow(RangeError);
    expect(() => resolvePolicy({ attestationMaxAgeMs: -1 })).toThrow(RangeError);
    expect(() => resolvePolicy({ allowedTcbStatuses: 'UpToDate' as unknown as string[] })).toThrow(TypeError);
    expect(resolvePolicy()).toMatchObject({
      acceptSimulated: false,
      allowDebug: false,
      requireTcbStatus: true,
      allowedTcbStatuses: ['UpToDate'],
    });
  });
});

describe('evidence URLs and completion ids', () => {
  it('derives each service evidence base from its chat URL', () => {
    const at = (path: string) => new URL(`http://h:1${path}`);
    expect(evidenceBaseOf('vllm-proxy', at('/v1/chat/completions'))).toBe('http://h:1/v1');
    expect(evidenceBaseOf('vllm-proxy', at('/v1/completions'))).toBe('http://h:1/v1');
    expect(evidenceBaseOf('chutes', at('/v1/chutes/chat/completions'))).toBe('http://h:1/v1');
    expect(evidenceBaseOf('tee-gateway', at('/tee-gateway/v1/chat/completions'))).toBe(
      'http://h:1/tee-gateway',
    );
    expect(evidenceBaseOf('venice', at('/venice/v1/chat/completions'))).toBe('http://h:1/venice/v1');
    expect(evidenceBaseOf('chutes', at('/v1/chat/completions'))).toBeUndefined();
  });

  it('reads the id of a JSON answer or of the first SSE chunk', () => {
    expect(completionIdOf('{"id":"chatcmpl-1","choices":[]}')).toBe('chatcmpl-1');
    expect(completionIdOf(': comment\n\ndata: {"id":"c2"}\n\ndata: {"id":"c3"}\n\ndata: [DONE]\n\n')).toBe(
      'c2',
    );
    expect(completionIdOf('data: [DONE]\n\n')).toBeUndefined();
    expect(completionIdOf('{"id":""}')).toBeUndefined();
  });
});

describe('verdicts and errors', () => {
  it('fills unrecorded steps as skipped, keeps the worst outcome of a step, and names the first failure', () => {
    const builder = new VerdictBuilder('vllm-proxy', ['attestation-report', 'tdx-quote', 'key-binding'], {
      acceptSimulated: true,
    });
    builder.pass('attestation-report', 'fetched.');
    builder.simulate('tdx-quote', 'simulated.');
    builder.pass('tdx-quote', 'a later pass does not hide it.');
    const simulated = builder.finish();
    expect(simulated.status).toBe('simulated');
    expect(simulated.steps.map((step) => step.status)).toEqual(['passed', 'simulated', 'skipped']);
    builder.fail('key-binding', 'ERR_VERIFY_KEY_BINDING', 'wrong key.');
    const failed = builder.finish();
    expect(failed).toMatchObject({ status: 'failed', ok: false, failedStep: { name: 'key-binding' } });
    expect(combineVerdicts('vllm-proxy', [simulated, failed]).failedStep?.name).toBe('key-binding');
    const text = formatVerdict(failed);
    expect(text.split('\n')[0]).toBe('vllm-proxy: failed (failed step: key-binding)');
    expect(text).toContain('FAIL key-binding');
    expect(text).toContain('[ERR_VERIFY_KEY_BINDING]');
  });

  it('turns simulated evidence into ERR_VERIFY_SIMULATED unless acceptSimulated', () => {
    const builder = new VerdictBuilder('tee-gateway', ['attestation-document'], { acceptSimulated: false });
    builder.simulate('attestation-document', 'No enclave.');
    expect(builder.finish().failedStep).toMatchObject({ code: 'ERR_VERIFY_SIMULATED', status: 'failed' });
  });

  it('has unique ERR_VERIFY_ codes and recognizes errors of any copy of the package', () => {
    expect(new Set(VERIFIER_ERROR_CODES).size).toBe(VERIFIER_ERROR_CODES.length);
    for (const code of VERIFIER_ERROR_CODES) expect(code).toMatch(/^ERR_VERIFY_[A-Z_]+$/);
    const error = new VerifierError('ERR_VERIFY_SIGNATURE_INVALID', 'bad', {
      step: 'response-signature',
      cause: new Error('x'),
    });
    expect(VerifierError.isInstance(error)).toBe(true);
    expect(error.cause).toBeInstanceOf(Error);
    const foreign = Object.defineProperty({}, Symbol.for('confidential-ai.error.verifier'), { value: true });
    expect(VerifierError.isInstance(foreign)).toBe(true);
    expect(VerifierError.isInstance(new Error('x'))).toBe(false);
  });
});
