#!/usr/bin/env node
import { run } from '../cli.js';

// A reader that closes stdout early (`chutes ... | head -1`) is not an error: exit quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}
// Never report success by accident: if the event loop drains before run() settles (a promise left waiting on
// input that can no longer come), the process exits with this code instead of 0.
process.exitCode = 1;
void run(process.argv).then((code) => {
  process.exitCode = code;
});
