#!/usr/bin/env node
// Checks the shape of every workspace package and the direction of imports between them.
// Run by `pnpm lint`; exits non-zero with one line per problem.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const scope = '@confidential-ai/';
const problems = [];

/**
 * The layers of AGENTS.md, bottom first. A package imports only packages of its own layer or lower ones (never a
 * layer above), only those its entry in `allowed` lists, and the `allowed` graph has no cycle.
 */
const layers = [
  ['bytes'],
  ['chutes-crypto', 'nitro-attestation', 'nvidia-attestation', 'tdx-attestation', 'tee-signing'],
  ['chutes-transport', 'venice-e2ee', 'verifier', 'chat-ui'],
  ['server-kit'],
  ['tee-gateway', 'venice-proxy'],
  ['proxy-server', 'chutes-cli'],
];
const layerOf = new Map(layers.flatMap((names, index) => names.map((name) => [name, index])));

/** Which workspace packages each package may import (the layering of AGENTS.md). */
const allowed = {
  bytes: [],
  'chutes-crypto': ['bytes'],
  'nitro-attestation': ['bytes'],
  'nvidia-attestation': ['bytes'],
  'tdx-attestation': ['bytes'],
  'tee-signing': ['bytes'],
  'chutes-transport': ['bytes', 'chutes-crypto', 'tdx-attestation', 'nvidia-attestation'],
  'venice-e2ee': ['bytes', 'tdx-attestation', 'nitro-attestation', 'nvidia-attestation'],
  verifier: [
    'bytes',
    'tdx-attestation',
    'nitro-attestation',
    'nvidia-attestation',
    'tee-signing',
    'venice-e2ee',
  ],
  // The chat page: its Node entry exports only the assets directory; its browser code (src/page/) bundles these.
  'chat-ui': ['bytes', 'venice-e2ee', 'verifier'],
  // What every server face shares; nothing service-specific, so only the byte helpers below it.
  'server-kit': ['bytes'],
  'tee-gateway': ['bytes', 'server-kit', 'tee-signing'],
  'venice-proxy': ['bytes', 'server-kit', 'venice-e2ee', 'tdx-attestation', 'nvidia-attestation'],
  'proxy-server': [
    'bytes',
    'chat-ui',
    'chutes-crypto',
    'chutes-transport',
    'venice-e2ee',
    'tee-signing',
    'nitro-attestation',
    'tdx-attestation',
    'nvidia-attestation',
    'server-kit',
    'tee-gateway',
    'venice-proxy',
  ],
  'chutes-cli': ['bytes', 'chutes-crypto', 'chutes-transport'],
};
for (const [name, targets] of Object.entries(allowed)) {
  if (!layerOf.has(name)) problems.push(`scripts/check-packages.mjs: ${name} is in no layer`);
  for (const target of targets) {
    if (!(layerOf.get(target) <= layerOf.get(name))) {
      problems.push(`scripts/check-packages.mjs: ${name} may not import ${target} (a layer above it)`);
    }
  }
}
/** The first cycle of the `allowed` graph, as a path, or undefined. */
function findCycle() {
  const state = new Map();
  const visit = (name, path) => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'open');
    for (const target of allowed[name] ?? []) {
      const cycle = visit(target, [...path, name]);
      if (cycle) return cycle;
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(allowed)) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}
const cycle = findCycle();
if (cycle) problems.push(`scripts/check-packages.mjs: the layering has a cycle: ${cycle.join(' -> ')}`);

/**
 * Source folders bundled into static assets at build time (not imported at run time): their workspace imports must
 * still follow the layering, and may be declared as devDependencies.
 */
const bundledAtBuild = { 'chat-ui': ['src/page/'] };

// The packages a changeset names live in its front matter: `---`, lines `'<name>': patch|minor|major`, `---`.
const changesets = readdirSync(join(root, '.changeset'))
  .filter((file) => file.endsWith('.md') && file !== 'README.md')
  .map((file) => {
    const text = readFileSync(join(root, '.changeset', file), 'utf8');
    const front = /^---\n((?:['"][^'"\n]+['"]: (?:patch|minor|major)\n)+)---\n/.exec(text);
    if (!front)
      problems.push(`.changeset/${file}: front matter must list packages as '<name>': patch|minor|major`);
    return front?.[1] ?? '';
  })
  .join('\n');

const licence = readFileSync(join(root, 'LICENSE'), 'utf8');

/** The subpaths (`.`, `./testing`, ...) a workspace package exports. */
function exportsOf(name) {
  const file = join(root, 'packages', name, 'package.json');
  if (!existsSync(file)) return [];
  return Object.keys(JSON.parse(readFileSync(file, 'utf8')).exports ?? {});
}

function sourceFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === '__fixtures__' ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

