import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bytesToUtf8 } from '@confidential-ai/bytes';
import { createFakeChutesServer } from '@confidential-ai/chutes-transport/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hotkeyFromSeed, parseConfig, parseJsonExact } from '../src/index.js';
import { parseMultipart } from '../src/testing/index.js';
import { ALICE_SEED, ALICE_SS58, SRC_INDEX } from './helpers.js';
import { chutes, type ProcessSetup, processSetup, startFakeApiProcess } from './process.js';

const CONTEXT = fileURLToPath(new URL('./fixtures/context', import.meta.url));
const GOLDEN = parseJsonExact(
  await readFile(fileURLToPath(new URL('./vectors/python-sdk-deploy.json', import.meta.url)), 'utf8'),
) as Record<string, { deploy_body: Record<string, unknown> }>;
const PNG_1X1 = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='),
  (char) => char.charCodeAt(0),
);

const CUSTOM_TS = `import { readFileSync } from 'node:fs';
import { Chute, Image } from ${JSON.stringify(SRC_INDEX)};
// The image readme is this module's own URL, read through import.meta.url.
const image = new Image('alice', 'my-image', '0.1', import.meta.url).add('app.py', '/app/app.py').add('lib', '/app/lib');
export const chute = new Chute({
  username: 'alice',
  name: 'custom',
  image,
  nodeSelector: { gpuCount: 1, minVramGbPerGpu: 24 },
  python: (variable: string) => \`from chutes.chute import Chute\\n\${variable} = Chute(username="alice", name="custom", image="x")\\n\`,
});
chute.cord({ function: 'echo', publicApiPath: '/echo', outputSchema: { type: 'object' } });
export const sibling = readFileSync(new URL('./app.py', import.meta.url), 'utf8');
`;

let env: ProcessSetup;
beforeEach(async () => {
  env = await processSetup();
  await cp(CONTEXT, env.dir, { recursive: true });
  await writeFile(join(env.dir, 'custom.ts'), CUSTOM_TS);
});
afterEach(async () => {
  await env.close();
});

const run = (args: string[], extra: Parameters<typeof chutes>[1] = {}) =>
  chutes(args, {
    env: env.env,
    cwd: env.dir,
    ...extra,
    ...(extra.env ? { env: { ...env.env, ...extra.env } } : {}),
  });

describe('deploy and build confirmations never read a non-terminal stdin', () => {
  it('fail at once with a usage error naming --yes, on an open pipe and on a closed stdin', async () => {
    const build = await run(['build', 'custom.ts:chute'], { input: 'open', timeoutMs: 60_000 });
    expect(build.code).toBe(2);
    expect(build.stderr).toMatch(
      /chutes: ERR_USAGE: stdin is not a terminal, so "Confirm submitting build context\?"/,
    );
    env.api.addImage({ username: 'alice', name: 'my-image', tag: '0.1' });
    for (const input of ['open', undefined] as const) {
      const result = await run(['deploy', 'custom.ts:chute'], { input, timeoutMs: 60_000 });
      expect(result.timedOut, String(input)).toBe(false);
      expect(result.code, String(input)).toBe(2);
      expect(result.stderr).toMatch(
        /^chutes: ERR_USAGE: stdin is not a terminal, so "You are about to upload custom\.py .* confirm\?" cannot be asked: pass --yes \(or --accept-fee\) to confirm \(see chutes deploy --help\)\n$/m,
      );
    }
    expect(env.api.requests.some((request) => request.method === 'POST')).toBe(false);
  });

  it('prints the fee notice only for a new chute; an update has no fee notice', async () => {
    env.api.addImage({ username: 'alice', name: 'my-image', tag: '0.1' });
    const first = await run(['deploy', 'custom.ts:chute', '--accept-fee']);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(
      /Deployment fee notice: this new chute costs a one-time fee of about \$\d+\.\d\d/,
    );
    // A new version of the same chute (other code): an update, which is free.
    await writeFile(join(env.dir, 'custom.ts'), CUSTOM_TS.replace('image="x"', 'image="y"'));
    const update = await run(['deploy', 'custom.ts:chute', '--yes']);
    expect(update.code).toBe(0);
    expect(update.stderr).not.toMatch(/fee notice/i);
    expect(update.stderr).toContain('Updating the existing chute custom: no deployment fee applies.');
  });
});

