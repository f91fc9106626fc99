// Every README's code blocks run as written (docs-test markers aside), against the packages as they would be
// published: `pnpm pack` tarballs installed into an empty project per README. `ts` blocks are also type-checked
// there with `skipLibCheck: false`, which proves the published declarations compile for consumers.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from '../src/blocks.js';
import { createUserProject, packWorkspace, pnpmScript, repositoryRoot, runCommand } from '../src/project.js';
import { readmeScript } from '../src/script.js';

const readmes = [
  'README.md',
  ...readdirSync(join(repositoryRoot, 'packages'))
    .sort()
    .map((name) => `packages/${name}/README.md`),
];

let work: string;
let tarballs: Map<string, string>;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'docs-test-'));
  tarballs = packWorkspace(join(work, 'tarballs'));
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * `npm_config_cafile` for the README scripts: the one set for this process, else the bundle Node itself is told
 * to trust (`NODE_EXTRA_CA_CERTS`), else nothing.
 */
function registryCaFile(): Record<string, string> {
  const cafile = process.env.npm_config_cafile ?? process.env.NODE_EXTRA_CA_CERTS;
  return cafile ? { npm_config_cafile: cafile } : {};
}

describe.each(readmes)('%s', (readme) => {
  const text = readFileSync(join(repositoryRoot, readme), 'utf8');
  const blocks = readmeBlocks(text);

  it('marks every block it does not run, with a reason', () => {
    for (const block of blocks) {
      if (block.language !== undefined && block.mode !== 'run')
        expect(block.reason, `line ${block.line}`).toBeTruthy();
    }
  });

  const runnable = blocks.filter((block) => block.language !== undefined && block.mode !== 'skip');
  it.skipIf(runnable.length === 0)(
    'runs as written',
    async () => {
      const dir = join(work, readme.replace(/\//g, '_').replace(/\.md$/, ''));
      createUserProject(dir, tarballs);
      const { script, modules } = readmeScript(blocks);
      for (const module of modules) {
        writeFileSync(join(dir, module.file), module.code);
        if (module.typescript) {
          const { code } = await transform(module.code, { loader: 'ts', format: 'esm', target: 'node20' });
          writeFileSync(join(dir, module.file.replace(/\.ts$/, '.mjs')), code);
        }
      }
      writeFileSync(join(dir, 'readme.sh'), script);
      const home = join(dir, 'home');
      const env = {
        // A user's shell: without the npm_config_* variables `pnpm test` sets (npm warns about each of them).
        ...Object.fromEntries(
          Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')),
        ),
        // The CA bundle this machine's npm trusts (npm reads it from its global npmrc, which a Node installed from
        // the npm registry does not share): kept, so that its npm and pnpm reach the registry as the user's do.
        ...registryCaFile(),
        HOME: home,
        PATH: `${join(dir, 'node_modules/.bin')}:${process.env.PATH}`,
        DOCS_TEST_PNPM: pnpmScript,
        DOCS_TEST_LOGS: dir,
        NO_COLOR: '1',
      };
      const run = await runCommand('bash', ['readme.sh'], { cwd: dir, env, timeoutMs: 240_000 });
      expect(run.code, `${readme}: the script failed\n${run.output}`).toBe(0);

      if (modules.some((module) => module.typescript)) {
        const types = await runCommand(
          process.execPath,
          [pnpmScript, 'add', '--prefer-offline', '--silent', '--save-dev', '@types/node@^20.19.0'],
          { cwd: dir, env, timeoutMs: 120_000 },
        );
        expect(types.code, types.output).toBe(0);
        const tsc = join(repositoryRoot, 'tooling/docs-test/node_modules/typescript/bin/tsc');
        const check = await runCommand(process.execPath, [tsc, '-p', 'tsconfig.json'], {
          cwd: dir,
          env,
          timeoutMs: 120_000,
        });
        expect(check.code, `${readme}: type errors in its ts blocks\n${check.output}`).toBe(0);
      }
    },
    420_000,
  );
});
