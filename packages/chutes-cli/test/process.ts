import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createFakeChutesApi, type FakeChutesApi, type FakeChutesApiOptions } from '../src/testing/index.js';
import { aliceWorkspace, PACKAGE_DIR } from './helpers.js';

/**
 * The CLI bins the process tests run. `CHUTES_CLI_BIN` / `CHUTES_FAKE_API_BIN` point them at another build (the
 * base commit's, to show a regression test fails there).
 */
export const CLI_BIN =
  process.env['CHUTES_CLI_BIN'] ?? fileURLToPath(new URL('../dist/bin/chutes.js', import.meta.url));
export const FAKE_API_BIN =
  process.env['CHUTES_FAKE_API_BIN'] ??
  fileURLToPath(new URL('../dist/bin/chutes-fake-api.js', import.meta.url));

/** What a finished child process left. */
export interface ProcessResult {
  /** Exit code; null when killed (`timedOut` tells whether by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Options of {@link runProcess}. */
export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Bytes written to stdin, which is then closed; `'open'` leaves stdin an open pipe nobody writes to. */
  input?: string | undefined;
  timeoutMs?: number;
  /** Called with the child right after spawn. */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs `node <script> ...args` (stdin closed unless `input` says otherwise) and collects its output. */
export function runProcess(script: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...process.env, ...options.env }))
      if (value !== undefined) env[key] = value;
    const child = spawn(process.execPath, [script, ...args], {
      cwd: options.cwd ?? PACKAGE_DIR,
      env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    if (typeof options.input === 'string' && options.input !== 'open') child.stdin!.end(options.input);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 80_000);
    options.onSpawn?.(child);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (options.input === 'open') child.stdin?.destroy();
      resolvePromise({ code, stdout, stderr, timedOut });
    });
  });
}

/** Runs the `chutes` bin. */
export function chutes(args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runProcess(CLI_BIN, args, options);
}

/** A free loopback port (bound and released). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(port));
    });
  });
}

/** An in-process fake API with user alice, a temp dir and a config.ini for alice pointing at the fake. */
export interface ProcessSetup {
  api: FakeChutesApi;
  dir: string;
  configPath: string;
  /** Environment for the child CLI: config path, HOME in the temp dir, no proxy variables. */
  env: Record<string, string | undefined>;
  close: () => Promise<void>;
}

/** Starts {@link ProcessSetup}. */
export async function processSetup(options: FakeChutesApiOptions = {}): Promise<ProcessSetup> {
  const api = await createFakeChutesApi(options);
  const { dir, home, configPath } = await aliceWorkspace(api, 'proc-', 0o600);
  const env: Record<string, string | undefined> = {
    CHUTES_CONFIG_PATH: configPath,
    HOME: home,
    HTTP_PROXY: undefined,
    HTTPS_PROXY: undefined,
    http_proxy: undefined,
    https_proxy: undefined,
    NO_PROXY: undefined,
    no_proxy: undefined,
    CHUTES_API_KEY: undefined,
    CHUTES_API_URL: undefined,
  };
  return {
    api,
    dir,
    configPath,
    env,
    close: async () => {
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the `chutes-fake-api` bin as a process; resolves once it prints its ready line. */
export function startFakeApiProcess(args: string[]): Promise<{ url: string; stop: () => Promise<void> }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [FAKE_API_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(buffer);
      if (match)
        resolvePromise({
          url: match[1]!,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
    });
    child.on('exit', (code) => reject(new Error(`chutes-fake-api exited with ${code}: ${stderr}`)));
  });
}
