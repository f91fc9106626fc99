import { ChutesCliError } from '../errors.js';
import { Image } from './image.js';
import { NodeSelector, type NodeSelectorOptions } from './node-selector.js';
import { uuid5 } from './uuid.js';

const PATH_RE = /^(\/[a-z0-9_]+[a-z0-9\-_]*)+$/;
const CHUTE_MARKER = Symbol.for('confidential-ai.chutes-cli.chute');

/** A JSON object (JSON Schema and the like). */
export type JsonObject = { [key: string]: unknown };

function invalid(message: string): never {
  throw new ChutesCliError('ERR_VALIDATION', message);
}

/**
 * Normalizes a cord path like the SDK (single leading `/`, no trailing `/`) and validates it against
 * `^(/[a-z0-9_]+[a-z0-9-_]*)+$` (lower case only, no `//`).
 * @throws ChutesCliError `ERR_VALIDATION` (the SDK's `InvalidPath`).
 */
export function normalizeCordPath(path: string): string {
  if (typeof path !== 'string') invalid('cord path must be a string');
  const normalized = `/${path.replace(/^\/+/, '').replace(/\/+$/, '')}`;
  if (normalized.includes('//') || !PATH_RE.test(normalized)) invalid(`Invalid path: ${normalized}`);
  return normalized;
}

/**
 * Wraps a "model" JSON Schema (an object schema with a string `title`, the pydantic model name) the way the SDK's
 * `SchemaExtractor.get_minimal_schema` does: `{type: object, properties: {input_args: {$ref}}, required:
 * [input_args], definitions: {Name: schema without title/definitions, ...hoisted definitions}}`. A schema
 * without `title` is returned unchanged.
 */
export function wrapInputSchema(schema: JsonObject | null | undefined): JsonObject | null {
  if (!schema) return null;
  const title = schema['title'];
  if (typeof title !== 'string') return schema;
  const inner: JsonObject = {};
  for (const [key, value] of Object.entries(schema))
    if (key !== 'title' && key !== 'definitions') inner[key] = value;
  const definitions: JsonObject = { [title]: inner };
  const hoisted = schema['definitions'];
  if (hoisted && typeof hoisted === 'object') Object.assign(definitions, hoisted);
  return {
    type: 'object',
    properties: { input_args: { $ref: `#/definitions/${title}` } },
    required: ['input_args'],
    definitions,
  };
}

/**
 * The input schema the SDK derives for a cord function without type hints (`def f(data)`): an object with no
 * properties. Used when a cord has no `inputSchema`, as the Python decorator does.
 */
export function untypedFunctionSchema(): JsonObject {
  return { type: 'object', properties: {}, required: [], definitions: {} };
}

/** Options of {@link Chute.cord}. */
export interface CordOptions {
  /** The Python function name (required: it names the cord in the deploy JSON and the default paths). */
  function: string;
  /** Streaming cord (default false). */
  stream?: boolean;
  /** Internal path (default `/<function>`). */
  path?: string;
  /** Upstream path for passthrough (default `/<function>`). */
  passthroughPath?: string;
  /** Proxy to a local HTTP server (default false). */
  passthrough?: boolean;
  /** Upstream port (8000 when unset at request time). */
  passthroughPort?: number | null;
  /** Public hostname-API path (may repeat across cords). */
  publicApiPath?: string | null;
  /** Public method (default POST). */
  publicApiMethod?: string;
  /** Method (default POST). */
  method?: string;
  /** Seconds to wait for provisioning (default 180). */
  provisionTimeout?: number;
  /** Input JSON Schema; a schema with a `title` is wrapped like a pydantic model. */
  inputSchema?: JsonObject | null;
  /** Minimal input JSON Schema; wrapped the same way. */
  minimalInputSchema?: JsonObject | null;
  /** Output content type; inferred from `outputSchema` when unset (see `inferOutputContentType`). */
  outputContentType?: string | null;
  /**
   * Infer a missing output content type from `outputSchema` (default true). The Python SDK infers it only from
   * the function's return hint, so chutes read from Python modules pass their final value with this off.
   */
  inferOutputContentType?: boolean;
  /** Output JSON Schema (the Python return hint's schema), or null without a hint. */
  outputSchema?: JsonObject | null;
  /** SGLang passthrough mode (default false). */
  sglangPassthrough?: boolean;
}

