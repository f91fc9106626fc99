import { bytesToUtf8, EncodingError } from '@confidential-ai/bytes';
import { ChutesTransportError } from './errors.js';

/** Longest SSE line (in bytes) or pending decrypted text (in characters) the decoder buffers. */
export const MAX_SSE_LINE_LENGTH = 16 * 1024 * 1024;

const LF = 10;

/**
 * Splits a byte stream into lines on LF, decodes each line as strict UTF-8 and strips one trailing CR.
 * Incomplete last lines are kept until more bytes arrive.
 */
export class SseLineSplitter {
  #parts: Uint8Array[] = [];
  #pendingLength = 0;
  readonly #maxLineLength: number;

  constructor(maxLineLength = MAX_SSE_LINE_LENGTH) {
    this.#maxLineLength = maxLineLength;
  }

  /**
   * Adds bytes and returns the lines they complete.
   * @throws ChutesTransportError `ERR_STREAM_MALFORMED` on invalid UTF-8 or a line longer than the limit.
   */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let index = chunk.indexOf(LF); index !== -1; index = chunk.indexOf(LF, start)) {
      lines.push(this.#takeLine(chunk.subarray(start, index)));
      start = index + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#pendingLength += rest.length;
      if (this.#pendingLength > this.#maxLineLength) {
        throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'SSE line exceeds the maximum length');
      }
      this.#parts.push(rest.slice());
    }
    return lines;
  }

  /** Returns the incomplete last line, if any, and resets. */
  flush(): string[] {
    if (this.#pendingLength === 0) return [];
    return [this.#takeLine(new Uint8Array(0))];
  }

  #takeLine(tail: Uint8Array): string {
    let bytes = tail;
    if (this.#parts.length > 0) {
      const total = this.#pendingLength + tail.length;
      if (total > this.#maxLineLength) {
        throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'SSE line exceeds the maximum length');
      }
      bytes = new Uint8Array(total);
      let offset = 0;
      for (const part of this.#parts) {
        bytes.set(part, offset);
        offset += part.length;
      }
      bytes.set(tail, offset);
      this.#parts = [];
      this.#pendingLength = 0;
    } else if (tail.length > this.#maxLineLength) {
      throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'SSE line exceeds the maximum length');
    }
    let text: string;
    try {
      text = bytesToUtf8(bytes);
    } catch (cause) {
      throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'SSE line is not valid UTF-8', { cause });
    }
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }
}

/** The cryptographic operations the {@link EncryptedStreamDecoder} needs; wired to chutes-crypto by the transport. */
export interface StreamOpeners {
  /** Opens an `e2e_init` value (base64 of 1088 bytes) and returns the stream key. */
  openInit(value: string): Uint8Array;
  /** Opens one `e2e` value (base64 of nonce, ciphertext and tag) and returns the plaintext. */
  openChunk(value: string, streamKey: Uint8Array): string;
}

/** Where an {@link EncryptedStreamDecoder} stands. */
export type StreamDecoderState = 'open' | 'done' | 'error-event';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wrapCrypto(what: string, cause: unknown): ChutesTransportError {
  if (ChutesTransportError.isInstance(cause)) return cause;
  if (EncodingError.isInstance(cause)) {
    return new ChutesTransportError('ERR_STREAM_DECRYPT', `${what} is not valid UTF-8`, { cause });
  }
  return new ChutesTransportError('ERR_STREAM_DECRYPT', `${what} failed to decrypt`, { cause });
}

/**
 * Turns the relay's encrypted SSE body into standard SSE (decision D6 and D7 of the spec): every decrypted
 * `data:` line becomes one `data: <payload>\n\n` event, a decrypted `[DONE]` becomes `data: [DONE]\n\n` and
 * completes the stream, an `e2e_error` event becomes one OpenAI-style error event and ends the stream, and
 * plaintext usage events of older relays pass through.
 *
 * It fails closed: a chunk that does not decrypt, a chunk before `e2e_init`, a second `e2e_init` or malformed
 * UTF-8 throws a {@link ChutesTransportError}, and {@link EncryptedStreamDecoder.finish} throws
 * `ERR_STREAM_TRUNCATED` when the body ended before a decrypted `[DONE]`. Plaintext `[DONE]` lines of the
 * outer stream are ignored, because the relay could forge them to hide a truncation.
 */
export class EncryptedStreamDecoder {
  readonly #openers: StreamOpeners;
  readonly #lines: SseLineSplitter;
  #streamKey: Uint8Array | undefined;
  #plaintext = '';
  #state: StreamDecoderState = 'open';
  /** Number of `e2e` chunks decrypted so far. */
  chunks = 0;

