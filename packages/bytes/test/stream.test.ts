import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { readStreamLimited, readStreamPrefix } from '../src/index.js';

/** A stream of the given chunks that records how many it handed out and whether it was cancelled. */
function chunkedStream(chunks: readonly Uint8Array[]) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[state.pulled];
      if (chunk === undefined) controller.close();
      else {
        state.pulled += 1;
        controller.enqueue(chunk);
      }
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe('readStreamLimited', () => {
  it('joins the chunks of a stream up to exactly maxBytes', async () => {
    const { stream, state } = chunkedStream([Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)]);
    expect(await readStreamLimited(stream, { maxBytes: 3 })).toEqual(Uint8Array.of(1, 2, 3));
    expect(state.cancelled).toBe(false);
  });

  it('returns undefined and cancels the stream one byte past maxBytes', async () => {
    const { stream, state } = chunkedStream([Uint8Array.of(1, 2), Uint8Array.of(3, 4), Uint8Array.of(5)]);
    expect(await readStreamLimited(stream, { maxBytes: 3 })).toBeUndefined();
    expect(state).toEqual({ pulled: 2, cancelled: true });
  });

  it('cancels unread when declaredLength is above maxBytes, and counts the bytes when it lies', async () => {
    const large = chunkedStream([Uint8Array.of(1)]);
    expect(await readStreamLimited(large.stream, { maxBytes: 3, declaredLength: 4 })).toBeUndefined();
    expect(large.state).toEqual({ pulled: 0, cancelled: true });
    const lying = chunkedStream([new Uint8Array(4)]);
    expect(await readStreamLimited(lying.stream, { maxBytes: 3, declaredLength: 1 })).toBeUndefined();
    expect(lying.state.cancelled).toBe(true);
    const noDeclaration = chunkedStream([new Uint8Array(3)]);
    expect(
      await readStreamLimited(noDeclaration.stream, { maxBytes: 3, declaredLength: Number.NaN }),
    ).toEqual(new Uint8Array(3));
  });

  it('reads a missing stream as empty, unless a too large length was declared', async () => {
    expect(await readStreamLimited(null, { maxBytes: 0 })).toEqual(new Uint8Array(0));
    expect(await readStreamLimited(undefined, { maxBytes: 10 })).toEqual(new Uint8Array(0));
    expect(await readStreamLimited(null, { maxBytes: 10, declaredLength: 11 })).toBeUndefined();
  });

  it('passes the errors of the stream on', async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('connection reset'));
      },
    });
    await expect(readStreamLimited(failing, { maxBytes: 10 })).rejects.toThrow('connection reset');
  });

  it('joins 200000 one-byte chunks (no argument-list overflow)', async () => {
    const chunks = Array.from({ length: 200_000 }, (_, index) => Uint8Array.of(index & 0xff));
    const bytes = await readStreamLimited(chunkedStream(chunks).stream, { maxBytes: 200_000 });
    expect(bytes?.length).toBe(200_000);
    expect(bytes?.[257]).toBe(1);
  });

  it('reads a real fetch response body from a loopback server', async () => {
    const body = new Uint8Array(100_000).map((_, index) => index % 251);
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      // Written in pieces, without a Content-Length (chunked transfer encoding).
      for (let offset = 0; offset < body.length; offset += 10_000)
        response.write(body.subarray(offset, offset + 10_000));
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      expect(await readStreamLimited((await fetch(url)).body, { maxBytes: body.length })).toEqual(body);
      expect(await readStreamLimited((await fetch(url)).body, { maxBytes: body.length - 1 })).toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('readStreamPrefix', () => {
  it('keeps the first maxBytes bytes, stops reading there and cancels the rest', async () => {
    const { stream, state } = chunkedStream([Uint8Array.of(1, 2), Uint8Array.of(3, 4), Uint8Array.of(5)]);
    expect(await readStreamPrefix(stream, 3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(state).toEqual({ pulled: 2, cancelled: true });
  });

  it('returns a shorter stream whole', async () => {
    const { stream } = chunkedStream([Uint8Array.of(1), Uint8Array.of(), Uint8Array.of(2)]);
    expect(await readStreamPrefix(stream, 10)).toEqual(Uint8Array.of(1, 2));
    expect(await readStreamPrefix(null, 10)).toEqual(new Uint8Array(0));
  });

  it('reads nothing for a zero limit and passes the errors of the stream on, cancelling it', async () => {
    const { stream, state } = chunkedStream([Uint8Array.of(1)]);
    expect(await readStreamPrefix(stream, 0)).toEqual(new Uint8Array(0));
    expect(state).toEqual({ pulled: 0, cancelled: true });
    const failing = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('connection reset'));
      },
    });
    await expect(readStreamPrefix(failing, 10)).rejects.toThrow('connection reset');
  });
});
