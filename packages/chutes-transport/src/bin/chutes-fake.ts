#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createFakeChutesServer } from '../testing/fake-server.js';

declare const __PACKAGE_VERSION__: string;

// The repository's one CLI shape: a failure prints `{"ok": false, "error": {"code", "message"}}` on stdout (one line
// with --json) and `chutes-fake: <code>: <message>` on stderr; exit 2 (ERR_USAGE) for usage errors, 1 otherwise
// (ERR_ADDRESS_IN_USE names host:port); --help exits 0; a reader that closes stdout early ends it quietly.

const NAME = 'chutes-fake';
const USAGE = `Usage: ${NAME} [--port <port>] [--host 127.0.0.1] [--api-key <key>] [--model <name>]... [--instances <n>] [--json]

Serves a fake Chutes relay and its E2E instances (real ML-KEM-768 crypto, simulated model) until SIGTERM.
Prints one ready line: "listening on URL", or {"ok":true,"url":...,"models":[...]} with --json.
  -h, --help     this usage
  --version      the package version

Exit 0 on SIGTERM/SIGINT, 1 when the server cannot start, 2 on usage errors.`;

const json = process.argv.includes('--json');

function fail(code: string, message: string, exitCode: number, extra: Record<string, unknown> = {}): never {
  const line = message.replace(/\s*\n\s*/g, ' ').trim();
  process.stdout.write(
    `${JSON.stringify({ ok: false, error: { code, message: line, ...extra } }, null, json ? undefined : 2)}\n`,
  );
  process.stderr.write(`${NAME}: ${code}: ${line}${code === 'ERR_USAGE' ? ` (see ${NAME} --help)` : ''}\n`);
  process.exit(exitCode);
}

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

function listenFailure(error: unknown, host: string, port: number): never {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if ((current as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      fail('ERR_ADDRESS_IN_USE', `${address} is already in use (EADDRINUSE); choose another --port`, 1, {
        address,
      });
    }
    current = (current as Error).cause;
  }
  const reason = (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);
  fail('ERR_LISTEN', `cannot listen on ${host}:${port}: ${reason}`, 1);
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
        version: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail('ERR_USAGE', (error as Error).message, 2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.version) {
    process.stdout.write(`${__PACKAGE_VERSION__}\n`);
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port as string) || port > 65535)
    fail('ERR_USAGE', '--port must be an integer from 0 to 65535', 2);
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1 || instances > 64)
    fail('ERR_USAGE', '--instances must be an integer from 1 to 64', 2);
  const models = values.model as string[] | undefined;
  const host = values.host as string;
  const server = await createFakeChutesServer({
    host,
    port,
    instancesPerChute: instances,
    ...(typeof values['api-key'] === 'string' ? { apiKey: values['api-key'] } : {}),
    ...(models && models.length > 0 ? { models } : {}),
  }).catch((error: unknown) => listenFailure(error, host, port));
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: true, url: server.url, models: server.chutes.map((chute) => ({ name: chute.name, chute_id: chute.chuteId })) })}\n`,
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

main().catch((error: unknown) => fail('ERR_UNEXPECTED', (error as Error)?.message ?? String(error), 1));
