#!/usr/bin/env node
// Installs one package pinned in deploy/base/package-lock.json into a directory, after checking the tarball
// against the lockfile's integrity (SRI). For image build stages that have Node but no npm (the locally built
// base has only the node binary). The registry is $npm_config_registry or the public npm registry.
// Usage: node install-pinned.mjs <package> <directory>
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [name, directory] = process.argv.slice(2);
if (!name || !directory) {
  process.stderr.write('usage: install-pinned.mjs <package> <directory>\n');
  process.exit(2);
}
const lock = JSON.parse(readFileSync(new URL('./package-lock.json', import.meta.url), 'utf8'));
const entry = lock.packages?.[`node_modules/${name}`];
if (!entry?.version || !entry.integrity) {
  process.stderr.write(`install-pinned: ${name} is not pinned with an integrity in package-lock.json\n`);
  process.exit(1);
}
const [algorithm, expected] = entry.integrity.split('-', 2);
const registry = (process.env.npm_config_registry || 'https://registry.npmjs.org/').replace(/\/?$/, '/');
const url = entry.resolved ?? `${registry}${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;

const response = await fetch(url);
if (!response.ok) {
  process.stderr.write(`install-pinned: GET ${url} answered ${response.status}\n`);
  process.exit(1);
}
const tarball = Buffer.from(await response.arrayBuffer());
const actual = createHash(algorithm).update(tarball).digest('base64');
if (actual !== expected) {
  process.stderr.write(`install-pinned: ${name}@${entry.version} does not match the lockfile's integrity\n`);
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'install-pinned-'));
try {
  writeFileSync(join(scratch, 'package.tgz'), tarball);
  mkdirSync(directory, { recursive: true });
  execFileSync('tar', [
    '-xzf',
    join(scratch, 'package.tgz'),
    '-C',
    directory,
    '--strip-components=1',
    '--no-same-owner',
  ]);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.stdout.write(`${name}@${entry.version} installed in ${directory}\n`);
