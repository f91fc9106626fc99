#!/usr/bin/env node
import { runVeniceProxyCli } from '../cli.js';

runVeniceProxyCli(process.argv).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
