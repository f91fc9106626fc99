import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root (this file is tooling/docs-test/src/project.ts). */
export const repositoryRoot = new URL('../../../', import.meta.url).pathname;

/** `node scripts/pnpm.mjs`: the pinned pnpm, fetched from the npm registry. */
export const pnpmScript = join(repositoryRoot, 'scripts/pnpm.mjs');

/**
 * Packs every workspace package as npm would publish it (`pnpm pack`: `workspace:` ranges become versions, only
 * `files` are included) and returns the tarball of each package name.
 * @throws {Error} when packing fails.
 */
export function packWorkspace(destination: string): Map<string, string> {
  mkdirSync(destination, { recursive: true });
  const result = spawnSync(
    process.execPath,
    [pnpmScript, '-r', '--filter', './packages/*', 'pack', '--pack-destination', destination],
    { cwd: repositoryRoot, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`pnpm pack failed:\n${result.stdout}\n${result.stderr}`);
  const tarballs = new Map<string, string>();
  for (const file of readdirSync(destination)) {
    const match = /^confidential-ai-(.+)-\d+\.\d+\.\d+(?:-[\w.]+)?\.tgz$/.exec(file);
    if (match) tarballs.set(`@confidential-ai/${match[1]}`, join(destination, file));
  }
  return tarballs;
}

/**
 * Creates an empty ESM project in `dir` whose `@confidential-ai/*` dependencies resolve to the packed tarballs
 * (pnpm overrides), so `npm install @confidential-ai/x` in a README installs what would be published. The project
 * type-checks README blocks as a consumer would: `skipLibCheck: false`, NodeNext resolution.
 */
export function createUserProject(dir: string, tarballs: ReadonlyMap<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const overrides = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  const manifest = { name: 'docs-test-project', private: true, type: 'module', pnpm: { overrides } };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022', 'DOM'],
      types: ['node'],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    },
    include: ['block-*.ts'],
  };
  writeFileSync(join(dir, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
}

/** Output and exit status of a finished command. */
export interface CommandResult {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs a command in its own process group and waits for it; whatever it left running in the background
 * (servers a README starts with `&`) is stopped afterwards. Output is interleaved stdout + stderr.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const stopGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group is gone
      }
    };
    const timer = setTimeout(() => {
      output += `\n[docs-test] timed out after ${options.timeoutMs} ms`;
      stopGroup('SIGKILL');
    }, options.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      stopGroup('SIGTERM');
      setTimeout(() => stopGroup('SIGKILL'), 2000).unref();
      resolve({ code, output });
    });
  });
}
