import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ChutesCliError } from '../errors.js';
import { globSync } from './glob.js';
import { pythonJsonDumps, pythonLiteral } from './python-json.js';
import { uuid5 } from './uuid.js';

const NAME_RE = /^[a-z0-9][a-z0-9\-_.]*$/i;
const IMAGE_RE =
  /^((([a-z0-9.-]+)(:[0-9]+)?\/)?[a-z0-9._-]+(\/[a-z0-9._-]+)*)(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/i;
const PACKAGE_RE = /^[a-zA-Z0-9_:*-]+$/;
const ENV_KEY_RE = /^([a-z_][a-z0-9_]*)$/i;
/** D3: hexadecimal checksum, not the Python `[a-f0-0]` typo. */
const CHECKSUM_RE = /^sha(?:256|384|512):[a-f0-9]+$/;
const CHOWN_RE = /^([a-z_][a-z0-9_-]{0,31}|\d+)(:([a-z_][a-z0-9_-]{0,31}|\d+))?$/i;
const CHMOD_RE = /^([0-7]{3})$/;

const IMAGE_MARKER = Symbol.for('confidential-ai.chutes-cli.image');
const CWD_KEY = Symbol.for('confidential-ai.chutes-cli.module-cwd');

/** The directory `add()` resolves relative sources against: the chute loader's cwd while loading, else `process.cwd()`. */
export function defaultAddCwd(): string {
  const value = (globalThis as Record<symbol, unknown>)[CWD_KEY];
  return typeof value === 'string' ? value : process.cwd();
}

/** Runs `fn` with {@link defaultAddCwd} set to `cwd` (used by the chute loader). */
export async function withAddCwd<T>(cwd: string, fn: () => Promise<T>): Promise<T> {
  const store = globalThis as Record<symbol, unknown>;
  const previous = store[CWD_KEY];
  store[CWD_KEY] = cwd;
  try {
    return await fn();
  } finally {
    store[CWD_KEY] = previous;
  }
}

/** The Dockerfile keywords the DSL emits. */
export type DirectiveKeyword =
  | 'FROM'
  | 'ADD'
  | 'ENTRYPOINT'
  | 'ENV'
  | 'MAINTAINER'
  | 'RUN'
  | 'USER'
  | 'WORKDIR';

/** One Dockerfile line. */
export interface Directive {
  /** Keyword. */
  readonly keyword: DirectiveKeyword;
  /** Everything after the keyword. */
  readonly args: string;
  /** Local paths (relative to the build directory's cwd, as globbed) this directive puts in the build context. */
  readonly buildContext: readonly string[];
}

function invalid(message: string): never {
  throw new ChutesCliError('ERR_VALIDATION', message);
}

function directive(keyword: DirectiveKeyword, args: string, buildContext: string[] = []): Directive {
  return Object.freeze({ keyword, args, buildContext: Object.freeze(buildContext) });
}

/** Options of {@link Image.add}. */
export interface AddOptions {
  /** `--keep-git-dir=true` (URL sources only). */
  keepGitDir?: boolean;
  /** `--checksum=sha256:<hex>` (URL sources only). */
  checksum?: string;
  /** `--chown=user[:group]`. */
  chown?: string;
  /** `--chmod=NNN` (3 octal digits). */
  chmod?: string;
  /** Glob patterns removed from the local matches. */
  exclude?: string[];
  /** Build directory; matches must lie inside it (default: `cwd`). */
  buildDir?: string;
  /** Directory that relative patterns are resolved against (default: `process.cwd()`). */
  cwd?: string;
}

function aptDirective(command: 'install' | 'remove', packages: string | string[]): Directive {
  const list = typeof packages === 'string' ? [packages] : packages;
  if (!Array.isArray(list)) invalid('apt packages must be a string or a list of strings');
  for (const pkg of list) {
    if (typeof pkg !== 'string' || !PACKAGE_RE.test(pkg))
      invalid(`Invalid apt package option: ${String(pkg)}`);
  }
  return directive('RUN', `apt-get -y ${command} ${list.join(' ')}`);
}

/**
 * The Image DSL of the Python SDK: a chain of Dockerfile directives whose `toString()` is byte-identical to
 * Python's `str(image)` for the same calls, and whose `uid` follows the SDK rule (D4).
 *
 * @example
 * ```ts
 * const image = new Image('myuser', 'my-image', '0.1')
 *   .fromBase('parachutes/python:3.12')
 *   .aptInstall(['git', 'curl'])
 *   .runCommand('pip install transformers')
 *   .withEnv('HF_HOME', '/cache');
 * image.toString(); // 'FROM parachutes/python:3.12\nRUN apt-get -y install git curl\n...'
 * ```
 */
export class Image {
  /** The FROM of a new image. */
  static readonly defaultBaseImage = 'parachutes/python:3.12';
  /** Image owner's username. */
  readonly username: string;
  /** Image name. */
  readonly name: string;
  /** Image tag. */
  readonly tag: string;
  /** Readme text. */
  readme: string;
  #directives: Directive[];
  readonly #calls: string[] = [];

  /**
   * @throws ChutesCliError `ERR_VALIDATION` when `name` or `tag` does not match `^[a-z0-9][a-z0-9-_.]*$` (any case).
   */
  constructor(username: string, name: string, tag: string, readme = '') {
    if (typeof username !== 'string' || username.length === 0)
      invalid('Image username must be a non-empty string');
    if (typeof name !== 'string' || !NAME_RE.test(name)) invalid(`Invalid image name: '${String(name)}'`);
    if (typeof tag !== 'string' || !NAME_RE.test(tag)) invalid(`Invalid image tag: '${String(tag)}'`);
    this.username = username;
    this.name = name;
    this.tag = tag;
    this.readme = readme;
    this.#directives = [directive('FROM', Image.defaultBaseImage)];
    Object.defineProperty(this, IMAGE_MARKER, { value: true });
  }

  /** True for an Image from any copy of this package. */
  static isInstance(value: unknown): value is Image {
    return typeof value === 'object' && value !== null && IMAGE_MARKER in value;
  }

  /** SDK uid: UUID5(NAMESPACE_OID, lower-case of `"{username}/{name}:{tag}"`). */
  get uid(): string {
    return uuid5(`${this.username}/${this.name}:${this.tag}`.toLowerCase());
  }

  /** The server's image id: UUID5 of `"{username.lower()}/{name}:{tag}"` (differs when name/tag have upper case). */
  get serverUid(): string {
    return uuid5(`${this.username.toLowerCase()}/${this.name}:${this.tag}`);
  }

  /** The directives in order (FROM first). */
  get directives(): readonly Directive[] {
    return [...this.#directives];
  }

  /** Appends a directive (used by `build` for the final ADD/RUN lines). */
  appendDirective(entry: Directive): this {
    this.#directives.push(entry);
    return this;
  }

  /** Replaces the FROM (which stays first). @throws ChutesCliError `ERR_VALIDATION` for a bad reference. */
  fromBase(baseImage: string): this {
    if (typeof baseImage !== 'string' || !IMAGE_RE.test(baseImage))
      invalid(`Invalid image: ${String(baseImage)}`);
    this.#directives = [
      directive('FROM', baseImage),
      ...this.#directives.filter((entry) => entry.keyword !== 'FROM'),
    ];
    this.#calls.push(`.from_base(${pythonLiteral(baseImage)})`);
    return this;
  }

  /** `MAINTAINER s`. */
  withMaintainer(maintainer: string): this {
    this.#directives.push(directive('MAINTAINER', maintainer));
    this.#calls.push(`.with_maintainer(${pythonLiteral(maintainer)})`);
    return this;
  }

  /** `USER u`. */
  setUser(user: string): this {
    this.#directives.push(directive('USER', user));
    this.#calls.push(`.set_user(${pythonLiteral(user)})`);
    return this;
  }

  /** `WORKDIR d`. */
  setWorkdir(dir: string): this {
    this.#directives.push(directive('WORKDIR', dir));
    this.#calls.push(`.set_workdir(${pythonLiteral(dir)})`);
    return this;
  }

  /** The fixed directive sequence that builds CPython `version` from source into /opt/python. */
  withPython(version = '3.10.15'): this {
    const suffix = version.split('.').slice(0, 2).join('.');
    const workdirs = this.#directives
      .filter((entry) => entry.keyword === 'WORKDIR')
      .map((entry) => entry.args);
    const current = workdirs.length > 0 ? workdirs[workdirs.length - 1]! : '/root';
    this.#directives.push(
      directive('RUN', 'apt-get update'),
      aptDirective('install', [
        'build-essential',
        'zlib1g-dev',
        'libncurses5-dev',
        'libgdbm-dev',
        'libnss3-dev',
        'libssl-dev',
        'libreadline-dev',
        'libffi-dev',
        'libsqlite3-dev',
        'wget',
        'libbz2-dev',
        'libexpat1-dev',
        'liblzma-dev',
      ]),
      directive('WORKDIR', '/usr/src'),
      directive('RUN', `wget https://www.python.org/ftp/python/${version}/Python-${version}.tgz`),
      directive('RUN', `tar -xzf Python-${version}.tgz`),
      directive('WORKDIR', `/usr/src/Python-${version}`),
      directive(
        'RUN',
        './configure --enable-optimizations --enable-shared --with-system-expat --with-ensurepip=install --prefix=/opt/python',
      ),
      directive('RUN', 'make -j'),
      directive('RUN', 'make altinstall'),
      directive('WORKDIR', current),
      directive('RUN', `ln -s /opt/python/bin/pip${suffix} /opt/python/bin/pip`),
      directive('RUN', `ln -s /opt/python/bin/python${suffix} /opt/python/bin/python`),
      directive('RUN', 'echo /opt/python/lib >> /etc/ld.so.conf && ldconfig'),
      directive('RUN', 'rm -rf /usr/src/Python*'),
    );
    this.#calls.push(`.with_python(${pythonLiteral(version)})`);
    return this;
  }

  /** `RUN apt-get -y install ...`. @throws ChutesCliError `ERR_VALIDATION` for a bad package name. */
  aptInstall(packages: string | string[]): this {
    this.#directives.push(aptDirective('install', packages));
    this.#calls.push(`.apt_install(${pythonLiteral(packages)})`);
    return this;
  }

  /** `RUN apt-get -y remove ...`. @throws ChutesCliError `ERR_VALIDATION` for a bad package name. */
  aptRemove(packages: string | string[]): this {
    this.#directives.push(aptDirective('remove', packages));
    this.#calls.push(`.apt_remove(${pythonLiteral(packages)})`);
    return this;
  }

  /** `ENV key=value` (value not quoted). @throws ChutesCliError `ERR_VALIDATION` for a bad key. */
  withEnv(key: string, value: string): this {
    if (typeof key !== 'string' || !ENV_KEY_RE.test(key)) invalid(`Invalid variable name: ${String(key)}`);
    this.#directives.push(directive('ENV', `${key}=${value}`));
    this.#calls.push(`.with_env(${pythonLiteral(key)}, ${pythonLiteral(value)})`);
    return this;
  }

  /** `RUN command`. */
  runCommand(command: string): this {
    this.#directives.push(directive('RUN', command));
    this.#calls.push(`.run_command(${pythonLiteral(command)})`);
    return this;
  }

  /**
   * `ADD [--keep-git-dir=true] [--checksum=..] [--chown=..] [--chmod=..] source dest`. Local sources are globbed
   * (recursive, minus `exclude`, inside `buildDir`) and recorded as the build context; they must match something.
   * Skipped when `CHUTES_EXECUTION_CONTEXT=REMOTE`, like the Python SDK.
   * @throws ChutesCliError `ERR_VALIDATION` for bad options or a local source that matches nothing.
   */
  add(source: string, dest: string, options: AddOptions = {}): this {
    if (process.env['CHUTES_EXECUTION_CONTEXT'] === 'REMOTE') return this;
    this.#directives.push(createAddDirective(source, dest, options));
    const kwargs: string[] = [];
    if (options.keepGitDir) kwargs.push('keep_git_dir=True');
    if (options.checksum) kwargs.push(`checksum=${pythonLiteral(options.checksum)}`);
    if (options.chown) kwargs.push(`chown=${pythonLiteral(options.chown)}`);
    if (options.chmod) kwargs.push(`chmod=${pythonLiteral(options.chmod)}`);
    if (options.exclude) kwargs.push(`exclude=${pythonLiteral(options.exclude)}`);
    this.#calls.push(`.add(${[pythonLiteral(source), pythonLiteral(dest), ...kwargs].join(', ')})`);
    return this;
  }

  /**
   * Replaces any ENTRYPOINT with a JSON array (Python `json.dumps` formatting). Accepts one string, one list,
   * or several strings (D3).
   */
  withEntrypoint(...args: Array<string | string[]>): this {
    const command =
      args.length === 1 ? (typeof args[0] === 'string' ? [args[0]] : args[0]!) : (args as string[]);
    if (!Array.isArray(command) || command.some((item) => typeof item !== 'string')) {
      invalid('with_entrypoint takes strings or one list of strings');
    }
    this.#directives = [
      ...this.#directives.filter((entry) => entry.keyword !== 'ENTRYPOINT'),
      directive('ENTRYPOINT', pythonJsonDumps(command)),
    ];
    this.#calls.push(`.with_entrypoint(${pythonLiteral(command)})`);
    return this;
  }

  /**
   * A Python expression that rebuilds this image with the Python SDK's DSL (used in generated chute modules).
   * Directives appended with {@link Image.appendDirective} are not included.
   */
  toPython(): string {
    const head = `Image(username=${pythonLiteral(this.username)}, name=${pythonLiteral(this.name)}, tag=${pythonLiteral(this.tag)}, readme=${pythonLiteral(this.readme)})`;
    if (this.#calls.length === 0) return head;
    return `(\n    ${head}\n${this.#calls.map((call) => `    ${call}`).join('\n')}\n)`;
  }

  /** All local build-context paths of all directives, in directive order. */
  buildContextPaths(): string[] {
    return this.#directives.flatMap((entry) => [...entry.buildContext]);
  }

  /** The Dockerfile: directives joined with `\n`, FROM first, no trailing newline. */
  toString(): string {
    return this.#directives.map((entry) => `${entry.keyword} ${entry.args}`).join('\n');
  }
}