/** A cord: one function of a chute, with the SDK's defaults and path validation. */
export class Cord {
  /** Function name. */
  readonly function: string;
  /** Internal path. */
  readonly path: string;
  /** Upstream path. */
  readonly passthroughPath: string;
  /** Public API path or null. */
  readonly publicApiPath: string | null;
  /** Public API method. */
  readonly publicApiMethod: string;
  /** Method. */
  readonly method: string;
  /** Stream flag. */
  readonly stream: boolean;
  /** Passthrough flag. */
  readonly passthrough: boolean;
  /** Upstream port or null. */
  readonly passthroughPort: number | null;
  /** Provision timeout. */
  readonly provisionTimeout: number;
  /** Wrapped input schema. */
  readonly inputSchema: JsonObject;
  /** Wrapped minimal input schema. */
  readonly minimalInputSchema: JsonObject | null;
  /** Output schema. */
  readonly outputSchema: JsonObject | null;
  /** Output content type. */
  readonly outputContentType: string | null;
  /** SGLang passthrough. */
  readonly sglangPassthrough: boolean;

  /** @throws ChutesCliError `ERR_VALIDATION` for invalid paths or a bad function name. */
  constructor(options: CordOptions) {
    if (typeof options.function !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.function)) {
      invalid('cord function must be a Python identifier');
    }
    this.function = options.function;
    this.path = normalizeCordPath(options.path || options.function);
    this.passthroughPath = normalizeCordPath(options.passthroughPath || options.function);
    this.publicApiPath = options.publicApiPath ? normalizeCordPath(options.publicApiPath) : null;
    this.publicApiMethod = options.publicApiMethod ?? 'POST';
    this.method = options.method ?? 'POST';
    this.stream = options.stream ?? false;
    this.passthrough = options.passthrough ?? false;
    this.passthroughPort = options.passthroughPort ?? null;
    this.provisionTimeout = options.provisionTimeout ?? 180;
    this.sglangPassthrough = options.sglangPassthrough ?? false;
    this.inputSchema = wrapInputSchema(options.inputSchema) ?? untypedFunctionSchema();
    this.minimalInputSchema = wrapInputSchema(options.minimalInputSchema);
    this.outputSchema = options.outputSchema ?? null;
    let contentType = options.outputContentType ?? null;
    if (!contentType && this.outputSchema && options.inferOutputContentType !== false) {
      contentType = this.outputSchema['type'] === 'object' ? 'application/json' : 'text/plain';
    }
    this.outputContentType = contentType;
  }

  /** The cord entry of the deploy JSON (section 9.2 field order). */
  toJSON(): JsonObject {
    return {
      method: this.method,
      path: this.path,
      public_api_path: this.publicApiPath,
      public_api_method: this.publicApiMethod,
      stream: this.stream,
      function: this.function,
      input_schema: this.inputSchema,
      output_schema: this.outputSchema,
      output_content_type: this.outputContentType,
      minimal_input_schema: this.minimalInputSchema,
      passthrough: this.passthrough,
    };
  }
}

/** A job port. */
export interface JobPort {
  /** Port name. */
  name: string;
  /** 2202 or 8002–65535. */
  port: number;
  /** `tcp`, `udp` or `http`. */
  proto: 'tcp' | 'udp' | 'http';
}

/** Options of {@link Chute.job}. */
export interface JobOptions {
  /** Python function name. */
  function: string;
  /** Ports. */
  ports?: JobPort[];
  /** null or 30–86400 seconds. */
  timeout?: number | null;
  /** Upload outputs (default true). */
  upload?: boolean;
  /** Add the `ssh` 2202/tcp port. */
  ssh?: boolean;
}

/** A job of a chute (SDK:chutes/chute/job.py). */
export class Job {
  /** Function name. */
  readonly name: string;
  /** Ports. */
  readonly ports: JobPort[];
  /** Timeout. */
  readonly timeout: number | null;
  /** Upload flag. */
  readonly upload: boolean;

  /** @throws ChutesCliError `ERR_VALIDATION` for bad ports, duplicates or timeout. */
  constructor(options: JobOptions) {
    if (typeof options.function !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.function)) {
      invalid('job function must be a Python identifier');
    }
    const ports = [...(options.ports ?? [])];
    if (options.ssh) ports.push({ name: 'ssh', port: 2202, proto: 'tcp' });
    const seen = new Set<string>();
    for (const port of ports) {
      if (
        !Number.isInteger(port.port) ||
        !(port.port === 2202 || (port.port >= 8002 && port.port <= 65535))
      ) {
        invalid(`job port ${port.port} must be 2202 or 8002-65535`);
      }
      if (!['tcp', 'udp', 'http'].includes(port.proto)) invalid(`job port proto must be tcp, udp or http`);
      const key = `${port.port}/${port.proto}`;
      if (seen.has(key) || seen.has(`name:${port.name}`)) invalid(`duplicate job port ${port.name} ${key}`);
      seen.add(key);
      seen.add(`name:${port.name}`);
    }
    const timeout = options.timeout ?? null;
    if (timeout !== null && (!Number.isInteger(timeout) || timeout < 30 || timeout > 86400)) {
      invalid('job timeout must be null or 30-86400 seconds');
    }
    this.name = options.function;
    this.ports = ports;
    this.timeout = timeout;
    this.upload = options.upload ?? true;
  }

  /** The job entry of the deploy JSON. */
  toJSON(): JsonObject {
    return {
      ports: this.ports.map((port) => ({ name: port.name, port: port.port, proto: port.proto })),
      timeout: this.timeout,
      name: this.name,
      upload: this.upload,
    };
  }
}

