// Standalone Chutes demo: start the fake Chutes server on loopback and chat with it through the
// end-to-end encrypted transport (ML-KEM-768 + HKDF-SHA256 + ChaCha20-Poly1305) using the official OpenAI SDK.
// Run with `node examples/chutes-demo.mjs` after `pnpm build`. Exits 0 on success, 1 with one line on failure.
import { createChutesFetch } from '@confidential-ai/chutes-transport';
import { createFakeChutesServer } from '@confidential-ai/chutes-transport/testing';
import OpenAI from 'openai';

const API_KEY = 'cpk_demo_key';
const MODEL = 'fake/echo-model';

async function main() {
  const server = await createFakeChutesServer({
    host: '127.0.0.1',
    port: 0,
    apiKey: API_KEY,
    models: [MODEL],
  });
  try {
    console.log(`fake Chutes server listening on ${server.url}`);
    const client = new OpenAI({
      baseURL: `${server.url}/v1`,
      apiKey: API_KEY,
      maxRetries: 0,
      fetch: createChutesFetch({ apiKey: API_KEY, apiBase: server.url, modelsBase: server.url }),
    });

    const completion = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hello over end-to-end encryption!' }],
    });
    const reply = completion.choices[0]?.message?.content;
    if (!reply) throw new Error('non-stream reply was empty');
    console.log(`non-stream reply: ${reply}`);

    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Now stream the answer, chunk by chunk.' }],
      stream: true,
    });
    process.stdout.write('stream reply: ');
    let streamed = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content ?? '';
      streamed += delta;
      process.stdout.write(delta);
    }
    process.stdout.write('\n');
    if (!streamed) throw new Error('stream reply was empty');
    const accepted = server.nonceLog.filter((entry) => entry.outcome === 'accepted').length;
    console.log(`ok: 2 encrypted requests, ${accepted} single-use nonces accepted by the relay`);
  } finally {
    await server.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    // The OpenAI SDK wraps transport errors (ChutesTransportError, with a stable `code`) as `cause`.
    const cause = error?.cause;
    const reason = cause?.code
      ? `${error.message} (${cause.code}: ${cause.message})`
      : String(error?.message ?? error);
    process.stderr.write(`demo failed: ${reason.replaceAll('\n', ' ')}\n`);
    process.exit(1);
  },
);
