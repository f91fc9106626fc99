import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  buildSglangChute,
  buildVllmChute,
  Image,
  type JsonValue,
  parseIni,
  pythonJsonDumps,
  stringifyJson,
  uuid5,
} from '../src/index.js';

interface Call {
  0: string;
  1: unknown[];
  2: Record<string, unknown>;
}
interface Case {
  name: string;
  image: [string, string, string, string?];
  calls: Call[];
  dockerfile?: string;
  uid?: string;
  build_context?: string[];
}
const vectors = JSON.parse(
  readFileSync(new URL('./vectors/python-reference.json', import.meta.url), 'utf8'),
) as {
  cases: Case[];
  errors: Case[];
  uuid5: Array<{ name: string; uuid: string }>;
  json_dumps: Array<{ value: JsonValue; dumps: string }>;
  ini: Array<{ text: string; parsed: Record<string, Record<string, string>> }>;
  bad_ini: string[];
};
const contextDir = fileURLToPath(new URL('./fixtures/context', import.meta.url));

const METHODS: Record<string, string> = {
  from_base: 'fromBase',
  with_maintainer: 'withMaintainer',
  set_user: 'setUser',
  set_workdir: 'setWorkdir',
  apt_install: 'aptInstall',
  apt_remove: 'aptRemove',
  with_env: 'withEnv',
  run_command: 'runCommand',
  with_python: 'withPython',
  with_entrypoint: 'withEntrypoint',
  add: 'add',
};

function apply(entry: Case): Image {
  const [username, name, tag, readme] = entry.image;
  const image = new Image(username, name, tag, readme ?? '');
  for (const [method, args, kwargs] of entry.calls.map((call) => [call[0], call[1], call[2]] as const)) {
    const target = METHODS[method]!;
    if (method === 'add') {
      const options: Record<string, unknown> = { cwd: contextDir };
      if (kwargs['keep_git_dir']) options['keepGitDir'] = true;
      for (const key of ['chown', 'chmod', 'checksum', 'exclude'])
        if (key in kwargs) options[key] = kwargs[key];
      image.add(args[0] as string, args[1] as string, options);
    } else {
      (image as unknown as Record<string, (...values: unknown[]) => unknown>)[target]!(...args);
    }
  }
  return image;
}

describe('Image DSL matches the Python SDK byte for byte', () => {
  for (const entry of vectors.cases) {
    it(`renders ${entry.name}`, () => {
      const image = apply(entry);
      expect(image.toString()).toBe(entry.dockerfile);
      expect(image.uid).toBe(entry.uid);
      expect([...image.buildContextPaths()].sort()).toEqual([...entry.build_context!].sort());
    });
  }
  for (const entry of vectors.errors) {
    it(`rejects ${entry.name}`, () => {
      expect(() => apply(entry)).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }));
    });
  }

  it('D3: checksum accepts hex digits; with_entrypoint accepts several strings', () => {
    const image = new Image('u', 'i', 't')
      .add('https://example.com/a.tgz', '/a', { checksum: `sha256:${'ab09'.repeat(16)}` })
      .withEntrypoint('python', '-m', 'x');
    expect(image.toString()).toBe(
      `FROM parachutes/python:3.12\nADD --checksum=sha256:${'ab09'.repeat(16)} https://example.com/a.tgz /a\nENTRYPOINT ["python", "-m", "x"]`,
    );
    expect(() => new Image('u', 'i', 't').add('https://e.com/a', '/a', { checksum: 'md5:abc' })).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION' }),
    );
  });

  it('D4: SDK uid vs server uid (spec vector)', () => {
    const image = new Image('chutes', 'VLLM', '0.6.3');
    expect(image.uid).toBe('04b6b30b-306f-5b8d-a4ae-13d95c83c3db');
    expect(image.serverUid).toBe('73a26217-12cb-5030-8bf7-50678ad214cc');
  });
});

