/** Where an in-process CLI run writes (the `stdout` / `stderr` options of the packages' `run...Cli`). */
export interface OutputSinks {
  /** Receives what the CLI writes to stdout. */
  stdout: (text: string) => void;
  /** Receives what the CLI writes to stderr. */
  stderr: (text: string) => void;
}

/** How an in-process CLI run ended and what it wrote. */
export interface CapturedOutput<Status> {
  /** What the run resolved to (its exit status). */
  status: Status;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/**
 * Runs a CLI in-process (the same code as its bin) with its output collected instead of written.
 * @example
 * ```ts
 * const { status, stderr } = await captureOutput((sinks) =>
 *   runTeeGatewayCli(['node', 'tee-gateway', '--bogus'], { env: {}, ...sinks, handleSignals: false }),
 * );
 * ```
 */
export async function captureOutput<Status>(
  run: (sinks: OutputSinks) => Promise<Status>,
): Promise<CapturedOutput<Status>> {
  let stdout = '';
  let stderr = '';
  const status = await run({
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { status, stdout, stderr };
}
