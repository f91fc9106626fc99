import { readFileSync } from 'node:fs';
import { hexToBytes } from '@confidential-ai/bytes';
import { TdxAttestationError } from './errors.js';
import { type VerifyTdxQuoteOptions, verifyTdxQuote } from './verify.js';

declare const __PACKAGE_VERSION__: string | undefined;

const VERSION = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-dev';
const NAME = 'tdx-attestation';

const USAGE = `Usage: ${NAME} <command> [options]

Commands:
  verify <quote file>   verify an Intel TDX quote (v4 or v5) offline and print a JSON report

Options:
  -h, --help            show this help (or a command's help: ${NAME} verify --help)
  -V, --version         show the version
`;

const VERIFY_USAGE = `Usage: ${NAME} verify <quote file (binary or hex)> (--collateral <file.json> | --chain-only) [options]

Verifies an Intel TDX quote (version 4, or version 5 with a TD report 1.0 or 1.5 body) offline and prints a JSON
report (TCB status, advisory ids, REPORTDATA, TD attributes, measurements). Without collateral the TCB status is
unknown and verification fails (ERR_TDX_COLLATERAL_REQUIRED) unless --chain-only asks for the signature chain only.
Exits 0 when every check passes, 1 when verification fails, 2 on bad usage.

Options:
  --collateral <file.json>  DCAP collateral (dcap-qvl / PCCS JSON): TCB info, QE identity, CRLs, TCB status
  --chain-only              verify the signature chain without collateral (the TCB status is not checked)
  --at <time>               verification time (ISO 8601, or Unix seconds); default now
  --report-data <hex>       expected REPORTDATA (64 bytes, or 32 bytes for the first half)
  --root <file>             trust anchor (PEM or DER) instead of the pinned Intel SGX Root CA
  --allow-debug             accept a debug TD
  --allow-service-td        accept a TD report 1.5 with a non-zero MR_SERVICETD
  --json                    print the report on one line
  -h, --help                show this help
  -V, --version             show the version
`;

/** A command-line mistake: exit 2 with `ERR_USAGE`. */
class UsageError extends Error {
  constructor(
    message: string,
    /** The subcommand whose help the message points to, if any. */
    readonly command?: string,
  ) {
    super(message);
  }
}

interface VerifyArguments {
  quotePath: string;
  collateralPath?: string;
  chainOnly: boolean;
  at?: Date;
  reportData?: string;
  rootPath?: string;
  allowDebug: boolean;
  allowServiceTd: boolean;
}

type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'verify'; arguments: VerifyArguments };

function parseTime(text: string): Date {
  const value = /^\d+$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(value.getTime())) throw new UsageError(`--at: not a time: ${text}`, 'verify');
  return value;
}

function parseReportData(text: string): string {
  const hex = text.startsWith('0x') ? text.slice(2) : text;
  if (!/^[0-9a-fA-F]*$/.test(hex) || (hex.length !== 64 && hex.length !== 128)) {
    throw new UsageError('--report-data must be 32 or 64 bytes of hex', 'verify');
  }
  return hex;
}

function parseVerify(rest: string[]): VerifyArguments {
  const parsed: Partial<VerifyArguments> = { chainOnly: false, allowDebug: false, allowServiceTd: false };
  const usage = (message: string) => new UsageError(message, 'verify');
  while (rest.length > 0) {
    const item = rest.shift()!;
    const split = item.startsWith('--') && item.includes('=');
    const flag = split ? item.slice(0, item.indexOf('=')) : item;
    const inline = split ? item.slice(item.indexOf('=') + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = rest.shift();
      if (next === undefined || next.startsWith('--')) throw usage(`${flag} needs a value`);
      return next;
    };
    const noValue = () => {
      if (inline !== undefined) throw usage(`${flag} takes no value`);
    };
    switch (flag) {
      case '--collateral':
        parsed.collateralPath = value();
        break;
      case '--chain-only':
        noValue();
        parsed.chainOnly = true;
        break;
      case '--at':
        parsed.at = parseTime(value());
        break;
      case '--report-data':
        parsed.reportData = parseReportData(value());
        break;
      case '--root':
        parsed.rootPath = value();
        break;
      case '--allow-debug':
        noValue();
        parsed.allowDebug = true;
        break;
      case '--allow-service-td':
        noValue();
        parsed.allowServiceTd = true;
        break;
      case '--json':
        noValue();
        break;
      default:
        if (flag.startsWith('-') && flag !== '-') throw usage(`unknown option ${flag}`);
        if (parsed.quotePath !== undefined) throw usage('only one quote file may be given');
        parsed.quotePath = flag;
    }
  }
  if (parsed.quotePath === undefined) throw usage('missing quote file');
  if (parsed.chainOnly && parsed.collateralPath !== undefined) {
    throw usage('--chain-only and --collateral exclude each other');
  }
  return parsed as VerifyArguments;
}

