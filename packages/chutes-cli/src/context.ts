import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { ChutesCliError } from './errors.js';
import { ChutesClient, type FetchFunction } from './sdk/client.js';
import { loadConfig, type ResolvedConfig } from './sdk/config.js';
import { createDebugFetch, type DebugFetchOptions } from './sdk/debug-fetch.js';
import { createProxyFetch } from './sdk/proxy-fetch.js';
import { stringifyJson } from './sdk/python-json.js';
import { type Hotkey, hotkeyFromSeed } from './sdk/signing.js';
import { createLineReader, type LineReader } from './stdin-reader.js';

/** Result of running an external program. */
export interface SpawnResult {
  /** Exit code (null when killed). */
  code: number | null;
}

/** Everything the CLI touches outside itself; tests replace parts of it. */
export interface CliIo {
  /** Writes to stdout (results, `--json`). */
  stdout: (text: string) => void;
  /** Writes to stderr (progress, prompts, errors). */
  stderr: (text: string) => void;
  /** Asks a question and reads one line (hidden input for secrets when possible); all prompts share one reader. */
  prompt: (question: string, options?: { hidden?: boolean }) => Promise<string>;
  /** Whether stdin is a terminal (confirmations that spend money or delete need one, or `--yes`). */
  stdinIsTty: boolean;
  /** Environment variables. */
  env: Record<string, string | undefined>;
  /** Working directory. */
  cwd: string;
  /** Home directory. */
  home: string;
  /** Fetch used for the API. */
  fetch: FetchFunction;
  /** Clock in milliseconds. */
  now: () => number;
  /** Waits (injectable so tests never sleep). */
  sleep: (ms: number) => Promise<void>;
  /** Opens a URL in a browser. */
  openBrowser: (url: string) => Promise<void>;
  /** Runs a program with inherited stdio; resolves with its exit code. Rejects with ENOENT when missing. */
  run: (command: string, args: string[], options: { cwd: string }) => Promise<SpawnResult>;
}

let sharedReader: LineReader | undefined;

/** Closes the shared stdin reader of {@link defaultIo} (if a prompt opened it) so the process can exit. */
export function closeStdinReader(): void {
  sharedReader?.close();
  sharedReader = undefined;
}

function lazyProxyFetch(): FetchFunction {
  let resolved: Promise<FetchFunction> | undefined;
  return (input, init) => {
    resolved ??= createProxyFetch(process.env).then(
      (proxied) => proxied ?? ((url, options) => globalThis.fetch(url, options)),
    );
    return resolved.then((fetch) => fetch(input, init));
  };
}

/**
 * The default I/O: process streams, one shared line reader over stdin for every prompt, `globalThis.fetch` (or
 * undici through `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` when a proxy is set), real clock, xdg-open/open,
 * child_process.
 */
export function defaultIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    prompt: (question, options) => {
      sharedReader ??= createLineReader();
      return sharedReader.question(question, options);
    },
    stdinIsTty: process.stdin.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
    home: homedir(),
    fetch: lazyProxyFetch(),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolvePromise) => setTimeout(resolvePromise, ms)),
    openBrowser: async (url) => {
      const opener =
        process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
      await new Promise<void>((resolvePromise) => {
        const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
        child.on('error', () => resolvePromise());
        child.on('spawn', () => {
          child.unref();
          resolvePromise();
        });
      });
    },
    run: (command, args, options) =>
      new Promise((resolvePromise, reject) => {
        const child = spawn(command, args, { cwd: options.cwd, stdio: 'inherit' });
        child.on('error', reject);
        child.on('close', (code) => resolvePromise({ code }));
      }),
  };
}

/** Options common to commands that talk to the API. */
export interface ApiOptions {
  /** `--config-path`. */
  configPath?: string | undefined;
  /** `--api-key` (or `CHUTES_API_KEY`). */
  apiKey?: string | undefined;
  /** `--json`. */
  json?: boolean | undefined;
  /** `--debug`. */
  debug?: boolean | undefined;
}

/** Per-invocation helpers shared by the commands. */
export class CliContext {
  constructor(readonly io: CliIo) {}

