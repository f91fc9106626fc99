#!/usr/bin/env node
import { runTeeGatewayCli } from '../cli.js';

runTeeGatewayCli(process.argv).then(
  (code) => {
    if (code !== 0) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