function parseArguments(argv: readonly string[]): Parsed {
  const rest = [...argv];
  const command = rest.shift();
  if (command === undefined) throw new UsageError('missing command "verify"');
  if (command === '-h' || command === '--help') return { kind: 'help', text: USAGE };
  if (command === '-V' || command === '--version') return { kind: 'version' };
  if (command !== 'verify') throw new UsageError(`unknown command "${command}"`);
  if (rest.includes('-h') || rest.includes('--help')) return { kind: 'help', text: VERIFY_USAGE };
  if (rest.includes('-V') || rest.includes('--version')) return { kind: 'version' };
  return { kind: 'verify', arguments: parseVerify(rest) };
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new UsageError(
      `cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`,
      'verify',
    );
  }
}

/** Reads a quote file holding either the binary quote or its hex text. */
function readQuote(path: string): Uint8Array {
  const bytes = readFile(path, 'quote file');
  const text = bytes.toString('latin1').trim();
  if (text.length > 0 && /^(0x)?[0-9a-fA-F\s]+$/.test(text)) {
    try {
      return hexToBytes(text.replace(/\s/g, ''), { allowPrefix: true });
    } catch {
      throw new UsageError(`quote file ${path} looks like hex but is not (odd length?)`, 'verify');
    }
  }
  return new Uint8Array(bytes);
}

function verifyOptions(parsed: VerifyArguments): VerifyTdxQuoteOptions {
  const options: VerifyTdxQuoteOptions = {
    allowDebug: parsed.allowDebug,
    allowServiceTd: parsed.allowServiceTd,
  };
  if (parsed.chainOnly) options.chainOnly = true;
  if (parsed.collateralPath !== undefined) {
    options.collateral = readFile(parsed.collateralPath, 'collateral file').toString('utf8');
  }
  if (parsed.at !== undefined) options.now = parsed.at;
  if (parsed.reportData !== undefined) options.expectedReportData = parsed.reportData;
  if (parsed.rootPath !== undefined) {
    const root = readFile(parsed.rootPath, 'root file');
    options.root = root.toString('latin1').includes('-----BEGIN')
      ? root.toString('latin1')
      : new Uint8Array(root);
  }
  return options;
}

/** Where the CLI writes (process.stdout / process.stderr by default). */
export interface CliOutput {
  /** Writes text. */
  write(chunk: string): unknown;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Runs the CLI and returns the exit code: 0 verified, 1 verification failed, 2 bad usage. Output follows the
 * repository's CLI shape: a JSON report `{"ok": true, ...}` on stdout, or `{"ok": false, "error": {"code",
 * "message"}}` on stdout and one line `tdx-attestation: <code>: <message>` on stderr. Exported for tests.
 */
export async function main(
  argv: readonly string[],
  out: CliOutput = process.stdout,
  err: CliOutput = process.stderr,
): Promise<number> {
  const json = argv.includes('--json');
  const print = (body: unknown) =>
    out.write(json ? `${JSON.stringify(body)}\n` : `${JSON.stringify(body, null, 2)}\n`);
  const fail = (code: string, message: string, hint = '') => {
    print({ ok: false, error: { code, message } });
    err.write(`${NAME}: ${code}: ${message}${hint}\n`);
  };
  let parsed: Parsed;
  try {
    parsed = parseArguments(argv);
    if (parsed.kind === 'help') {
      out.write(parsed.text);
      return 0;
    }
    if (parsed.kind === 'version') {
      out.write(`${VERSION}\n`);
      return 0;
    }
    const { quote: _quote, ...report } = await verifyTdxQuote(
      readQuote(parsed.arguments.quotePath),
      verifyOptions(parsed.arguments),
    );
    print({ ok: true, ...report });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      const see = error.command === undefined ? `${NAME} --help` : `${NAME} ${error.command} --help`;
      fail('ERR_USAGE', oneLine(error.message), ` (see ${see})`);
      return 2;
    }
    const code = TdxAttestationError.isInstance(error) ? error.code : 'ERR_INVALID_INPUT';
    fail(code, oneLine(error instanceof Error ? error.message : String(error)));
    return 1;
  }
}