describe('the fake API', () => {
  it('completes a build without --wait, so deploy can follow at once (bins as processes)', async () => {
    const fake = await startFakeApiProcess(['--port', '0', '--user', `alice:${ALICE_SS58}`]);
    try {
      const config = join(env.dir, 'fake.ini');
      await writeFile(
        config,
        `[api]\nbase_url = ${fake.url}\n\n[auth]\nusername = alice\nuser_id = u1\nhotkey_seed = ${ALICE_SEED}\nhotkey_name = default\nhotkey_ss58address = ${ALICE_SS58}\n`,
      );
      const build = await run(['build', 'custom.ts:chute', '--yes'], { env: { CHUTES_CONFIG_PATH: config } });
      expect(build.code).toBe(0);
      const deploy = await run(['deploy', 'custom.ts:chute', '--accept-fee'], {
        env: { CHUTES_CONFIG_PATH: config },
      });
      expect(deploy.stderr).not.toContain('is not available to be used (yet)');
      expect(deploy.code).toBe(0);
    } finally {
      await fake.stop();
    }
  });
});

describe('keys get / delete by name, as the help says', () => {
  it('resolves a unique name to its id; an unknown name is a 404', async () => {
    const created = await run(['keys', 'create', '--name', 'ci', '--admin', '--json']);
    const id = (JSON.parse(created.stdout) as { api_key_id: string }).api_key_id;
    const got = await run(['keys', 'get', 'ci', '--json']);
    expect(got.stderr).toBe('');
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ api_key_id: id, name: 'ci' });
    const deleted = await run(['keys', 'delete', 'ci', '--yes', '--json']);
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ api_key_id: id, deleted: true });
    expect(env.api.requests.at(-1)!.path).toBe(`/api_keys/${id}`);
    const missing = await run(['keys', 'get', 'ci']);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toBe('chutes: ERR_HTTP: no API key named "ci"\n');
  });
});

describe('--debug', () => {
  it('logs requests and responses with signatures, API keys, Authorization and secrets redacted', async () => {
    const created = await run(['keys', 'create', '--name', 'dbg', '--admin', '--json', '--debug']);
    expect(created.code).toBe(0);
    const secret = (JSON.parse(created.stdout) as { secret_key: string }).secret_key;
    const request = env.api.requests.find((entry) => entry.path === '/api_keys/' && entry.method === 'POST')!;
    expect(created.stderr).toMatch(
      /^debug: -> POST http:\/\/127\.0\.0\.1:\d+\/api_keys\/ headers=\{.*"x-chutes-signature":"<redacted>".*\} body=\{"name":"dbg","admin":true\}$/m,
    );
    expect(created.stderr).toMatch(/^debug: <- 200 POST .* body=\{.*"secret_key":"<redacted>".*\}$/m);
    expect(created.stderr).not.toContain(request.headers['x-chutes-signature']!);
    expect(created.stderr).not.toContain(secret);
    expect(created.stderr).not.toContain(secret.split('.').at(-1)!);
    const viaKey = await run(['keys', 'list', '--api-key', secret, '--debug'], {
      env: { CHUTES_CONFIG_PATH: join(env.dir, 'none.ini'), CHUTES_API_URL: env.api.url },
    });
    expect(viaKey.code).toBe(0);
    expect(viaKey.stderr).toContain('"authorization":"<redacted>"');
    expect(viaKey.stderr).not.toContain(secret.split('.').at(-1)!);
    const secretValue = 'hunter2-very-secret';
    env.api.addImage({ username: 'alice', name: 'my-image', tag: '0.1' });
    await run(['deploy', 'custom.ts:chute', '--accept-fee']);
    const stored = await run([
      'secrets',
      'create',
      '--purpose',
      'custom',
      '--key',
      'K',
      '--value',
      secretValue,
      '--debug',
    ]);
    expect(stored.code).toBe(0);
    expect(stored.stderr).toContain('"value":"<redacted>"');
    expect(stored.stderr).not.toContain(secretValue);
  });
});

