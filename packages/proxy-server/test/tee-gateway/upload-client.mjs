// Child-process client of body-before-access.test.ts: opens COUNT connections to URL and streams a BYTES-long
// body on each (with backpressure), stopping as soon as the server answers. Prints one JSON line:
// [{ status, sentWhenAnswered, closedByServer, closedAfterAnswerMs }, ...]. Runs outside the server's process so
// that the uploads do not compete with it for the event loop. Usage: node upload-client.mjs URL COUNT BYTES
import { connect } from 'node:net';

const [target, countText, bytesText] = process.argv.slice(2);
const url = new URL(target);
const count = Number(countText);
const bodyBytes = Number(bytesText);
const chunk = Buffer.alloc(64 * 1024, 0x61);

function upload() {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let sent = 0;
    let answered;
    let response = '';
    let finished = false;
    const done = (closedByServer) => {
      if (finished) return;
      finished = true;
      socket.destroy();
      resolve({
        status: answered?.status ?? 0,
        sentWhenAnswered: answered?.sent ?? sent,
        closedByServer,
        closedAfterAnswerMs: answered ? Math.round(performance.now() - answered.at) : -1,
      });
    };
    socket.on('data', (data) => {
      response += data.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(response);
      if (match && !answered) answered = { status: Number(match[1]), sent, at: performance.now() };
    });
    // A FIN (end) or a reset (error) from the server: it stopped reading.
    socket.on('end', () => done(true));
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
    socket.on('connect', () => {
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${bodyBytes}\r\n\r\n`,
      );
      const pump = () => {
        while (!answered && !socket.destroyed && sent < bodyBytes) {
          const size = Math.min(chunk.length, bodyBytes - sent);
          sent += size;
          if (!socket.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
            socket.once('drain', pump);
            return;
          }
        }
        // Answered or all sent: a server that keeps the connection open ends the wait after 3 s.
        setTimeout(() => done(false), 3000).unref();
      };
      pump();
    });
  });
}

const results = await Promise.all(Array.from({ length: count }, () => upload()));
process.stdout.write(`${JSON.stringify(results)}\n`);
