#!/usr/bin/env node
import { UsageError, VERIFY_USAGE, verifyCommand } from './cli-verify.js';
import { NitroAttestationError } from './errors.js';

// The repository's one CLI shape: success is `{"ok": true, …}` on stdout; any failure is
// `{"ok": false, "error": {"code", "message", …}}` on stdout plus one line `nitro-attestation: <code>: <message>`
// on stderr, exit 1 (exit 2 and code ERR_USAGE for a usage error, whose line ends with the help to read);
// `--help` on every command exits 0; a reader that closes stdout early ends the process quietly.

declare const __PACKAGE_VERSION__: string;

const NAME = 'nitro-attestation';

const USAGE = `usage: ${NAME} <command> [options]

commands:
  verify    verify an attestation document file, or a gateway's live attestation (--url)

  ${NAME} verify --help    the options of verify
  ${NAME} --version        the package version

Exit 0 when verified, 1 when not, 2 on usage errors.`;

interface Failure {
  code: string;
  message: string;
  reason?: string;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Runs the CLI; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = argv.includes('--json');
  const print = (value: unknown) =>
    process.stdout.write(`${json ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
  const fail = (failure: Failure, help?: string) => {
    print({ ok: false, error: failure });
    process.stderr.write(`${NAME}: ${failure.code}: ${failure.message}${help ? ` (see ${help})` : ''}\n`);
  };
  let help = `${NAME} --help`;
  try {
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${__PACKAGE_VERSION__}\n`);
      return 0;
    }
    if (command === '--help' || command === '-h' || (command === 'help' && rest.length === 0)) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (command === 'help' && rest[0] === 'verify') {
      process.stdout.write(`${VERIFY_USAGE}\n`);
      return 0;
    }
    if (command === undefined) throw new UsageError('a command is required');
    if (command !== 'verify') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    help = `${NAME} verify --help`;
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${VERIFY_USAGE}\n`);
      return 0;
    }
    if (rest.includes('--version')) {
      process.stdout.write(`${__PACKAGE_VERSION__}\n`);
      return 0;
    }
    print({ ok: true, ...(await verifyCommand(rest)) });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      fail({ code: 'ERR_USAGE', message: oneLine(error.message) }, help);
      return 2;
    }
    if (NitroAttestationError.isInstance(error)) {
      fail({ code: error.code, reason: error.reason, message: oneLine(error.message) });
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    fail({ code: 'ERR_UNEXPECTED', message: oneLine(message) || 'unexpected error' });
    return 1;
  }
}

// A reader that goes away (`nitro-attestation verify … | head -1`) is not an error: exit quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
