#!/usr/bin/env node
// Key-injection relay inside the enclave (see start-enclave.sh): accepts TCP connections on <listen port> (all
// interfaces of the enclave, which only the host's gvproxy forward reaches) and pipes each one, byte for byte,
// to 127.0.0.1:<target port>, so that the gateway sees a loopback peer. It reads, logs and keeps nothing.
// Usage: node loopback-relay.mjs <listen port> <target port>
import { connect, createServer } from 'node:net';

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
if (!Number.isInteger(listenPort) || !Number.isInteger(targetPort)) {
  process.stderr.write('usage: loopback-relay.mjs <listen port> <target port>\n');
  process.exit(2);
}
const server = createServer((client) => {
  const target = connect({ host: '127.0.0.1', port: targetPort });
  const close = () => {
    client.destroy();
    target.destroy();
  };
  client.on('error', close).on('close', close);
  target.on('error', close).on('close', close);
  client.pipe(target).pipe(client);
});
server.listen(listenPort, () => process.stdout.write(`relay ${listenPort} -> 127.0.0.1:${targetPort}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
