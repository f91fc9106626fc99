// Sends one chat to each face of the composed server started by `npm start` (packages/proxy-server/demo.toml)
// through the OpenAI SDK with a verifying fetch (@confidential-ai/verifier), and prints each answer's verdict
// step by step. Run in a second terminal: `node examples/verify.mjs [base URL, default http://127.0.0.1:8000]`.
// Exits 0 when no step failed, 1 naming each failed step.
//
// The demo's upstreams are simulated: the vllm-proxy report says it runs outside a TEE, the Chutes and Venice
// quotes are signed by TEST roots, their GPU evidence (and the report's) by simulated GPUs under TEST NVIDIA-like
// roots, and the TEE gateway has no enclave. Venice answers are not signed: what is checked is the model attestation
// (relayed by the face, for this client's nonce) and that the face encrypted to that key. So the policy accepts
// simulated evidence, which the verdicts report as "SIM" ("verified against the ... TEST root"), never as passed.
// Against real services drop `acceptSimulated` (GPU evidence must then chain to NVIDIA's root), give NVIDIA's RIMs
// as `nvidiaRims` to compare the GPU measurements, and give the expected measurements instead of 'any'.
import { createVerifiedFetch, formatVerdict, VerifierError } from '@confidential-ai/verifier';
import OpenAI from 'openai';

const base = (process.argv[2] ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
const TOKEN = 'demo-token';
const policy = { acceptSimulated: true, tdxMeasurements: 'any', nitroPcrs: 'any' };

const FACES = [
  { service: 'vllm-proxy', path: '/v1', apiKey: TOKEN, model: 'fake-model', stream: true },
  { service: 'chutes', path: '/v1/chutes', apiKey: TOKEN, model: 'fake/echo-model', stream: false },
  { service: 'tee-gateway', path: '/tee-gateway/v1', apiKey: TOKEN, model: 'gpt-4.1', stream: true },
  { service: 'venice', path: '/venice/v1', apiKey: TOKEN, model: undefined, stream: false },
];

/** The GPU line of faces whose verdict has no GPU step. */
const NO_GPU_STEP = {
  'tee-gateway':
    '  n/a  gpu-evidence          an AWS Nitro enclave attests this face: it has no GPU (CPU only)',
};

async function ask(client, model, stream, label) {
  const messages = [{ role: 'user', content: `Hello ${label}, prove your answer.` }];
  if (!stream)
    return (await client.chat.completions.create({ model, messages })).choices[0]?.message?.content ?? '';
  let text = '';
  for await (const chunk of await client.chat.completions.create({ model, messages, stream: true })) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  return text;
}

async function main() {
  const failures = [];
  for (const face of FACES) {
    const baseURL = `${base}${face.path}`;
    const fetch = createVerifiedFetch({ service: face.service, policy });
    const client = new OpenAI({ baseURL, apiKey: face.apiKey, maxRetries: 0, fetch });
    const model = face.model ?? (await client.models.list()).data[0]?.id;
    console.log(`\n== ${face.service} (${face.path}, model ${model}${face.stream ? ', streamed' : ''})`);
    try {
      const text = await ask(client, model, face.stream, face.service);
      console.log(`answer: ${text.slice(0, 80)}`);
      console.log(formatVerdict(fetch.lastVerdict));
      if (NO_GPU_STEP[face.service]) console.log(NO_GPU_STEP[face.service]);
    } catch (error) {
      if (!VerifierError.isInstance(error)) throw error;
      if (error.verdict) console.log(formatVerdict(error.verdict));
      failures.push(`${face.service}: step ${error.step ?? 'unknown'} (${error.code})`);
    }
  }
  if (failures.length > 0) {
    console.log(`\nverification FAILED: ${failures.join('; ')}`);
    return 1;
  }
  console.log('\nno step failed (SIM = simulated demo evidence, accepted by this demo policy)');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`verify failed: ${String(error?.message ?? error).replaceAll('\n', ' ')}\n`);
    process.exit(2);
  },
);
