#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createFakeVeniceServer } from '../testing/fake-venice.js';

declare const __PACKAGE_VERSION__: string;

// The repository's one CLI shape: a failure prints `{"ok": false, "error": {"code", "message"}}` on stdout (one line
// with --json) and `venice-fake: <code>: <message>` on stderr; exit 2 (ERR_USAGE) for usage errors, 1 otherwise
// (ERR_ADDRESS_IN_USE names host:port); --help exits 0; a reader that closes stdout early ends it quietly.

const NAME = 'venice-fake';
const json = process.argv.includes('--json');

class UsageError extends Error {}

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

/** The `EADDRINUSE` system error anywhere in a chain of causes. */
function addressInUse(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    if ((current as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
    current = current.cause;
  }
  return false;
}

const USAGE = `Usage: venice-fake [--host 127.0.0.1] [--port 0] [--api-key KEY] [--tdx-root-out FILE] [--tdx-collateral-out FILE]
  [--nvidia-root-out FILE] [--json]

Starts the fake Venice server and prints one line "listening on http://HOST:PORT/api/v1" when ready
({"ok":true,"url":...} with --json). Exit 0 on SIGTERM/SIGINT, 1 when it cannot start, 2 on usage errors.
  -h, --help                 this usage
  --version                  the package version
  --tdx-root-out FILE        write the DER test root CA that anchors the attestation quotes (not Intel's root)
  --tdx-collateral-out FILE  write the DCAP collateral JSON of the test platform (TCB status UpToDate)
  --nvidia-root-out FILE     write the DER test root that anchors the GPU evidence of nvidia_payload (not NVIDIA's)
`;

/** The command line's options; a parse failure is a usage error. */
function parseOptions() {
  try {
    return parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        'api-key': { type: 'string' },
        'tdx-root-out': { type: 'string' },
        'tdx-collateral-out': { type: 'string' },
        'nvidia-root-out': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function main(): Promise<void> {
  const { values } = parseOptions();
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.version) {
    process.stdout.write(`${__PACKAGE_VERSION__}\n`);
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be an integer from 0 to 65535');
  const server = await createFakeVeniceServer({
    host: values.host,
    port,
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
  }).catch((error: unknown) => {
    if (!addressInUse(error)) throw error;
    const address = `${values.host.includes(':') ? `[${values.host}]` : values.host}:${port}`;
    return fail('ERR_ADDRESS_IN_USE', `${address} is already in use (EADDRINUSE); choose another --port`, 1, {
      address,
    });
  });
  try {
    if (values['tdx-root-out']) writeFileSync(values['tdx-root-out'], await server.tdxRoot());
    if (values['nvidia-root-out']) writeFileSync(values['nvidia-root-out'], await server.nvidiaRoot());
    if (values['tdx-collateral-out']) {
      writeFileSync(
        values['tdx-collateral-out'],
        `${JSON.stringify(await server.tdxCollateral(), null, 2)}\n`,
      );
    }
  } catch (error) {
    await server.close();
    throw error;
  }
  process.stdout.write(
    values.json
      ? `${JSON.stringify({ ok: true, url: server.baseUrl })}\n`
      : `listening on ${server.baseUrl}\n`,
  );
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
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) fail('ERR_USAGE', message, 2);
  fail('ERR_UNEXPECTED', message, 1);
});
