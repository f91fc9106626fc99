/**
 * Fenced code blocks of a README and how the docs test treats each one.
 *
 * A block runs as written unless the HTML comment right above its fence says otherwise:
 * - `<!-- docs-test: skip (reason) -->`: not run; the reason is required (e.g. "run by quick-start.test.ts").
 * - `<!-- docs-test: typecheck (reason) -->`: a `ts` block that needs something the test cannot have (a real
 *   account): type-checked against the installed packages, not run.
 * Blocks in other languages than `sh`/`bash`/`ts`/`js` (output samples, synopses, diagrams: no info string or
 * `text`) are never run.
 */

/** How a block is treated. */
export type BlockMode = 'run' | 'typecheck' | 'skip';

/** The language a runnable block is in. */
export type BlockLanguage = 'sh' | 'ts' | 'js';

/** One fenced block of a README. */
export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The language, or `undefined` for a block that is not code (output, synopsis). */
  readonly language: BlockLanguage | undefined;
  /** What the docs test does with it. */
  readonly mode: BlockMode;
  /** The reason given with `skip` / `typecheck`. */
  readonly reason?: string;
  /** The block's text (lines between the fences, joined with `\n`, ending with `\n`). */
  readonly code: string;
}

const LANGUAGES: Record<string, BlockLanguage> = { sh: 'sh', bash: 'sh', shell: 'sh', ts: 'ts', js: 'js' };
const MARKER = /^<!--\s*docs-test:\s*(skip|typecheck)\s*\(([^)]+)\)\s*-->\s*$/;

/**
 * Extracts the fenced blocks of a Markdown text.
 * @throws {SyntaxError} for a fence that is never closed, a `docs-test` marker that is malformed, not followed
 * by a fence, or `typecheck` above a block that is not `ts`/`js`.
 */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  let marker: { mode: BlockMode; reason: string; line: number } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    if (text.includes('docs-test:')) {
      const match = MARKER.exec(text.trim());
      if (!match) throw new SyntaxError(`line ${index + 1}: malformed docs-test marker: ${text.trim()}`);
      marker = { mode: match[1] as BlockMode, reason: match[2]!.trim(), line: index + 1 };
      continue;
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(text);
    if (!fence) {
      if (marker && text.trim() !== '')
        throw new SyntaxError(`line ${marker.line}: a docs-test marker must be followed by a code fence`);
      continue;
    }
    const close = fence[2]!;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(close)) body.push(lines[end++]!);
    if (end >= lines.length) throw new SyntaxError(`line ${index + 1}: code fence is never closed`);
    const language = LANGUAGES[fence[3]!.toLowerCase()];
    if (marker?.mode === 'typecheck' && language !== 'ts' && language !== 'js') {
      throw new SyntaxError(`line ${marker.line}: typecheck applies to ts/js blocks only`);
    }
    const mode: BlockMode = language === undefined ? 'skip' : (marker?.mode ?? 'run');
    blocks.push({
      line: index + 1,
      language,
      mode,
      ...(marker ? { reason: marker.reason } : {}),
      code: body.length > 0 ? `${body.join('\n')}\n` : '',
    });
    marker = undefined;
    index = end;
  }
  if (marker)
    throw new SyntaxError(`line ${marker.line}: a docs-test marker must be followed by a code fence`);
  return blocks;
}