for (const name of readdirSync(join(root, 'packages')).sort()) {
  const dir = join(root, 'packages', name);
  if (!statSync(dir).isDirectory()) continue;
  for (const file of [
    'package.json',
    'README.md',
    'LICENSE',
    'src/index.ts',
    'tsup.config.ts',
    'tsconfig.json',
  ]) {
    if (!existsSync(join(dir, file))) problems.push(`packages/${name}: missing ${file}`);
  }
  if (!existsSync(join(dir, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const where = `packages/${name}/package.json`;
  if (manifest.name !== scope + name) problems.push(`${where}: name must be ${scope}${name}`);
  if (manifest.type !== 'module') problems.push(`${where}: "type" must be "module"`);
  if (manifest.engines?.node !== '>=20.19.0') problems.push(`${where}: engines.node must be ">=20.19.0"`);
  if (!manifest.exports?.['.'] || manifest.exports['./package.json'] !== './package.json') {
    problems.push(`${where}: exports must map "." and "./package.json"`);
  }
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (subpath === './package.json') continue;
    for (const condition of ['types', 'import', 'default']) {
      if (typeof target !== 'object' || !target[condition]) {
        problems.push(`${where}: exports["${subpath}"] lacks the "${condition}" condition`);
      }
    }
  }
  // Publishing metadata: provenance publishing needs `repository`; every package ships the full licence text.
  const repository = 'git+https://github.com/confidential-ai/confidential-ai-toolkit.git';
  if (manifest.license !== 'Apache-2.0') problems.push(`${where}: "license" must be "Apache-2.0"`);
  if (manifest.repository?.url !== repository || manifest.repository?.directory !== `packages/${name}`) {
    problems.push(`${where}: "repository" must be { url: "${repository}", directory: "packages/${name}" }`);
  }
  if (typeof manifest.homepage !== 'string' || !manifest.bugs?.url) {
    problems.push(`${where}: "homepage" and "bugs.url" are required`);
  }
  if (existsSync(join(dir, 'LICENSE')) && readFileSync(join(dir, 'LICENSE'), 'utf8') !== licence) {
    problems.push(`packages/${name}/LICENSE must be a copy of the repository's LICENSE`);
  }
  // A bin points at a committed launcher (bin/<name>.js importing dist/), so installs link it before a build.
  for (const [command, target] of Object.entries(manifest.bin ?? {})) {
    if (!existsSync(join(dir, target)) || /(^|\/)dist\//.test(target)) {
      problems.push(
        `${where}: bin "${command}" must point at a committed launcher (bin/${command}.js), not dist/`,
      );
    }
  }
  if (!manifest.private && !changesets.includes(`'${scope}${name}'`)) {
    problems.push(`packages/${name}: no changeset names ${scope}${name}`);
  }
  const mayImport = allowed[name];
  if (!mayImport) {
    problems.push(`packages/${name}: not in the layering table of scripts/check-packages.mjs`);
    continue;
  }
  const declared = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
  const bundled = (bundledAtBuild[name] ?? []).map((folder) => join(dir, folder));
  const buildDeclared = Object.keys({ ...manifest.devDependencies, ...manifest.dependencies });
  for (const file of sourceFiles(join(dir, 'src'))) {
    const atBuild = bundled.some((folder) => file.startsWith(folder));
    // Comments are dropped first: TSDoc examples show imports that the module itself does not make.
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    // Servers hash with node:crypto's one-shot `hash()`: a `createHash()` used once is a native object with a weak
    // handle, and thousands of those dying per young-generation collection lengthen its pause (AGENTS.md).
    if (layerOf.get(name) >= layerOf.get('server-kit') && /createHash\([^)]*\)\s*\.update\(/.test(text)) {
      problems.push(
        `${file.slice(root.length)}: createHash(...).update(...) hashes once: use node:crypto's hash()`,
      );
    }
    for (const match of text.matchAll(
      /(?:from|import\()\s*['"](@confidential-ai\/[a-z0-9-]+)(\/[^'"]*)?['"]/g,
    )) {
      const target = match[1].slice(scope.length);
      if (target === name) continue;
      if (!mayImport.includes(target)) {
        problems.push(`${file.slice(root.length)}: imports ${match[1]}, which ${name} must not depend on`);
      } else if (!(atBuild ? buildDeclared : declared).includes(match[1])) {
        problems.push(
          `${file.slice(root.length)}: imports ${match[1]} without declaring it in ${atBuild ? 'devDependencies' : 'dependencies'}`,
        );
      }
      // Only what the target's exports map offers: never another package's internals.
      const subpath = `.${match[2] ?? ''}`;
      if (!exportsOf(target).includes(subpath)) {
        problems.push(
          `${file.slice(root.length)}: imports ${match[1]}${match[2] ?? ''}, not in its exports map`,
        );
      }
    }
  }
}

// Private tooling (tooling/*: test-kit, docs-test, ...) is never published: a package may use it only as a
// devDependency (its tests), never as a dependency or peer its users would have to install.
const privateTooling = readdirSync(join(root, 'tooling'))
  .filter((name) => existsSync(join(root, 'tooling', name, 'package.json')))
  .map((name) => {
    const manifest = JSON.parse(readFileSync(join(root, 'tooling', name, 'package.json'), 'utf8'));
    if (manifest.private !== true)
      problems.push(`tooling/${name}/package.json: tooling packages must be "private": true`);
    return manifest.name;
  });
for (const name of readdirSync(join(root, 'packages'))) {
  const file = join(root, 'packages', name, 'package.json');
  if (!existsSync(file)) continue;
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  for (const tool of privateTooling) {
    if (manifest.dependencies?.[tool] || manifest.peerDependencies?.[tool]) {
      problems.push(`packages/${name}/package.json: ${tool} is private tooling: a devDependency only`);
    }
  }
}

// The docs test packs every package, so turbo must build them all before it: it lists each as a dependency.
const docsTest = JSON.parse(readFileSync(join(root, 'tooling/docs-test/package.json'), 'utf8'));
for (const name of readdirSync(join(root, 'packages'))) {
  if (existsSync(join(root, 'packages', name, 'package.json')) && !docsTest.devDependencies?.[scope + name]) {
    problems.push(`tooling/docs-test/package.json: devDependencies must list ${scope}${name}`);
  }
}

if (problems.length > 0) {
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  process.exit(1);
}
process.stdout.write('package shape and layering: ok\n');