/** Builds an ADD directive (see {@link Image.add}). */
export function createAddDirective(source: string, dest: string, options: AddOptions = {}): Directive {
  if (typeof source !== 'string' || typeof dest !== 'string') invalid('ADD source and dest must be strings');
  const args: string[] = [];
  let isUrl = false;
  if (source.includes('://')) {
    try {
      new URL(source);
      isUrl = true;
    } catch {
      isUrl = false;
    }
  }
  if (isUrl) {
    if (options.keepGitDir) args.push('--keep-git-dir=true');
    if (options.checksum) {
      if (!CHECKSUM_RE.test(options.checksum)) invalid(`Invalid checksum option: ${options.checksum}`);
      args.push(`--checksum=${options.checksum}`);
    }
  }
  if (options.chown) {
    if (!CHOWN_RE.test(options.chown)) invalid(`Invalid chown option: ${options.chown}`);
    args.push(`--chown=${options.chown}`);
  }
  if (options.chmod) {
    if (!CHMOD_RE.test(options.chmod)) invalid(`Invalid chmod option: ${options.chmod}`);
    args.push(`--chmod=${options.chmod}`);
  }
  args.push(source);
  let context: string[] = [];
  if (!isUrl) {
    const cwd = options.cwd ?? defaultAddCwd();
    const positive = globSync(source, cwd);
    const negative = new Set((options.exclude ?? []).flatMap((pattern) => globSync(pattern, cwd)));
    const buildDir = resolve(cwd, options.buildDir ?? cwd);
    context = positive.filter((path) => {
      if (negative.has(path)) return false;
      const rel = relative(buildDir, resolve(cwd, path));
      return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
    });
    if (context.length === 0) {
      invalid(`No (accessible) source paths matched provided pattern trying to add ${source}`);
    }
  }
  args.push(dest);
  return directive('ADD', args.join(' '), context);
}

/** A `RUN` directive, for callers that append to an image (e.g. `build --local`). */
export function createRunDirective(command: string): Directive {
  return directive('RUN', command);
}

/** Standard pre-built images the templates use (SDK:chutes/image/standard). */
export const STANDARD_IMAGES = {
  vllm: 'chutes/vllm:nightly-2025111700',
  sglang: 'chutes/sglang:nightly-2025111800',
  diffusion: 'chutes/diffusion:0.34.0.po',
} as const;
