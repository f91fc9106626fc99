// The stream relay over real HTTP (issue 20): an upstream that sends every SSE event as its own HTTP chunk (as vLLM
// does) reaches the client in few writes (the relay reads the upstream's Node stream, one chunk per socket read,
// and writes each read's events at once), byte for byte in plain mode and decrypting to the same text in E2EE
// mode; and a client that stops reading stops the upstream (back-pressure: the proxy does not buffer the stream).
// The client is a raw TCP socket, so that the HTTP chunks the proxy writes can be counted.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { createSilentLogger } from '@confidential-ai/server-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { TOKEN } from './helpers.js';
import { createIndependentSession, fetchModelKey } from './independent-session.js';

const MODEL = 'relay-model';
const EVENTS = 2000;

/** What the upstream does with the next stream request. */
type Mode = { kind: 'burst'; id: string; words: string[] } | { kind: 'endless'; id: string };

let mode: Mode = { kind: 'burst', id: 'none', words: [] };
/** Bytes the endless upstream has written, and whether its client (the proxy) went away. */
const endless = { written: 0, closed: false };

function chunkEvent(id: string, content: string): string {
  return `data: ${JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created: 1,
    model: MODEL,
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`;
}

/** The bytes the burst upstream sends for `words`: one event per word, then [DONE]. */
function burstBody(id: string, words: string[]): string {
  return `${words.map((word) => chunkEvent(id, word)).join('')}data: [DONE]\n\n`;
}

function answer(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    const current = mode;
    if (current.kind === 'burst') {
      // Every event is its own write, so its own HTTP chunk; corked, they leave in one burst.
      response.cork();
      for (const word of current.words) response.write(chunkEvent(current.id, word));
      response.write('data: [DONE]\n\n');
      response.uncork();
      response.end();
      return;
    }
    // As long as the proxy takes them: 1 KiB events, waiting for 'drain' whenever the socket is full.
    const event = chunkEvent(current.id, 'x'.repeat(1024));
    response.on('close', () => {
      endless.closed = true;
    });
    const pump = () => {
      while (!response.destroyed) {
        endless.written += event.length;
        if (!response.write(event)) {
          response.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

interface RawReply {
  head: string;
  body: Buffer;
  /** HTTP chunks of the body (chunked transfer encoding). */
  chunks: number;
}

/** Parses a complete HTTP/1.1 response with a chunked body. */
function parseChunked(raw: Buffer): RawReply {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, headEnd).toString('latin1');
  expect(head.toLowerCase()).toContain('transfer-encoding: chunked');
  const parts: Buffer[] = [];
  let offset = headEnd + 4;
  let chunks = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', offset);
    const size = Number.parseInt(raw.subarray(offset, lineEnd).toString('latin1'), 16);
    offset = lineEnd + 2;
    if (size === 0) break;
    parts.push(raw.subarray(offset, offset + size));
    chunks++;
    offset += size + 2;
  }
  return { head, body: Buffer.concat(parts), chunks };
}

/** Sends one request on a raw socket; `read: false` never reads the reply (a stalled client). */
function rawRequest(url: string, headers: Record<string, string>, body: string, read = true) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const lines = [
    'POST /v1/chat/completions HTTP/1.1',
    `host: ${hostname}:${port}`,
    'connection: close',
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    `authorization: Bearer ${TOKEN}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n${body}`);
  if (!read) {
    socket.pause();
    return { socket, reply: undefined };
  }
  const received: Buffer[] = [];
  socket.on('data', (data: Buffer) => received.push(data));
  const reply = new Promise<RawReply>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('end', () => resolve(parseChunked(Buffer.concat(received))));
  });
  return { socket, reply };
}

let upstream: Server;
let upstreamUrl: string;
let proxy: RunningServer;

beforeAll(async () => {
  upstream = createServer(answer);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const config = loadConfig({
    env: { TOKEN, LOG_LEVEL: 'error', PROXY_PORT: '0', VLLM_BASE_URL: upstreamUrl },
  });
  proxy = await startServer({ config, logger: createSilentLogger(), processMetrics: false });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  upstream?.closeAllConnections();
  await new Promise((resolve) => upstream?.close(resolve));
});

