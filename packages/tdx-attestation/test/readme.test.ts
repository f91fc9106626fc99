// Runs every fenced ts and sh block of the README as written, in a scratch project that has this package installed
// (a node_modules symlink to the built package, and its bin). A `console.log(…); // expected` comment is checked
// against the output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```(ts|sh)\n([\s\S]*?)```/g)].map((match) => ({
  language: match[1]!,
  code: match[2]!,
}));
/** The one block that needs the npm registry. */
const INSTALL = 'npm install @confidential-ai/tdx-attestation\n';

let project: string;
beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'tdx-readme-'));
  mkdirSync(join(project, 'node_modules', '@confidential-ai'), { recursive: true });
  mkdirSync(join(project, 'node_modules', '.bin'));
  symlinkSync(packageDir, join(project, 'node_modules', '@confidential-ai', 'tdx-attestation'), 'dir');
  const bin = join(project, 'node_modules', '.bin', 'tdx-attestation');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${join(packageDir, 'dist', 'bin.js')}" "$@"\n`, {
    mode: 0o755,
  });
  writeFileSync(join(project, 'package.json'), '{ "type": "module", "private": true }\n');
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** The environment a user's shell has: without the npm_config_* variables `pnpm test` sets (npm warns on them). */
function userEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')),
  );
}

function expectedOutputs(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((match) => match[1]!.trim());
}

describe('README examples run as written', () => {
  it('has the examples this test expects', () => {
    expect(blocks.map((block) => block.language)).toEqual(['sh', 'ts', 'ts', 'sh']);
    expect(blocks[0]!.code).toBe(INSTALL);
  });

  blocks.forEach((block, index) => {
    if (block.code === INSTALL) return;
    it(`block ${index + 1} (${block.language})`, () => {
      let result: ReturnType<typeof spawnSync>;
      if (block.language === 'ts') {
        const { outputText } = ts.transpileModule(block.code, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        });
        const file = join(project, `example-${index + 1}.mjs`);
        writeFileSync(file, outputText);
        result = spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', timeout: 60_000 });
      } else {
        result = spawnSync('bash', ['-e', '-c', block.code], {
          cwd: project,
          encoding: 'utf8',
          timeout: 60_000,
          env: userEnvironment(),
        });
      }
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const lines = String(result.stdout).trim().split('\n');
      for (const expected of expectedOutputs(block.code)) expect(lines).toContain(expected);
      if (block.language === 'sh') {
        expect(JSON.parse(String(result.stdout))).toMatchObject({ ok: true, tcbStatus: 'UpToDate' });
      }
    });
  });
});
