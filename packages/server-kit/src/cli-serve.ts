import { InvalidArgumentError } from 'commander';
import { portNumber } from './config-fields.js';
import type { CloseOptions, ListenOptions } from './listen.js';

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
 * `io.handleSignals` is false, closes it and exits (0, or 1 when closing fails) on SIGTERM or SIGINT; a repeated
 * signal while it closes waits for the same close. SIGTERM (what orchestrators send) closes with the listener's
 * drain period ({@link ListenOptions.drainMs}); SIGINT (Ctrl-C) skips it, and cuts a drain in progress short.
 */
export function announceAndStopOnSignals(
  io: ServeIo,
  server: { readonly url: string; close(options?: CloseOptions): Promise<void> },
  json: boolean | undefined,
): void {
  const ready = json ? `${JSON.stringify({ ok: true, url: server.url })}\n` : `listening on ${server.url}\n`;
  if (io.handleSignals === false) {
    io.stdout(ready);
    return;
  }
  // The handlers stay installed while the server closes: a second SIGTERM/SIGINT (a supervisor or a wrapper that
  // passes signals on more than once) waits for the same close instead of killing the process half-way, before
  // its last log lines are written.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    const skipDrain = signal === 'SIGINT';
    if (stopping) {
      if (skipDrain) void server.close({ skipDrain });
      return;
    }
    stopping = true;
    server.close(skipDrain ? { skipDrain } : undefined).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Only now: whoever waits for the ready line may signal at once, and the handlers must already be there.
  io.stdout(ready);
}
