/**
 * Characters that are never echoed from client input into an error message or log line: C0 controls (NUL
 * included), DEL, C1 controls, the Unicode bidirectional controls (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069) and the line/paragraph separators U+2028/U+2029.
 */
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * The one sanitizer for text that came from a client (or an upstream) and goes into an error message, on every
 * face: each control or bidirectional-control character becomes the visible escape `\uXXXX`, so a message can
 * neither hide, reorder nor split what the reader sees. Other text is returned unchanged.
 *
 * @example
 * ```ts
 * escapeControlCharacters('gpt\u0000\u202e4'); // 'gpt\\u0000\\u202e4'
 * ```
 */
export function escapeControlCharacters(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The status (nginx's 499) and type under which a request whose client went away is counted and logged. */
export const CLIENT_CLOSED_REQUEST = { status: 499, type: 'client_closed_request' } as const;

/**
 * True when the client of `request` has disconnected (on @hono/node-server the request's signal is aborted when
 * the connection closes before the response is finished): a failure then is a client abort, not a server error.
 */
export function isClientAbort(request: Request): boolean {
  return request.signal.aborted;
}
