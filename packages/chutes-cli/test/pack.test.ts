import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from './helpers.js';
import { type ProcessSetup, processSetup, runProcess } from './process.js';

const run = promisify(execFile);
const PNPM = fileURLToPath(new URL('../../../scripts/pnpm.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/python', import.meta.url));

let dir: string;
let files: string[];
let env: ProcessSetup;
beforeAll(async () => {
  const root = join(PACKAGE_DIR, 'node_modules', '.tmp');
  await mkdir(root, { recursive: true });
  dir = await mkdtemp(join(root, 'pack-'));
  await run(process.execPath, [PNPM, 'pack', '--pack-destination', dir], { cwd: PACKAGE_DIR });
  const tarball = (await readdir(dir)).find((name) => name.endsWith('.tgz'))!;
  await run('tar', ['-xzf', join(dir, tarball), '-C', dir]);
  const { stdout } = await run('tar', ['-tzf', join(dir, tarball)]);
  files = stdout
    .trim()
    .split('\n')
    .map((line) => line.replace(/^package\//, ''));
  // The unpacked package with its dependencies, as an install would have it.
  await symlink(join(PACKAGE_DIR, 'node_modules'), join(dir, 'package', 'node_modules'));
  env = await processSetup();
  await cp(FIXTURES, env.dir, { recursive: true });
}, 180_000);
afterAll(async () => {
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships the template schemas and the Python recorder as data, without tests or caches', () => {
    for (const name of ['vllm', 'embedding', 'diffusion'])
      expect(files).toContain(`data/template-schemas/${name}.json`);
    expect(files).toContain('data/template-schemas/README.md');
    for (const path of [
      'python/record_chute.py',
      'python/chutes/__init__.py',
      'python/chutes/image/__init__.py',
      'python/chutes/chute/template/vllm.py',
      'python/chutes/chute/template/diffusion.py',
      'python/fallbacks/fastapi/responses.py',
      'dist/bin/chutes.js',
    ])
      expect(files).toContain(path);
    expect(files.filter((path) => /__pycache__|\.test\.ts$|\.pyc$/.test(path))).toEqual([]);
    expect(files.some((path) => path.startsWith('src/sdk/template-schemas') && path.endsWith('.json'))).toBe(
      false,
    );
  });

  it('works from the tarball: a Python template module deploys with the schemas read from data/', async () => {
    env.api.addImage({ username: 'chutes', name: 'diffusion', tag: '0.34.0.po', public: true });
    const result = await runProcess(
      join(dir, 'package', 'dist', 'bin', 'chutes.js'),
      ['deploy', 'templates:diffusion', '--accept-fee', '--json'],
      { env: env.env, cwd: env.dir },
    );
    expect(result.stderr).not.toContain('ERR_');
    expect(result.code).toBe(0);
    const body = JSON.parse(new TextDecoder().decode(env.api.requests.at(-1)!.body)) as {
      cords: Array<{ input_schema: { definitions: Record<string, unknown> } }>;
    };
    expect(Object.keys(body.cords[0]!.input_schema.definitions)).toEqual(['GenerationInput']);
  });
});
