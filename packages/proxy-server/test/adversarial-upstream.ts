// An adversarial SSE upstream for the E2EE property tests: arbitrary mixes of valid chunks and hostile segments
// (arbitrary bytes, comments, other SSE fields, raw text, JSON bodies, error events, unencryptable fields), cut
// into arbitrary pieces and truncated anywhere; plus the checker that judges what an E2EE client received.
import { createHash } from 'node:crypto';
import { fc } from '@fast-check/vitest';
import type { IndependentSession } from './independent-session.js';

/** Marks every byte of model text or hostile input the upstream sends. It is not hex, so no ciphertext holds it. */
export const SECRET = 'SECRET';
export const MODEL = 'adversarial-model';

/** Text fields the proxy encrypts; the checker decrypts each with the independent cipher. */
const TEXT_FIELDS = ['content', 'reasoning_content', 'reasoning', 'refusal', 'text'] as const;

/** One piece of the upstream stream. */
export type Segment =
  | { kind: 'chunk'; field: (typeof TEXT_FIELDS)[number]; text: string }
  | { kind: 'done' }
  | { kind: 'hostile'; bytes: Uint8Array };

const encoder = new TextEncoder();

const secretText = fc
  .string({ unit: fc.constantFrom('a', 'é', ' ', '✓', '😀', '\\', '"', '\n', 'z'), maxLength: 12 })
  .map((text) => `${SECRET}${text}`);

const hostile: fc.Arbitrary<Segment> = fc
  .oneof(
    secretText.map((text) => `: ${text}\n\n`),
    fc
      .tuple(fc.constantFrom('id', 'event', 'retry'), secretText)
      .map(([field, text]) => `${field}: ${text}\n\n`),
    secretText.map((text) => `${text}\n\n`),
    secretText.map((text) => `data: ${text}{\n\n`),
    secretText.map((text) => `${JSON.stringify({ id: 'x', choices: [{ message: { content: text } }] })}\n`),
    secretText.map((text) => `data: ${JSON.stringify({ error: { message: text, type: 'x' } })}\n\n`),
    secretText.map(
      (text) =>
        `data: ${JSON.stringify({ id: 'x', model: MODEL, choices: [{ index: 0, delta: { content: 'a' }, logprobs: { content: [{ token: text }] } }] })}\n\n`,
    ),
    secretText.map(
      (text) =>
        `data: ${JSON.stringify({ id: 'x', model: MODEL, choices: [{ index: 0, delta: { note: text } }] })}\n\n`,
    ),
  )
  .map((text) => ({ kind: 'hostile' as const, bytes: encoder.encode(text) }));

const arbitraryBytes: fc.Arbitrary<Segment> = fc
  .tuple(fc.uint8Array({ maxLength: 24 }), fc.uint8Array({ maxLength: 24 }))
  .map(([before, after]) => ({
    kind: 'hostile' as const,
    bytes: Uint8Array.from([...before, ...encoder.encode(SECRET), ...after]),
  }));

const chunk: fc.Arbitrary<Segment> = fc.record({
  kind: fc.constant('chunk' as const),
  field: fc.constantFrom(...TEXT_FIELDS),
  text: secretText,
});

/** A stream of segments: mostly valid chunks, sometimes hostile ones, usually ending with `[DONE]`. */
export const segmentsArbitrary: fc.Arbitrary<Segment[]> = fc
  .tuple(
    fc.array(
      fc.oneof(
        { weight: 5, arbitrary: chunk },
        { weight: 1, arbitrary: hostile },
        { weight: 1, arbitrary: arbitraryBytes },
      ),
      {
        maxLength: 8,
      },
    ),
    fc.boolean(),
    fc.array(fc.oneof(chunk, hostile), { maxLength: 2 }),
  )
  .map(([body, done, after]) => [...body, ...(done ? [{ kind: 'done' as const }, ...after] : [])]);

/** How the upstream delivers the bytes: where they are cut, where the body stops, and how it ends. */
export const deliveryArbitrary = fc.record({
  cuts: fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 12 }),
  /** Truncate to this fraction of the bytes (1 keeps everything). */
  keep: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
  /** `finish`: clean end of body; `break`: the connection breaks. */
  end: fc.constantFrom('finish' as const, 'break' as const),
  crlf: fc.boolean(),
});
export type Delivery = typeof deliveryArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** The upstream bytes of `segments` for chat id `id`, and where each segment ends. */
export function renderSegments(
  segments: Segment[],
  id: string,
  crlf: boolean,
): { bytes: Uint8Array; ends: number[] } {
  const newline = crlf ? '\r\n' : '\n';
  const parts: Uint8Array[] = [];
  const ends: number[] = [];
  let length = 0;
  for (const segment of segments) {
    let bytes: Uint8Array;
    if (segment.kind === 'hostile') bytes = segment.bytes;
    else if (segment.kind === 'done') bytes = encoder.encode(`data: [DONE]${newline}${newline}`);
    else {
      const choice =
        segment.field === 'text'
          ? { index: 0, text: segment.text, finish_reason: null }
          : { index: 0, delta: { [segment.field]: segment.text }, finish_reason: null };
      const event = { id, object: 'chat.completion.chunk', created: 1, model: MODEL, choices: [choice] };
      bytes = encoder.encode(`data: ${JSON.stringify(event)}${newline}${newline}`);
    }
    parts.push(bytes);
    length += bytes.length;
    ends.push(length);
  }
  return { bytes: Buffer.concat(parts), ends };
}

