import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bytesToUtf8 } from '@confidential-ai/bytes';
import { NvidiaAttestationError } from './errors.js';
import type { GpuEvidenceInput } from './evidence.js';
import type { GpuEvidenceVerification } from './verification-result.js';
import { type VerifyGpuEvidenceOptions, verifyGpuEvidence } from './verify.js';

declare const __PACKAGE_VERSION__: string | undefined;

const VERSION = typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : '0.0.0-dev';
const NAME = 'nvidia-attestation';

const MAIN_USAGE = `Usage: ${NAME} <command> [options]

Commands:
  verify    verify NVIDIA GPU evidence offline (see ${NAME} verify --help)

Options:
  -h, --help     show this help
  -V, --version  show the version
`;

const VERIFY_USAGE = `Usage: ${NAME} verify <evidence file> [options]

Verifies NVIDIA GPU evidence offline and prints a JSON report: per GPU the driver and VBIOS versions, the
device chain, the measurement comparison and revocation status, and which roots verified the chains.
The evidence file holds an nvidia_payload ({nonce, arch, evidence_list}) or an SDK evidence list
([{certificate, evidence}]) as JSON, or one raw report (hex or binary) given with --chain.
Exit 0 when every check passes, 1 when verification fails, 2 on bad usage.

Options:
  --nonce <hex>           the 32-byte nonce every report must be bound to (without it the binding is not checked)
  --chain <file>          PEM certificate chain of a raw report (leaf first)
  --at <time>             verification time (ISO 8601 or Unix seconds); default now
  --rim <file>            a driver or VBIOS RIM (signed SWID XML); repeat for several
  --root <file>           device trust anchor (PEM or DER) instead of the pinned NVIDIA Device Identity CA
  --rim-root <file>       RIM trust anchor (PEM or DER) instead of the pinned NVIDIA CoRIM signing Root CA
  --ocsp <file>           an OCSP response (DER, PEM or base64); repeat for several
  --crl <file>            a CRL (DER or PEM); repeat for several
  --require-measurements  fail unless the measurements were compared with RIMs
  --require-revocation    fail unless OCSP responses or CRLs cover every certificate that needs it
  --gpus <n>              fail unless the evidence holds exactly n GPUs
  --json                  print the report (or the error) as one line of JSON
  -h, --help              show this help
  -V, --version           show the version
`;

class UsageError extends Error {}

/** Where the CLI writes (process.stdout / process.stderr by default). */
export interface CliOutput {
  /** Writes text. */
  write(chunk: string): unknown;
}

