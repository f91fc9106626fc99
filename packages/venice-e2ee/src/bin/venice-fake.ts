#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createFakeVeniceServer } from '../testing/fake-venice.js';

const USAGE = `usage: venice-fake [--host 127.0.0.1] [--port 0] [--api-key KEY] [--tdx-root-out FILE] [--tdx-collateral-out FILE]
  [--nvidia-root-out FILE]

Starts the fake Venice server and prints one line "listening on http://HOST:PORT/api/v1" when ready.
  --tdx-root-out FILE        write the DER test root CA that anchors the attestation quotes (not Intel's root)
  --tdx-collateral-out FILE  write the DCAP collateral JSON of the test platform (TCB status UpToDate)
  --nvidia-root-out FILE     write the DER test root that anchors the GPU evidence of nvidia_payload (not NVIDIA's)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'api-key': { type: 'string' },
      'tdx-root-out': { type: 'string' },
      'tdx-collateral-out': { type: 'string' },
      'nvidia-root-out': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid --port ${values.port}`);
  const server = await createFakeVeniceServer({
    host: values.host,
    port,
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
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
  process.stderr.write(
    `venice-fake: ${(error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ')}\n`,
  );
  process.exit(1);
});
