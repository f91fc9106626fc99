#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { VERSION } from '../sdk/version.js';
import { createFakeChutesApi } from '../testing/fake-api.js';

const NAME = 'chutes-fake-api';
const json = process.argv.includes('--json');

/** Prints a failure in the one CLI shape (JSON on stdout, pretty unless --json; one stderr line) and exits (2 for usage errors, 1 otherwise). */
function fail(code: string, message: string, exitCode: number): never {
  const hint = code === 'ERR_USAGE' ? ` (see ${NAME} --help)` : '';
  process.stderr.write(`${NAME}: ${code}: ${message}${hint}\n`);
  process.stdout.write(
    `${JSON.stringify({ ok: false, error: { code, message } }, null, json ? undefined : 2)}\n`,
  );
  process.exit(exitCode);
}

const detachedChild = process.env['CHUTES_FAKE_API_DETACHED'] === '1';
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // A detached server outlives the terminal that started it: a closed stream must not stop it.
    if (error.code === 'EPIPE') {
      if (!detachedChild) process.exit(0);
      return;
    }
    throw error;
  });
}

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new InvalidArgumentError('must be an integer 0-65535');
  return Number(value);
}

function balance(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0)
    throw new InvalidArgumentError('must be a non-negative number');
  return number;
}

const program = new Command(NAME)
  .description('A fake Chutes management API on loopback (sr25519-verified) for tests and demos')
  .version(VERSION.package, '-V, --version')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', port, 0)
  .option(
    '--token <token>',
    'accepted registration token (repeatable; default replaceme)',
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option(
    '--user <username:ss58>',
    'pre-register a user by hotkey address (repeatable)',
    (value: string, previous: string[] = []) => [...previous, value],
  )
  .option('--balance <usd>', 'balance of new users', balance, 100)
  .option('--json', 'print the ready line and failures as JSON')
  .option('--detach', 'run in the background: return once listening, printing the URL and pid')
  .option('--pid-file <path>', 'with --detach, write the server pid to this file (stop it with kill)')
  .exitOverride()
  .configureOutput({ outputError: () => {} });

try {
  program.parse(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) process.exit(0);
    fail('ERR_USAGE', error.message.replace(/^error:\s*/i, ''), 2);
  }
  throw error;
}
const options = program.opts<{
  host: string;
  port: number;
  token?: string[];
  user?: string[];
  balance: number;
  detach?: boolean;
  pidFile?: string;
}>();
if (options.pidFile && !options.detach) fail('ERR_USAGE', '--pid-file needs --detach', 2);
if (options.detach) await detach();
const users: Array<{ username: string; hotkey: string }> = [];
for (const entry of options.user ?? []) {
  const [username, hotkey, ...rest] = entry.split(':');
  if (!username || !hotkey || rest.length > 0)
    fail('ERR_USAGE', `--user must be username:ss58, got ${entry}`, 2);
  users.push({ username, hotkey });
}

createFakeChutesApi({
  host: options.host,
  port: options.port,
  initialBalance: options.balance,
  ...(options.token ? { registrationTokens: options.token } : {}),
})
  .then((api) => {
    for (const user of users) api.addUser(user);
    if (detachedChild && process.send) {
      process.send({ url: api.url });
      process.disconnect?.();
    } else {
      process.stdout.write(
        json
          ? `${JSON.stringify({ ok: true, url: api.url, pid: process.pid })}\n`
          : `listening on ${api.url}\n`,
      );
    }
    const stop = (): void => {
      void api.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  })
  .catch((error: NodeJS.ErrnoException) => {
    const address = `${options.host}:${options.port}`;
    if (error.code === 'EADDRINUSE')
      fail('ERR_ADDRESS_IN_USE', `${address} is already in use (listen EADDRINUSE); pick another --port`, 1);
    if (error.code === 'EADDRNOTAVAIL' || error.code === 'EACCES')
      fail('ERR_LISTEN', `cannot listen on ${address} (${error.code})`, 1);
    fail('ERR_LISTEN', `cannot start: ${error.message}`, 1);
  });

/**
 * `--detach`: starts this program again in its own session without `--detach`, waits for it to listen (over an IPC
 * channel), prints the ready line with its pid (and writes `--pid-file`), and exits, leaving the server running.
 */
async function detach(): Promise<never> {
  const args = process.argv.slice(2).filter((arg, index, all) => {
    if (arg === '--detach') return false;
    if (arg === '--pid-file' || all[index - 1] === '--pid-file') return false;
    return !arg.startsWith('--pid-file=');
  });
  const child = spawn(process.execPath, [process.argv[1]!, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, CHUTES_FAKE_API_DETACHED: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = await new Promise<{ url: string } | null>((resolvePromise) => {
    child.once('message', (message) => resolvePromise(message as { url: string }));
    child.once('exit', () => resolvePromise(null));
  });
  if (!ready) {
    // The server failed to start: pass on its failure (same shape) and exit code.
    process.stdout.write(stdout);
    process.stderr.write(stderr);
    process.exit(child.exitCode ?? 1);
  }
  if (options.pidFile) writeFileSync(options.pidFile, `${child.pid}\n`);
  process.stdout.write(
    json
      ? `${JSON.stringify({ ok: true, url: ready.url, pid: child.pid })}\n`
      : `listening on ${ready.url} (pid ${child.pid})\n`,
  );
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  process.exit(0);
}
