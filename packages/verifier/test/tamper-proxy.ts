// An HTTP relay for the tests that forwards everything to a target server and can change one byte of chosen
// answers on the way back: a byte of a chat answer's content, of a signature, or of attestation evidence.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Changes a response body; returns undefined to leave it alone. */
export type Tamper = (path: string, body: Buffer) => Buffer | undefined;

/** A running relay. */
export interface TamperProxy {
  /** Its base URL. */
  url: string;
  /** The paths (with query) it relayed, in order. */
  readonly paths: string[];
  /** The current tamper function (undefined: honest relay). */
  tamper: Tamper | undefined;
  /** Changes the response headers of a path in place (undefined: honest relay). */
  tamperHeaders: ((path: string, headers: Record<string, string>) => void) | undefined;
  /** The server requests go to. */
  target: string;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts a relay to `target`. */
export async function startTamperProxy(target: string): Promise<TamperProxy> {
  const state: TamperProxy = {
    url: '',
    paths: [],
    tamper: undefined,
    tamperHeaders: undefined,
    target,
    close: async () => {},
  };
  const server: Server = createServer(async (request, response) => {
    try {
      const path = request.url ?? '/';
      state.paths.push(path);
      const body = await readBody(request);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name))
          headers[name] = value;
      }
      const upstream = await fetch(`${state.target}${path}`, {
        method: request.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      });
      const received = Buffer.from(await upstream.arrayBuffer());
      const out = state.tamper?.(path, received) ?? received;
      const outHeaders: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (
          !['content-length', 'transfer-encoding', 'connection', 'content-encoding', 'keep-alive'].includes(
            name,
          )
        )
          outHeaders[name] = value;
      });
      state.tamperHeaders?.(path, outHeaders);
      response.writeHead(upstream.status, { ...outHeaders, 'content-length': String(out.length) });
      response.end(out);
    } catch {
      response.writeHead(502).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** Flips the ASCII case of the first letter after `marker` (keeps JSON and SSE valid: one byte changes). */
export function flipAfter(body: Buffer, marker: string, skip = 0): Buffer | undefined {
  let at = body.indexOf(marker);
  for (let index = 0; index < skip && at !== -1; index++) at = body.indexOf(marker, at + 1);
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

/** Replaces the hex digit at `offset` characters after `marker` with another hex digit (one byte changes). */
export function flipHexAfter(body: Buffer, marker: string, offset: number): Buffer | undefined {
  const at = body.indexOf(marker);
  if (at === -1) return undefined;
  const index = at + marker.length + offset;
  const copy = Buffer.from(body);
  const char = String.fromCharCode(copy[index]!);
  if (!/[0-9a-fA-F]/.test(char)) return undefined;
  copy[index] = (char === '0' ? '1' : '0').charCodeAt(0);
  return copy;
}
