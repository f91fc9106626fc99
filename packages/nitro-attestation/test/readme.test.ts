// Every runnable block of README.md runs as written, in order, from a project where the package is installed
// (node_modules/@confidential-ai/nitro-attestation links to this package, with its built dist and shipped
// fixtures; its bin is on PATH as `npm install` would put it). Blocks marked
// `<!-- docs-test: skip (…) -->` or `<!-- docs-test: typecheck (…) -->` need a live gateway and are not run.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface Block {
  language: string;
  code: string;
  marked: boolean;
}

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  const pattern = /(<!--\s*docs-test:[^>]*-->\s*\n)?```(\w*)\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern)) {
    found.push({ language: match[2]!, code: match[3]!, marked: match[1] !== undefined });
  }
  return found;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd,
        timeout: 200_000,
        env: {
          ...process.env,
          PATH: `${join(cwd, 'node_modules/.bin')}:${process.env.PATH}`,
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

it('every runnable README block runs as written', { timeout: 400_000 }, async () => {
  if (!existsSync(join(packageDir, 'dist/cli.js'))) throw new Error('dist is missing: run `npx tsup` first');
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const all = blocks(readme);
  const runnable = all.filter((block) => !block.marked && ['sh', 'ts', 'js'].includes(block.language));
  expect(runnable.map((block) => block.language)).toEqual(['sh', 'ts', 'sh']);
  expect(all.filter((block) => block.marked)).toHaveLength(2);

  const project = mkdtempSync(join(tmpdir(), 'nitro-readme-'));
  writeFileSync(join(project, 'package.json'), '{"name":"readme-user","private":true,"type":"module"}\n');
  mkdirSync(join(project, 'node_modules/@confidential-ai'), { recursive: true });
  mkdirSync(join(project, 'node_modules/.bin'));
  symlinkSync(packageDir, join(project, 'node_modules/@confidential-ai/nitro-attestation'), 'dir');
  const bin = join(project, 'node_modules/.bin/nitro-attestation');
  writeFileSync(bin, `#!/bin/sh\nexec node ${JSON.stringify(join(packageDir, 'dist/cli.js'))} "$@"\n`);
  chmodSync(bin, 0o755);

  const outputs: string[] = [];
  for (const [index, block] of runnable.entries()) {
    let result: { code: number; output: string };
    if (block.language === 'sh') {
      // The package is already installed in the project; every other line runs as written.
      const script = block.code.replace(/^npm install @confidential-ai\/nitro-attestation$/m, 'true');
      writeFileSync(join(project, `block-${index}.sh`), `set -euo pipefail\n${script}`);
      result = await run('bash', [`block-${index}.sh`], project);
    } else {
      // The example uses no TypeScript-only syntax, so it runs as an ES module.
      writeFileSync(join(project, `block-${index}.mjs`), block.code);
      result = await run(process.execPath, [`block-${index}.mjs`], project);
    }
    expect(result.code, `block ${index} (${block.language}):\n${block.code}\n${result.output}`).toBe(0);
    outputs.push(result.output);
  }
  expect(outputs[1]).toContain('i-020b6af9246d90e92-enc0183d09086c24190 false [ 0, 1, 2, 8 ]');
  expect(JSON.parse(outputs[2]!)).toMatchObject({ ok: true, checks: { pcrs: [0, 1, 2, 8] } });
});
