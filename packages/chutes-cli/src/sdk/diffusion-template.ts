import { ChutesCliError } from '../errors.js';
import { Chute } from './chute.js';
import { Image, STANDARD_IMAGES } from './image.js';
import { NodeSelector, type NodeSelectorOptions } from './node-selector.js';
import type { JsonValue } from './python-json.js';
import { templateSchema } from './template-schemas.js';
import { nodeSelectorPython, type PyArg, renderCall } from './templates.js';

/** Arguments of {@link buildDiffusionChute} (the Python `build_diffusion_chute` parameters). */
export interface DiffusionTemplateOptions {
  /** Owner username. */
  username: string;
  /** Chute name. */
  name: string;
  /** Hugging Face model name, or a civitai.com model URL. */
  modelNameOrUrl: string;
  /** Node selector (required). */
  nodeSelector: NodeSelector | NodeSelectorOptions;
  /** Default "". */
  tagline?: string;
  /** Default "". */
  readme?: string;
  /** Default 3. */
  concurrency?: number;
  /** civitai model version id. */
  version?: string | null;
  /** Hugging Face revision used to download the model (the deploy JSON's `revision` stays null, as in Python). */
  revision?: string | null;
  /** Image (default: the standard diffusion image). */
  image?: Image | string;
  /** Extra `from_pretrained` arguments. */
  pipelineArgs?: Record<string, JsonValue>;
  /** Default 1. */
  maxInstances?: number;
  /** Default 0.75. */
  scalingThreshold?: number;
  /** Default 300. */
  shutdownAfterSeconds?: number;
  /** Default false. */
  tee?: boolean;
}

/**
 * The diffusion template: `standard_template: "diffusion"`, one non-passthrough cord `generate` (public
 * POST /generate, `image/jpeg`, the SDK's `GenerationInput` / `MinifiedGenerationInput` schemas) and a Python
 * module calling `build_diffusion_chute(...)` with the same arguments as its deploy `code`.
 * @example
 * ```ts
 * export const chute = buildDiffusionChute({ username: 'me', name: 'sdxl',
 *   modelNameOrUrl: 'stabilityai/stable-diffusion-xl-base-1.0', nodeSelector: { gpuCount: 1, minVramGbPerGpu: 24 } });
 * ```
 * @throws ChutesCliError `ERR_VALIDATION` for missing names or bad settings.
 */
export function buildDiffusionChute(options: DiffusionTemplateOptions): Chute {
  if (!options || typeof options !== 'object')
    throw new ChutesCliError('ERR_VALIDATION', 'build_diffusion_chute needs an options object');
  if (typeof options.modelNameOrUrl !== 'string' || options.modelNameOrUrl.length === 0)
    throw new ChutesCliError('ERR_VALIDATION', 'build_diffusion_chute: modelNameOrUrl is required');
  const selector =
    options.nodeSelector instanceof NodeSelector
      ? options.nodeSelector
      : new NodeSelector(options.nodeSelector);
  const image = options.image;
  const args: PyArg[] = [
    ['username', options.username],
    ['name', options.name],
    ['model_name_or_url', options.modelNameOrUrl],
    ['node_selector', { python: nodeSelectorPython(selector) }],
    ['tagline', options.tagline],
    ['readme', options.readme],
    ['concurrency', options.concurrency],
    ['version', options.version ?? undefined],
    ['revision', options.revision ?? undefined],
    [
      'image',
      image === undefined ? undefined : Image.isInstance(image) ? { python: image.toPython() } : image,
    ],
    ['pipeline_args', options.pipelineArgs],
    ['max_instances', options.maxInstances],
    ['scaling_threshold', options.scalingThreshold],
    ['shutdown_after_seconds', options.shutdownAfterSeconds],
    ['tee', options.tee],
  ];
  const imports = [
    ...(Image.isInstance(image) ? ['from chutes.image import Image'] : []),
    'from chutes.chute import NodeSelector',
    'from chutes.chute.template.diffusion import build_diffusion_chute',
  ];
  const chute = new Chute({
    username: options.username,
    name: options.name,
    image: image ?? STANDARD_IMAGES.diffusion,
    tagline: options.tagline ?? '',
    readme: options.readme ?? '',
    nodeSelector: selector,
    standardTemplate: 'diffusion',
    concurrency: options.concurrency ?? 3,
    shutdownAfterSeconds: options.shutdownAfterSeconds ?? 300,
    maxInstances: options.maxInstances ?? 1,
    scalingThreshold: options.scalingThreshold ?? 0.75,
    tee: options.tee ?? false,
    python: (variable) =>
      `${imports.join('\n')}\n\n${variable} = build_diffusion_chute(\n${renderCall(args)}\n)\n`,
  });
  chute.cord({
    function: 'generate',
    publicApiPath: '/generate',
    method: 'POST',
    inputSchema: templateSchema('diffusion', 'inputs', 'GenerationInput'),
    minimalInputSchema: templateSchema('diffusion', 'inputs', 'MinifiedGenerationInput'),
    outputContentType: 'image/jpeg',
    outputSchema: {},
  });
  return chute;
}