describe('Python stdlib equivalents', () => {
  it('uuid5 equals uuid.uuid5(NAMESPACE_OID, name)', () => {
    for (const { name, uuid } of vectors.uuid5) expect(uuid5(name)).toBe(uuid);
    expect(uuid5('chutes::chute::unsloth/Llama-3.2-1B-Instruct')).toBe(
      'edd0810e-51f8-5119-b480-09c950812833',
    );
  });

  it('pythonJsonDumps equals json.dumps', () => {
    for (const { value, dumps } of vectors.json_dumps) expect(pythonJsonDumps(value)).toBe(dumps);
  });

  it('parseIni equals configparser', () => {
    for (const { text, parsed } of vectors.ini) expect(parseIni(text)).toEqual(parsed);
  });

  it('parseIni rejects what configparser rejects', () => {
    for (const text of vectors.bad_ini)
      expect(() => parseIni(text)).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
  });
});

const templates = JSON.parse(
  readFileSync(new URL('./vectors/python-templates.json', import.meta.url), 'utf8'),
) as {
  minified_org_model: Record<string, unknown>;
  untyped_function_input: unknown;
  sglang_inputs: Record<string, unknown>;
  sglang_outputs: Record<string, unknown>;
};

/** bigint bounds (2**63-1) compared the way JSON.parse reads the vector file. */
const norm = (value: unknown): unknown => JSON.parse(stringifyJson(value));

describe('template cord schemas equal the Python SDK (pydantic + SchemaExtractor)', () => {
  const options = { username: 'me', modelName: 'org/model', revision: 'a'.repeat(40), nodeSelector: {} };

  it('minimal (Minified*) schemas depend on the model name like the Python closures', () => {
    const cords = Object.fromEntries(buildVllmChute(options).cords.map((cord) => [cord.function, cord]));
    expect(cords['chat_stream']!.minimalInputSchema).toEqual(
      templates.minified_org_model['MinifiedStreamChatCompletion'],
    );
    expect(cords['chat']!.minimalInputSchema).toEqual(templates.minified_org_model['MinifiedChatCompletion']);
    expect(cords['completion_stream']!.minimalInputSchema).toEqual(
      templates.minified_org_model['MinifiedStreamCompletion'],
    );
    expect(cords['completion']!.minimalInputSchema).toEqual(
      templates.minified_org_model['MinifiedCompletion'],
    );
    expect(cords['get_models']!.inputSchema).toEqual(templates.untyped_function_input);
    expect(cords['get_models']!.outputSchema).toBeNull();
  });

  it('SGLang input/output schemas', () => {
    const cords = Object.fromEntries(buildSglangChute(options).cords.map((cord) => [cord.function, cord]));
    expect(norm(cords['chat']!.inputSchema)).toEqual(templates.sglang_inputs['ChatCompletionRequest']);
    expect(norm(cords['completion_stream']!.inputSchema)).toEqual(
      templates.sglang_inputs['CompletionRequest'],
    );
    expect(norm(cords['chat_stream']!.outputSchema)).toEqual(
      templates.sglang_outputs['ChatCompletionStreamResponse'],
    );
    expect(norm(cords['completion']!.outputSchema)).toEqual(templates.sglang_outputs['CompletionResponse']);
    expect(cords['chat']!.outputContentType).toBe('application/json');
  });
});

describe('stringifyJson', () => {
  it('writes bigint exactly and otherwise equals JSON.stringify', () => {
    expect(stringifyJson({ a: 9223372036854775807n, b: [1, 'x', null], c: -5n })).toBe(
      '{"a":9223372036854775807,"b":[1,"x",null],"c":-5}',
    );
    expect(stringifyJson({ a: 1, b: { c: 'd' } }, 2)).toBe(JSON.stringify({ a: 1, b: { c: 'd' } }, null, 2));
  });

  it('the SGLang vector file carries the exact 2**63-1 bound that the deploy body reproduces', () => {
    const raw = readFileSync(new URL('./vectors/python-templates.json', import.meta.url), 'utf8');
    expect(raw).toContain('9223372036854775807');
    const chute = buildSglangChute({
      username: 'me',
      modelName: 'org/model',
      revision: 'a'.repeat(40),
      nodeSelector: {},
    });
    expect(stringifyJson(chute.cords[2]!.inputSchema)).toContain(':9223372036854775807,');
  });
});
