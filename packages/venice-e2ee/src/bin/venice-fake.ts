#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createFakeVeniceServer } from '../testing/fake-venice.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: venice-fake [--host 127.0.0.1] [--port 0] [--api-key KEY]\n');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const server = await createFakeVeniceServer({
    host: values.host,
    port,
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
  });
  process.stdout.write(`listening on ${server.baseUrl}\n`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`venice-fake: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