describe('build context listing and logos', () => {
  it('--list-all shows every file; secret-looking files are flagged before the upload', async () => {
    await mkdir(join(env.dir, 'lib', 'many'), { recursive: true });
    for (let index = 0; index < 12; index++)
      await writeFile(join(env.dir, 'lib', 'many', `f${index}.txt`), 'x');
    await writeFile(join(env.dir, 'lib', '.env'), 'TOKEN=1');
    await writeFile(join(env.dir, 'lib', 'server.pem'), 'cert');
    await writeFile(join(env.dir, 'lib', 'config.ini'), '[auth]');
    await writeFile(join(env.dir, 'lib', 'notes.txt'), '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n');
    let result = await run(['build', 'custom.ts:chute', '--yes']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('... and 9 more (--list-all shows every file)');
    expect(result.stderr).toMatch(
      /warning: the build context includes 4 file\(s\) that look like secrets and will be uploaded: lib\/\.env \(environment file\), lib\/config\.ini \(chutes config \(hotkey seed\)\), lib\/notes\.txt \(contains a private key\), lib\/server\.pem \(key or certificate store\);/,
    );
    env.api.state.images.clear();
    result = await run(['build', 'custom.ts:chute', '--yes', '--list-all']);
    expect(result.code).toBe(0);
    const listed = result.stderr.split('\n').filter((line) => line.startsWith(' '));
    expect(listed).toHaveLength(19);
    expect(listed).toContain(' lib/server.pem   <- looks like a secret (key or certificate store)');
  });

  it('takes the logo MIME type from the content: a PNG named .webp is image/png; junk is refused', async () => {
    await writeFile(join(env.dir, 'logo.webp'), PNG_1X1);
    let result = await run(['build', 'custom.ts:chute', '--yes', '--logo', 'logo.webp']);
    expect(result.code).toBe(0);
    const logo = env.api.requests.find((request) => request.path === '/logos/')!;
    expect(parseMultipart(logo.body, logo.headers['content-type'])![0]).toMatchObject({
      contentType: 'image/png',
    });
    await writeFile(join(env.dir, 'junk.png'), 'not an image');
    result = await run(['deploy', 'custom.ts:chute', '--accept-fee', '--logo', 'junk.png']);
    expect(result.code).toBe(11);
    expect(result.stderr).toContain(
      'chutes: ERR_VALIDATION: logo junk.png is not a PNG, JPEG, GIF, WebP, AVIF, BMP, ICO or SVG image',
    );
  });

  it('import.meta.url of a TypeScript chute module is its source file', async () => {
    const result = await run(['build', 'custom.ts:chute', '--yes']);
    expect(result.code).toBe(0);
    const upload = env.api.requests.find((request) => request.path === '/images/')!;
    const readme = bytesToUtf8(
      parseMultipart(upload.body, upload.headers['content-type'])!.find((part) => part.name === 'readme')!
        .data,
    );
    expect(readme).toBe(pathToFileURL(join(env.dir, 'custom.ts')).href);
  });
});

describe('the diffusion template', () => {
  it('exists in TypeScript like the others and deploys the cords and settings the Python SDK sends', async () => {
    await writeFile(
      join(env.dir, 'diffusion.ts'),
      `import { buildDiffusionChute } from ${JSON.stringify(SRC_INDEX)};
export const diffusion = buildDiffusionChute({
  username: 'alice',
  name: 'sdxl',
  modelNameOrUrl: 'stabilityai/stable-diffusion-xl-base-1.0',
  revision: '462165984030d82259a11f4367a4eed129e94a7b',
  nodeSelector: { gpuCount: 1, minVramGbPerGpu: 24, include: ['a100', 'h100'] },
  readme: 'SDXL base',
  shutdownAfterSeconds: 600,
});
`,
    );
    env.api.addImage({ username: 'chutes', name: 'diffusion', tag: '0.34.0.po', public: true });
    const result = await run(['deploy', 'diffusion:diffusion', '--accept-fee']);
    expect(result.code).toBe(0);
    const body = parseJsonExact(bytesToUtf8(env.api.requests.at(-1)!.body)) as Record<string, unknown>;
    const golden = GOLDEN['templates:diffusion']!.deploy_body;
    const { code, filename, ref_str: ref, ...rest } = body;
    const { code: _code, filename: _filename, ref_str: _ref, ...goldenRest } = golden;
    expect(rest).toEqual(goldenRest);
    expect([filename, ref]).toEqual(['diffusion.py', 'diffusion:diffusion']);
    expect(code).toBe(
      'from chutes.chute import NodeSelector\nfrom chutes.chute.template.diffusion import build_diffusion_chute\n\ndiffusion = build_diffusion_chute(\n    username="alice",\n    name="sdxl",\n    model_name_or_url="stabilityai/stable-diffusion-xl-base-1.0",\n    node_selector=NodeSelector(\n        gpu_count=1,\n        min_vram_gb_per_gpu=24,\n        include=["a100", "h100"],\n    ),\n    readme="SDXL base",\n    revision="462165984030d82259a11f4367a4eed129e94a7b",\n    shutdown_after_seconds=600,\n)\n',
    );
  });
});

describe('chat', () => {
  it('an e2e_error event in the stream is an error with a non-zero exit, also with --json', async () => {
    const apiKey = `cpk_${'a'.repeat(32)}.${'b'.repeat(32)}.${'C'.repeat(32)}`;
    const server = await createFakeChutesServer({ apiKey, models: ['fake/model'] });
    try {
      for (const json of [false, true]) {
        server.inject({
          type: 'e2e-error',
          afterChunks: 1,
          value: { message: 'instance out of memory', type: 'e2e_error', code: 500 },
        });
        const args = [
          'chat',
          'fake/model',
          'hi',
          '--api-key',
          apiKey,
          '--api-base',
          server.url,
          '--models-base',
          server.url,
        ];
        const result = await run(json ? [...args, '--json'] : args);
        expect(result.code, String(json)).toBe(8);
        expect(result.stderr).toContain(
          'chutes: ERR_STREAM: chat failed: the model answered with an error (e2e_error 500): instance out of memory\n',
        );
        if (json)
          expect(JSON.parse(result.stdout)).toEqual({
            ok: false,
            error: {
              code: 'ERR_STREAM',
              message:
                'chat failed: the model answered with an error (e2e_error 500): instance out of memory',
            },
          });
      }
    } finally {
      await server.close();
    }
  });
});

describe('register with piped stdin', () => {
  const DAVE_SEED = '8b6c6b0a5d2b3f4e1a9c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a';
  async function wallet(): Promise<string> {
    const wallets = join(env.dir, 'wallets');
    await mkdir(join(wallets, 'main', 'hotkeys'), { recursive: true });
    for (const [name, seed] of [
      ['hk', DAVE_SEED],
      ['hk2', DAVE_SEED.replace(/^8/, '9')],
    ] as const) {
      const key = hotkeyFromSeed(seed);
      await writeFile(
        join(wallets, 'main', 'hotkeys', name),
        JSON.stringify({ ss58Address: key.ss58Address, secretSeed: `0x${seed}` }),
      );
    }
    await writeFile(join(wallets, 'main', 'coldkeypub.txt'), JSON.stringify({ ss58Address: ALICE_SS58 }));
    return wallets;
  }

  it('`printf "dave\\ny\\n" | chutes register ...` answers both prompts and writes config.ini', async () => {
    const wallets = await wallet();
    const configPath = join(env.dir, 'dave.ini');
    const result = await run(['register', '--wallets-path', wallets, '--wallet', 'main', '--hotkey', 'hk'], {
      env: { CHUTES_API_URL: env.api.url, CHUTES_CONFIG_PATH: configPath },
      input: 'dave\ny\n',
    });
    expect(result.stderr).not.toContain('ERR_');
    expect(result.code).toBe(0);
    expect(parseConfig(await readFile(configPath, 'utf8')).auth?.username).toBe('dave');
  });

  it('never exits 0 without the config: a missing answer or a failed save prints the credentials once', async () => {
    const wallets = await wallet();
    const configPath = join(env.dir, 'never.ini');
    let result = await run(['register', '--wallets-path', wallets, '--wallet', 'main', '--hotkey', 'hk'], {
      env: { CHUTES_API_URL: env.api.url, CHUTES_CONFIG_PATH: configPath },
      input: 'dave\n',
    });
    expect(result.code).toBe(10);
    const user = [...env.api.state.users.values()].find((entry) => entry.username === 'dave')!;
    expect(result.stderr).toContain(`fingerprint = ${user.fingerprint}`);
    expect(result.stderr).toContain(`user_id = ${user.user_id}`);
    expect(result.stderr).toMatch(
      /chutes: ERR_ABORTED: registered, but there was no answer to "Save to .*never\.ini"; the credentials are printed above\n$/,
    );
    expect(result.stderr).not.toContain(DAVE_SEED);

    await writeFile(join(env.dir, 'blocker'), 'a file, not a directory');
    result = await run(
      [
        'register',
        '--username',
        'erin',
        '--wallets-path',
        wallets,
        '--wallet',
        'main',
        '--hotkey',
        'hk2',
        '--yes',
      ],
      {
        env: { CHUTES_API_URL: env.api.url, CHUTES_CONFIG_PATH: join(env.dir, 'blocker', 'config.ini') },
      },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /chutes: ERR_CONFIG_WRITE: registered, but .*blocker\/config\.ini could not be written \((ENOTDIR|EEXIST)\); the credentials are printed above\n$/,
    );
  });
});
