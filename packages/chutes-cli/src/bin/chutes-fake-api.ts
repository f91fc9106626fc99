#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { VERSION } from '../sdk/version.js';
import { createFakeChutesApi } from '../testing/fake-api.js';

const NAME = 'chutes-fake-api';
const json = process.argv.includes('--json');

/** Prints a failure in the one CLI shape and exits (2 for usage errors, 1 otherwise). */
function fail(code: string, message: string, exitCode: number): never {
  const hint = code === 'ERR_USAGE' ? ` (see ${NAME} --help)` : '';
  process.stderr.write(`${NAME}: ${code}: ${message}${hint}\n`);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
  process.exit(exitCode);
}

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

function port(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be an integer 0-65535');
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
}>();
const users: Array<{ username: string; hotkey: string }> = [];
for (const entry of options.user ?? []) {
  const [username, hotkey, ...rest] = entry.split(':');
  if (!username || !hotkey || rest.length > 0) fail('ERR_USAGE', `--user must be username:ss58, got ${entry}`, 2);
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
    process.stdout.write(
      json ? `${JSON.stringify({ ok: true, url: api.url, pid: process.pid })}\n` : `listening on ${api.url}\n`,
    );
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
