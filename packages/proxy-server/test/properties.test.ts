import { createSilentLogger } from '@confidential-ai/server-kit';
import { fc, test as fcTest, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loadConfig } from '../src/config.js';
import { parseE2eeHeaders } from '../src/e2ee.js';
import { ApiError } from '../src/errors.js';
import { createModelKeys } from '../src/keys.js';
import { type RunningServer, startServer } from '../src/server.js';
import {
  deliveryArbitrary,
  hasCompleteDone,
  isCleanComplete,
  judgeE2eeOutput,
  leadingTexts,
  MODEL,
  pieces,
  renderSegments,
  SECRET,
  segmentsArbitrary,
  sha256Hex,
} from './adversarial-upstream.js';
import { AUTH, createE2eeClient, createTestApp, sseData, type TestApp, TOKEN } from './helpers.js';
import { createIndependentSession, fetchModelKey } from './independent-session.js';
import { type FaultUpstream, spawnFaultUpstream } from './processes.js';

const keys = createModelKeys({ seed: '33'.repeat(32) });
const ERROR_TYPES = new Set([
  'e2ee_header_missing',
  'e2ee_invalid_signing_algo',
  'e2ee_invalid_public_key',
  'e2ee_model_key_mismatch',
  'e2ee_invalid_version',
  'e2ee_invalid_nonce',
  'e2ee_invalid_timestamp',
  'invalid_e2ee_request',
]);
const headerValue = fc.option(
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('ecdsa', 'ED25519 ', '1', '2', '3', '0', '1700000000'),
    fc.stringMatching(/^[0-9a-f]{0,140}$/),
  ),
  { nil: undefined },
);

describe('properties', () => {
  test.prop(
    {
      algo: headerValue,
      client: headerValue,
      model: headerValue,
      version: headerValue,
      nonce: headerValue,
      timestamp: headerValue,
    },
    { numRuns: 300 },
  )('header parsing either yields a context or a typed 400, never another failure', (values) => {
    const headers = new Headers();
    const names = [
      'x-signing-algo',
      'x-client-pub-key',
      'x-model-pub-key',
      'x-e2ee-version',
      'x-e2ee-nonce',
      'x-e2ee-timestamp',
    ];
    Object.values(values).forEach((value, index) => {
      if (value !== undefined) {
        try {
          headers.set(names[index]!, value);
        } catch {
          // not a valid header value: a client could not send it either
        }
      }
    });
    try {
      const context = parseE2eeHeaders(headers, keys);
      if (context) expect([1, 2]).toContain(context.version);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect(ERROR_TYPES.has((error as ApiError).type)).toBe(true);
    }
  });

  // The SSE relay must not depend on how the upstream splits its bytes (mid-line, mid-UTF-8, CRLF framing).
  test.prop(
    { cuts: fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 25 }), crlf: fc.boolean() },
    { numRuns: 25 },
  )('E2EE stream output decrypts to the same text for any upstream chunking', async ({ cuts, crlf }) => {
    const reply = ['héllo ', 'wörld ', '— ', '✓ ', 'done'];
    const events = [
      ...reply.map((word) => ({
        id: 'chatcmpl-p',
        object: 'chat.completion.chunk',
        model: 'fake-model',
        choices: [{ index: 0, delta: { content: word } }],
      })),
    ];
    const newline = crlf ? '\r\n' : '\n';
    const text = `${events.map((event) => `data: ${JSON.stringify(event)}${newline}${newline}`).join('')}data: [DONE]${newline}${newline}`;
    const bytes = new TextEncoder().encode(text);
    const positions = [...new Set(cuts.map((cut) => cut % bytes.length))].sort((a, b) => a - b);
    const test = createTestApp({
      overrides: {
        vllm: {
          baseUrl: 'http://split.test',
          fetch: async () => {
            const pieces: Uint8Array[] = [];
            let start = 0;
            for (const position of [...positions, bytes.length]) {
              if (position > start) pieces.push(bytes.subarray(start, position));
              start = position;
            }
            const stream = new ReadableStream<Uint8Array>({
              start(controller) {
                for (const piece of pieces) controller.enqueue(piece);
                controller.close();
              },
            });
            return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
          },
        },
      },
    });
    const report = (await (
      await test.app.request('/v1/attestation/report?signing_algo=ed25519', { headers: AUTH })
    ).json()) as {
      signing_public_key: string;
    };
    const client = createE2eeClient('ed25519', 2);
    const body = client.encryptMessages(
      { model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'x' }] },
      report.signing_public_key,
    );
    const response = await test.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { ...AUTH, ...client.headers(report.signing_public_key) },
      body: JSON.stringify(body),
    });
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const decrypted = data
      .slice(0, -1)
      .map((line) => JSON.parse(line))
      .map((chunk) =>
        client.decrypt(chunk.choices[0].delta.content, {
          model: chunk.model,
          id: chunk.id,
          choice: 0,
          field: 'content',
        }),
      )
      .join('');
    expect(decrypted).toBe(reply.join(''));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Adversarial upstream (issue 14): arbitrary bytes, arbitrary chunking, arbitrary truncation. No upstream plaintext
