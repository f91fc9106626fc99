import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { utf8ToBytes } from '@confidential-ai/bytes';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  buildSglangChute,
  buildVllmChute,
  Chute,
  ChutesClient,
  Cord,
  deploymentFee,
  encodeMultipart,
  encodePathSegment,
  globSync,
  Image,
  loadConfig,
  NodeSelector,
  normalizeCordPath,
  parseConfig,
  parseIni,
  ratesFromPricing,
  readLines,
  readSseJson,
  resolveConfigPath,
  SUPPORTED_GPUS,
  serializeConfig,
  wrapInputSchema,
} from '../src/index.js';
import { parseMultipart } from '../src/testing/index.js';

const CONTEXT = fileURLToPath(new URL('./fixtures/context', import.meta.url));
const REVISION = '9b58d4a36161a1e49ecf0a69d20b2736fef8e438';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(utf8ToBytes(chunk));
      controller.close();
    },
  });
}

describe('NodeSelector', () => {
  it('applies defaults and the SDK ranges', () => {
    expect(new NodeSelector().toJSON()).toEqual({
      gpu_count: 1,
      min_vram_gb_per_gpu: 16,
      include: null,
      exclude: null,
    });
    for (const bad of [
      { gpuCount: 0 },
      { gpuCount: 9 },
      { gpuCount: 1.5 },
      { minVramGbPerGpu: 15 },
      { minVramGbPerGpu: 141 },
      { maxHourlyPricePerGpu: 10 },
    ]) {
      expect(() => new NodeSelector(bad)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
    }
    expect(new NodeSelector({ gpuCount: 8, minVramGbPerGpu: 140, maxHourlyPricePerGpu: 2 }).toJSON()).toEqual(
      {
        gpu_count: 8,
        min_vram_gb_per_gpu: 140,
        include: null,
        exclude: null,
        max_hourly_price_per_gpu: 2,
      },
    );
  });

  it('computes supported GPUs and the fee (spec: default selector → $0.60)', () => {
    expect(Object.keys(SUPPORTED_GPUS)).toHaveLength(26);
    expect(new NodeSelector().deploymentFee()).toBe(0.6);
    expect(new NodeSelector({ minVramGbPerGpu: 80 }).supportedGpus()).toEqual([
      'pro_6000',
      'a100',
      'a100_sxm',
      'h100',
      'h100_nvl',
      'h100_sxm',
      'h800',
      'h20',
      'h200',
      'mi300x',
      'b200',
    ]);
    // 3 × gpu_count² × min rate (the Oct-2025 server formula).
    expect(new NodeSelector({ gpuCount: 2, minVramGbPerGpu: 80 }).deploymentFee()).toBeCloseTo(
      3 * 4 * 0.6,
      9,
    );
    expect(new NodeSelector({ include: ['h100', 'a100'], exclude: ['a100'] }).supportedGpus()).toEqual([
      'h100',
    ]);
    expect(() => new NodeSelector({ include: ['nope'] }).supportedGpus()).toThrow('Invalid GPU identifiers');
    expect(
      deploymentFee(
        { gpu_count: 1, min_vram_gb_per_gpu: 16, include: ['h200'], exclude: null },
        ratesFromPricing({ gpu_price_estimates: { h200: { usd: { hour: 3 } } } }),
      ),
    ).toBe(9);
  });
});

describe('Cord and Chute', () => {
  it('normalizes and validates paths like the SDK', () => {
    expect(normalizeCordPath('chat/')).toBe('/chat');
    expect(normalizeCordPath('///v1/chat/completions/')).toBe('/v1/chat/completions');
    for (const bad of ['/Chat', '/a//b', '/a b', '/-x', ''])
      expect(() => normalizeCordPath(bad)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
  });

  it('cord defaults, schema wrapping and content-type inference', () => {
    const cord = new Cord({
      function: 'generate',
      inputSchema: {
        title: 'Input',
        type: 'object',
        properties: { a: { type: 'string' } },
        definitions: { X: { type: 'string' } },
      },
    });
    expect(cord.toJSON()).toEqual({
      method: 'POST',
      path: '/generate',
      public_api_path: null,
      public_api_method: 'POST',
      stream: false,
      function: 'generate',
      input_schema: {
        type: 'object',
        properties: { input_args: { $ref: '#/definitions/Input' } },
        required: ['input_args'],
        definitions: {
          Input: { type: 'object', properties: { a: { type: 'string' } } },
          X: { type: 'string' },
        },
      },
      output_schema: null,
      output_content_type: null,
      minimal_input_schema: null,
      passthrough: false,
    });
    expect(new Cord({ function: 'f', outputSchema: { type: 'string' } }).outputContentType).toBe(
      'text/plain',
    );
    expect(
      new Cord({ function: 'f', outputSchema: { type: 'object' }, outputContentType: 'image/jpeg' })
        .outputContentType,
    ).toBe('image/jpeg');
    expect(wrapInputSchema({ type: 'object' })).toEqual({ type: 'object' });
  });

  it('chute uid, defaults, duplicate paths, own passthrough headers', () => {
    const a = new Chute({ username: 'unsloth', name: 'Llama-3.2-1B-Instruct', image: 'x/y:1' });
    expect(new Chute({ username: 'chutes', name: 'unsloth/Llama-3.2-1B-Instruct', image: 'x' }).uid).toBe(
      'edd0810e-51f8-5119-b480-09c950812833',
    );
    expect([
      a.concurrency,
      a.maxInstances,
      a.shutdownAfterSeconds,
      a.scalingThreshold,
      a.allowExternalEgress,
      a.tee,
    ]).toEqual([1, 1, 300, 0.75, false, false]);
    const b = new Chute({ username: 'u', name: 'n', image: 'x' });
    a.passthroughHeaders['x'] = '1';
    expect(b.passthroughHeaders).toEqual({});
    a.cord({ function: 'f', path: '/same' });
    expect(() => a.cord({ function: 'g', path: 'same' })).toThrow('Duplicate path: /same');
    a.cord({ function: 'h', publicApiPath: '/p' });
    a.cord({ function: 'i', publicApiPath: '/p' });
    expect(() => new Chute({ username: 'u', name: 'n', image: 'x', revision: 'main' })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION' }),
    );
    expect(() => new Chute({ username: 'u', name: 'n', image: 'x', concurrency: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION' }),
    );
    const job = a.job({
      function: 'train',
      ports: [{ name: 'web', port: 8080, proto: 'http' }],
      ssh: true,
      timeout: 60,
    });
    expect(job.toJSON()).toEqual({
      ports: [
        { name: 'web', port: 8080, proto: 'http' },
        { name: 'ssh', port: 2202, proto: 'tcp' },
      ],
      timeout: 60,
      name: 'train',
      upload: true,
    });
    expect(() => a.job({ function: 'j', ports: [{ name: 'p', port: 8001, proto: 'tcp' }] })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION' }),
    );
  });
});

describe('templates', () => {
  const base = {
    username: 'me',
    modelName: 'org/model',
    revision: REVISION,
    nodeSelector: { gpuCount: 2, minVramGbPerGpu: 48 },
  };

  it('vLLM: cords, template name, defaults', () => {
    const chute = buildVllmChute(base);
    expect(chute.standardTemplate).toBe('vllm');
    expect(chute.concurrency).toBe(32);
    expect(chute.image).toBe('chutes/vllm:nightly-2025111700');
    expect(
      chute.cords.map((cord) => [
        cord.function,
        cord.path,
        cord.publicApiPath,
        cord.method,
        cord.stream,
        cord.passthroughPath,
      ]),
    ).toEqual([
      ['chat_stream', '/chat_stream', '/v1/chat/completions', 'POST', true, '/v1/chat/completions'],
      ['completion_stream', '/completion_stream', '/v1/completions', 'POST', true, '/v1/completions'],
      ['chat', '/chat', '/v1/chat/completions', 'POST', false, '/v1/chat/completions'],
      ['do_tokenize', '/do_tokenize', '/tokenize', 'POST', false, '/tokenize'],
      ['do_detokenize', '/do_detokenize', '/detokenize', 'POST', false, '/detokenize'],
      ['completion', '/completion', '/v1/completions', 'POST', false, '/v1/completions'],
      ['get_models', '/get_models', '/v1/models', 'GET', false, '/v1/models'],
    ]);
    expect(chute.cords.every((cord) => cord.passthrough && cord.passthroughPort === 10101)).toBe(true);
    expect(chute.cords[6]!.publicApiMethod).toBe('GET');
    expect(chute.cords[0]!.minimalInputSchema!['definitions']).toHaveProperty('MinifiedStreamChatCompletion');
  });

  it('SGLang: no tokenize cords, sglang passthrough, image', () => {
    const chute = buildSglangChute(base);
    expect(chute.cords.map((cord) => cord.function)).toEqual([
      'chat_stream',
      'completion_stream',
      'chat',
      'completion',
      'get_models',
    ]);
    expect(chute.cords.every((cord) => cord.sglangPassthrough)).toBe(true);
    expect(chute.image).toBe('chutes/sglang:nightly-2025111800');
  });

  it('requires a revision and rejects engine-arg revisions', () => {
    expect(() => buildVllmChute({ ...base, revision: '' })).toThrow('You must specify revision=');
    expect(() => buildVllmChute({ ...base, engineArgs: '--revision abc' })).toThrow(
      'Revision is now a top-level argument',
    );
    expect(() => buildSglangChute({ ...base, engineArgs: '--api-key x' })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION' }),
    );
  });

  it('renders an Image argument as the Python DSL in the module', () => {
    const image = new Image('me', 'vllm', '1')
      .fromBase('parachutes/python:3.12')
      .aptInstall(['git'])
      .withEnv('A', 'b c');
    const module = buildVllmChute({
      ...base,
      image,
      engineArgs: '--max-model-len 4096',
      tee: true,
    }).pythonModule('chute');
    expect(module).toBe(
      [
        'from chutes.image import Image',
        'from chutes.chute import NodeSelector',
        'from chutes.chute.template.vllm import build_vllm_chute',
        '',
        'chute = build_vllm_chute(',
        '    username="me",',
        '    model_name="org/model",',
        `    revision="${REVISION}",`,
        '    node_selector=NodeSelector(',
        '        gpu_count=2,',
        '        min_vram_gb_per_gpu=48,',
        '    ),',
        '    image=(',
        '        Image(username="me", name="vllm", tag="1", readme="")',
        '        .from_base("parachutes/python:3.12")',
        '        .apt_install(["git"])',
        '        .with_env("A", "b c")',
        '    ),',
        '    engine_args="--max-model-len 4096",',
        '    tee=True,',
        ')',
        '',
      ].join('\n'),
    );
  });
});

describe('config.ini', () => {
  it('reads option and section names such as __proto__ as plain data', () => {
    const ini = parseIni('[__proto__]\npolluted = yes\n[auth]\n__proto__ = x\nuser_id = u\n');
    expect(Object.keys(ini)).toEqual(['__proto__', 'auth']);
    const own = (record: object | undefined, key: string) =>
      record === undefined ? undefined : Object.getOwnPropertyDescriptor(record, key)?.value;
    expect(own(own(ini, '__proto__'), 'polluted')).toBe('yes');
    expect(own(ini['auth'], '__proto__')).toBe('x');
    expect(ini['auth']?.['user_id']).toBe('u');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('path precedence: --config-path, CHUTES_CONFIG_PATH, ~/.chutes/config.ini', () => {
    expect(resolveConfigPath({ configPath: '/a', env: { CHUTES_CONFIG_PATH: '/b' }, home: '/h' })).toBe('/a');
    expect(resolveConfigPath({ env: { CHUTES_CONFIG_PATH: '/b' }, home: '/h' })).toBe('/b');
    expect(resolveConfigPath({ env: {}, home: '/h' })).toBe('/h/.chutes/config.ini');
  });

  it('base URL precedence: config, then CHUTES_API_URL, then default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chutes-config-'));
    try {
      const path = join(dir, 'config.ini');
      await writeFile(path, '[api]\nbase_url = https://from-config\n');
      expect(
        (await loadConfig({ configPath: path, env: { CHUTES_API_URL: 'https://env' } })).apiBaseUrl,
      ).toBe('https://from-config');
      await writeFile(path, '[api]\nbase_url =\n');
      expect(
        (await loadConfig({ configPath: path, env: { CHUTES_API_URL: 'https://env' } })).apiBaseUrl,
      ).toBe('https://env');
      expect((await loadConfig({ configPath: path, env: {} })).apiBaseUrl).toBe('https://api.chutes.ai');
      const missing = await loadConfig({
        configPath: join(dir, 'none'),
        env: { CHUTES_ALLOW_MISSING: 'true' },
      });
      expect(missing.exists).toBe(false);
      await expect(loadConfig({ configPath: join(dir, 'none'), env: {} })).rejects.toMatchObject({
        code: 'ERR_CONFIG_MISSING',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test.prop([fc.stringMatching(/^[a-z0-9_]{1,20}$/), fc.stringMatching(/^[0-9a-f]{64}$/), fc.webUrl()], {
    numRuns: 100,
  })('serializeConfig round-trips through parseConfig', (username, seed, url) => {
    const config = {
      apiBaseUrl: url.replace(/%/g, ''),
      auth: { username, userId: 'id', hotkeySeed: seed, hotkeyName: 'default', hotkeySs58Address: 'addr' },
      paymentAddress: 'pay',
    };
    expect(parseConfig(serializeConfig(config))).toEqual(config);
  });
});

describe('streams and multipart', () => {
  it('readLines splits across chunks and CRLF; readSseJson skips keep-alives and stops at DONE', async () => {
    const lines: string[] = [];
    for await (const line of readLines(streamOf(['a\r\nb', 'c\n\nd']))) lines.push(line);
    expect(lines).toEqual(['a', 'bc', '', 'd']);
    const events: unknown[] = [];
    for await (const event of readSseJson(
      streamOf([
        '.\n',
        'data: {"log":"x",',
        '"offset":"1-0"}\n',
        ': comment\n',
        'DONE\n',
        'data: {"never":1}\n',
      ]),
    ))
      events.push(event);
    expect(events).toEqual([{ log: 'x', offset: '1-0' }]);
    await expect(async () => {
      for await (const _ of readSseJson(streamOf(['data: {bad\n']))) void _;
    }).rejects.toMatchObject({ code: 'ERR_STREAM' });
  });

  test.prop(
    [
      fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,10}$/), fc.string()), { maxLength: 6 }),
      fc.uint8Array({ maxLength: 300 }),
    ],
    { numRuns: 100 },
  )('encodeMultipart round-trips through the fake API parser', (fields, data) => {
    const body = encodeMultipart([
      ...fields.map(([name, value]) => ({ name, value })),
      { name: 'file', filename: 'a "b".zip', contentType: 'application/zip', data },
    ]);
    const parts = parseMultipart(body.body, body.contentType)!;
    expect(parts.map((part) => part.name)).toEqual([...fields.map(([name]) => name), 'file']);
    for (const [index, [, value]] of fields.entries()) {
      expect(new TextDecoder().decode(parts[index]!.data)).toBe(value);
    }
    expect(parts.at(-1)!.data).toEqual(data);
    expect(parts.at(-1)!.filename).toBe('a "b".zip');
  });
});

describe('misc', () => {
  it('glob follows Python semantics on the fixture', () => {
    expect(globSync('*', CONTEXT)).toEqual(['README.md', 'app.py', 'lib']);
    expect(globSync('.*', CONTEXT)).toEqual(['.hidden']);
    expect(globSync('**/*.py', CONTEXT)).toEqual(['app.py', 'lib/util.py']);
    expect(globSync('lib/*.t?t', CONTEXT)).toEqual(['lib/data.txt']);
    expect(globSync('missing', CONTEXT)).toEqual([]);
    expect(globSync('**', CONTEXT)).toEqual(['README.md', 'app.py', 'lib', 'lib/data.txt', 'lib/util.py']);
  });

  it('paths are quoted like aiohttp', () => {
    expect(encodePathSegment('chutes/vllm:nightly-1')).toBe('chutes/vllm:nightly-1');
    expect(encodePathSegment('a b?#%')).toBe('a%20b%3F%23%25');
  });

  it('the client refuses a base URL that is not http(s)', () => {
    expect(() => new ChutesClient({ baseUrl: 'ftp://x' })).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
    const client = new ChutesClient({ baseUrl: 'http://h/' });
    expect(
      client.url('/p', [
        ['a', '1'],
        ['b', undefined],
        ['c', 'x y'],
      ]),
    ).toBe('http://h/p?a=1&c=x+y');
    expect(() => client.authHeaders({ purpose: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_AUTH_REQUIRED' }),
    );
  });
});
