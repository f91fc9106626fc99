import { ChutesCliError } from '../errors.js';
import { Chute, type JsonObject } from './chute.js';
import { Image, STANDARD_IMAGES } from './image.js';
import { NodeSelector, type NodeSelectorOptions } from './node-selector.js';
import { type JsonValue, pythonLiteral } from './python-json.js';
import { templateSchema } from './template-schemas.js';

/** Arguments shared by the LLM templates (the Python `build_vllm_chute` / `build_sglang_chute` parameters). */
export interface LlmTemplateOptions {
  /** Owner username. */
  username: string;
  /** Hugging Face model name; also the chute name. */
  modelName: string;
  /** Node selector (required). */
  nodeSelector: NodeSelector | NodeSelectorOptions;
  /** Image (default: the template's standard image). */
  image?: Image | string;
  /** Default "". */
  tagline?: string;
  /** Default "". */
  readme?: string;
  /** Default 32. */
  concurrency?: number;
  /** Extra engine arguments (no `--revision`, `--served-model-name`, `--api-key`). */
  engineArgs?: string | null;
  /** Hugging Face commit (required). */
  revision: string;
  /** Default 1. */
  maxInstances?: number;
  /** Default 0.75. */
  scalingThreshold?: number;
  /** Default 300. */
  shutdownAfterSeconds?: number;
  /** Default false. */
  allowExternalEgress?: boolean;
  /** Default false. */
  tee?: boolean;
}

/** Extra arguments of the embedding template. */
export interface EmbeddingTemplateOptions extends LlmTemplateOptions {
  /** Default "auto" (resolved by the Python template on the platform). */
  poolingType?: string;
  /** Default 3072000. */
  maxEmbedLen?: number;
  /** Default true. */
  enableChunkedProcessing?: boolean;
}

function invalid(message: string): never {
  throw new ChutesCliError('ERR_VALIDATION', message);
}

function role(): JsonObject {
  return { enum: ['user', 'assistant', 'developer'], title: 'DefaultRole', type: 'string' };
}

/** Pydantic-v2-style schema of the template's `Minified*` models (sorted keys, `#/definitions/` refs). */
function minifiedSchema(kind: 'chat' | 'completion', stream: boolean, modelName: string): JsonObject {
  const tail = {
    temperature: { default: 0.7, title: 'Temperature', type: 'number' },
    seed: { default: 42, title: 'Seed', type: 'integer' },
    stream: { default: stream, title: 'Stream', type: 'boolean' },
    max_tokens: { default: 1024, title: 'Max Tokens', type: 'integer' },
    model: { default: modelName, title: 'Model', type: 'string' },
  };
  if (kind === 'chat') {
    return {
      $defs: {
        DefaultRole: role(),
        MinifiedMessage: {
          properties: {
            role: { $ref: '#/definitions/DefaultRole', default: 'user' },
            content: { default: '', title: 'Content', type: 'string' },
          },
          title: 'MinifiedMessage',
          type: 'object',
        },
      },
      properties: {
        messages: {
          default: [{ role: 'user', content: '' }],
          items: { $ref: '#/definitions/MinifiedMessage' },
          title: 'Messages',
          type: 'array',
        },
        ...tail,
      },
      title: stream ? 'MinifiedStreamChatCompletion' : 'MinifiedChatCompletion',
      type: 'object',
    };
  }
  return {
    properties: { prompt: { title: 'Prompt', type: 'string' }, ...tail },
    required: ['prompt'],
    title: stream ? 'MinifiedStreamCompletion' : 'MinifiedCompletion',
    type: 'object',
  };
}

type SchemaKind = 'inputs' | 'outputs';

/** A fresh copy of a Python template model schema (data/template-schemas). */
function modelSchema(template: 'vllm' | 'embedding', kind: SchemaKind, name: string): JsonObject {
  return templateSchema(template, kind, name);
}

const chatRequest = (): JsonObject => modelSchema('vllm', 'inputs', 'ChatCompletionRequest');
const completionRequest = (): JsonObject => modelSchema('vllm', 'inputs', 'CompletionRequest');
const OBJECT_OUTPUT = (name: string): JsonObject =>
  modelSchema(name.startsWith('Embedding') ? 'embedding' : 'vllm', 'outputs', name);

function checkLlmOptions(options: LlmTemplateOptions, builder: string): void {
  if (!options || typeof options !== 'object') invalid(`${builder} needs an options object`);
  if (typeof options.modelName !== 'string' || options.modelName.length === 0)
    invalid(`${builder}: modelName is required`);
  if (options.engineArgs && /--revision/i.test(options.engineArgs)) {
    invalid(`Revision is now a top-level argument to ${builder}!`);
  }
  if (options.engineArgs && /--served-model-name|--api-key/.test(options.engineArgs)) {
    invalid(`${builder}: engine_args must not set --served-model-name or --api-key`);
  }
  if (!options.revision) {
    invalid('You must specify revision= to properly lock a model to a given huggingface revision.');
  }
}

