// A fault-injecting OpenAI-style upstream, run as its own process (`node test/fault-upstream.mjs`): it prints one
// line `{"url":"http://127.0.0.1:<port>"}` on stdout when it listens. Every POST answers what the request body's
// `fault` object says, byte for byte, so a test (sent through the proxy, which forwards the body) decides what
// the proxy receives from its upstream:
//
//   fault.status   HTTP status (default 200)
//   fault.headers  response headers (default content-type text/event-stream)
//   fault.chunks   body pieces, each a string or { base64 }; written one by one, `delayMs` apart (default 2)
//   fault.end      'finish' (default: clean end of body), 'destroy' (reset the connection after the pieces) or
//                  'hang' (send the pieces, then never end)
//
// `GET /__requests` lists the bodies received so far (most recent last), `GET /v1/models` a one-model list.
import { createServer } from 'node:http';

const received = [];

function pieceBytes(piece) {
  if (typeof piece === 'string') return Buffer.from(piece, 'utf8');
  if (piece && typeof piece.base64 === 'string') return Buffer.from(piece.base64, 'base64');
  throw new TypeError('a chunk is a string or { base64 }');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const server = createServer((request, response) => {
  const parts = [];
  request.on('data', (part) => parts.push(part));
  request.on('end', async () => {
    if (request.method === 'GET' && request.url === '/__requests') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(received));
      return;
    }
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: 'fault-model', object: 'model' }] }));
      return;
    }
    let body;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"fault upstream: body is not JSON"}}');
      return;
    }
    received.push({ path: request.url, body });
    if (received.length > 50) received.shift();
    const fault = body?.fault ?? {};
    const chunks = (fault.chunks ?? []).map(pieceBytes);
    response.writeHead(fault.status ?? 200, fault.headers ?? { 'content-type': 'text/event-stream' });
    response.flushHeaders();
    for (const chunk of chunks) {
      response.write(chunk);
      await sleep(fault.delayMs ?? 2);
    }
    if (fault.end === 'destroy') response.socket?.destroy();
    else if (fault.end !== 'hang') response.end();
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`);
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
