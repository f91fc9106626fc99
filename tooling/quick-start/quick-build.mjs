// The quick build of `npm start`: the JavaScript of every workspace package the composed server and the examples
// load, built by esbuild in ONE process (all packages at once) from each package's own tsup.config.ts options, into
// each package's dist/ as tsup would write it, without declarations; and the chat page into chat-ui's dist/ui/ as its
// scripts/build-page.mjs would. `npm test` and `pnpm build` still build every package with tsup (turbo), declarations
// included, and replace these files.
//
// A stamp in node_modules/.cache/confidential-ai/ records a SHA-256 over every input (each package's src/ files,
// package.json and tsup.config.ts, the shared tsup configuration, this file, the lockfile, esbuild's version, Node's
// major) and each output's size and mtime; a later start reuses the build only when that digest is unchanged and
// every output is still the one this build wrote (not missing, not replaced by another build).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const scope = '@confidential-ai/';
const require = createRequire(import.meta.url);

/** esbuild: this package's own production dependency (the version tsup uses), so a production install has it. */
const loadEsbuild = () => require('esbuild');

/**
 * The workspace packages (directory names under packages/) that `roots` load at run time: the roots and their
 * `dependencies` on `@confidential-ai/*` packages, transitively.
 * @param {string} root Repository root.
 * @param {string[]} roots Repository-relative directories of package.json files (`packages/proxy-server`, `examples`).
 * @returns {string[]}
 */
export function runtimeClosure(root, roots) {
  const found = new Set();
  const pending = roots.map((directory) => join(root, directory));
  while (pending.length > 0) {
    const directory = pending.pop();
    const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      if (!name.startsWith(scope)) continue;
      const packageName = name.slice(scope.length);
      if (found.has(packageName)) continue;
      found.add(packageName);
      pending.push(join(root, 'packages', packageName));
    }
    const own = /^packages\/([^/]+)$/.exec(relative(root, directory).split(sep).join('/'));
    if (own) found.add(own[1]);
  }
  return [...found].sort();
}

/** A file's size and modification time, or null when it is missing. */
function outputFingerprint(file) {
  try {
    const stats = statSync(file);
    return `${stats.size}:${stats.mtimeMs}`;
  } catch {
    return null;
  }
}

function stampPath(root) {
  return join(root, 'node_modules', '.cache', 'confidential-ai', 'quick-build.json');
}

/** Repository-relative paths of a directory's files (recursively, sorted), tests excepted. */
function filesUnder(root, directory) {
  const files = [];
  const visit = (absolute) => {
    for (const entry of readdirSync(absolute, { withFileTypes: true })) {
      const path = join(absolute, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile() && !/\.test\.ts$/.test(entry.name))
        files.push(relative(root, path).split(sep).join('/'));
    }
  };
  visit(join(root, directory));
  return files.sort();
}

