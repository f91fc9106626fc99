#!/usr/bin/env node
import { Command } from 'commander';
import { createFakeChutesApi } from '../testing/fake-api.js';

const program = new Command('chutes-fake-api')
  .description('A fake Chutes management API on loopback (sr25519-verified) for tests and demos')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', (value) => Number.parseInt(value, 10), 0)
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
  .option('--balance <usd>', 'balance of new users', (value) => Number(value), 100);

program.parse(process.argv);
const options = program.opts<{
  host: string;
  port: number;
  token?: string[];
  user?: string[];
  balance: number;
}>();

createFakeChutesApi({
  host: options.host,
  port: options.port,
  initialBalance: options.balance,
  ...(options.token ? { registrationTokens: options.token } : {}),
})
  .then((api) => {
    for (const entry of options.user ?? []) {
      const [username, hotkey] = entry.split(':');
      if (username && hotkey) api.addUser({ username, hotkey });
    }
    process.stdout.write(`listening on ${api.url}\n`);
    const stop = (): void => {
      void api.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  })
  .catch((error: unknown) => {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    process.exit(1);
  });
