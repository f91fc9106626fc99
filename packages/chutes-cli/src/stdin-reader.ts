import { createInterface, type Interface } from 'node:readline';
import { ChutesCliError } from './errors.js';

/** Answers prompts from one stream, one line per question, in order. */
export interface LineReader {
  /**
   * Writes `question` and resolves with the next input line (without its newline).
   * @throws ChutesCliError `ERR_ABORTED` when the input has ended without a line for this question.
   */
  question(question: string, options?: { hidden?: boolean }): Promise<string>;
  /** Stops reading (lets the process exit). */
  close(): void;
}

/** Options of {@link createLineReader}. */
export interface LineReaderOptions {
  /** Input stream (default `process.stdin`). */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where prompts are written (default `process.stderr`). */
  output?: NodeJS.WritableStream;
}

/**
 * One line reader over stdin shared by every prompt of a command, so piped answers (`printf 'dave\ny\n' | chutes
 * register`) reach the prompts in order instead of being swallowed by the first one. The readline interface is
 * created on the first question only; hidden questions do not echo on a terminal.
 */
export function createLineReader(options: LineReaderOptions = {}): LineReader {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const terminal = (input as { isTTY?: boolean }).isTTY === true;
  let rl: Interface | undefined;
  let ended = false;
  let muted = false;
  const lines: string[] = [];
  const waiters: Array<{ resolve: (line: string) => void; reject: (error: Error) => void }> = [];

  const open = (): Interface => {
    if (rl) return rl;
    rl = createInterface({ input, output, terminal });
    if (terminal) {
      const writable = rl as unknown as { _writeToOutput: (text: string) => void };
      const original = writable._writeToOutput.bind(rl);
      writable._writeToOutput = (text: string) => {
        if (!muted) original(text);
      };
    }
    rl.on('line', (line) => {
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(line);
      else lines.push(line);
    });
    rl.on('close', () => {
      ended = true;
      for (const waiter of waiters.splice(0))
        waiter.reject(
          new ChutesCliError(
            'ERR_ABORTED',
            'no answer on stdin: it ended before this question (pass the answer as an option instead)',
          ),
        );
    });
    return rl;
  };

  return {
    question(question, questionOptions = {}) {
      open();
      output.write(question);
      const hidden = questionOptions.hidden === true && terminal;
      const queued = lines.shift();
      if (queued !== undefined) {
        if (!terminal) output.write('\n');
        return Promise.resolve(queued);
      }
      if (ended)
        return Promise.reject(
          new ChutesCliError(
            'ERR_ABORTED',
            'no answer on stdin: it ended before this question (pass the answer as an option instead)',
          ),
        );
      muted = hidden;
      return new Promise<string>((resolve, reject) => {
        waiters.push({
          resolve: (line) => {
            muted = false;
            if (hidden || !terminal) output.write('\n');
            resolve(line);
          },
          reject: (error) => {
            muted = false;
            reject(error);
          },
        });
      });
    },
    close() {
      rl?.close();
      rl = undefined;
    },
  };
}
