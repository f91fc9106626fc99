// Talks to the composed server started by `npm start` (packages/proxy-server/demo.toml) with the official
// OpenAI SDK, once per face: the vllm-proxy routes, the Chutes sidecar (ML-KEM E2EE to the GPU instance), the
// Venice E2EE proxy and the TEE gateway (signed answers). Run in a second terminal: `node examples/client.mjs`
// [base URL, default http://127.0.0.1:8000]. Exits 0 on success, 1 with one line on failure. Every face takes the
// demo's client token (auth.token in demo.toml).
import OpenAI from 'openai';

const base = (process.argv[2] ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
const TOKEN = 'demo-token';

async function ask(label, baseURL, apiKey, model) {
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: `Hello ${label}, please answer in a stream.` }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  console.log(`${label.padEnd(24)} ${text}`);
}

async function main() {
  await ask('vllm-proxy /v1', `${base}/v1`, TOKEN, 'fake-model');
  await ask('chutes sidecar /v1/chutes', `${base}/v1/chutes`, TOKEN, 'fake/echo-model');
  const venice = new OpenAI({ baseURL: `${base}/venice/v1`, apiKey: TOKEN, maxRetries: 0 });
  const veniceModel = (await venice.models.list()).data[0]?.id;
  await ask('venice proxy /venice', `${base}/venice/v1`, TOKEN, veniceModel);
  const response = await fetch(`${base}/tee-gateway/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Sign your answer.' }] }),
  });
  const signed = await response.json();
  if (!response.ok) throw new Error(`tee gateway answered ${response.status}`);
  console.log(
    `${'tee gateway /tee-gateway'.padEnd(24)} ${signed.choices[0].message.content} (tee_signature ${signed.tee_signature.slice(0, 16)}..., tee_id ${signed.tee_id.slice(0, 10)}...)`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`client failed: ${String(error?.message ?? error).replaceAll('\n', ' ')}\n`);
    process.exit(1);
  },
);
