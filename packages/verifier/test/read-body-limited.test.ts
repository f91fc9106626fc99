import { describe, expect, it } from 'vitest';
import { getEvidence, readBodyLimited } from '../src/http.js';

/** A response whose body arrives in `count` one-byte chunks. */
function trickle(count: number, headers: Record<string, string> = {}): Response {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === count) controller.close();
      else controller.enqueue(Uint8Array.of(0x61 + (sent++ % 26)));
    },
  });
  return new Response(body, { headers });
}

describe('readBodyLimited (bytes readStreamLimited, wrapped in a RangeError)', () => {
  it('reads a body that arrives in 200000 one-byte chunks', async () => {
    // Regression: the chunks used to be joined by spreading them into one call's arguments, which overflows.
    const body = await readBodyLimited(trickle(200_000), 1_000_000);
    expect(body.length).toBe(200_000);
    expect(body[27]).toBe(0x62);
  });

  it('throws a RangeError past maxBytes, read or announced', async () => {
    await expect(readBodyLimited(trickle(11), 10)).rejects.toThrow(
      new RangeError('body is larger than 10 bytes'),
    );
    await expect(readBodyLimited(trickle(1, { 'content-length': '11' }), 10)).rejects.toThrow(RangeError);
    expect(await readBodyLimited(trickle(10), 10)).toHaveLength(10);
    expect(await readBodyLimited(new Response(null), 10)).toEqual(new Uint8Array(0));
  });

  it('gives getEvidence the text of a body in many small chunks', async () => {
    const reply = await getEvidence('http://evidence.invalid/report', {
      fetch: async () => trickle(150_000),
    });
    expect(reply.ok && reply.text.length).toBe(150_000);
  });
});
