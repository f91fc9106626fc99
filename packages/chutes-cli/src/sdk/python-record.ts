import { ChutesCliError } from '../errors.js';
import { Chute, type JsonObject } from './chute.js';
import { buildDiffusionChute } from './diffusion-template.js';
import { type AddOptions, Image } from './image.js';
import type { NodeSelectorOptions } from './node-selector.js';
import type { JsonValue } from './python-json.js';
import { buildEmbeddingChute, buildSglangChute, buildVllmChute } from './templates.js';

/** An `Image` as the Python recorder describes it: constructor arguments and the DSL calls in order. */
export interface RecordedImage {
  username: string;
  name: string;
  tag: string;
  readme: string;
  calls: Array<[string, unknown[], Record<string, unknown>]>;
}

/** A chute as the Python recorder (`python/record_chute.py`) describes it. */
export interface RecordedChute {
  username: string;
  name: string;
  image: string | RecordedImage;
  tagline: string;
  readme: string;
  standard_template: string | null;
  revision: string | null;
  concurrency: number;
  max_instances: number;
  shutdown_after_seconds: number;
  scaling_threshold: number;
  allow_external_egress: boolean;
  encrypted_fs: boolean;
  passthrough_headers: Record<string, string>;
  tee: boolean;
  lock_modules: boolean | null;
  node_selector: Record<string, unknown> | null;
  cords: Array<Record<string, unknown>>;
  jobs: Array<{
    function: string;
    ports: Array<{ name: string; port: number; proto: string }>;
    timeout: number | null;
    upload: boolean;
    ssh: boolean;
  }>;
  template: { name: 'vllm' | 'sglang' | 'embedding' | 'diffusion'; args: Record<string, unknown> } | null;
}

function bad(message: string): never {
  throw new ChutesCliError('ERR_MODULE_LOAD', `unexpected chute record: ${message}`);
}

const str = (value: unknown): string =>
  typeof value === 'string' ? value : bad(`expected a string, got ${JSON.stringify(value)}`);

/** Replays the recorded DSL calls on a TypeScript {@link Image}, which validates them and renders the Dockerfile. */
export function imageFromRecord(record: RecordedImage, cwd: string): Image {
  const image = new Image(record.username, record.name, record.tag, record.readme ?? '');
  for (const [method, args, kwargs] of record.calls) {
    switch (method) {
      case 'from_base':
        image.fromBase(str(args[0]));
        break;
      case 'with_maintainer':
        image.withMaintainer(str(args[0]));
        break;
      case 'set_user':
        image.setUser(str(args[0]));
        break;
      case 'set_workdir':
        image.setWorkdir(str(args[0]));
        break;
      case 'with_python':
        image.withPython(args[0] === undefined ? undefined : str(args[0]));
        break;
      case 'apt_install':
        image.aptInstall(args[0] as string | string[]);
        break;
      case 'apt_remove':
        image.aptRemove(args[0] as string | string[]);
        break;
      case 'with_env':
        image.withEnv(str(args[0]), String(args[1]));
        break;
      case 'run_command':
        image.runCommand(str(args[0]));
        break;
      case 'add': {
        const options: AddOptions = { cwd };
        if (kwargs['keep_git_dir']) options.keepGitDir = true;
        if (typeof kwargs['checksum'] === 'string') options.checksum = kwargs['checksum'];
        if (typeof kwargs['chown'] === 'string') options.chown = kwargs['chown'];
        if (typeof kwargs['chmod'] === 'string') options.chmod = kwargs['chmod'];
        if (typeof kwargs['build_dir'] === 'string') options.buildDir = kwargs['build_dir'];
        if (Array.isArray(kwargs['exclude'])) options.exclude = kwargs['exclude'].map(str);
        image.add(str(args[0]), str(args[1]), options);
        break;
      }
      case 'with_entrypoint':
        image.withEntrypoint(...(args as Array<string | string[]>));
        break;
      default:
        bad(`unknown Image method ${method}`);
    }
  }
  return image;
}

function selectorOptions(value: unknown): NodeSelectorOptions {
  if (!value || typeof value !== 'object') bad('node_selector must be an object');
  const selector = value as Record<string, unknown>;
  const options: NodeSelectorOptions = {};
  if (selector['gpu_count'] !== undefined) options.gpuCount = selector['gpu_count'] as number;
  if (selector['min_vram_gb_per_gpu'] !== undefined)
    options.minVramGbPerGpu = selector['min_vram_gb_per_gpu'] as number;
  if (selector['include'] != null) options.include = selector['include'] as string[];
  if (selector['exclude'] != null) options.exclude = selector['exclude'] as string[];
  return options;
}

function imageArg(value: unknown, cwd: string): Image | string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  return imageFromRecord(value as RecordedImage, cwd);
}