/** Cuts `bytes` (already truncated) into pieces at `cuts` (taken modulo the length). */
export function pieces(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  if (bytes.length === 0) return [];
  const positions = [...new Set(cuts.map((cut) => cut % bytes.length))]
    .filter((cut) => cut > 0)
    .sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let start = 0;
  for (const position of [...positions, bytes.length]) {
    if (position > start) out.push(bytes.subarray(start, position));
    start = position;
  }
  return out;
}

/** Error types the relay may end a stream with (nothing else is accepted as an error event). */
export const STREAM_ERROR_TYPES = new Set([
  'upstream_invalid_response',
  'upstream_stream_incomplete',
  'upstream_stream_error',
  'upstream_error',
  'e2ee_unencryptable_response',
]);

/** What the checker found. */
export interface Verdict {
  /** The client received `data: [DONE]` (a complete stream). */
  done: boolean;
  /** The decrypted texts, in order. */
  texts: string[];
}

/**
 * Judges the bytes an E2EE client received: nothing but `data:` lines and blank lines; no byte of the upstream's
 * secret marker anywhere; every event `[DONE]` (last), one typed error event (last), or a chunk whose every text
 * field decrypts with the independent cipher to the upstream's text, in the upstream's order.
 */
export function judgeE2eeOutput(
  received: Uint8Array,
  session: IndependentSession,
  id: string,
  expectedTexts: string[],
): Verdict {
  const text = Buffer.from(received).toString('utf8');
  if (Buffer.from(received).includes(SECRET)) throw new Error('upstream plaintext reached the E2EE client');
  const lines = text.split('\n');
  for (const line of lines) {
    if (line !== '' && !line.startsWith('data: '))
      throw new Error(`a non-data line reached the client: ${line}`);
  }
  if (!text.endsWith('\n\n')) throw new Error('the output does not end at an event boundary');
  const events = text.slice(0, -2).split('\n\n');
  const texts: string[] = [];
  let done = false;
  events.forEach((event, position) => {
    const last = position === events.length - 1;
    const data = event.slice('data: '.length);
    if (event.includes('\n')) throw new Error('a multi-line event reached the client');
    if (data === '[DONE]') {
      if (!last) throw new Error('[DONE] is not the last event');
      done = true;
      return;
    }
    const json = JSON.parse(data) as Record<string, unknown>;
    if (json.error !== undefined) {
      if (!last) throw new Error('an error event is not the last event');
      const error = json.error as Record<string, unknown>;
      if (!STREAM_ERROR_TYPES.has(String(error.type)))
        throw new Error(`unexpected error type ${String(error.type)}`);
      if (Object.keys(json).length !== 1) throw new Error('an error event carries more than the error');
      return;
    }
    if (json.id !== id || json.model !== MODEL) throw new Error('a chunk has foreign clear fields');
    for (const choice of json.choices as Array<Record<string, unknown>>) {
      const index = choice.index as number;
      const sources = [choice, choice.delta as Record<string, unknown> | undefined];
      for (const source of sources) {
        if (!source) continue;
        for (const field of TEXT_FIELDS) {
          const value = source[field];
          if (typeof value !== 'string') continue;
          texts.push(session.open(value, { model: MODEL, id, choice: index, field }));
        }
      }
    }
  });
  expectedTexts.slice(0, texts.length).forEach((expected, index) => {
    if (texts[index] !== expected) throw new Error(`decrypted text ${index} differs from the upstream's`);
  });
  if (texts.length > expectedTexts.length) throw new Error('more texts than the upstream sent');
  return { done, texts };
}

/**
 * True when the `[DONE]` event ending at `end` is complete in the first `kept` bytes. With CRLF framing its last
 * LF may be missing: `...\r\n\r` already ends the event (SSE accepts a lone CR as a line end).
 */
function doneComplete(end: number, kept: number, crlf: boolean): boolean {
  return end <= kept || (crlf && end - 1 === kept);
}

/** True when the truncated upstream bytes are valid chunks only, up to and including a complete `[DONE]`. */
export function isCleanComplete(segments: Segment[], ends: number[], kept: number, crlf: boolean): boolean {
  for (const [index, segment] of segments.entries()) {
    if (segment.kind === 'done') return doneComplete(ends[index]!, kept, crlf);
    if (segment.kind !== 'chunk' || ends[index]! > kept) return false;
  }
  return false;
}

/** True when a complete `[DONE]` segment is inside the kept bytes. */
export function hasCompleteDone(segments: Segment[], ends: number[], kept: number, crlf: boolean): boolean {
  return segments.some((segment, index) => segment.kind === 'done' && doneComplete(ends[index]!, kept, crlf));
}

/** The texts of the valid chunks before the first non-chunk segment. */
export function leadingTexts(segments: Segment[]): string[] {
  const texts: string[] = [];
  for (const segment of segments) {
    if (segment.kind !== 'chunk') break;
    texts.push(segment.text);
  }
  return texts;
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
