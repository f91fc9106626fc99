import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToUtf8 } from '@confidential-ai/bytes';
import { unzipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Image, sha256Hex, uuid5 } from '../src/index.js';
import { parseMultipart } from '../src/testing/index.js';
import { bodyText, expectSigned, type Setup, SRC_INDEX, setup } from './helpers.js';

const CONTEXT = fileURLToPath(new URL('./fixtures/context', import.meta.url));
const GOLDEN = fileURLToPath(new URL('./golden', import.meta.url));
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));
/** A 1x1 transparent PNG. */
const PNG_1X1 = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='),
  (char) => char.charCodeAt(0),
);

let env: Setup;
beforeEach(async () => {
  env = await setup();
  await cp(CONTEXT, env.dir, { recursive: true });
  await writeFile(
    join(env.dir, 'custom.ts'),
    `import { Chute, Image } from ${JSON.stringify(SRC_INDEX)};
const image: Image = new Image('alice', 'my-image', '0.1', 'readme!')
  .runCommand('pip install fastapi')
  .add('app.py', '/app/app.py')
  .add('lib', '/app/lib');
export const chute = new Chute({
  username: 'alice',
  name: 'custom',
  image,
  nodeSelector: { gpuCount: 1, minVramGbPerGpu: 24 },
  python: (variable: string) => \`from chutes.chute import Chute\\n\${variable} = Chute(username="alice", name="custom", image="x")\\n\`,
});
chute.cord({ function: 'echo', publicApiPath: '/echo', outputSchema: { type: 'object' } });
`,
  );
  await writeFile(
    join(env.dir, 'llama.ts'),
    `import { buildVllmChute } from ${JSON.stringify(SRC_INDEX)};
export const chute = buildVllmChute({
  username: 'alice',
  modelName: 'unsloth/Llama-3.2-1B-Instruct',
  revision: '9b58d4a36161a1e49ecf0a69d20b2736fef8e438',
  nodeSelector: { gpuCount: 1, minVramGbPerGpu: 16 },
  concurrency: 16,
});
`,
  );
  await writeFile(
    join(env.dir, 'plain.mjs'),
    `import { buildEmbeddingChute } from ${JSON.stringify(DIST_INDEX)};\n` +
      `export const embed = { chute: buildEmbeddingChute({ username: 'alice', modelName: 'BAAI/bge-m3', revision: '${'a'.repeat(40)}', nodeSelector: {}, poolingType: 'cls' }) };\n`,
  );
});
afterEach(async () => {
  await env.close();
});

/** Replaces the fake API of `env` with one made with `options`, keeping the chute modules. */
async function restart(options: Parameters<typeof setup>[0]): Promise<void> {
  const previous = env;
  await previous.api.close();
  env = await setup(options);
  await cp(CONTEXT, env.dir, { recursive: true });
  for (const file of ['custom.ts', 'llama.ts', 'plain.mjs'])
    await cp(join(previous.dir, file), join(env.dir, file));
  await previous.close();
}