/** The SHA-256 over every input of a quick build of `packages`. */
function inputDigest(root, packages) {
  const hash = createHash('sha256');
  const esbuildVersion = require('esbuild/package.json').version;
  hash.update(`esbuild ${esbuildVersion}\0node ${process.versions.node.split('.')[0]}\0`);
  const files = ['tooling/quick-start/quick-build.mjs', 'tooling/tsup-config/index.js', 'pnpm-lock.yaml'];
  for (const name of packages) {
    files.push(`packages/${name}/package.json`, `packages/${name}/tsup.config.ts`);
    files.push(...filesUnder(root, `packages/${name}/src`));
  }
  for (const file of files) {
    const bytes = readFileSync(join(root, file));
    hash.update(`${file}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/**
 * Whether the last quick build of `packages` was made from exactly the current inputs and its outputs are all there.
 * @param {string} root
 * @param {string[]} packages
 */
export function quickBuildIsCurrent(root, packages) {
  try {
    const stamp = JSON.parse(readFileSync(stampPath(root), 'utf8'));
    // Every output as this build wrote it: another build (tsup, of other sources) may have replaced it since.
    if (!stamp.outputs || typeof stamp.outputs !== 'object') return false;
    for (const [file, fingerprint] of Object.entries(stamp.outputs)) {
      if (outputFingerprint(join(root, file)) !== fingerprint) return false;
    }
    return stamp.digest === inputDigest(root, packages);
  } catch {
    return false;
  }
}

/**
 * Every package's tsup options, from its own tsup.config.ts: the configs are bundled by one esbuild run (`tsup`'s
 * `defineConfig` is the identity, the shared `libraryConfig` comes from tooling/tsup-config, `import.meta.url` is the
 * config's own) into the cache and imported there.
 */
async function tsupOptions(root, packages, esbuild, cache) {
  const outdir = join(cache, 'tsup-configs');
  rmSync(outdir, { recursive: true, force: true });
  const entryPoints = Object.fromEntries(
    packages.map((name) => [name, join(root, 'packages', name, 'tsup.config.ts')]),
  );
  await esbuild.build({
    entryPoints,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    plugins: [
      {
        name: 'tsup-config',
        setup(build) {
          build.onResolve({ filter: /^tsup$/ }, () => ({ path: 'tsup', namespace: 'tsup-stub' }));
          build.onLoad({ filter: /.*/, namespace: 'tsup-stub' }, () => ({
            contents: 'export const defineConfig = (options) => options;',
            loader: 'js',
          }));
          build.onResolve({ filter: /^@confidential-ai\/tsup-config$/ }, () => ({
            path: join(root, 'tooling', 'tsup-config', 'index.js'),
          }));
          build.onLoad({ filter: /tsup\.config\.ts$/ }, (args) => ({
            contents: readFileSync(args.path, 'utf8').replaceAll(
              'import.meta.url',
              JSON.stringify(pathToFileURL(args.path).href),
            ),
            loader: 'ts',
          }));
        },
      },
    ],
  });
  const options = new Map();
  for (const name of packages) {
    const loaded = (await import(pathToFileURL(join(outdir, `${name}.mjs`)).href)).default;
    if (!loaded || typeof loaded !== 'object' || Array.isArray(loaded) || !loaded.entry) {
      throw new Error(`packages/${name}/tsup.config.ts: expected one libraryConfig() options object`);
    }
    options.set(name, loaded);
  }
  return options;
}

/** esbuild options equal to what tsup does with `options` for the package in `directory` (JavaScript only). */
function esbuildOptions(directory, options) {
  const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
  // tsup leaves the package's dependencies and peer dependencies (and their subpaths) unbundled.
  const names = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {}),
    ...(options.external ?? []).filter((name) => typeof name === 'string'),
  ];
  const formats = [options.format ?? 'esm'].flat();
  if (formats.length !== 1 || formats[0] !== 'esm') {
    throw new Error(`${directory}: the quick build knows ESM output only, as libraryConfig() gives`);
  }
  if ((options.external ?? []).some((name) => typeof name !== 'string')) {
    throw new Error(`${directory}: regular-expression externals are not supported by the quick build`);
  }
  return {
    absWorkingDir: directory,
    entryPoints: options.entry,
    outdir: join(directory, 'dist'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: options.target ?? 'node20',
    splitting: true,
    sourcemap: Boolean(options.sourcemap),
    define: options.define ?? {},
    external: [...builtinModules, ...names.flatMap((name) => [name, `${name}/*`])],
    metafile: true,
    logLevel: 'silent',
  };
}

/**
 * The chat page's build options, as packages/chat-ui/scripts/build-page.mjs builds it (one minified ESM bundle for
 * browsers, licences in app.js.LEGAL.txt); the workspace packages it imports are read from their src/ (their dist/
 * may not exist yet) with `__PACKAGE_VERSION__` set as tsup sets it.
 */
function pageOptions(root) {
  const chatUi = join(root, 'packages', 'chat-ui');
  return {
    absWorkingDir: root,
    entryPoints: [join(chatUi, 'src', 'page', 'main.ts')],
    outfile: join(chatUi, 'dist', 'ui', 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'workspace-sources',
        setup(build) {
          build.onResolve({ filter: /^@confidential-ai\// }, (args) => {
            const source = workspaceSource(root, args.path);
            return source
              ? { path: source }
              : { errors: [{ text: `${args.path}: no source file behind its export` }] };
          });
          build.onLoad({ filter: /[/\\]packages[/\\][^/\\]+[/\\]src[/\\].*\.ts$/ }, (args) => {
            const [, name] = /[/\\]packages[/\\]([^/\\]+)[/\\]src[/\\]/.exec(args.path) ?? [];
            const manifest = JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
            const text = readFileSync(args.path, 'utf8').replace(
              /(?<!declare const )\b__PACKAGE_VERSION__\b/g,
              JSON.stringify(String(manifest.version)),
            );
            return { contents: text, loader: 'ts' };
          });
        },
      },
    ],
  };
}

/** The source file behind a workspace export: `./dist/x.js` is `src/x.ts` or `src/x/index.ts`. */
function workspaceSource(root, specifier) {
  const [, name, subpath] = /^@confidential-ai\/([^/]+)(\/.*)?$/.exec(specifier) ?? [];
  const directory = join(root, 'packages', name ?? '');
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
  } catch {
    return null;
  }
  const target = manifest.exports?.[subpath ? `.${subpath}` : '.'];
  const built = typeof target === 'string' ? target : (target?.import ?? target?.default);
  const match = typeof built === 'string' ? /^\.\/dist\/(.+)\.js$/.exec(built) : null;
  if (!match) return null;
  const candidates = [join(directory, 'src', `${match[1]}.ts`), join(directory, 'src', match[1], 'index.ts')];
  return candidates.find((candidate) => existsSync(candidate)) ?? null;
}

/**
 * Builds `packages` (all at once) and the chat page, then writes the stamp. Rejects with esbuild's error, whose
 * `errors` name file and line ({@link formatBuildFailure}).
 * @param {string} root Repository root.
 * @param {string[]} packages Directory names under packages/.
 * @returns {Promise<{ packages: number, files: number }>} How many packages, and how many source files bundled.
 */
export async function quickBuild(root, packages) {
  const esbuild = loadEsbuild();
  const cache = join(root, 'node_modules', '.cache', 'confidential-ai');
  mkdirSync(cache, { recursive: true });
  rmSync(stampPath(root), { force: true });
  const digest = inputDigest(root, packages);
  const options = await tsupOptions(root, packages, esbuild, cache);
  const builds = packages.map((name) => {
    const directory = join(root, 'packages', name);
    return esbuild
      .build(esbuildOptions(directory, options.get(name)))
      .then((result) => ({ directory, result }));
  });
  if (packages.includes('chat-ui')) {
    rmSync(join(root, 'packages', 'chat-ui', 'dist', 'ui'), { recursive: true, force: true });
    builds.push(esbuild.build(pageOptions(root)).then((result) => ({ directory: root, result })));
  }
  const results = await Promise.all(builds);
  if (packages.includes('chat-ui')) {
    const page = join(root, 'packages', 'chat-ui', 'src', 'page');
    for (const name of ['index.html', 'app.css']) {
      writeFileSync(join(root, 'packages', 'chat-ui', 'dist', 'ui', name), readFileSync(join(page, name)));
    }
  }
  // metafile paths are relative to each build's working directory.
  const repositoryPath = (directory, path) => relative(root, join(directory, path)).split(sep).join('/');
  const sources = new Set();
  const outputs = [];
  for (const { directory, result } of results) {
    for (const input of Object.keys(result.metafile.inputs)) {
      if (!input.includes('node_modules')) sources.add(repositoryPath(directory, input));
    }
    for (const output of Object.keys(result.metafile.outputs))
      outputs.push(repositoryPath(directory, output));
  }
  const fingerprints = Object.fromEntries(
    outputs.sort().map((file) => [file, outputFingerprint(join(root, file))]),
  );
  writeFileSync(stampPath(root), `${JSON.stringify({ digest, outputs: fingerprints }, null, 2)}\n`);
  return { packages: packages.length, files: sources.size };
}

/** esbuild's messages of a failed build as text (`file:line:column: message` and the line). */
export function formatBuildFailure(error) {
  const messages = error?.errors ?? [];
  if (messages.length === 0) return String(error?.stack ?? error);
  return messages
    .map((message) => {
      const where = message.location
        ? `${message.location.file}:${message.location.line}:${message.location.column}: `
        : '';
      return `${where}${message.text}${message.location?.lineText ? `\n    ${message.location.lineText}` : ''}`;
    })
    .join('\n');
}
