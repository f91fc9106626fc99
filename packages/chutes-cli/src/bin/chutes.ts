#!/usr/bin/env node
import { run } from '../cli.js';

void run(process.argv).then((code) => {
  process.exitCode = code;
});