describe('build', () => {
  it('uploads the multipart build context signed over its exact bytes, then streams logs with --wait', async () => {
    await restart({ buildCompletesAfterMs: null });
    const result = await env.cli(['build', 'custom:chute', '--wait', '--yes', '--json']);
    expect(result.stderr).toContain('Found 3 files to include in build context');
    expect(result.code).toBe(0);
    const [exists, upload, logs, logs2] = env.api.requests;
    expect(exists!.method).toBe('GET');
    expect(exists!.path).toBe(`/images/${new Image('alice', 'my-image', '0.1').uid}`);
    expectSigned(exists!, 'images');
    expect(exists!.status).toBe(404);
    expect(upload!.method).toBe('POST');
    expect(upload!.path).toBe('/images/');
    expect(upload!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=[0-9a-f]{32}$/);
    expect(upload!.headers['content-length']).toBe(String(upload!.body.length));
    expect(upload!.headers['x-chutes-version']).toBe('0.5.5.rc47');
    expectSigned(upload!, sha256Hex(upload!.body));
    const parts = parseMultipart(upload!.body, upload!.headers['content-type'])!;
    expect(parts.map((part) => part.name)).toEqual([
      'username',
      'name',
      'tag',
      'readme',
      'dockerfile',
      'public',
      'logo_id',
      'wait',
      'image',
      'build_context',
    ]);
    const text = Object.fromEntries(
      parts.filter((part) => !part.filename).map((part) => [part.name, bytesToUtf8(part.data)]),
    );
    expect(text).toEqual({
      username: 'alice',
      name: 'my-image',
      tag: '0.1',
      readme: 'readme!',
      dockerfile:
        'FROM parachutes/python:3.12\nRUN pip install fastapi\nADD app.py /app/app.py\nADD lib /app/lib',
      public: 'False',
      logo_id: '__none__',
      wait: 'False',
      image: 'typescript-sdk:no-pickle',
    });
    const zip = parts.at(-1)!;
    expect(zip.filename).toBe('chute.zip');
    expect(zip.contentType).toBe('application/zip');
    const files = unzipSync(zip.data);
    expect(Object.keys(files).sort()).toEqual(['app.py', 'lib/data.txt', 'lib/util.py']);
    expect(bytesToUtf8(files['lib/util.py']!)).toBe(await readFile(join(env.dir, 'lib/util.py'), 'utf8'));
    expect(logs!.path).toMatch(/^\/images\/[0-9a-f-]{36}\/logs$/);
    expect(logs!.rawQuery).toBe('');
    expectSigned(logs!, 'images');
    expect(logs2).toBeUndefined();
    const output = JSON.parse(result.stdout) as { image_id: string; logs: string[]; files: string[] };
    expect(output.logs).toEqual([
      'Step 1/3 : FROM parachutes/python:3.12',
      'Step 2/3 : RUN pip install',
      'Successfully built',
    ]);
    expect(output.files).toEqual(['app.py', 'lib/data.txt', 'lib/util.py']);
    const stored = env.api.state.images.get(output.image_id)!;
    expect(stored['dockerfile']).toBe(`${text['dockerfile']}\n\nRUN pip install chutes==0.5.5`);

    // Finished builds answer text/plain; an existing image stops the build (exit 6).
    const again = await env.cli(['build', 'custom:chute', '--yes']);
    expect(again.code).toBe(6);
    expect(again.stderr).toBe('chutes: ERR_HTTP: Image with name=my-image and tag=0.1 already exists!\n');
  });

  it('--wait resumes an interrupted log stream from the last offset', async () => {
    await restart({ buildCompletesAfterLogStreams: 2, buildCompletesAfterMs: null });
    let cut = false;
    const result = await env.cli(['build', 'custom:chute', '--wait', '--yes', '--json'], {
      io: {
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (!cut && String(input).includes('/logs')) {
            cut = true;
            const reader = response.body!.getReader();
            const first = await reader.read();
            let sent = false;
            const body = new ReadableStream<Uint8Array>({
              pull(controller) {
                if (!sent) {
                  sent = true;
                  // Forward up to the end of the first data event, then fail.
                  const text = new TextDecoder().decode(first.value);
                  const end = text.indexOf('\n', text.indexOf('data: ')) + 1;
                  controller.enqueue(new TextEncoder().encode(text.slice(0, end)));
                } else controller.error(new Error('connection reset'));
              },
            });
            return new Response(body, { status: 200, headers: response.headers });
          }
          return response;
        },
      },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Error streaming logs, retrying');
    const logRequests = env.api.requests.filter((request) => request.path.endsWith('/logs'));
    expect(logRequests.map((request) => request.rawQuery)).toEqual(['', 'offset=0-0']);
    expect((JSON.parse(result.stdout) as { logs: string[] }).logs).toEqual([
      'Step 1/3 : FROM parachutes/python:3.12',
      'Step 2/3 : RUN pip install',
      'Successfully built',
    ]);
  });

  it('uploads a logo and honours --public and --include-cwd; declining aborts', async () => {
    // A PNG named .webp: the MIME type comes from the content, not the extension.
    await writeFile(join(env.dir, 'logo.webp'), PNG_1X1);
    let result = await env.cli(['build', 'custom.ts:chute', '--logo', 'logo.webp'], { prompts: ['n'] });
    expect(result.stderr).toContain('chutes: ERR_ABORTED: aborted');
    expect(result.code).toBe(10);
    result = await env.cli(['build', 'custom.ts:chute', '--logo', 'logo.webp', '--public', '--include-cwd'], {
      prompts: ['y'],
    });
    expect(result.code).toBe(0);
    const logo = env.api.requests.filter((request) => request.path === '/logos/').at(-1)!;
    const logoParts = parseMultipart(logo.body, logo.headers['content-type'])!;
    expect(logoParts).toHaveLength(1);
    expect(logoParts[0]).toMatchObject({ name: 'logo', filename: 'logo.webp', contentType: 'image/png' });
    expectSigned(logo, sha256Hex(logo.body));
    const upload = env.api.requests.at(-1)!;
    const parts = parseMultipart(upload.body, upload.headers['content-type'])!;
    const field = (name: string): string => bytesToUtf8(parts.find((part) => part.name === name)!.data);
    expect(field('public')).toBe('True');
    expect(field('logo_id')).toBe(
      bytesToUtf8(new TextEncoder().encode(String([...env.api.state.logos.keys()].at(-1)))),
    );
    expect(field('dockerfile').split('\n').at(-1)).toBe('ADD . /app');
    const names = Object.keys(unzipSync(parts.at(-1)!.data));
    expect(names).toContain('custom.ts');
    expect(names).toContain('.hidden');
  });

  it('--local runs docker build with the generated Dockerfile and Python module', async () => {
    const calls: Array<{ command: string; args: string[]; dockerfile: string; module: string }> = [];
    const result = await env.cli(['build', 'custom:chute', '--local'], {
      io: {
        run: async (command, args) => {
          const dockerfile = await readFile(args.at(-1)!, 'utf8');
          const added = /ADD (\S+) \/app\/custom\.py/.exec(dockerfile)![1]!;
          calls.push({ command, args, dockerfile, module: await readFile(join(env.dir, added), 'utf8') });
          return { code: 0 };
        },
      },
    });
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    expect(env.api.requests).toHaveLength(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.command).toBe('docker');
    expect(calls[0]!.args.slice(0, 5)).toEqual([
      'build',
      '--platform=linux/amd64',
      '-t',
      'my-image:0.1',
      '.',
    ]);
    expect(calls[0]!.args[5]).toBe('-f');
    expect(calls[0]!.dockerfile).toMatch(
      /^FROM parachutes\/python:3\.12\nRUN pip install fastapi\nADD app\.py \/app\/app\.py\nADD lib \/app\/lib\nRUN pip install chutes==0\.5\.5\.rc47\nADD \.chutes-build-\w+\/custom\.py \/app\/custom\.py$/,
    );
    expect(calls[0]!.module).toBe(
      'from chutes.chute import Chute\nchute = Chute(username="alice", name="custom", image="x")\n',
    );
  });

  it('--local without docker is exit 12; a failing docker build too', async () => {
    let result = await env.cli(['build', 'custom:chute', '--local']);
    expect(result.code).toBe(12);
    expect(result.stderr).toContain(
      '\nchutes: ERR_DOCKER: docker was not found in PATH; install Docker to use --local\n',
    );
    result = await env.cli(['build', 'custom:chute', '--local'], { io: { run: async () => ({ code: 3 }) } });
    expect(result.code).toBe(12);
  });

  it('refuses pre-built images and bad references', async () => {
    let result = await env.cli(['build', 'llama:chute', '--yes']);
    expect(result.code).toBe(11);
    expect(result.stderr).toContain("pre-defined/standard image 'chutes/vllm:nightly-2025111700'");
    result = await env.cli(['build', 'missing:chute']);
    expect(result.code).toBe(11);
    expect(result.stderr).toContain('no chute module found for "missing"');
    result = await env.cli(['build', 'custom:other']);
    expect(result.code).toBe(11);
    expect(result.stderr).toContain('has no Chute export named "other"');
  });
});

describe('deploy', () => {
  it('sends the deploy JSON (golden) with the generated Python module, fee notice first', async () => {
    env.api.addImage({ username: 'chutes', name: 'vllm', tag: 'nightly-2025111700', public: true });
    let result = await env.cli(['deploy', 'llama:chute', '--yes']);
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(
      'Deployment fee notice: this new chute costs a one-time fee of about $0.60',
    );
    expect(result.stderr).toMatch(
      /chutes: ERR_HTTP: deploying the chute failed with HTTP 402: DEPLOYMENT FEE NOTICE: .*\$0\.60.* \(re-run with --accept-fee to accept the fee\)\n$/,
    );
    const [image, existing, deploy] = env.api.requests;
    expect(image!.path).toBe('/images/chutes/vllm:nightly-2025111700');
    expectSigned(image!, 'images');
    expect(existing!.path).toBe('/chutes/unsloth/Llama-3.2-1B-Instruct');
    expect(existing!.status).toBe(404);
    expectSigned(existing!, 'chutes');
    expect(deploy!.path).toBe('/chutes/');
    expect(deploy!.rawQuery).toBe('accept_fee=false');
    expect(deploy!.headers['x-chutes-version']).toBe('0.5.5.rc47');
    expect(deploy!.headers['content-type']).toBe('application/json');
    expectSigned(deploy!, sha256Hex(deploy!.body));

    result = await env.cli(['deploy', 'llama:chute', '--accept-fee'], { prompts: ['y'] });
    expect(result.code).toBe(0);
    const chuteId = uuid5('alice::chute::unsloth/Llama-3.2-1B-Instruct');
    expect(result.stdout).toMatch(
      new RegExp(
        `^Successfully deployed chute unsloth/Llama-3\\.2-1B-Instruct chute_id=${chuteId} version=[0-9a-f-]{36} invocations will be available soon!\\n$`,
      ),
    );
    const accepted = env.api.requests.at(-1)!;
    expect(accepted.rawQuery).toBe('accept_fee=true');
    const body = bodyText(accepted.body);
    // Compact like orjson, with pydantic's 2**63-1 integer bounds written exactly.
    expect(body).not.toMatch(/": |, "/);
    expect(body).toContain('"maximum":9223372036854775807,');
    expect(body).not.toContain('9223372036854776000');
    const golden = await readFile(join(GOLDEN, 'vllm-deploy.json'), 'utf8');
    expect(JSON.parse(body)).toEqual(JSON.parse(golden));
    expect((JSON.parse(body) as { code: string }).code).toBe(
      await readFile(join(GOLDEN, 'llama.py'), 'utf8'),
    );
    expect(env.alice.balance).toBeCloseTo(99.4, 6);
    expect(env.api.state.chutes.get(chuteId)!['version']).toBe(
      uuid5(`${uuid5('chutes/vllm:nightly-2025111700')}:${JSON.parse(body).code}`),
    );

    // Same code again: 409 (same version); updates need no fee, so no fee notice.
    result = await env.cli(['deploy', 'llama:chute', '--yes']);
    expect(result.code).toBe(6);
    expect(result.stderr).toContain(
      'Updating the existing chute unsloth/Llama-3.2-1B-Instruct: no deployment fee applies.',
    );
    expect(result.stderr).not.toContain('fee notice');
  });

  it('checks image availability, public permission and the node selector', async () => {
    let result = await env.cli(['deploy', 'custom:chute', '--yes']);
    expect(result.code).toBe(11);
    expect(result.stderr).toMatch(/Image '[0-9a-f-]{36}' is not available to be used \(yet\)!/);
    env.api.addImage({ username: 'alice', name: 'my-image', tag: '0.1' });
    result = await env.cli(['deploy', 'custom:chute', '--yes', '--public']);
    expect(result.code).toBe(11);
    expect(result.stderr).toContain('Unable to create public chutes from non-public images');
    env.api.state.images.clear();
    env.api.addImage({ username: 'alice', name: 'my-image', tag: '0.1', public: true });
    result = await env.cli(['deploy', 'custom:chute', '--yes', '--public', '--accept-fee']);
    expect(result.code).toBe(4);
    expect(env.api.requests.at(-1)!.path).toBe('/users/me');
    expectSigned(env.api.requests.at(-1)!, 'me');
    env.alice.permissions_bitmask = 1 << 11;
    result = await env.cli(['deploy', 'custom:chute', '--yes', '--public', '--accept-fee', '--json']);
    expect(result.code).toBe(0);
    const body = JSON.parse(bodyText(env.api.requests.at(-1)!.body)) as Record<string, unknown>;
    expect(body['public']).toBe(true);
    expect(body['filename']).toBe('custom.py');
    expect(body['ref_str']).toBe('custom:chute');
    expect(body['node_selector']).toEqual({
      gpu_count: 1,
      min_vram_gb_per_gpu: 24,
      include: null,
      exclude: null,
    });
    expect(body['cords']).toEqual([
      {
        method: 'POST',
        path: '/echo',
        public_api_path: '/echo',
        public_api_method: 'POST',
        stream: false,
        function: 'echo',
        input_schema: { type: 'object', properties: {}, required: [], definitions: {} },
        output_schema: { type: 'object' },
        output_content_type: 'application/json',
        minimal_input_schema: null,
        passthrough: false,
      },
    ]);
    expect(JSON.parse(result.stdout)).toMatchObject({ name: 'custom', deployment_fee: 0.75 });
  });

  it('loads .mjs modules and ChutePack-like exports; a missing node selector is a typed error', async () => {
    await writeFile(
      join(env.dir, 'nosel.ts'),
      `import { Chute } from ${JSON.stringify(SRC_INDEX)};\nexport const chute = new Chute({ username: 'alice', name: 'n', image: 'x/y:1', python: 'x = 1\\n' });\n`,
    );
    let result = await env.cli(['deploy', 'nosel:chute', '--yes']);
    expect(result.code).toBe(11);
    expect(result.stderr).toBe('chutes: ERR_VALIDATION: chute n has no node_selector; deploy needs one\n');
    env.api.addImage({ username: 'chutes', name: 'vllm', tag: 'nightly-2025111700', public: true });
    result = await env.cli(['deploy', 'plain.mjs:embed', '--yes', '--accept-fee', '--json']);
    expect(result.stderr).not.toContain('error');
    expect(result.code).toBe(0);
    const body = JSON.parse(bodyText(env.api.requests.at(-1)!.body)) as Record<string, unknown>;
    expect(body['standard_template']).toBe('embedding');
    expect(body['ref_str']).toBe('plain:embed');
    expect(body['code']).toBe(await readFile(join(GOLDEN, 'embedding.py'), 'utf8'));
  });
});

describe('warmup by module reference', () => {
  it('loads the chute to get its name', async () => {
    env.api.state.chutes.set('c1', {
      chute_id: 'c1',
      user_id: env.alice.user_id,
      name: 'custom',
      public: false,
      instances: [],
      shared_with: [],
      cords: [],
    });
    const result = await env.cli(['warmup', 'custom:chute']);
    expect(result.code).toBe(0);
    expect(env.api.requests[0]!.path).toBe('/chutes/warmup/custom');
  });
});