  /** Progress/info line on stderr. */
  info(message: string): void {
    this.io.stderr(`${message}\n`);
  }

  /** Warning line on stderr. */
  warn(message: string): void {
    this.io.stderr(`warning: ${message}\n`);
  }

  /**
   * The fetch for a command: the I/O fetch, wrapped with request/response logging (secrets redacted) under
   * `--debug`.
   */
  fetchFor(options: ApiOptions, debugOptions: DebugFetchOptions = {}): FetchFunction {
    if (!options.debug) return this.io.fetch;
    return createDebugFetch(this.io.fetch, (line) => this.io.stderr(`debug: ${line}\n`), debugOptions);
  }

  /** Debug line on stderr when `--debug`. */
  debug(options: ApiOptions, message: string): void {
    if (options.debug) this.io.stderr(`debug: ${message}\n`);
  }

  /** Prints a result: JSON on stdout with `--json`, else the human text. */
  result(options: { json?: boolean | undefined }, data: unknown, human: string | (() => string)): void {
    if (options.json) this.io.stdout(`${stringifyJson(data, 2)}\n`);
    else {
      const text = typeof human === 'function' ? human() : human;
      if (text) this.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /**
   * Asks y/n unless `yes`; throws `ERR_ABORTED` on anything but y. A confirmation never reads a non-terminal stdin
   * (a closed or piped stdin would hang or silently answer): it fails with `ERR_USAGE` naming `hint` instead.
   */
  async confirm(question: string, yes: boolean | undefined, hint = '--yes'): Promise<void> {
    if (yes) return;
    if (!this.io.stdinIsTty) {
      throw new ChutesCliError(
        'ERR_USAGE',
        `stdin is not a terminal, so "${question.trim()}" cannot be asked: pass ${hint} to confirm`,
      );
    }
    const answer = await this.io.prompt(`${question} (y/n) `);
    if (answer.trim().toLowerCase() !== 'y') throw new ChutesCliError('ERR_ABORTED', 'aborted');
  }

  /** Reads config.ini per `--config-path` / `CHUTES_CONFIG_PATH` / default. */
  config(options: ApiOptions, allowMissing = false): Promise<ResolvedConfig> {
    return loadConfig({ configPath: options.configPath, env: this.io.env, home: this.io.home, allowMissing });
  }

  /** The API key from `--api-key` or `CHUTES_API_KEY`. */
  apiKey(options: ApiOptions): string | undefined {
    return options.apiKey || this.io.env['CHUTES_API_KEY'] || undefined;
  }

  /**
   * A client with the config's hotkey (or the API key when `acceptApiKey` and one is given).
   * @throws ChutesCliError `ERR_CONFIG_MISSING` / `ERR_AUTH_REQUIRED` when no credentials are available.
   */
  async client(
    options: ApiOptions,
    acceptApiKey = true,
  ): Promise<{ client: ChutesClient; config: ResolvedConfig; hotkey?: Hotkey }> {
    const apiKey = acceptApiKey ? this.apiKey(options) : undefined;
    const config = await this.config(options, apiKey !== undefined);
    let hotkey: Hotkey | undefined;
    if (config.auth && !apiKey) {
      hotkey = hotkeyFromSeed(config.auth.hotkeySeed);
      if (hotkey.ss58Address !== config.auth.hotkeySs58Address) {
        throw new ChutesCliError(
          'ERR_CONFIG_INVALID',
          `${config.path}: hotkey_seed does not match hotkey_ss58address`,
        );
      }
    }
    if (!hotkey && !apiKey) {
      throw new ChutesCliError(
        'ERR_AUTH_REQUIRED',
        `${config.path} has no [auth] section with hotkey_seed, hotkey_name and hotkey_ss58address; run "chutes register"${acceptApiKey ? ' or pass --api-key' : ''}`,
      );
    }
    const client = new ChutesClient({
      baseUrl: config.apiBaseUrl,
      hotkey,
      userId: config.auth?.userId,
      apiKey,
      fetch: this.fetchFor(options),
      now: this.io.now,
    });
    return hotkey ? { client, config, hotkey } : { client, config };
  }
}