const words = Array.from({ length: EVENTS }, (_, index) => `w${index} `);

describe('stream relay over HTTP', () => {
  it('plain: events sent one HTTP chunk each reach the client byte for byte, coalesced into few writes', async () => {
    mode = { kind: 'burst', id: 'chatcmpl-relay-plain', words };
    const { reply } = rawRequest(
      proxy.url,
      {},
      JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    );
    const { head, body, chunks } = await reply!;
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(body.toString('utf8')).toBe(burstBody('chatcmpl-relay-plain', words));
    // One write per upstream event (the relay before issue 20) would be more than EVENTS chunks.
    expect(chunks).toBeLessThan(EVENTS / 4);
  });

  it('E2EE: the same burst decrypts to the same text, coalesced into few writes', async () => {
    mode = { kind: 'burst', id: 'chatcmpl-relay-e2ee', words };
    const session = createIndependentSession('ed25519', await fetchModelKey(proxy.url, TOKEN, 'ed25519'));
    const { reply } = rawRequest(
      proxy.url,
      session.headers,
      JSON.stringify({
        model: MODEL,
        stream: true,
        messages: session.sealMessages(MODEL, [{ role: 'user', content: 'hi' }]),
      }),
    );
    const { head, body, chunks } = await reply!;
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    const events = body.toString('utf8').split('\n\n');
    expect(events.pop()).toBe('');
    expect(events.pop()).toBe('data: [DONE]');
    expect(events).toHaveLength(EVENTS);
    const contents = events.map((event) => {
      expect(event.startsWith('data: {')).toBe(true);
      const chunk = JSON.parse(event.slice(6)) as {
        id: string;
        choices: Array<{ delta: { content: string } }>;
      };
      expect(chunk.id).toBe('chatcmpl-relay-e2ee');
      return chunk.choices[0]!.delta.content;
    });
    // Every field is a sealed blob; every 25th (one key agreement each in the independent cipher) is opened.
    for (const content of contents) expect(content).toMatch(/^[0-9a-f]{120,}$/);
    for (let index = 0; index < EVENTS; index += 25) {
      const text = session.open(contents[index]!, {
        model: MODEL,
        id: 'chatcmpl-relay-e2ee',
        choice: 0,
        field: 'content',
      });
      expect(text).toBe(words[index]);
    }
    expect(chunks).toBeLessThan(EVENTS / 4);
  });

  for (const e2ee of [false, true]) {
    it(`${e2ee ? 'E2EE' : 'plain'}: a client that stops reading stops the upstream; leaving ends it`, async () => {
      mode = { kind: 'endless', id: `chatcmpl-relay-stall-${e2ee}` };
      endless.written = 0;
      endless.closed = false;
      let headers: Record<string, string> = {};
      let messages = [{ role: 'user', content: 'hi' }];
      if (e2ee) {
        const session = createIndependentSession('ecdsa', await fetchModelKey(proxy.url, TOKEN, 'ecdsa'));
        headers = session.headers;
        messages = session.sealMessages(MODEL, messages);
      }
      const { socket } = rawRequest(
        proxy.url,
        headers,
        JSON.stringify({ model: MODEL, stream: true, messages }),
        false,
      );
      // Wait until the upstream has written nothing more for a second (everything in between is full).
      let last = -1;
      for (let waited = 0; waited < 60_000 && endless.written !== last; waited += 1000) {
        last = endless.written;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      expect(endless.written).toBe(last);
      expect(endless.written).toBeGreaterThan(0);
      // Kernel socket buffers (two loopback connections) and the streams' high-water marks: far below this.
      expect(endless.written).toBeLessThan(96 * 1024 * 1024);
      socket.destroy();
      for (let waited = 0; waited < 10_000 && !endless.closed; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(endless.closed).toBe(true);
    }, 120_000);
  }
});