// byte may reach an E2EE client (everything it gets is checked with the independent node:crypto decryptor), and
// only complete streams are signed, over the bytes the client received.

let runCounter = 0;

async function signatureOf(app: TestApp['app'], id: string): Promise<{ status: number; text?: string }> {
  const response = await app.request(`/v1/signature/${id}`, { headers: AUTH });
  if (response.status !== 200) return { status: response.status };
  return { status: 200, text: ((await response.json()) as { text: string }).text };
}

describe('adversarial upstream (in process: exact chunk boundaries)', () => {
  // One app for every run; each run sets what the upstream answers next.
  let upstream: { pieces: Uint8Array[]; end: 'finish' | 'break' } = { pieces: [], end: 'finish' };
  const app = createTestApp({
    overrides: {
      vllm: {
        baseUrl: 'http://adversarial.test',
        fetch: async () => {
          const { pieces: parts, end } = upstream;
          let next = 0;
          // one piece per read, then the end: a break is seen only after every piece was read
          const stream = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (next < parts.length) controller.enqueue(parts[next++]!);
              else if (end === 'break') controller.error(new Error('connection broke'));
              else controller.close();
            },
          });
          return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
        },
      },
    },
  });

  fcTest.prop({ segments: segmentsArbitrary, delivery: deliveryArbitrary }, { numRuns: 300 })(
    'E2EE: nothing but encrypted fields and protocol frames reach the client; only complete streams are signed',
    async ({ segments, delivery }) => {
      const id = `chatcmpl-adv-${++runCounter}`;
      const { bytes, ends } = renderSegments(segments, id, delivery.crlf);
      const kept = Math.floor(bytes.length * delivery.keep);
      upstream = { pieces: pieces(bytes.subarray(0, kept), delivery.cuts), end: delivery.end };
      const report = (await (
        await app.app.request('/v1/attestation/report?signing_algo=ed25519', { headers: AUTH })
      ).json()) as { signing_public_key: string };
      const session = createIndependentSession('ed25519', report.signing_public_key);
      const response = await app.app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json', ...session.headers },
        body: JSON.stringify({
          model: MODEL,
          stream: true,
          messages: session.sealMessages(MODEL, [{ role: 'user', content: 'p' }]),
        }),
      });
      expect(response.status).toBe(200);
      const received = new Uint8Array(await response.arrayBuffer());
      const verdict = judgeE2eeOutput(received, session, id, leadingTexts(segments));
      const signature = await signatureOf(app.app, id);
      if (verdict.done && verdict.texts.length > 0) {
        expect(isCleanComplete(segments, ends, kept, delivery.crlf)).toBe(true);
        expect(verdict.texts).toEqual(leadingTexts(segments));
        expect(signature.status).toBe(200);
        expect(signature.text!.split(':')[1]).toBe(sha256Hex(received));
      } else {
        // unfinished, or finished without any chunk (no chat id to sign under)
        expect(signature.status).toBe(404);
      }
      // valid chunks up to a complete [DONE] are always relayed in full
      if (isCleanComplete(segments, ends, kept, delivery.crlf)) expect(verdict.done).toBe(true);
      expect(app.logs.text()).not.toContain(SECRET);
    },
  );

  fcTest.prop({ segments: segmentsArbitrary, delivery: deliveryArbitrary }, { numRuns: 200 })(
    'plain: bytes pass unchanged up to an event boundary; an unfinished stream ends with an error event, unsigned',
    async ({ segments, delivery }) => {
      const id = `chatcmpl-adv-${++runCounter}`;
      const { bytes, ends } = renderSegments(segments, id, delivery.crlf);
      const kept = Math.floor(bytes.length * delivery.keep);
      upstream = { pieces: pieces(bytes.subarray(0, kept), delivery.cuts), end: delivery.end };
      const response = await app.app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'p' }] }),
      });
      const received = Buffer.from(await response.arrayBuffer());
      const text = received.toString('latin1');
      const errorAt = text.lastIndexOf('data: {"error":');
      const failed =
        errorAt !== -1 &&
        text.endsWith('\n\n') &&
        /^data: \{"error":\{[^\n]*\}\}\n\n$/.test(text.slice(errorAt));
      const relayed = failed ? received.subarray(0, errorAt) : received;
      // what was relayed is exactly a prefix of the upstream bytes
      expect(Buffer.compare(relayed, Buffer.from(bytes.subarray(0, relayed.length)))).toBe(0);
      const signature = await signatureOf(app.app, id);
      if (!hasCompleteDone(segments, ends, kept, delivery.crlf)) expect(failed).toBe(true);
      if (failed) {
        expect(signature.status).toBe(404);
        const type = (JSON.parse(text.slice(errorAt + 6)) as { error: { type: string } }).error.type;
        expect(['upstream_stream_incomplete', 'upstream_stream_error']).toContain(type);
      } else {
        expect(text).toMatch(/data: ?\[DONE\]/);
        if (leadingTexts(segments).length > 0 && segments[0]!.kind === 'chunk') {
          expect(signature.status).toBe(200);
          expect(signature.text!.split(':')[1]).toBe(sha256Hex(received));
        }
      }
    },
  );
});

