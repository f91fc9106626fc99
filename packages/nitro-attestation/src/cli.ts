#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bytesToHex, bytesToUtf8, hexToBytes } from '@confidential-ai/bytes';
import { NitroAttestationError } from './errors.js';
import { type AttestationVerificationResult, createNitroVerifier, type VerifyOptions } from './verify.js';

declare const __PACKAGE_VERSION__: string;

const USAGE = `usage: nitro-attestation verify <document file: binary, base64 or hex; - for stdin>
  [--at <ISO 8601 time | unix seconds | unix milliseconds (13+ digits)>]
  [--pcr <index>=<hex>]... [--nonce <hex>] [--allow-debug] [--root <PEM file>]
  [--tls-cert <PEM or DER file>] [--signing-key <PEM or DER SubjectPublicKeyInfo file>]
  [--max-age <seconds>] [--json]

Prints a JSON report on stdout. Exit 0 when the document verifies, 1 when it does not, 2 on usage errors.`;

class UsageError extends Error {}

function parseTime(text: string): Date {
  let time: number;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const value = Number(text);
    time = /^\d{13,}$/.test(text) ? value : value * 1000;
  } else {
    time = Date.parse(text);
  }
  if (!Number.isFinite(time)) throw new UsageError(`--at: not a time: ${JSON.stringify(text)}`);
  return new Date(time);
}

function hexArgument(text: string, name: string): Uint8Array {
  try {
    return hexToBytes(text.trim(), { allowPrefix: true });
  } catch {
    throw new UsageError(`${name}: not hex`);
  }
}

function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path === '-' ? 0 : path));
  } catch (cause) {
    throw new UsageError(`cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Binary COSE_Sign1 starts with 0x84 (array of 4) or 0xd2 (tag 18); anything else is read as text. */
function documentFromFile(bytes: Uint8Array): Uint8Array | string {
  if (bytes[0] === 0x84 || bytes[0] === 0xd2) return bytes;
  try {
    return bytesToUtf8(bytes);
  } catch {
    return bytes;
  }
}

function keyOrCertificate(path: string): Uint8Array | string {
  const bytes = readInput(path);
  const text = (() => {
    try {
      return bytesToUtf8(bytes);
    } catch {
      return null;
    }
  })();
  return text?.includes('-----BEGIN ') ? text : bytes;
}

function hexOrNull(value: Uint8Array | null): string | null {
  return value === null ? null : bytesToHex(value);
}

function report(result: AttestationVerificationResult): unknown {
  const { document } = result;
  return {
    ok: true,
    verifiedAt: result.verifiedAt.toISOString(),
    debug: result.debug,
    document: {
      moduleId: document.moduleId,
      digest: document.digest,
      timestamp: document.timestamp,
      time: new Date(document.timestamp).toISOString(),
      pcrs: Object.fromEntries(
        [...document.pcrs].map(([index, value]) => [String(index), bytesToHex(value)]),
      ),
      publicKey: hexOrNull(document.publicKey),
      userData: hexOrNull(document.userData),
      nonce: hexOrNull(document.nonce),
      cabundleLength: document.cabundle.length,
      tagged: result.cose.tagged,
    },
    nitriding: result.nitriding && {
      tlsCertificateHash: bytesToHex(result.nitriding.tlsCertificateHash),
      applicationKeyHash: bytesToHex(result.nitriding.applicationKeyHash),
    },
    chain: result.chain.map((certificate) => ({
      subject: certificate.subject,
      issuer: certificate.issuer,
      serialNumber: certificate.serialNumber,
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
      fingerprint: certificate.fingerprint,
    })),
    checks: result.checks,
  };
}

async function verifyCommand(args: string[], write: (text: string) => void): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  function parseOptions() {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        at: { type: 'string' },
        pcr: { type: 'string', multiple: true },
        nonce: { type: 'string' },
        'allow-debug': { type: 'boolean' },
        root: { type: 'string' },
        'tls-cert': { type: 'string' },
        'signing-key': { type: 'string' },
        'max-age': { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  }
  try {
    parsed = parseOptions();
  } catch (cause) {
    throw new UsageError((cause as Error).message.split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('verify takes exactly one document file');

  const options: VerifyOptions = { allowDebug: values['allow-debug'] === true };
  if (values.at !== undefined) options.at = parseTime(values.at);
  if (values.nonce !== undefined) options.expectedNonce = hexArgument(values.nonce, '--nonce');
  if (values.pcr !== undefined) {
    const pcrs = new Map<number, Uint8Array>();
    for (const entry of values.pcr) {
      const match = /^(\d{1,2})=(.+)$/.exec(entry);
      if (!match || Number(match[1]) > 31)
        throw new UsageError(`--pcr: expected <0..31>=<hex>, got ${JSON.stringify(entry)}`);
      pcrs.set(Number(match[1]), hexArgument(match[2]!, `--pcr ${match[1]}`));
    }
    options.expectedPcrs = pcrs;
  }
  if (values['tls-cert'] !== undefined) options.tlsCertificate = keyOrCertificate(values['tls-cert']);
  if (values['signing-key'] !== undefined) options.signingKey = keyOrCertificate(values['signing-key']);
  if (values['max-age'] !== undefined) {
    const seconds = Number(values['max-age']);
    if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError('--max-age: expected seconds');
    options.maxAge = seconds * 1000;
  }

  let root: string | Uint8Array | undefined;
  if (values.root !== undefined) root = keyOrCertificate(values.root);
  const document = documentFromFile(readInput(positionals[0]!));
  let verifier: ReturnType<typeof createNitroVerifier>;
  try {
    verifier = createNitroVerifier({ cache: false, ...(root !== undefined ? { root } : {}) });
  } catch (cause) {
    if (cause instanceof TypeError) throw new UsageError(`--root: ${cause.message}`);
    throw cause;
  }
  const result = await verifier.verify(document, options);
  const output = report(result);
  write(values.json ? JSON.stringify(output) : JSON.stringify(output, null, 2));
}

/** Runs the CLI; returns the exit code. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  try {
    if (command === '--version' || command === '-v') {
      process.stdout.write(`${__PACKAGE_VERSION__}\n`);
      return 0;
    }
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command !== 'verify') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    await verifyCommand(rest, (text) => process.stdout.write(`${text}\n`));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`nitro-attestation: ${error.message} (see nitro-attestation --help)\n`);
      return 2;
    }
    if (NitroAttestationError.isInstance(error)) {
      const failure = {
        ok: false,
        error: { code: error.code, reason: error.reason, message: error.message },
      };
      process.stdout.write(`${json ? JSON.stringify(failure) : JSON.stringify(failure, null, 2)}\n`);
      process.stderr.write(`nitro-attestation: ${error.code} (${error.reason}): ${error.message}\n`);
      return 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`nitro-attestation: ${message.split('\n')[0]}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