/**
 * The Python module the platform runs for a chute. Either literal Python source (which must define the
 * variable named in the deploy `ref_str`), or a function that renders it for a variable name.
 */
export type PythonSource = string | ((variable: string) => string);

/** Options of {@link Chute}. */
export interface ChuteOptions {
  /** Owner username. */
  username: string;
  /** Chute name. */
  name: string;
  /** An {@link Image} or a pre-built image string. */
  image: Image | string;
  /** Default "". */
  tagline?: string;
  /** Default "". */
  readme?: string;
  /** `vllm`, `sglang`, `embedding`, ... or null. */
  standardTemplate?: string | null;
  /** 40-hex git revision or null. */
  revision?: string | null;
  /** Node selector (required for deploy). */
  nodeSelector?: NodeSelector | NodeSelectorOptions | null;
  /** Default 1. */
  concurrency?: number;
  /** Default 1. */
  maxInstances?: number;
  /** Default 300. */
  shutdownAfterSeconds?: number;
  /** Default 0.75. */
  scalingThreshold?: number;
  /** Default false. */
  allowExternalEgress?: boolean;
  /** Default false. */
  encryptedFs?: boolean;
  /** Headers added to passthrough requests (each chute gets its own object). */
  passthroughHeaders?: Record<string, string>;
  /** Default false. */
  tee?: boolean;
  /** Default null. */
  lockModules?: boolean | null;
  /** The Python module deployed as `code` (templates fill this in). */
  python?: PythonSource;
}

function checkNumber(value: unknown, name: string, integer: boolean, min: number, max: number): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    invalid(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
}

/** Arguments of {@link Chute.toDeployBody}. */
export interface DeployBodyOptions {
  /** Python module file name (basename). */
  filename: string;
  /** `module:variable`. */
  refStr: string;
  /** The whole Python source. */
  code: string;
  /** `--public`. */
  public?: boolean;
  /** Logo id from `POST /logos/`, else null. */
  logoId?: string | null;
}

/**
 * A chute: an image, a node selector, scaling settings and cords, with the SDK's defaults.
 * @example
 * ```ts
 * const chute = new Chute({ username: 'me', name: 'echo', image: 'chutes/python:3.12',
 *   nodeSelector: { gpuCount: 1 }, python: (variable) => `...python source defining ${variable}...` });
 * chute.cord({ function: 'echo', publicApiPath: '/echo' });
 * ```
 */
export class Chute {
  /** Username. */
  readonly username: string;
  /** Name. */
  readonly name: string;
  /** Image or image string. */
  readonly image: Image | string;
  /** Tagline. */
  readonly tagline: string;
  /** Readme. */
  readonly readme: string;
  /** Standard template. */
  readonly standardTemplate: string | null;
  /** Revision. */
  readonly revision: string | null;
  /** Node selector or null. */
  readonly nodeSelector: NodeSelector | null;
  /** Concurrency. */
  readonly concurrency: number;
  /** Max instances. */
  readonly maxInstances: number;
  /** Shutdown after seconds. */
  readonly shutdownAfterSeconds: number;
  /** Scaling threshold. */
  readonly scalingThreshold: number;
  /** External egress. */
  readonly allowExternalEgress: boolean;
  /** Encrypted fs. */
  readonly encryptedFs: boolean;
  /** Passthrough headers (own copy). */
  readonly passthroughHeaders: Record<string, string>;
  /** TEE. */
  readonly tee: boolean;
  /** Lock modules. */
  readonly lockModules: boolean | null;
  /** Python source. */
  readonly python: PythonSource | undefined;
  readonly #cords: Cord[] = [];
  readonly #jobs: Job[] = [];