/** One Python keyword argument: a JSON value, or raw Python source. */
export type PyArg = [string, JsonValue | undefined | { python: string }];

/** Renders Python keyword arguments, one per line, skipping undefined values. */
export function renderCall(args: PyArg[]): string {
  const lines = args
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => {
      const rendered =
        typeof value === 'object' && value !== null && !Array.isArray(value) && 'python' in value
          ? String(value.python)
          : pythonLiteral(value as JsonValue);
      return `    ${name}=${rendered.replace(/\n/g, '\n    ')},`;
    });
  return lines.join('\n');
}

/** The `NodeSelector(...)` expression of a selector. */
export function nodeSelectorPython(selector: NodeSelector): string {
  const parts = [`gpu_count=${selector.gpuCount}`, `min_vram_gb_per_gpu=${selector.minVramGbPerGpu}`];
  if (selector.include) parts.push(`include=${pythonLiteral(selector.include)}`);
  if (selector.exclude) parts.push(`exclude=${pythonLiteral(selector.exclude)}`);
  if (selector.maxHourlyPricePerGpu !== null)
    parts.push(`max_hourly_price_per_gpu=${selector.maxHourlyPricePerGpu}`);
  return `NodeSelector(\n    ${parts.join(',\n    ')},\n)`;
}

function renderModule(
  template: 'vllm' | 'sglang' | 'embedding',
  variable: string,
  args: PyArg[],
  image: Image | string | undefined,
): string {
  const builder = `build_${template}_chute`;
  const imports = [
    ...(Image.isInstance(image) ? ['from chutes.image import Image'] : []),
    'from chutes.chute import NodeSelector',
    `from chutes.chute.template.${template} import ${builder}`,
  ];
  return `${imports.join('\n')}\n\n${variable} = ${builder}(\n${renderCall(args)}\n)\n`;
}

function commonArgs(options: LlmTemplateOptions, selector: NodeSelector): PyArg[] {
  const image = options.image;
  return [
    ['username', options.username],
    ['model_name', options.modelName],
    ['revision', options.revision],
    ['node_selector', { python: nodeSelectorPython(selector) }],
    [
      'image',
      image === undefined ? undefined : Image.isInstance(image) ? { python: image.toPython() } : image,
    ],
    ['tagline', options.tagline],
    ['readme', options.readme],
    ['concurrency', options.concurrency],
    ['engine_args', options.engineArgs ?? undefined],
    ['max_instances', options.maxInstances],
    ['scaling_threshold', options.scalingThreshold],
    ['shutdown_after_seconds', options.shutdownAfterSeconds],
    ['allow_external_egress', options.allowExternalEgress],
    ['tee', options.tee],
  ];
}

function baseChute(
  options: LlmTemplateOptions,
  template: string,
  defaultImage: string,
  python: (variable: string) => string,
  selector: NodeSelector,
): Chute {
  return new Chute({
    username: options.username,
    name: options.modelName,
    image: options.image ?? defaultImage,
    tagline: options.tagline ?? '',
    readme: options.readme ?? '',
    nodeSelector: selector,
    concurrency: options.concurrency ?? 32,
    standardTemplate: template,
    revision: options.revision,
    shutdownAfterSeconds: options.shutdownAfterSeconds ?? 300,
    maxInstances: options.maxInstances ?? 1,
    scalingThreshold: options.scalingThreshold ?? 0.75,
    allowExternalEgress: options.allowExternalEgress ?? false,
    tee: options.tee ?? false,
    python,
  });
}

function addLlmCords(chute: Chute, modelName: string, withTokenize: boolean, sglang: boolean): void {
  const common = { passthroughPort: 10101, method: 'POST', passthrough: true, sglangPassthrough: sglang };
  chute.cord({
    ...common,
    function: 'chat_stream',
    passthroughPath: '/v1/chat/completions',
    publicApiPath: '/v1/chat/completions',
    stream: true,
    inputSchema: chatRequest(),
    minimalInputSchema: minifiedSchema('chat', true, modelName),
    outputSchema: OBJECT_OUTPUT('ChatCompletionStreamResponse'),
  });
  chute.cord({
    ...common,
    function: 'completion_stream',
    passthroughPath: '/v1/completions',
    publicApiPath: '/v1/completions',
    stream: true,
    inputSchema: completionRequest(),
    minimalInputSchema: minifiedSchema('completion', true, modelName),
    outputSchema: OBJECT_OUTPUT('CompletionStreamResponse'),
  });
  chute.cord({
    ...common,
    function: 'chat',
    passthroughPath: '/v1/chat/completions',
    publicApiPath: '/v1/chat/completions',
    inputSchema: chatRequest(),
    minimalInputSchema: minifiedSchema('chat', false, modelName),
    outputSchema: OBJECT_OUTPUT('ChatCompletionResponse'),
  });
  if (withTokenize) {
    const tokenize = modelSchema('vllm', 'inputs', 'TokenizeRequest');
    const detokenize = modelSchema('vllm', 'inputs', 'DetokenizeRequest');
    chute.cord({
      ...common,
      function: 'do_tokenize',
      path: '/do_tokenize',
      passthroughPath: '/tokenize',
      publicApiPath: '/tokenize',
      inputSchema: tokenize,
      minimalInputSchema: tokenize,
      outputSchema: OBJECT_OUTPUT('TokenizeResponse'),
    });
    chute.cord({
      ...common,
      function: 'do_detokenize',
      path: '/do_detokenize',
      passthroughPath: '/detokenize',
      publicApiPath: '/detokenize',
      inputSchema: detokenize,
      minimalInputSchema: detokenize,
      outputSchema: OBJECT_OUTPUT('DetokenizeResponse'),
    });
  }
  chute.cord({
    ...common,
    function: 'completion',
    passthroughPath: '/v1/completions',
    publicApiPath: '/v1/completions',
    inputSchema: completionRequest(),
    minimalInputSchema: minifiedSchema('completion', false, modelName),
    outputSchema: OBJECT_OUTPUT('CompletionResponse'),
  });
  chute.cord({
    ...common,
    function: 'get_models',
    passthroughPath: '/v1/models',
    publicApiPath: '/v1/models',
    publicApiMethod: 'GET',
    method: 'GET',
  });
}

