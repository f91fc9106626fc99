/**
 * Splits an SSE text into the `data` payloads of its events (WHATWG EventSource rules: `\n`, `\r\n` or
 * `\r` line ends, one optional space after `data:`, multi-line data joined with `\n`, comments and other
 * fields ignored). A final event without its closing blank line is still returned.
 *
 * @example
 * ```ts
 * parseSseData('data: {"a":1}\n\ndata: [DONE]\n\n'); // ['{"a":1}', '[DONE]']
 * ```
 */
export function parseSseData(text: string): string[] {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const events: string[] = [];
  let data: string[] | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data !== undefined) events.push(data.join('\n'));
      data = undefined;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') continue;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (data === undefined) data = [];
    data.push(value);
  }
  if (data !== undefined) events.push(data.join('\n'));
  return events;
}
