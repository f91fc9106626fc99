// The verifier's own browser-capable checks: verdicts on the real TDX and Nitro fixtures (real evidence must verify
// as real), on TEST-platform evidence (never reported as verified), and, when a relay to the composed demo server
// is given, live answers through the real openai SDK with createVerifiedFetch: honest answers verify, a relay that
// flips one byte of an answer makes the call fail with the typed error naming the step.
import { createTestTdxPlatform } from '@confidential-ai/tdx-attestation/testing';
import {
  createVerifiedFetch,
  type Verdict,
  VerifierError,
  verifyNitroEvidence,
  verifyTdxEvidence,
} from '@confidential-ai/verifier';
import OpenAI from 'openai';
import { type CaseEnvironment, check, loadJson, type Outcome } from './types.js';

const REAL_MRTD =
  '91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7';

/** `step=status` for every step (and the code of failed ones): the comparable shape of a verdict. */
function shape(verdict: Verdict): string {
  return verdict.steps
    .map((step) => `${step.name}=${step.status}${step.code ? `:${step.code}` : ''}`)
    .join(' ');
}

/** Verdicts on fixtures and TEST evidence; live answers when `env.liveBaseUrl` is set. */
export async function verifierCases(env: CaseEnvironment): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const quote = await env.load('packages/verifier/test/fixtures/tdx_quote.bin');
  const collateral = JSON.parse(
    new TextDecoder().decode(await env.load('packages/verifier/test/fixtures/tdx_quote_collateral.json')),
  );
  out.push(
    await check('verifier/tdx/real-quote-verifies-as-real', async () => {
      const verdict = await verifyTdxEvidence(quote, {
        policy: {
          now: () => new Date('2025-07-01T00:00:00Z'),
          tdxCollateral: collateral,
          tdxMeasurements: { mrTd: REAL_MRTD },
        },
      });
      const step = verdict.steps.find((entry) => entry.name === 'tdx-quote');
      return [
        verdict.status === 'verified' && step?.evidence.trustAnchor === 'intel-sgx-root-ca',
        shape(verdict),
      ];
    }),
  );
  const platform = await createTestTdxPlatform();
  const testQuote = await platform.createQuote({ reportData: new Uint8Array(64).fill(3) });
  out.push(
    await check('verifier/tdx/test-root-refused-by-default', async () => {
      const verdict = await verifyTdxEvidence(testQuote, { policy: { tdxMeasurements: 'any' } });
      return [verdict.failedStep?.code === 'ERR_VERIFY_UNTRUSTED_ROOT', shape(verdict)];
    }),
  );
  out.push(
    await check('verifier/tdx/test-root-is-simulated-never-verified', async () => {
      const verdict = await verifyTdxEvidence(testQuote, {
        policy: {
          acceptSimulated: true,
          testRoots: { tdx: [platform.rootPem] },
          tdxCollateral: await platform.createCollateral(),
          tdxMeasurements: 'any',
        },
        expectedReportData: new Uint8Array(64).fill(3),
      });
      const passed = verdict.steps.filter((step) => step.status === 'passed').length;
      return [verdict.status === 'simulated' && passed === 0, shape(verdict)];
    }),
  );

  const expected = await loadJson<{
    documents: { file: string; timestamp_ms: number; nonce_hex: string; pcrs_all: Record<string, string> }[];
  }>(env.load, 'packages/verifier/test/fixtures/nitro-expected.json');
  const prod = expected.documents.find((doc) => doc.file === 'evervault_beta_prod_2022-10-13.cbor')!;
  const document = await env.load('packages/verifier/test/fixtures/evervault_beta_prod_2022-10-13.cbor');
  const keyPem =
    '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n';
  out.push(
    await check('verifier/nitro/real-document-verifies-as-real', async () => {
      const verdict = await verifyNitroEvidence(document, {
        nonce: prod.nonce_hex,
        signingKeyPem: keyPem,
        policy: {
          now: () => new Date(prod.timestamp_ms),
          nitroPcrs: { 0: prod.pcrs_all['0']!, 1: prod.pcrs_all['1']!, 2: prod.pcrs_all['2']! },
        },
      });
      const step = verdict.steps.find((entry) => entry.name === 'attestation-document');
      // The evervault enclave is not a nitriding one (no user_data): the key binding must fail, the rest pass.
      return [
        step?.status === 'passed' &&
          step.evidence.trustAnchor === 'aws-nitro-root-g1' &&
          verdict.failedStep?.name === 'key-binding',
        shape(verdict),
      ];
    }),
  );

  if (env.liveBaseUrl) out.push(...(await liveCases(env.liveBaseUrl)));
  return out;
}

const FACES = [
  { service: 'vllm-proxy', path: '/v1', model: 'fake-model', apiKey: 'demo-token' },
  { service: 'chutes', path: '/v1/chutes', model: 'fake/echo-model', apiKey: 'demo-token' },
  { service: 'tee-gateway', path: '/tee-gateway/v1', model: 'gpt-4.1', apiKey: 'demo-token' },
] as const;

async function liveCases(base: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const policy = { acceptSimulated: true, tdxMeasurements: 'any', nitroPcrs: 'any' } as const;
  for (const face of FACES) {
    for (const stream of [false, true]) {
      for (const relay of ['api', 'tamper'] as const) {
        out.push(
          await check(`verifier/live/${face.service}/${stream ? 'stream' : 'json'}/${relay}`, async () => {
            const fetch = createVerifiedFetch({ service: face.service, policy });
            const client = new OpenAI({
              baseURL: `${base}/${relay}${face.path}`,
              apiKey: face.apiKey,
              maxRetries: 0,
              fetch,
              dangerouslyAllowBrowser: true,
            });
            const messages = [{ role: 'user' as const, content: `Browser says hello to ${face.service}.` }];
            try {
              let text = '';
              if (stream) {
                for await (const chunk of await client.chat.completions.create({
                  model: face.model,
                  messages,
                  stream: true,
                })) {
                  text += chunk.choices[0]?.delta?.content ?? '';
                }
              } else {
                text =
                  (await client.chat.completions.create({ model: face.model, messages })).choices[0]?.message
                    .content ?? '';
              }
              const verdict = fetch.lastVerdict;
              return [
                relay === 'api' && text.length > 0 && verdict?.status === 'simulated',
                `ok ${verdict?.status}`,
              ];
            } catch (error) {
              if (!VerifierError.isInstance(error)) throw error;
              return [
                relay === 'tamper' &&
                  error.step === 'response-hash' &&
                  error.code === 'ERR_VERIFY_RESPONSE_HASH',
                `${error.step}:${error.code}`,
              ];
            }
          }),
        );
      }
    }
  }
  return out;
}