/** Keeps only the options a caller gave (Python defaults are applied by the TypeScript template). */
function defined<T extends object>(options: T): T {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined && value !== null),
  ) as T;
}

function fromTemplate(template: NonNullable<RecordedChute['template']>, cwd: string): Chute {
  const a = template.args;
  const image = imageArg(a['image'], cwd);
  const common = defined({
    username: str(a['username']),
    nodeSelector: selectorOptions(a['node_selector']),
    ...(image !== undefined ? { image } : {}),
    tagline: a['tagline'] as string,
    readme: a['readme'] as string,
    concurrency: a['concurrency'] as number,
    maxInstances: a['max_instances'] as number,
    scalingThreshold: a['scaling_threshold'] as number,
    shutdownAfterSeconds: a['shutdown_after_seconds'] as number,
    tee: a['tee'] as boolean,
  });
  if (template.name === 'diffusion') {
    return buildDiffusionChute(
      defined({
        ...common,
        name: str(a['name']),
        modelNameOrUrl: str(a['model_name_or_url']),
        version: a['version'] as string,
        revision: a['revision'] as string,
        pipelineArgs: a['pipeline_args'] as Record<string, JsonValue>,
      }),
    );
  }
  const llm = defined({
    ...common,
    modelName: str(a['model_name']),
    revision: str(a['revision']),
    engineArgs: a['engine_args'] as string,
    allowExternalEgress: a['allow_external_egress'] as boolean,
  });
  if (template.name === 'vllm') return buildVllmChute(llm);
  if (template.name === 'sglang') return buildSglangChute(llm);
  if (template.name === 'embedding')
    return buildEmbeddingChute(
      defined({
        ...llm,
        poolingType: a['pooling_type'] as string,
        maxEmbedLen: a['max_embed_len'] as number,
        enableChunkedProcessing: a['enable_chunked_processing'] as boolean,
      }),
    );
  return bad(`unknown template ${String(template.name)}`);
}

/**
 * Builds the {@link Chute} a Python module declared, from the recorder's description: templates through the
 * TypeScript templates (same cords and schemas), custom chutes with the recorded settings, cords (schemas already
 * final, as the SDK computed them) and jobs. The Python source is the deploy code, so no module is generated.
 * @throws ChutesCliError `ERR_VALIDATION` for invalid settings, `ERR_MODULE_LOAD` for a malformed record.
 */
export function chuteFromRecord(record: RecordedChute, cwd: string): Chute {
  if (record.template) return fromTemplate(record.template, cwd);
  const chute = new Chute({
    username: str(record.username),
    name: str(record.name),
    image: typeof record.image === 'string' ? record.image : imageFromRecord(record.image, cwd),
    tagline: record.tagline ?? '',
    readme: record.readme ?? '',
    standardTemplate: record.standard_template ?? null,
    revision: record.revision ?? null,
    nodeSelector: record.node_selector ? selectorOptions(record.node_selector) : null,
    concurrency: record.concurrency,
    maxInstances: record.max_instances,
    shutdownAfterSeconds: record.shutdown_after_seconds,
    scalingThreshold: record.scaling_threshold,
    allowExternalEgress: record.allow_external_egress === true,
    encryptedFs: record.encrypted_fs === true,
    passthroughHeaders: record.passthrough_headers ?? {},
    tee: record.tee === true,
    lockModules: record.lock_modules ?? null,
  });
  for (const cord of record.cords) {
    chute.cord({
      function: str(cord['function']),
      stream: cord['stream'] === true,
      ...(cord['path'] ? { path: str(cord['path']) } : {}),
      ...(cord['passthrough_path'] ? { passthroughPath: str(cord['passthrough_path']) } : {}),
      passthrough: cord['passthrough'] === true,
      passthroughPort: (cord['passthrough_port'] as number | null) ?? null,
      publicApiPath: (cord['public_api_path'] as string | null) ?? null,
      publicApiMethod: str(cord['public_api_method']),
      method: str(cord['method']),
      provisionTimeout: cord['provision_timeout'] as number,
      inputSchema: (cord['input_schema'] as JsonObject | null) ?? null,
      minimalInputSchema: (cord['minimal_input_schema'] as JsonObject | null) ?? null,
      outputSchema: (cord['output_schema'] as JsonObject | null) ?? null,
      outputContentType: (cord['output_content_type'] as string | null) ?? null,
      inferOutputContentType: false,
      sglangPassthrough: cord['sglang_passthrough'] === true,
    });
  }
  for (const job of record.jobs) {
    chute.job({
      function: str(job.function),
      ports: job.ports.map((port) => ({
        name: port.name,
        port: port.port,
        proto: port.proto as 'tcp' | 'udp' | 'http',
      })),
      timeout: job.timeout,
      upload: job.upload,
      ssh: job.ssh,
    });
  }
  return chute;
}
