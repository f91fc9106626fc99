import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { createInterface } from 'node:readline';
import { ChutesCliError } from './errors.js';
import { ChutesClient, type FetchFunction } from './sdk/client.js';
import { loadConfig, type ResolvedConfig } from './sdk/config.js';
import { stringifyJson } from './sdk/python-json.js';
import { type Hotkey, hotkeyFromSeed } from './sdk/signing.js';

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
  /** Asks a question and reads one line (hidden input for secrets when possible). */
  prompt: (question: string, options?: { hidden?: boolean }) => Promise<string>;
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

function defaultPrompt(question: string, options: { hidden?: boolean } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const rl = createInterface({
      input: process.stdin,
      output: process.stderr,
      terminal: process.stdin.isTTY === true,
    });
    if (options.hidden && process.stdin.isTTY) {
      const output = rl as unknown as { _writeToOutput?: (text: string) => void };
      output._writeToOutput = (text: string) => {
        if (text.includes(question)) process.stderr.write(text);
      };
    }
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      if (options.hidden && process.stdin.isTTY) process.stderr.write('\n');
      resolvePromise(answer);
    });
    rl.on('close', () => {
      if (!answered)
        reject(
          new ChutesCliError('ERR_ABORTED', 'no answer on stdin (use the command-line options or --yes)'),
        );
    });
  });
}

/** The default I/O: process streams, `globalThis.fetch`, real clock, xdg-open/open, child_process. */
export function defaultIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    prompt: defaultPrompt,
    env: process.env,
    cwd: process.cwd(),
    home: homedir(),
    fetch: (input, init) => globalThis.fetch(input, init),
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

  /** Asks y/n unless `yes`; throws `ERR_ABORTED` on anything but y. */
  async confirm(question: string, yes: boolean | undefined): Promise<void> {
    if (yes) return;
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
      fetch: this.io.fetch,
      now: this.io.now,
    });
    return hotkey ? { client, config, hotkey } : { client, config };
  }
}
