#!/usr/bin/env node
import { enableCompileCache } from '@confidential-ai/server-kit/compile-cache';

// Node >= 22.1 keeps the compiled code of the modules below in the user's cache directory, so the next start
// compiles less (a no-op on Node 20 and on read-only file systems); the modules are imported after it is on.
enableCompileCache();
const { runCli } = await import('../cli.js');

// The one CLI shape (server-kit's runProgram): failures are reported (JSON on stdout, one line on stderr) before
// the promise resolves, so it never rejects; a started server keeps the process alive until SIGTERM/SIGINT.
runCli(process.argv).then((code) => {
  if (code !== 0) process.exit(code);
});
