import { InvalidArgumentError } from 'commander';
import { portNumber } from './config-fields.js';

/**
 * commander argument parser of `--port`: an integer 0-65535 (0: a free port), by the same rule as
 * {@link portNumber} in configuration files.
 * @throws {InvalidArgumentError} (commander's) for anything else, which commander reports as a usage error.
 */
export function parsePort(value: string): number {
  const result = portNumber.safeParse(/^\d+$/.test(value) ? value : Number.NaN);
  if (!result.success) throw new InvalidArgumentError('expected a port number 0-65535');
  return result.data;
}

/** What a serve command needs of its I/O. */
export interface ServeIo {
  /** Standard output: the one ready line. */
  stdout: (text: string) => void;
  /** Install SIGTERM/SIGINT handlers that close the server and exit (default true). */
  handleSignals?: boolean;
}

/**
 * Prints the one ready line of a started server (`listening on URL`, or `{"ok":true,"url":URL}` with `json`) and, unless
 * `io.handleSignals` is false, closes it and exits (0, or 1 when closing fails) on SIGTERM or SIGINT.
 */
export function announceAndStopOnSignals(
  io: ServeIo,
  server: { readonly url: string; close(): Promise<void> },
  json: boolean | undefined,
): void {
  io.stdout(json ? `${JSON.stringify({ ok: true, url: server.url })}\n` : `listening on ${server.url}\n`);
  if (io.handleSignals === false) return;
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