  constructor(openers: StreamOpeners, maxLineLength = MAX_SSE_LINE_LENGTH) {
    this.#openers = openers;
    this.#lines = new SseLineSplitter(maxLineLength);
  }

  /** `open` while more input is expected; `done` after a decrypted `[DONE]`; `error-event` after `e2e_error`. */
  get state(): StreamDecoderState {
    return this.#state;
  }

  /**
   * Feeds bytes of the relay's body and returns the standard SSE text they produce (possibly empty).
   * @throws ChutesTransportError with `ERR_STREAM_DECRYPT` or `ERR_STREAM_MALFORMED`.
   */
  push(chunk: Uint8Array): string {
    if (this.#state !== 'open') return '';
    let out = '';
    for (const line of this.#lines.push(chunk)) {
      out += this.processLine(line);
      if (this.#state !== 'open') break;
    }
    return out;
  }

  /**
   * Ends the input: processes an unterminated last line and checks that the stream completed.
   * @throws ChutesTransportError `ERR_STREAM_TRUNCATED` when no decrypted `[DONE]` (or `e2e_error`) was seen.
   */
  finish(): string {
    let out = '';
    if (this.#state === 'open') {
      for (const line of this.#lines.flush()) out += this.processLine(line);
    }
    if (this.#state === 'open') {
      throw new ChutesTransportError(
        'ERR_STREAM_TRUNCATED',
        `encrypted stream ended before a decrypted [DONE] (${this.chunks} chunks received)`,
      );
    }
    return out;
  }

  /**
   * Handles one line of the relay's body (without its line break) and returns the SSE text it produces.
   * @throws ChutesTransportError with `ERR_STREAM_DECRYPT` or `ERR_STREAM_MALFORMED`.
   */
  processLine(line: string): string {
    if (this.#state !== 'open' || !line.startsWith('data:')) return '';
    const payload = line.slice(5).trim();
    if (payload === '' || payload === '[DONE]') return '';
    let event: unknown;
    try {
      event = JSON.parse(payload);
    } catch {
      return '';
    }
    if (!isPlainObject(event)) return '';
    if ('e2e_init' in event) {
      if (this.#streamKey !== undefined) {
        throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'received a second e2e_init event');
      }
      if (typeof event.e2e_init !== 'string') {
        throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'e2e_init value is not a string');
      }
      try {
        this.#streamKey = this.#openers.openInit(event.e2e_init);
      } catch (cause) {
        throw wrapCrypto('e2e_init', cause);
      }
      return '';
    }
    if ('e2e' in event) {
      if (this.#streamKey === undefined) {
        throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'received an e2e chunk before e2e_init');
      }
      if (typeof event.e2e !== 'string') {
        throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'e2e value is not a string');
      }
      let text: string;
      try {
        text = this.#openers.openChunk(event.e2e, this.#streamKey);
      } catch (cause) {
        throw wrapCrypto(`e2e chunk ${this.chunks}`, cause);
      }
      this.chunks++;
      return this.#processPlaintext(text);
    }
    if ('e2e_error' in event) {
      this.#state = 'error-event';
      return formatErrorEvent(event.e2e_error);
    }
    if ('usage' in event) return `data: ${payload}\n\n`;
    return '';
  }

  #processPlaintext(text: string): string {
    this.#plaintext += text;
    let out = '';
    let start = 0;
    for (
      let index = this.#plaintext.indexOf('\n');
      index !== -1;
      index = this.#plaintext.indexOf('\n', start)
    ) {
      let line = this.#plaintext.slice(start, index);
      start = index + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (!line.startsWith('data:')) continue;
      const payload = line.slice(5).trim();
      if (payload === '') continue;
      if (payload === '[DONE]') {
        out += 'data: [DONE]\n\n';
        this.#state = 'done';
        this.#plaintext = '';
        return out;
      }
      out += `data: ${payload}\n\n`;
    }
    this.#plaintext = this.#plaintext.slice(start);
    if (this.#plaintext.length > MAX_SSE_LINE_LENGTH) {
      throw new ChutesTransportError('ERR_STREAM_MALFORMED', 'decrypted SSE line exceeds the maximum length');
    }
    return out;
  }
}

/** Formats an `e2e_error` value as one OpenAI-style error event (decision D7). */
export function formatErrorEvent(value: unknown): string {
  const error = isPlainObject(value)
    ? value
    : { message: typeof value === 'string' ? value : JSON.stringify(value ?? null), type: 'e2e_error' };
  return `data: ${JSON.stringify({ error })}\n\n`;
}
