import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { parseE2eeHeaders } from '../src/e2ee.js';
import { ApiError } from '../src/errors.js';
import { createModelKeys } from '../src/keys.js';
import { AUTH, createE2eeClient, createTestApp, sseData } from './helpers.js';

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
    const text = `${events.map((event) => `data: ${JSON.stringify(event)}${newline}${newline}`).join('')}: keep-alive${newline}${newline}data: [DONE]${newline}${newline}`;
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
