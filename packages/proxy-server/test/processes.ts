import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI (turbo runs `build` before `test`). */
export const BIN = fileURLToPath(new URL('../dist/bin/confidential-proxy.js', import.meta.url));

export interface SpawnedServer {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

const spawned = new Set<ChildProcess>();

/** Kills every server this module spawned that is still running (cleanup after a failed or timed-out start). */
export function killAllSpawned(): void {
  for (const child of spawned) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  spawned.clear();
}

/** Spawns `confidential-proxy serve --port 0` with the given env and waits for its one ready line. */
export async function spawnServer(env: Record<string, string>, args: string[] = []): Promise<SpawnedServer> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the package first (npx tsup)`);
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 90_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)\n/.exec(stdout);
      const json = /^(\{.*\})\n/.exec(stdout);
      if (match || json) {
        clearTimeout(timer);
        resolve(match ? match[1]! : (JSON.parse(json![1]!) as { url: string }).url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    child,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** The fault-injecting upstream (`test/fault-upstream.mjs`) running as its own process. */
export interface FaultUpstream {
  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  url: string;
  /** The request bodies it received (most recent last). */
  requests(): Promise<Array<{ path: string; body: Record<string, unknown> }>>;
  /** Stops the process. */
  stop(): Promise<void>;
}

const FAULT_UPSTREAM = fileURLToPath(new URL('./fault-upstream.mjs', import.meta.url));

/** Spawns `node test/fault-upstream.mjs` and waits for its ready line. */
export async function spawnFaultUpstream(): Promise<FaultUpstream> {
  const child = spawn(process.execPath, [FAULT_UPSTREAM], { stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`fault upstream did not start: ${stderr}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = /^(\{.*\})\n/.exec(stdout);
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line[1]!) as { url: string }).url);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fault upstream exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    requests: async () =>
      (await (await fetch(`${url}/__requests`)).json()) as Array<{
        path: string;
        body: Record<string, unknown>;
      }>,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
