import { bytesToUtf8, readStreamPrefix } from '@confidential-ai/bytes';

/** Upper bound on the bytes of a relay error answer kept in memory; the rest is discarded. */
export const MAX_RELAY_ERROR_BYTES = 64 * 1024;
/** Upper bound on the length of the message taken from a relay error answer. */
const MAX_MESSAGE_LENGTH = 2000;
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** A relay answer read into memory (at most {@link MAX_RELAY_ERROR_BYTES}) so it can be inspected. */
export class ResponseSnapshot {
  constructor(
    /** HTTP status of the relay answer. */
    readonly status: number,
    /** Its status text. */
    readonly statusText: string,
    /** Its headers, without the framing headers that no longer apply. */
    readonly headers: Headers,
    /** The first bytes of its body. */
    readonly body: Uint8Array,
  ) {}

  /** Reads `response` (up to the byte limit; the rest is cancelled). */
  static async read(response: Response): Promise<ResponseSnapshot> {
    const body = await readStreamPrefix(response.body, MAX_RELAY_ERROR_BYTES);
    const headers = new Headers(response.headers);
    headers.delete('content-length');
    headers.delete('content-encoding');
    headers.delete('transfer-encoding');
    return new ResponseSnapshot(response.status, response.statusText, headers, body);
  }

  /** The body as text (empty when it is not valid UTF-8). */
  text(): string {
    try {
      return bytesToUtf8(this.body);
    } catch {
      return '';
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// FastAPI's validation errors: a list of {loc, msg, type}.
function validationMessage(detail: unknown[]): string | undefined {
  const parts = detail.flatMap((item) => {
    if (!isPlainObject(item) || typeof item.msg !== 'string') return [];
    const location = Array.isArray(item.loc)
      ? item.loc.filter((part) => typeof part !== 'object').join('.')
      : '';
    return [location ? `${item.msg} (${location})` : item.msg];
  });
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * The message of a relay error body: FastAPI's `{"detail": "..."}` (also when `detail` itself holds an
 * instance's `{"detail": "..."}` JSON text, as the relay relays instance 400s), a validation error list, an
 * OpenAI `{"error": {"message": ...}}`, or plain text.
 */
export function relayErrorMessage(status: number, statusText: string, text: string): string {
  const parsed = parseJson(text);
  let message: string | undefined;
  if (isPlainObject(parsed)) {
    const { detail, error } = parsed;
    if (typeof detail === 'string') {
      const inner = parseJson(detail);
      message = isPlainObject(inner) && typeof inner.detail === 'string' ? inner.detail : detail;
    } else if (Array.isArray(detail)) {
      message = validationMessage(detail);
    } else if (isPlainObject(error) && typeof error.message === 'string') {
      message = error.message;
    } else if (typeof error === 'string') {
      message = error;
    } else if (typeof parsed.message === 'string') {
      message = parsed.message;
    }
  } else if (parsed === undefined && text.trim() !== '' && !text.trimStart().startsWith('<')) {
    message = text.trim();
  }
  message = message?.trim();
  if (!message) message = `Chutes relay answered ${status}${statusText ? ` ${statusText}` : ''}`;
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
}

/**
 * Turns a relay error answer into the response the OpenAI SDK expects: the relay's status and headers with an
 * OpenAI error body `{"error": {"message", "type": "chutes_relay_error", "param": null, "code": null}}` whose
 * message is the relay's (FastAPI's `detail` is not read by the SDK, which then reports "status code (no
 * body)"). A body that already has the OpenAI shape is passed on as it is.
 */
export function relayErrorResponse(snapshot: ResponseSnapshot): Response {
  const headers = new Headers(snapshot.headers);
  headers.set('content-type', 'application/json');
  const init = { status: snapshot.status, statusText: snapshot.statusText, headers };
  if (NULL_BODY_STATUSES.has(snapshot.status)) return new Response(null, init);
  const text = snapshot.text();
  const parsed = parseJson(text);
  if (isPlainObject(parsed) && isPlainObject(parsed.error) && typeof parsed.error.message === 'string') {
    return new Response(text, init);
  }
  const body = {
    error: {
      message: relayErrorMessage(snapshot.status, snapshot.statusText, text),
      type: 'chutes_relay_error',
      param: null,
      code: null,
    },
  };
  return new Response(JSON.stringify(body), init);
}