describe('adversarial upstream (separate process over HTTP: real sockets, real truncation)', () => {
  let fault: FaultUpstream;
  let proxy: RunningServer;
  beforeAll(async () => {
    fault = await spawnFaultUpstream();
    const config = loadConfig({
      env: { TOKEN, PROXY_PORT: '0', VLLM_BASE_URL: fault.url, LOG_LEVEL: 'silent' },
    });
    proxy = await startServer({ config, processMetrics: false, logger: createSilentLogger() });
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await fault?.stop();
  });

  fcTest.prop({ segments: segmentsArbitrary, delivery: deliveryArbitrary }, { numRuns: 100 })(
    'E2EE over HTTP: no upstream plaintext reaches the client; only complete streams are signed',
    async ({ segments, delivery }) => {
      const id = `chatcmpl-adv-http-${process.pid}-${++runCounter}`;
      const { bytes, ends } = renderSegments(segments, id, delivery.crlf);
      const kept = Math.floor(bytes.length * delivery.keep);
      const session = createIndependentSession('ecdsa', await fetchModelKey(proxy.url, TOKEN, 'ecdsa'));
      const response = await fetch(`${proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...session.headers },
        body: JSON.stringify({
          model: MODEL,
          stream: true,
          messages: session.sealMessages(MODEL, [{ role: 'user', content: 'p' }]),
          fault: {
            chunks: pieces(bytes.subarray(0, kept), delivery.cuts).map((piece) => ({
              base64: Buffer.from(piece).toString('base64'),
            })),
            delayMs: 1,
            end: delivery.end === 'break' ? 'destroy' : 'finish',
          },
        }),
      });
      const received = new Uint8Array(await response.arrayBuffer());
      const verdict = judgeE2eeOutput(received, session, id, leadingTexts(segments));
      const signature = await fetch(`${proxy.url}/v1/signature/${id}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      if (verdict.done && verdict.texts.length > 0) {
        expect(isCleanComplete(segments, ends, kept, delivery.crlf)).toBe(true);
        expect(signature.status).toBe(200);
        expect(((await signature.json()) as { text: string }).text.split(':')[1]).toBe(sha256Hex(received));
      } else {
        expect(signature.status).toBe(404);
        await signature.body?.cancel();
      }
      if (isCleanComplete(segments, ends, kept, delivery.crlf)) expect(verdict.done).toBe(true);
    },
    60_000,
  );
});
