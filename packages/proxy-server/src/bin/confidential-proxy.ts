#!/usr/bin/env node
import { runCli } from '../cli.js';

// The one CLI shape (server-kit's runProgram): failures are reported (JSON on stdout, one line on stderr) before
// the promise resolves, so it never rejects; a started server keeps the process alive until SIGTERM/SIGINT.
runCli(process.argv).then((code) => {
  if (code !== 0) process.exit(code);
});
