import type { ReadmeBlock } from './blocks.js';

/** A README turned into one bash script plus the module files its `ts`/`js` blocks become. */
export interface ReadmeScript {
  /** The bash script: every runnable block in order, as a user would type or run it. */
  readonly script: string;
  /** Files to write beside the script: `block-<line>.ts` / `block-<line>.mjs` per runnable or typecheck block. */
  readonly modules: ReadonlyArray<{ file: string; code: string; run: boolean; typescript: boolean }>;
}

// The prelude every README script starts with. `npm install` becomes __install (pnpm from the local tarballs,
// see project.ts); a command a user leaves running with `&` becomes __background, which waits (up to 120 s) for its
// first line of output that is not an npm warning (every server here prints one when it is ready) and shows that
// output when the script fails.
const PRELUDE = `set -euo pipefail
__logs=()
__install() {
  local args=()
  for arg in "$@"; do case "$arg" in -g|--global|--save|-S) ;; *) args+=("$arg") ;; esac; done
  node "$DOCS_TEST_PNPM" add --prefer-offline --silent "\${args[@]}"
}
__background() {
  local log="$1"; shift
  __logs+=("$log")
  ( eval "$*" ) >"$log" 2>&1 &
  for _ in $(seq 1 2400); do
    grep -qiv '^npm warn' "$log" 2>/dev/null && { grep -iv '^npm warn' "$log" | head -n 1; return 0; }
    kill -0 $! 2>/dev/null || break
    sleep 0.05
  done
  echo "background command printed nothing (or exited): $*" >&2; cat "$log" >&2; return 1
}
__on_exit() {
  local code=$?
  if [ "$code" -ne 0 ]; then for log in "\${__logs[@]}"; do echo "--- output of a background command ($log):" >&2; cat "$log" >&2; done; fi
}
trap __on_exit EXIT
`;

const BACKGROUND = /^(.*[^&\s])\s*&\s*(#.*)?$/;
const INSTALL = /^npm\s+(?:install|i|add)\b(.*)$/;

function shellLine(line: string, index: number): string {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return line;
  const install = INSTALL.exec(trimmed);
  if (install) return `__install${install[1]}`;
  const background = BACKGROUND.exec(trimmed);
  if (background && !trimmed.endsWith('&&')) {
    const command = background[1]!.replace(/'/g, `'\\''`);
    return `__background "$DOCS_TEST_LOGS/background-${index}.log" '${command}'`;
  }
  return line;
}

/**
 * Builds the script of a README from its blocks (skipped blocks are left out; `typecheck` blocks become modules
 * that are type-checked but not run).
 */
export function readmeScript(blocks: readonly ReadmeBlock[]): ReadmeScript {
  const parts = [PRELUDE];
  const modules: Array<{ file: string; code: string; run: boolean; typescript: boolean }> = [];
  let lineIndex = 0;
  for (const block of blocks) {
    if (block.mode === 'skip' || block.language === undefined) continue;
    parts.push(
      `# --- README line ${block.line} (${block.language}${block.mode === 'run' ? '' : `, ${block.mode}`})`,
    );
    if (block.language === 'sh') {
      parts.push(...block.code.split('\n').map((line) => shellLine(line, lineIndex++)));
      continue;
    }
    const typescript = block.language === 'ts';
    const file = `block-${block.line}.${typescript ? 'ts' : 'mjs'}`;
    const run = block.mode === 'run';
    modules.push({ file, code: block.code, run, typescript });
    if (run) parts.push(`node ${typescript ? file.replace(/\.ts$/, '.mjs') : file}`);
  }
  return { script: `${parts.join('\n')}\n`, modules };
}