function readFile(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new UsageError(`cannot read ${what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function text(bytes: Uint8Array): string | undefined {
  try {
    return bytesToUtf8(bytes);
  } catch {
    return undefined;
  }
}

/** A PEM file is passed as text, anything else as bytes. */
function pemOrDer(path: string, what: string): Uint8Array | string {
  const bytes = readFile(path, what);
  const asText = text(bytes);
  return asText?.includes('-----BEGIN') ? asText : bytes;
}

function parseTime(value: string): Date {
  const time = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(time.getTime())) throw new UsageError(`--at: not a time: ${value}`);
  return time;
}

function evidenceFrom(path: string, chainPath: string | undefined): GpuEvidenceInput {
  const bytes = readFile(path, 'evidence file');
  const asText = text(bytes)?.trim();
  if (asText !== undefined && (asText.startsWith('{') || asText.startsWith('['))) {
    if (chainPath !== undefined)
      throw new UsageError('--chain applies to a raw report, not to JSON evidence');
    return asText;
  }
  if (chainPath === undefined) throw new UsageError('a raw report needs --chain <PEM file>');
  const chain = text(readFile(chainPath, 'chain file'));
  if (chain === undefined) throw new UsageError('the chain file is not PEM text');
  const report =
    asText !== undefined && /^(0x)?[0-9a-fA-F\s]+$/.test(asText) ? asText.replace(/\s/g, '') : bytes;
  return { report, certificateChain: chain };
}

function parseVerify(
  argv: readonly string[],
): { options: VerifyGpuEvidenceOptions; evidence: GpuEvidenceInput; json: boolean } | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        nonce: { type: 'string' },
        chain: { type: 'string' },
        at: { type: 'string' },
        rim: { type: 'string', multiple: true },
        root: { type: 'string' },
        'rim-root': { type: 'string' },
        ocsp: { type: 'string', multiple: true },
        crl: { type: 'string', multiple: true },
        'require-measurements': { type: 'boolean' },
        'require-revocation': { type: 'boolean' },
        gpus: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (cause) {
    throw new UsageError((cause as Error).message);
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values['help'] === true) return 'help';
  if (parsed.positionals.length !== 1) {
    throw new UsageError(
      parsed.positionals.length === 0 ? 'missing evidence file' : 'only one evidence file may be given',
    );
  }
  const string = (key: string) => values[key] as string | undefined;
  const list = (key: string) => (values[key] as string[] | undefined) ?? [];
  const nonce = string('nonce');
  if (nonce !== undefined && !/^(0x)?[0-9a-fA-F]{64}$/.test(nonce))
    throw new UsageError('--nonce must be 64 hex characters');
  const gpus = string('gpus');
  if (gpus !== undefined && !/^[1-9][0-9]?$/.test(gpus))
    throw new UsageError('--gpus must be a number from 1 to 99');
  const at = string('at');
  const root = string('root');
  const rimRoot = string('rim-root');
  const options: VerifyGpuEvidenceOptions = {
    nonce: nonce ?? null,
    ...(at === undefined ? {} : { at: parseTime(at) }),
    ...(root === undefined ? {} : { root: pemOrDer(root, 'root file') }),
    ...(rimRoot === undefined ? {} : { rimRoot: pemOrDer(rimRoot, 'RIM root file') }),
    rims: list('rim').map((path) => readFile(path, 'RIM file')),
    ocsp: list('ocsp').map((path) => pemOrDer(path, 'OCSP file')),
    crls: list('crl').map((path) => pemOrDer(path, 'CRL file')),
    ...(values['require-measurements'] === true ? { requireMeasurements: true } : {}),
    ...(values['require-revocation'] === true ? { requireRevocation: true } : {}),
    ...(gpus === undefined ? {} : { expectedGpuCount: Number(gpus) }),
  };
  return {
    options,
    evidence: evidenceFrom(parsed.positionals[0]!, string('chain')),
    json: values['json'] === true,
  };
}

/** The JSON report: the verification result without the parsed report bytes. */
function report(result: GpuEvidenceVerification): unknown {
  return { ok: true, ...result, gpus: result.gpus.map(({ report: _report, ...gpu }) => gpu) };
}

function write(out: CliOutput, value: unknown, json: boolean): void {
  out.write(`${json ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
}

function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}

/** Runs the CLI; returns the exit code. Exported for tests. */
export async function main(
  argv: readonly string[],
  out: CliOutput = process.stdout,
  err: CliOutput = process.stderr,
): Promise<number> {
  const [command, ...rest] = argv;
  const json = argv.includes('--json');
  const usageFailure = (message: string, subcommand: string | undefined) => {
    write(out, { ok: false, error: { code: 'ERR_USAGE', message: oneLine(message) } }, json);
    err.write(
      `${NAME}: ERR_USAGE: ${oneLine(message)} (see ${NAME}${subcommand ? ` ${subcommand}` : ''} --help)\n`,
    );
    return 2;
  };
  if (command === '--version' || command === '-V') {
    out.write(`${VERSION}\n`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h') {
    if (command === undefined) return usageFailure('missing command', undefined);
    out.write(MAIN_USAGE);
    return 0;
  }
  if (command !== 'verify') return usageFailure(`unknown command "${command}"`, undefined);
  if (rest.includes('--help') || rest.includes('-h')) {
    out.write(VERIFY_USAGE);
    return 0;
  }
  if (rest.includes('--version') || rest.includes('-V')) {
    out.write(`${VERSION}\n`);
    return 0;
  }
  let parsed: ReturnType<typeof parseVerify>;
  try {
    parsed = parseVerify(rest);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error.message, 'verify');
    throw error;
  }
  if (parsed === 'help') {
    out.write(VERIFY_USAGE);
    return 0;
  }
  try {
    write(out, report(await verifyGpuEvidence(parsed.evidence, parsed.options)), parsed.json);
    return 0;
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError)
      return usageFailure(error.message, 'verify');
    const code = NvidiaAttestationError.isInstance(error) ? error.code : 'ERR_UNEXPECTED';
    const message = oneLine(error instanceof Error ? error.message : String(error));
    const gpuIndex = NvidiaAttestationError.isInstance(error) ? error.gpuIndex : undefined;
    write(
      out,
      { ok: false, error: { code, message, ...(gpuIndex === undefined ? {} : { gpuIndex }) } },
      parsed.json,
    );
    err.write(`${NAME}: ${code}: ${message}\n`);
    return 1;
  }
}
