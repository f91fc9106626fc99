/** One parsed multipart part. */
export interface ParsedPart {
  /** Field name. */
  name: string;
  /** File name, for file parts. */
  filename?: string;
  /** Part Content-Type, if given. */
  contentType?: string;
  /** Raw bytes. */
  data: Uint8Array;
}

/**
 * Parses a multipart/form-data body (as the fake API receives it). Returns null when the body is malformed.
 */
export function parseMultipart(body: Uint8Array, contentType: string | undefined): ParsedPart[] | null {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!match || !/^multipart\/form-data/i.test(contentType ?? '')) return null;
  const boundary = Buffer.from(`--${match[1] ?? match[2]}`);
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: ParsedPart[] = [];
  let position = buffer.indexOf(boundary);
  if (position !== 0) return null;
  for (;;) {
    position += boundary.length;
    if (buffer.subarray(position, position + 2).toString() === '--') return parts;
    if (buffer.subarray(position, position + 2).toString() !== '\r\n') return null;
    position += 2;
    const headerEnd = buffer.indexOf('\r\n\r\n', position);
    if (headerEnd < 0) return null;
    const headers = buffer.subarray(position, headerEnd).toString('utf8').split('\r\n');
    const next = buffer.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headerEnd + 4);
    if (next < 0) return null;
    const part: ParsedPart = { name: '', data: new Uint8Array(buffer.subarray(headerEnd + 4, next)) };
    for (const header of headers) {
      const [key, ...rest] = header.split(':');
      const value = rest.join(':').trim();
      if (key?.toLowerCase() === 'content-disposition') {
        const name = /\bname="((?:[^"\\]|\\.)*)"/.exec(value);
        const filename = /\bfilename="((?:[^"\\]|\\.)*)"/.exec(value);
        if (name) part.name = name[1]!.replace(/\\(.)/g, '$1');
        if (filename) part.filename = filename[1]!.replace(/\\(.)/g, '$1');
      } else if (key?.toLowerCase() === 'content-type') part.contentType = value;
    }
    if (!part.name) return null;
    parts.push(part);
    position = next + 2;
  }
}
