// The test proxy between the browser and the composed server: a separate HTTP server on loopback that forwards every
// request (the page's files included), streams answers through unchanged, and, when a test asks, changes one byte
// of a chosen response (its body, or a header) on the way back. It records the request bodies it forwarded, so a
// test can check what left the browser.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

/** Changes a response body (the whole body, buffered); undefined leaves it alone. */
export type BodyTamper = (path: string, body: Buffer) => Buffer | undefined;

/** A running relay. */
export interface Relay {
  /** Its origin, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Requests forwarded: method, path with query, and body (as text). */
  readonly requests: { method: string; path: string; body: string }[];
  /** Picks the responses to change: a path predicate and the change. */
  tamper:
    | { match: (path: string) => boolean; body?: BodyTamper; headers?: (headers: Headers) => void }
    | undefined;
  close(): Promise<void>;
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'content-encoding',
  'host',
];

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a relay in front of `target`. */
export async function startRelay(target: string): Promise<Relay> {
  const relay: Relay = { url: '', requests: [], tamper: undefined, close: async () => {} };
  const server: Server = createServer(async (request, response) => {
    try {
      const path = request.url ?? '/';
      const body = await readBody(request);
      relay.requests.push({ method: request.method ?? 'GET', path, body: body.toString('utf8') });
      const headers = new Headers();
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string' && !HOP_BY_HOP.includes(name)) headers.set(name, value);
      }
      const upstream = await fetch(`${target}${path}`, {
        method: request.method ?? 'GET',
        headers,
        redirect: 'manual',
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const outHeaders = new Headers(upstream.headers);
      for (const name of HOP_BY_HOP) outHeaders.delete(name);
      const tamper = relay.tamper?.match(path) ? relay.tamper : undefined;
      tamper?.headers?.(outHeaders);
      const flat: Record<string, string> = {};
      outHeaders.forEach((value, name) => {
        flat[name] = value;
      });
      if (tamper?.body) {
        const received = Buffer.from(await upstream.arrayBuffer());
        const out = tamper.body(path, received) ?? received;
        response.writeHead(upstream.status, { ...flat, 'content-length': String(out.length) }).end(out);
        return;
      }
      response.writeHead(upstream.status, flat);
      if (!upstream.body) {
        response.end();
        return;
      }
      Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream).pipe(response);
    } catch {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(relay, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return relay;
}

/** Flips the ASCII case of the first letter after `marker` (one byte; JSON and SSE stay valid). */
export function flipLetterAfter(body: Buffer, marker: string): Buffer | undefined {
  const at = body.indexOf(marker);
  if (at === -1) return undefined;
  for (let index = at + marker.length; index < body.length; index++) {
    const byte = body[index]!;
    if ((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)) {
      const copy = Buffer.from(body);
      copy[index] = byte ^ 0x20;
      return copy;
    }
  }
  return undefined;
}

/** Changes the digit `offset` characters after `marker` to another digit (one byte; JSON stays valid). */
export function flipDigitAfter(body: Buffer, marker: string, offset: number): Buffer | undefined {
  const at = body.indexOf(marker);
  if (at === -1) return undefined;
  const index = at + marker.length + offset;
  const byte = body[index];
  if (byte === undefined || byte < 0x30 || byte > 0x39) return undefined;
  const copy = Buffer.from(body);
  copy[index] = byte === 0x30 ? 0x31 : 0x30;
  return copy;
}

/** Replaces the hex digit `offset` characters after `marker` with another hex digit (one byte). */
export function flipHexAfter(body: Buffer, marker: string, offset: number): Buffer | undefined {
  const at = body.indexOf(marker);
  if (at === -1) return undefined;
  const index = at + marker.length + offset;
  const char = String.fromCharCode(body[index] ?? 0);
  if (!/[0-9a-fA-F]/.test(char)) return undefined;
  const copy = Buffer.from(body);
  copy[index] = (char === '0' ? '1' : '0').charCodeAt(0);
  return copy;
}