/**
 * The vLLM template: a chute named after the model, `standard_template: "vllm"`, the seven vLLM cords, and a
 * Python module calling `build_vllm_chute(...)` with the same arguments as its deploy `code`.
 * @example
 * ```ts
 * export const chute = buildVllmChute({ username: 'me', modelName: 'unsloth/Llama-3.2-1B-Instruct',
 *   revision: '9b58d4a36161a1e49ecf0a69d20b2736fef8e438', nodeSelector: { gpuCount: 1, minVramGbPerGpu: 24 } });
 * ```
 * @throws ChutesCliError `ERR_VALIDATION` for a missing revision, a revision in engine args, or bad settings.
 */
export function buildVllmChute(options: LlmTemplateOptions): Chute {
  return buildLlmChute(options, 'vllm');
}

/**
 * The SGLang template: like {@link buildVllmChute} without tokenize/detokenize, with SGLang passthrough cords
 * and `standard_template: "vllm"`-style defaults but the SGLang image.
 * @throws ChutesCliError `ERR_VALIDATION` as {@link buildVllmChute}.
 */
export function buildSglangChute(options: LlmTemplateOptions): Chute {
  return buildLlmChute(options, 'sglang');
}

/** The vLLM and SGLang templates differ only in the Python builder, the image and the passthrough cords. */
function buildLlmChute(options: LlmTemplateOptions, engine: 'vllm' | 'sglang'): Chute {
  checkLlmOptions(options, engine === 'vllm' ? 'build_vllm_chute' : 'build_sglang_chute');
  const selector =
    options.nodeSelector instanceof NodeSelector
      ? options.nodeSelector
      : new NodeSelector(options.nodeSelector);
  const args = commonArgs(options, selector);
  const chute = baseChute(
    options,
    'vllm',
    STANDARD_IMAGES[engine],
    (variable) => renderModule(engine, variable, args, options.image),
    selector,
  );
  addLlmCords(chute, options.modelName, engine === 'vllm', engine === 'sglang');
  return chute;
}

/**
 * The embedding template: `standard_template: "embedding"`, cords `embed` (POST /v1/embeddings) and
 * `get_models`, and a module calling `build_embedding_chute(...)`.
 * @throws ChutesCliError `ERR_VALIDATION` as {@link buildVllmChute}.
 */
export function buildEmbeddingChute(options: EmbeddingTemplateOptions): Chute {
  checkLlmOptions(options, 'build_embedding_chute');
  const selector =
    options.nodeSelector instanceof NodeSelector
      ? options.nodeSelector
      : new NodeSelector(options.nodeSelector);
  const args: PyArg[] = [
    ...commonArgs(options, selector),
    ['pooling_type', options.poolingType],
    ['max_embed_len', options.maxEmbedLen],
    ['enable_chunked_processing', options.enableChunkedProcessing],
  ];
  const chute = baseChute(
    options,
    'embedding',
    STANDARD_IMAGES.vllm,
    (variable) => renderModule('embedding', variable, args, options.image),
    selector,
  );
  const common = { passthroughPort: 10101, method: 'POST', passthrough: true };
  const minimal = modelSchema('embedding', 'inputs', 'MinifiedEmbeddingRequest');
  const full = modelSchema('embedding', 'inputs', 'EmbeddingRequest');
  chute.cord({
    ...common,
    function: 'embed',
    passthroughPath: '/v1/embeddings',
    publicApiPath: '/v1/embeddings',
    inputSchema: full,
    minimalInputSchema: minimal,
    outputSchema: OBJECT_OUTPUT('EmbeddingResponse'),
  });
  chute.cord({
    ...common,
    function: 'get_models',
    passthroughPath: '/v1/models',
    publicApiPath: '/v1/models',
    publicApiMethod: 'GET',
    method: 'GET',
  });
  return chute;
}
