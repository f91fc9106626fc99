#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createFakeChutesServer } from '../testing/fake-server.js';

const USAGE = `Usage: chutes-fake [--port <port>] [--host 127.0.0.1] [--api-key <key>] [--model <name>]... [--instances <n>] [--json]

Serves a fake Chutes relay and its E2E instances (real ML-KEM-768 crypto, simulated model) until SIGTERM.`;

function fail(message: string): never {
  process.stderr.write(`chutes-fake: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        'api-key': { type: 'string' },
        model: { type: 'string', multiple: true },
        instances: { type: 'string', default: '2' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be an integer from 0 to 65535');
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > 64)
    fail('--instances must be an integer from 1 to 64');
  const models = values.model as string[] | undefined;
  const server = await createFakeChutesServer({
    host: values.host as string,
    port,
    instancesPerChute: instances,
    ...(typeof values['api-key'] === 'string' ? { apiKey: values['api-key'] } : {}),
    ...(models && models.length > 0 ? { models } : {}),
  }).catch((error: unknown) => fail(`cannot listen: ${(error as Error).message}`));
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ url: server.url, models: server.chutes.map((chute) => ({ name: chute.name, chute_id: chute.chuteId })) })}\n`,
    );
  } else {
    process.stdout.write(`listening on ${server.url}\n`);
  }
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => fail((error as Error).message));
