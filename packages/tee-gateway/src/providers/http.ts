import type { FetchFunction } from '@confidential-ai/server-kit';
import { parsePythonJson } from '@confidential-ai/tee-signing';
import { ProviderError } from './types.js';

/** POSTs JSON and returns the response, throwing {@link ProviderError} on a non-2xx status (body not echoed). */
export async function postJson(
  fetch: FetchFunction,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal | undefined,
  provider: string,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  } catch (cause) {
    throw new ProviderError(`${provider} is unreachable`, { cause });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new ProviderError(`${provider} answered HTTP ${response.status}`, { status: response.status });
  }
  return response;
}

/** Reads a JSON body or throws {@link ProviderError}. */
export async function readJson(response: Response, provider: string): Promise<Record<string, unknown>> {
  try {
    const value = (await response.json()) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new ProviderError(`${provider} returned an unparsable body`, { cause });
  }
}

/** One server-sent event. */
export interface SseEvent {
  /** `event:` field (default `message`). */
  event: string;
  /** Joined `data:` lines. */
  data: string;
}

/** Parses a `text/event-stream` body into events (handles CRLF and chunk boundaries). */
export async function* readSse(body: ReadableStream<Uint8Array> | null): AsyncGenerator<SseEvent> {
  if (body === null) return;
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline = buffer.search(/\r\n|\n|\r/);
      while (newline !== -1) {
        const line = buffer.slice(0, newline);
        const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
        buffer = buffer.slice(newline + width);
        if (line === '') {
          if (data.length > 0) yield { event, data: data.join('\n') };
          event = 'message';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') data.push(value);
          else if (field === 'event') event = value;
        }
        newline = buffer.search(/\r\n|\n|\r/);
      }
      if (done) break;
    }
    if (data.length > 0) yield { event, data: data.join('\n') };
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

/** Parses tool-call argument JSON keeping key order (for the Python-style re-serialisation); raw text on failure. */
export function parseArguments(text: string): unknown {
  if (text.trim() === '') return new Map();
  try {
    return parsePythonJson(text, { preserveKeyOrder: true });
  } catch {
    return text;
  }
}

/** Parses an SSE data frame as JSON or throws {@link ProviderError}. */
export function parseFrame(data: string, provider: string): Record<string, unknown> {
  try {
    const value = JSON.parse(data) as unknown;
    if (typeof value !== 'object' || value === null) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new ProviderError(`${provider} sent an unparsable stream frame`, { cause });
  }
}
