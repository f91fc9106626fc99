import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { concatBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { zipSync } from 'fflate';
import { ChutesCliError } from '../errors.js';
import type { Image } from './image.js';

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
}

/**
 * Expands the build-context paths of an image (files and directories, recursively) to absolute file paths
 * under `cwd`, de-duplicated, in directive order (SDK `expand_context_files`).
 */
export function expandContextFiles(paths: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  for (const path of paths) {
    const absolute = resolve(cwd, path);
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(absolute);
    } catch {
      continue;
    }
    if (stats.isDirectory()) walk(absolute, files);
    else if (stats.isFile()) files.push(absolute);
  }
  return [...new Set(files.filter((file) => inside(cwd, file)))];
}

/** The build context of an image: the files and the `chute.zip` bytes. */
export interface BuildContext {
  /** Paths relative to `cwd` (POSIX separators), in zip order. */
  files: string[];
  /** Files shown to the user (the SDK leaves out files named `Dockerfile` from the listing only). */
  listed: string[];
  /** The zip archive (`chute.zip`), cwd-relative paths, no top-level folder. */
  zip: Uint8Array;
}

/**
 * Packs an image's build context into `chute.zip`.
 * @throws ChutesCliError `ERR_VALIDATION` when a file cannot be read.
 */
export function packBuildContext(image: Image, cwd: string): BuildContext {
  const absolute = expandContextFiles(image.buildContextPaths(), cwd);
  const files = absolute.map((file) => relative(cwd, file).split(sep).join('/'));
  const entries: Record<string, Uint8Array> = {};
  for (let i = 0; i < files.length; i++) {
    try {
      entries[files[i]!] = readFileSync(absolute[i]!);
    } catch (error) {
      throw new ChutesCliError('ERR_VALIDATION', `cannot read build-context file ${files[i]}`, {
        cause: error,
      });
    }
  }
  const zip = zipSync(entries, { level: 6, mtime: new Date('2000-01-01T00:00:00Z') });
  return { files, listed: files.filter((file) => basename(file) !== 'Dockerfile'), zip };
}

/** One multipart field: text, or a file with a name and content type. */
export type MultipartField =
  | { name: string; value: string }
  | { name: string; filename: string; contentType: string; data: Uint8Array };

/** A serialized multipart body: the exact bytes to hash and send, and its Content-Type. */
export interface MultipartBody {
  /** Body bytes. */
  body: Uint8Array;
  /** `multipart/form-data; boundary=...`. */
  contentType: string;
  /** The boundary. */
  boundary: string;
}

function quote(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * Serializes multipart/form-data to bytes with the fields in the given order, so the signed SHA-256 covers
 * exactly the bytes sent.
 */
export function encodeMultipart(
  fields: readonly MultipartField[],
  boundary: string = randomBytes(16).toString('hex'),
): MultipartBody {
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${quote(field.name)}"`;
    if ('filename' in field)
      head += `; filename="${quote(field.filename)}"\r\nContent-Type: ${field.contentType}`;
    head += '\r\n\r\n';
    parts.push(
      utf8ToBytes(head),
      'data' in field ? field.data : utf8ToBytes(field.value),
      utf8ToBytes('\r\n'),
    );
  }
  parts.push(utf8ToBytes(`--${boundary}--\r\n`));
  return { body: concatBytes(...parts), contentType: `multipart/form-data; boundary=${boundary}`, boundary };
}

/** Options of {@link imageUploadBody}. */
export interface ImageUploadOptions {
  /** `--public`. */
  public?: boolean;
  /** Logo id, or none (`__none__`). */
  logoId?: string | null;
  /** The `image` field (Python sends a pickle; this port sends a placeholder, section 14.3). */
  imagePlaceholder?: string;
  /** Fixed boundary (tests). */
  boundary?: string;
}

/** Placeholder sent in the `image` field instead of a Python pickle. */
export const IMAGE_FIELD_PLACEHOLDER = 'typescript-sdk:no-pickle';

/** The `POST /images/` multipart body: fields of section 8.3 in order, then `build_context` (`chute.zip`). */
export function imageUploadBody(
  image: Image,
  zip: Uint8Array,
  options: ImageUploadOptions = {},
): MultipartBody {
  return encodeMultipart(
    [
      { name: 'username', value: image.username },
      { name: 'name', value: image.name },
      { name: 'tag', value: image.tag },
      { name: 'readme', value: image.readme || '' },
      { name: 'dockerfile', value: image.toString() },
      { name: 'public', value: options.public ? 'True' : 'False' },
      { name: 'logo_id', value: options.logoId ? String(options.logoId) : '__none__' },
      { name: 'wait', value: 'False' },
      { name: 'image', value: options.imagePlaceholder ?? IMAGE_FIELD_PLACEHOLDER },
      { name: 'build_context', filename: 'chute.zip', contentType: 'application/zip', data: zip },
    ],
    options.boundary,
  );
}

function startsWith(data: Uint8Array, bytes: readonly number[], offset = 0): boolean {
  return bytes.every((byte, index) => data[offset + index] === byte);
}

const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));

/**
 * The image MIME type of a logo, from its content (magic bytes), never from its file name: PNG, JPEG, GIF, WebP,
 * BMP, ICO, AVIF or SVG; null for anything else.
 */
export function sniffImageType(data: Uint8Array): string | null {
  if (startsWith(data, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(data, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(data, ascii('GIF87a')) || startsWith(data, ascii('GIF89a'))) return 'image/gif';
  if (startsWith(data, ascii('RIFF')) && startsWith(data, ascii('WEBP'), 8)) return 'image/webp';
  if (startsWith(data, ascii('ftypavif'), 4) || startsWith(data, ascii('ftypavis'), 4)) return 'image/avif';
  if (startsWith(data, ascii('BM')) && data.length >= 26) return 'image/bmp';
  if (startsWith(data, [0x00, 0x00, 0x01, 0x00]) && data.length >= 22) return 'image/vnd.microsoft.icon';
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(data.subarray(0, 4096))
    .replace(/^\uFEFF/, '');
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head))
    return 'image/svg+xml';
  return null;
}

/**
 * The `POST /logos/` multipart body: one file field `logo` whose MIME type comes from the file's content.
 * @throws ChutesCliError `ERR_VALIDATION` when the content is not a recognised image (the server requires `image/*`).
 */
export function logoUploadBody(filename: string, data: Uint8Array, boundary?: string): MultipartBody {
  const contentType = sniffImageType(data);
  if (!contentType) {
    throw new ChutesCliError(
      'ERR_VALIDATION',
      `logo ${basename(filename)} is not a PNG, JPEG, GIF, WebP, AVIF, BMP, ICO or SVG image (checked by content)`,
    );
  }
  return encodeMultipart([{ name: 'logo', filename: basename(filename), contentType, data }], boundary);
}
