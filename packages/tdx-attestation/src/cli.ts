import { readFileSync } from 'node:fs';
import { hexToBytes } from '@confidential-ai/bytes';
import { TdxAttestationError } from './errors.js';
import { type VerifyTdxQuoteOptions, verifyTdxQuote } from './verify.js';

declare const __PACKAGE_VERSION__: string | undefined;

const VERSION = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-dev';

const USAGE = `Usage: tdx-attestation verify <quote file (binary or hex)> [options]

Verifies an Intel TDX quote v4 offline and prints a JSON report (TCB status, REPORTDATA, TD attributes,
measurements). Exits 0 when every check passes, 1 when verification fails, 2 on bad usage.

Options:
  --collateral <file.json>  DCAP collateral (dcap-qvl / PCCS JSON); enables TCB info, QE identity, CRL checks
  --at <time>               verification time (ISO 8601, or Unix seconds); default now
  --report-data <hex>       expected REPORTDATA (64 bytes, or 32 bytes for the first half)
  --root <file>             trust anchor (PEM or DER) instead of the pinned Intel SGX Root CA
  --allow-debug             accept a debug TD
  --json                    print the report as one line of JSON
  -h, --help                show this help
  -V, --version             show the version
`;

class UsageError extends Error {}

interface Parsed {
  quotePath: string;
  collateralPath?: string;
  at?: string;
  reportData?: string;
  rootPath?: string;
  allowDebug: boolean;
  json: boolean;
}

function parseArguments(argv: readonly string[]): Parsed | 'help' | 'version' {
  const rest = [...argv];
  if (rest.includes('-h') || rest.includes('--help')) return 'help';
  if (rest.includes('-V') || rest.includes('--version')) return 'version';
  const command = rest.shift();
  if (command !== 'verify')
    throw new UsageError(command === undefined ? 'missing command "verify"' : `unknown command "${command}"`);
  const parsed: Partial<Parsed> & { allowDebug: boolean; json: boolean } = { allowDebug: false, json: false };
  const value = (flag: string): string => {
    const next = rest.shift();
    if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return next;
  };
  while (rest.length > 0) {
    const item = rest.shift()!;
    const [flag, inline] =
      item.startsWith('--') && item.includes('=')
        ? [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)]
        : [item, undefined];
    const take = () => inline ?? value(flag);
    switch (flag) {
      case '--collateral':
        parsed.collateralPath = take();
        break;
      case '--at':
        parsed.at = take();
        break;
      case '--report-data':
        parsed.reportData = take();
        break;
      case '--root':
        parsed.rootPath = take();
        break;
      case '--allow-debug':
        parsed.allowDebug = true;
        break;
      case '--json':
        parsed.json = true;
        break;
      default:
        if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`);
        if (parsed.quotePath !== undefined) throw new UsageError('only one quote file may be given');
        parsed.quotePath = flag;
    }
  }
  if (parsed.quotePath === undefined) throw new UsageError('missing quote file');
  return parsed as Parsed;
}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new UsageError(`cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Reads a quote file holding either the binary quote or its hex text. */
function readQuote(path: string): Uint8Array {
  const bytes = readFile(path, 'quote file');
  const text = bytes.toString('latin1').trim();
  if (text.length > 0 && /^(0x)?[0-9a-fA-F\s]+$/.test(text)) {
    return hexToBytes(text.replace(/\s/g, ''), { allowPrefix: true });
  }
  return new Uint8Array(bytes);
}

function parseTime(text: string): Date {
  const value = /^\d+$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(value.getTime())) throw new UsageError(`--at: not a time: ${text}`);
  return value;
}

/** Where the CLI writes (process.stdout / process.stderr by default). */
export interface CliOutput {
  /** Writes text. */
  write(chunk: string): unknown;
}

/** Runs the CLI; returns the exit code. Exported for tests. */
export async function main(
  argv: readonly string[],
  out: CliOutput = process.stdout,
  err: CliOutput = process.stderr,
): Promise<number> {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(argv);
  } catch (error) {
    err.write(`tdx-attestation: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    out.write(USAGE);
    return 0;
  }
  if (parsed === 'version') {
    out.write(`${VERSION}\n`);
    return 0;
  }
  try {
    const options: VerifyTdxQuoteOptions = { allowDebug: parsed.allowDebug };
    const quote = readQuote(parsed.quotePath);
    if (parsed.collateralPath !== undefined)
      options.collateral = readFile(parsed.collateralPath, 'collateral file').toString('utf8');
    if (parsed.at !== undefined) options.now = parseTime(parsed.at);
    if (parsed.reportData !== undefined) options.expectedReportData = parsed.reportData;
    if (parsed.rootPath !== undefined) {
      const root = readFile(parsed.rootPath, 'root file');
      options.root = root.toString('latin1').includes('-----BEGIN')
        ? root.toString('latin1')
        : new Uint8Array(root);
    }
    const { quote: _quote, ...report } = await verifyTdxQuote(quote, options);
    const body = { ok: true, ...report };
    out.write(parsed.json ? `${JSON.stringify(body)}\n` : `${JSON.stringify(body, null, 2)}\n`);
    return 0;
  } catch (error) {
    const code = TdxAttestationError.isInstance(error)
      ? error.code
      : error instanceof UsageError
        ? 'ERR_USAGE'
        : 'ERR_INVALID_INPUT';
    const message = error instanceof Error ? error.message : String(error);
    if (parsed.json) out.write(`${JSON.stringify({ ok: false, code, message })}\n`);
    err.write(`tdx-attestation: ${code}: ${message.replace(/\s+/g, ' ')}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
