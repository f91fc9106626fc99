import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToUtf8 } from '@confidential-ai/bytes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJsonExact, sha256Hex } from '../src/index.js';
import { parseMultipart } from '../src/testing/index.js';
import { expectSigned } from './helpers.js';
import { chutes, type ProcessSetup, processSetup } from './process.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/python', import.meta.url));
/** What the Python chutes SDK itself sends for the fixture modules (see vectors/README.md). */
const GOLDEN = parseJsonExact(
  await readFile(fileURLToPath(new URL('./vectors/python-sdk-deploy.json', import.meta.url)), 'utf8'),
) as Record<
  string,
  { deploy_body?: Record<string, unknown>; dockerfile?: string; image_uid?: string; error?: string }
>;

let env: ProcessSetup;
beforeEach(async () => {
  env = await processSetup();
  await cp(FIXTURES, env.dir, { recursive: true });
});
afterEach(async () => {
  await env.close();
});

function deployBodies(): Array<Record<string, unknown>> {
  return env.api.requests
    .filter((request) => request.method === 'POST' && request.path === '/chutes/' && request.status === 200)
    .map((request) => parseJsonExact(bytesToUtf8(request.body)) as Record<string, unknown>);
}

describe('Python chute modules without the Python chutes SDK (child processes)', () => {
  it('builds and deploys the SDK README vLLM chute (llama1b.py) exactly as the SDK does', async () => {
    const golden = GOLDEN['llama1b:chute']!;
    let result = await chutes(['build', 'llama1b:chute', '--yes', '--json'], { env: env.env, cwd: env.dir });
    expect(result.stderr).not.toContain('ERR_');
    expect(result.code).toBe(0);
    const exists = env.api.requests[0]!;
    expect(exists.path).toBe(`/images/${golden.image_uid}`);
    const upload = env.api.requests.find((request) => request.path === '/images/')!;
    expectSigned(upload, sha256Hex(upload.body));
    const parts = parseMultipart(upload.body, upload.headers['content-type'])!;
    const field = (name: string): string => bytesToUtf8(parts.find((part) => part.name === name)!.data);
    expect(field('dockerfile')).toBe(golden.dockerfile);
    expect([field('username'), field('name'), field('tag')]).toEqual(['alice', 'vllm', '0.6.3']);

    result = await chutes(['deploy', 'llama1b:chute', '--accept-fee', '--json'], {
      env: env.env,
      cwd: env.dir,
    });
    expect(result.stderr).toContain(
      'Deployment fee notice: this new chute costs a one-time fee of about $0.60',
    );
    expect(result.code).toBe(0);
    const [body] = deployBodies();
    expect(body).toEqual(golden.deploy_body);
    expect(body!['code']).toBe(await readFile(join(FIXTURES, 'llama1b.py'), 'utf8'));
    expect([body!['filename'], body!['ref_str']]).toEqual(['llama1b.py', 'llama1b:chute']);
  });

  it('builds and deploys the SDK README custom chute (pydantic inputs, cords, startup hook) as the SDK does', async () => {
    const golden = GOLDEN['custom:chute']!;
    let result = await chutes(['build', 'custom:chute', '--yes'], { env: env.env, cwd: env.dir });
    expect(result.code).toBe(0);
    const upload = env.api.requests.find((request) => request.path === '/images/')!;
    const parts = parseMultipart(upload.body, upload.headers['content-type'])!;
    expect(bytesToUtf8(parts.find((part) => part.name === 'dockerfile')!.data)).toBe(golden.dockerfile);
    result = await chutes(['deploy', 'custom.py:chute', '--accept-fee'], { env: env.env, cwd: env.dir });
    expect(result.code).toBe(0);
    expect(deployBodies()[0]).toEqual(golden.deploy_body);
  });

  it('deploys the SGLang, embedding and diffusion template modules as the SDK does', async () => {
    env.api.addImage({ username: 'chutes', name: 'sglang', tag: 'nightly-2025111800', public: true });
    env.api.addImage({ username: 'chutes', name: 'vllm', tag: 'nightly-2025111700', public: true });
    env.api.addImage({ username: 'chutes', name: 'diffusion', tag: '0.34.0.po', public: true });
    for (const ref of ['templates:sglang', 'templates:embed', 'templates:diffusion']) {
      const result = await chutes(['deploy', ref, '--accept-fee'], { env: env.env, cwd: env.dir });
      expect(result.stderr, ref).not.toContain('ERR_');
      expect(result.code, ref).toBe(0);
      expect(deployBodies().at(-1), ref).toEqual(GOLDEN[ref]!.deploy_body);
    }
  });

  it('a vLLM module without revision= fails with the SDK message, suggesting the Hub main commit when reachable', async () => {
    const closed = await chutes(['deploy', 'norevision:chute', '--accept-fee'], {
      env: { ...env.env, HF_ENDPOINT: 'http://127.0.0.1:1' },
      cwd: env.dir,
    });
    expect(closed.code).toBe(11);
    expect(closed.stderr).toBe(`chutes: ERR_VALIDATION: ${GOLDEN['norevision:chute']!.error}\n`);
    expect(env.api.requests).toHaveLength(0);

    const commit = 'f'.repeat(40);
    const seen: string[] = [];
    const hub: Server = createServer((request, response) => {
      seen.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ branches: [{ name: 'main', ref: 'refs/heads/main', targetCommit: commit }] }),
      );
    });
    await new Promise<void>((resolvePromise) => hub.listen(0, '127.0.0.1', () => resolvePromise()));
    try {
      const { port } = hub.address() as { port: number };
      const result = await chutes(['build', 'norevision:chute', '--yes'], {
        env: { ...env.env, HF_ENDPOINT: `http://127.0.0.1:${port}` },
        cwd: env.dir,
      });
      expect(result.code).toBe(11);
      expect(result.stderr).toBe(
        `chutes: ERR_VALIDATION: You must specify revision= to properly lock a model to a given huggingface revision. The current refs/heads/main commit is: ${commit}\n`,
      );
      expect(seen).toEqual(['/api/models/unsloth/Llama-3.2-1B-Instruct/refs']);
    } finally {
      await new Promise((resolvePromise) => hub.close(resolvePromise));
    }
  });

  it('without python3 on PATH: a typed error naming the fix', async () => {
    const empty = join(env.dir, 'empty-bin');
    await mkdir(empty);
    const result = await chutes(['deploy', 'llama1b:chute', '--accept-fee'], {
      env: { ...env.env, PATH: empty, CHUTES_PYTHON: undefined },
      cwd: env.dir,
    });
    expect(result.code).toBe(12);
    expect(result.stderr).toBe(
      'chutes: ERR_PYTHON_MISSING: python3 was not found in PATH: .py chute modules are read by running Python 3.8+ (install it, or set CHUTES_PYTHON to its path)\n',
    );
  });

  it('a module that fails to import, or names no chute, is a load error with the Python message', async () => {
    await writeFile(join(env.dir, 'broken.py'), 'import definitely_not_installed_module\n');
    let result = await chutes(['build', 'broken:chute', '--yes'], { env: env.env, cwd: env.dir });
    expect(result.code).toBe(11);
    expect(result.stderr).toBe(
      "chutes: ERR_MODULE_LOAD: cannot load broken.py: ModuleNotFoundError: No module named 'definitely_not_installed_module'\n",
    );
    result = await chutes(['deploy', 'llama1b:other', '--yes'], { env: env.env, cwd: env.dir });
    expect(result.code).toBe(11);
    expect(result.stderr).toBe(
      "chutes: ERR_MODULE_LOAD: cannot load llama1b.py: LookupError: Unable to find chute 'other' in module 'llama1b'\n",
    );
  });
});