  /** @throws ChutesCliError `ERR_VALIDATION` for invalid settings. */
  constructor(options: ChuteOptions) {
    if (typeof options.username !== 'string' || options.username.length === 0)
      invalid('chute username is required');
    if (typeof options.name !== 'string' || options.name.length === 0) invalid('chute name is required');
    if (!(typeof options.image === 'string' || Image.isInstance(options.image)))
      invalid('chute image must be an Image or a string');
    this.username = options.username;
    this.name = options.name;
    this.image = options.image;
    this.tagline = options.tagline ?? '';
    this.readme = options.readme ?? '';
    this.standardTemplate = options.standardTemplate ?? null;
    this.revision = options.revision ?? null;
    if (this.revision !== null && !/^[a-f0-9]{40}$/i.test(this.revision))
      invalid('revision must be a 40-hex git commit');
    const selector = options.nodeSelector;
    this.nodeSelector =
      selector == null ? null : selector instanceof NodeSelector ? selector : new NodeSelector(selector);
    this.concurrency = options.concurrency ?? 1;
    checkNumber(this.concurrency, 'concurrency', true, 1, 256);
    this.maxInstances = options.maxInstances ?? 1;
    checkNumber(this.maxInstances, 'max_instances', true, 1, 100);
    this.shutdownAfterSeconds = options.shutdownAfterSeconds ?? 300;
    checkNumber(this.shutdownAfterSeconds, 'shutdown_after_seconds', true, 60, 604800);
    this.scalingThreshold = options.scalingThreshold ?? 0.75;
    checkNumber(this.scalingThreshold, 'scaling_threshold', false, 0, 1);
    this.allowExternalEgress = options.allowExternalEgress ?? false;
    this.encryptedFs = options.encryptedFs ?? false;
    this.passthroughHeaders = { ...(options.passthroughHeaders ?? {}) };
    this.tee = options.tee ?? false;
    this.lockModules = options.lockModules ?? null;
    this.python = options.python;
    Object.defineProperty(this, CHUTE_MARKER, { value: true });
  }

  /** True for a Chute from any copy of this package. */
  static isInstance(value: unknown): value is Chute {
    return typeof value === 'object' && value !== null && CHUTE_MARKER in value;
  }

  /** UUID5(NAMESPACE_OID, `"{username}::chute::{name}"`), the server's `chute_id`. */
  get uid(): string {
    return uuid5(`${this.username}::chute::${this.name}`);
  }

  /** The cords in declaration order. */
  get cords(): readonly Cord[] {
    return [...this.#cords];
  }

  /** The jobs in declaration order. */
  get jobs(): readonly Job[] {
    return [...this.#jobs];
  }

  /** Adds a cord. @throws ChutesCliError `ERR_VALIDATION` for invalid or duplicate paths (`DuplicatePath`). */
  cord(options: CordOptions): Cord {
    const cord = new Cord(options);
    if (this.#cords.some((existing) => existing.path === cord.path)) invalid(`Duplicate path: ${cord.path}`);
    this.#cords.push(cord);
    return cord;
  }

  /** Adds a job. */
  job(options: JobOptions): Job {
    const job = new Job(options);
    this.#jobs.push(job);
    return job;
  }

  /** Renders the Python module for a variable name. @throws ChutesCliError `ERR_VALIDATION` without `python`. */
  pythonModule(variable: string): string {
    if (this.python === undefined) {
      invalid(`chute ${this.name} has no Python module: pass the python option (templates set it)`);
    }
    return typeof this.python === 'string' ? this.python : this.python(variable);
  }

  /**
   * The `POST /chutes/` JSON (section 9.2, field order kept).
   * @throws ChutesCliError `ERR_VALIDATION` without a node selector (D3: no crash).
   */
  toDeployBody(options: DeployBodyOptions): JsonObject {
    if (!this.nodeSelector) invalid(`chute ${this.name} has no node_selector; deploy needs one`);
    return {
      name: this.name,
      tagline: this.tagline,
      readme: this.readme,
      logo_id: options.logoId ?? null,
      image: typeof this.image === 'string' ? this.image : this.image.uid,
      public: options.public ?? false,
      standard_template: this.standardTemplate,
      node_selector: this.nodeSelector.toJSON(),
      filename: options.filename,
      ref_str: options.refStr,
      code: options.code,
      concurrency: this.concurrency,
      max_instances: this.maxInstances,
      scaling_threshold: this.scalingThreshold,
      shutdown_after_seconds: this.shutdownAfterSeconds,
      allow_external_egress: this.allowExternalEgress,
      encrypted_fs: this.encryptedFs,
      tee: this.tee,
      lock_modules: this.lockModules,
      revision: this.revision,
      cords: this.#cords.map((cord) => cord.toJSON()),
      jobs: this.#jobs.map((job) => job.toJSON()),
    };
  }
}
