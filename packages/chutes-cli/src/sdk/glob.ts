import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

const MAGIC = /[*?[]/;

function segmentToRegExp(segment: string): RegExp {
  let source = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        let body = segment.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        source += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * A synchronous glob with the semantics of Python's `glob.glob(pattern, recursive=True)` that the Image DSL
 * relies on: `*`, `?`, `[...]` within a segment, `**` across directories, hidden names only when the pattern
 * segment starts with `.`, results relative to `cwd` when the pattern is relative, and a literal path returned
 * as given when it exists.
 */
export function globSync(pattern: string, cwd: string): string[] {
  const absolute = (path: string): string => (isAbsolute(path) ? path : join(cwd, path));
  if (!MAGIC.test(pattern)) return exists(absolute(pattern)) ? [pattern] : [];
  const rooted = pattern.startsWith('/');
  const segments = pattern.split('/').filter((segment, index) => segment !== '' || index === 0);
  let current: string[] = [rooted ? '/' : ''];
  if (rooted) segments.shift();
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    const last = index === segments.length - 1;
    const next: string[] = [];
    const joinPath = (base: string, name: string): string =>
      base === '' ? name : base === '/' ? `/${name}` : `${base}/${name}`;
    if (segment === '**') {
      for (const base of current) {
        const stack: string[] = [base];
        while (stack.length > 0) {
          const dir = stack.pop()!;
          if (dir === base && base !== '' && last) next.push(base === '/' ? '/' : `${base}/`);
          else if (dir !== '' || !last) next.push(dir);
          for (const name of list(absolute(dir === '' ? '.' : dir))) {
            if (name.startsWith('.')) continue;
            const child = joinPath(dir, name);
            if (isDir(absolute(child))) stack.push(child);
            else if (last) next.push(child);
          }
        }
      }
    } else if (!MAGIC.test(segment)) {
      for (const base of current) {
        const child = joinPath(base, segment);
        if (last ? exists(absolute(child)) : isDir(absolute(child))) next.push(child);
      }
    } else {
      const regexp = segmentToRegExp(segment);
      for (const base of current) {
        if (base !== '' && !isDir(absolute(base))) continue;
        for (const name of list(absolute(base === '' ? '.' : base))) {
          if (name.startsWith('.') && !segment.startsWith('.')) continue;
          if (!regexp.test(name)) continue;
          const child = joinPath(base, name);
          if (last || isDir(absolute(child))) next.push(child);
        }
      }
    }
    current = [...new Set(next)].sort();
  }
  return current.filter((path) => path !== '');
}
