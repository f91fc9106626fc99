// The relay takes the upstream body as a web ReadableStream or as any async iterable of byte chunks (a Node
// Readable): for the same chunks, cut anywhere, both sources give the same bytes to the client, the same stored
// hash, and the same failures (plain and E2EE, with a deterministic encryptor so the E2EE bytes compare).
import { Readable } from 'node:stream';
import { createSilentLogger } from '@confidential-ai/server-kit';
import { createFieldEncryptor, generateFieldKeyPair } from '@confidential-ai/venice-e2ee';
import { fc, test as fcTest } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { AppDependencies } from '../src/app.js';
import type { E2eeContext } from '../src/e2ee.js';
import { createProxyMetrics } from '../src/metrics.js';
import { createSignedEventStream } from '../src/signed-event-stream.js';
import { deliveryArbitrary, pieces, renderSegments, segmentsArbitrary } from './adversarial-upstream.js';

const deps = { logger: createSilentLogger(), metrics: createProxyMetrics() } as unknown as AppDependencies;
const client = generateFieldKeyPair('ed25519', () => new Uint8Array(32).fill(3));

/** A context whose encryptor draws its nonces from a counter: two of them encrypt to the same bytes. */
function deterministicContext(): E2eeContext {
  let counter = 0;
  const random = (length: number) => new Uint8Array(length).fill(++counter & 0xff);
  return {
    algo: 'ed25519',
    version: 2,
    nonce: 'n'.repeat(16),
    timestamp: 1_700_000_000,
    encryptor: createFieldEncryptor(client.publicKey, {
      suite: 'ed25519',
      ephemeralPrivateKey: new Uint8Array(32).fill(7),
      random,
    }),
  };
}

async function relay(
  upstream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  context: E2eeContext | undefined,
): Promise<{ bytes: Uint8Array; signed: string | undefined }> {
  let signed: string | undefined;
  const stream = createSignedEventStream({
    deps,
    requestId: 'test',
    upstreamName: 'vllm',
    upstreamLabel: 'vLLM upstream',
    upstream,
    context,
    onComplete: async (id, hash) => {
      signed = `${id}:${hash}`;
    },
  });
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return { bytes, signed };
}

function webSource(parts: Uint8Array[], end: 'finish' | 'break'): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < parts.length) controller.enqueue(parts[next++]!);
      else if (end === 'break') controller.error(new Error('connection broke'));
      else controller.close();
    },
  });
}

function nodeSource(parts: Uint8Array[], end: 'finish' | 'break'): Readable {
  async function* generate() {
    for (const part of parts) yield Buffer.from(part);
    if (end === 'break') throw new Error('connection broke');
  }
  return Readable.from(generate(), { objectMode: false });
}

describe('signed event stream: upstream as a web stream or a Node stream', () => {
  fcTest.prop(
    { segments: segmentsArbitrary, delivery: deliveryArbitrary, e2ee: fc.boolean() },
    { numRuns: 200 },
  )(
    'the same chunks give the same bytes, signature and failures from either source',
    async ({ segments, delivery, e2ee }) => {
      const { bytes } = renderSegments(segments, 'chatcmpl-source', delivery.crlf);
      const parts = pieces(bytes.subarray(0, Math.floor(bytes.length * delivery.keep)), delivery.cuts);
      const web = await relay(webSource(parts, delivery.end), e2ee ? deterministicContext() : undefined);
      const node = await relay(nodeSource(parts, delivery.end), e2ee ? deterministicContext() : undefined);
      expect(Buffer.from(node.bytes).toString('latin1')).toBe(Buffer.from(web.bytes).toString('latin1'));
      expect(node.signed).toBe(web.signed);
    },
  );

  it('a chunk that is not bytes ends the stream with an error event, unsigned', async () => {
    async function* strings() {
      yield 'data: {"id":"x","choices":[]}\n\n' as unknown as Uint8Array;
    }
    for (const context of [undefined, deterministicContext()]) {
      const { bytes, signed } = await relay(strings(), context);
      const text = Buffer.from(bytes).toString('utf8');
      expect(text).toContain('upstream_invalid_response');
      expect(text).not.toContain('[DONE]');
      expect(signed).toBeUndefined();
    }
  });

  it('the client leaving stops a Node stream upstream', async () => {
    const parts = [Buffer.from('data: {"id":"x","object":"chat.completion.chunk","choices":[]}\n\n')];
    let destroyed = false;
    const upstream = new Readable({
      read() {
        this.push(parts.shift() ?? Buffer.from(': keep-alive\n\n'));
      },
      destroy(error, callback) {
        destroyed = true;
        callback(error);
      },
    });
    const stream = createSignedEventStream({
      deps,
      requestId: 'test',
      upstreamName: 'vllm',
      upstreamLabel: 'vLLM upstream',
      upstream,
      context: undefined,
      onComplete: async () => {},
    });
    const reader = stream.getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((resolve) => setImmediate(resolve));
    expect(destroyed).toBe(true);
  });
});
