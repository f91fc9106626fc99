import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bytesToHex, bytesToUtf8, hexToBytes } from '@confidential-ai/bytes';
import { parseMeasurements } from './measurements.js';
import { verifyRemoteAttestation } from './remote.js';
import { type AttestationVerificationResult, createNitroVerifier, type VerifyOptions } from './verify.js';

// The `verify` subcommand: option parsing, inputs from files, and the JSON report. Output and exit codes are
// cli.ts's.

/** `nitro-attestation verify --help`. */
export const VERIFY_USAGE = `usage: nitro-attestation verify <document file: binary, base64 or hex; - for stdin> [options]
       nitro-attestation verify --url <gateway>[/enclave/attestation] --measurements <file> [options]

A document file is verified offline. With --url, a fresh attestation document is fetched from the gateway
(nitriding's GET /enclave/attestation?nonce=<40 hex>, a new random 20-byte nonce) and verified with the nonce,
the PCRs, the certificate chain, and the user_data binding of the gateway's signing key (its /signing-key,
whose tee_id must be keccak256 of the key) and of the TLS certificate it presents: "is this gateway running
the code I built?".

options:
  --measurements <file>   expected PCRs: nitro-cli's {"Measurements": {"PCR0": …}} (tee-gateway's
                          measurements.txt) or {"pcrs": {"0": "<hex>", …}}
  --pcr <index>=<hex>     an expected PCR (repeatable; with --measurements, both must agree)
  --nonce <hex>           the nonce the document must carry (file mode; --url makes its own)
  --at <time>             verification time: ISO 8601, unix seconds or unix milliseconds (13+ digits)
  --allow-debug           accept a debug-mode enclave (PCR0, PCR1 and PCR2 all zero)
  --root <PEM file>       trust anchor instead of the pinned AWS Nitro root G1
  --tls-cert <file>       nitriding's TLS certificate (PEM/DER): SHA-256 of its DER must be user_data[2:34]
                          (with --url over https: that certificate is also the only one accepted)
  --signing-key <file>    the gateway's signing key (PEM/DER SPKI): SHA-256 of its DER must be
                          user_data[36:68] (with --url: instead of fetching /signing-key)
  --no-signing-key        with --url: do not fetch or check a signing key (a gateway without /signing-key)
  --max-age <seconds>     refuse a document older than this
  --timeout <seconds>     with --url: time limit of each request (default 10)
  --json                  one-line JSON (default: indented)
  -h, --help              this help

Prints {"ok": true, …} on stdout and exits 0 when everything verifies; otherwise prints
{"ok": false, "error": {"code", "reason", "message"}} and exits 1 (2 for usage errors, code ERR_USAGE).`;

/** A mistake in the command line: exit 2 with code `ERR_USAGE`. */
export class UsageError extends Error {}

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

function seconds(text: string, name: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new UsageError(`${name}: expected seconds`);
  return value * 1000;
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
  let text: string | null = null;
  try {
    text = bytesToUtf8(bytes);
  } catch {}
  return text?.includes('-----BEGIN ') ? text : bytes;
}

function hexOrNull(value: Uint8Array | null): string | null {
  return value === null ? null : bytesToHex(value);
}

function report(result: AttestationVerificationResult): Record<string, unknown> {
  const { document } = result;
  return {
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

function parseOptions(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        at: { type: 'string' },
        pcr: { type: 'string', multiple: true },
        measurements: { type: 'string' },
        nonce: { type: 'string' },
        url: { type: 'string' },
        'allow-debug': { type: 'boolean' },
        root: { type: 'string' },
        'tls-cert': { type: 'string' },
        'signing-key': { type: 'string' },
        'no-signing-key': { type: 'boolean' },
        'max-age': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (cause) {
    throw new UsageError((cause as Error).message.split('\n')[0]!);
  }
}

/**
 * Runs `verify` with `args` (after the subcommand) and returns the success report (`ok` is added by the
 * caller).
 * @throws UsageError for command-line mistakes; NitroAttestationError for verification failures.
 */
export async function verifyCommand(args: string[]): Promise<Record<string, unknown>> {
  const { values, positionals } = parseOptions(args);
  const remote = values.url !== undefined;
  if (remote && positionals.length > 0)
    throw new UsageError('verify takes a document file or --url, not both');
  if (!remote && positionals.length !== 1)
    throw new UsageError('verify takes exactly one document file (or --url)');
  if (remote && values.nonce !== undefined)
    throw new UsageError('--nonce: --url sends a fresh nonce of its own');
  if (!remote && (values.timeout !== undefined || values['no-signing-key'])) {
    throw new UsageError(`${values.timeout !== undefined ? '--timeout' : '--no-signing-key'} needs --url`);
  }
  if (values['signing-key'] !== undefined && values['no-signing-key']) {
    throw new UsageError('--signing-key and --no-signing-key exclude each other');
  }

  const options: VerifyOptions = { allowDebug: values['allow-debug'] === true };
  if (values.at !== undefined) options.at = parseTime(values.at);
  if (values.nonce !== undefined) options.expectedNonce = hexArgument(values.nonce, '--nonce');
  const pcrs = new Map<number, Uint8Array>();
  for (const entry of values.pcr ?? []) {
    const match = /^(\d{1,2})=(.+)$/.exec(entry);
    if (!match || Number(match[1]) > 31)
      throw new UsageError(`--pcr: expected <0..31>=<hex>, got ${JSON.stringify(entry)}`);
    pcrs.set(Number(match[1]), hexArgument(match[2]!, `--pcr ${match[1]}`));
  }
  const measurements =
    values.measurements === undefined ? undefined : parseMeasurements(readInput(values.measurements));
  for (const [index, value] of measurements?.pcrs ?? []) {
    const given = pcrs.get(index);
    if (given && bytesToHex(given) !== bytesToHex(value)) {
      throw new UsageError(`--pcr ${index} contradicts --measurements`);
    }
    pcrs.set(index, value);
  }
  if (pcrs.size > 0) options.expectedPcrs = new Map([...pcrs].sort(([a], [b]) => a - b));
  if (remote && pcrs.size === 0) {
    throw new UsageError(
      '--url needs --measurements or --pcr: without them nothing ties the gateway to a build',
    );
  }
  const tlsCertificate = values['tls-cert'] === undefined ? undefined : keyOrCertificate(values['tls-cert']);
  const signingKey =
    values['signing-key'] === undefined ? undefined : keyOrCertificate(values['signing-key']);
  if (values['max-age'] !== undefined) options.maxAge = seconds(values['max-age'], '--max-age');
  const root = values.root === undefined ? undefined : keyOrCertificate(values.root);
  let verifier: ReturnType<typeof createNitroVerifier>;
  try {
    verifier = createNitroVerifier({ cache: false, ...(root !== undefined ? { root } : {}) });
  } catch (cause) {
    if (cause instanceof TypeError) throw new UsageError(`--root: ${cause.message}`);
    throw cause;
  }

  if (remote) {
    let result: Awaited<ReturnType<typeof verifyRemoteAttestation>>;
    try {
      result = await verifyRemoteAttestation({
        ...options,
        url: values.url!,
        verifier,
        signingKey: values['no-signing-key'] ? false : (signingKey ?? 'gateway'),
        ...(tlsCertificate !== undefined ? { tlsCertificate } : {}),
        ...(values.timeout !== undefined
          ? { timeout: Math.max(1, seconds(values.timeout, '--timeout')) }
          : {}),
      });
    } catch (cause) {
      if (cause instanceof TypeError || cause instanceof RangeError) throw new UsageError(cause.message);
      throw cause;
    }
    return {
      url: result.url,
      nonce: result.nonce,
      expectedPcrs: result.expectedPcrs,
      gateway: { signingKey: result.signingKey, tlsCertificate: result.tlsCertificate },
      ...report(result.attestation),
    };
  }
  if (tlsCertificate !== undefined) options.tlsCertificate = tlsCertificate;
  if (signingKey !== undefined) options.signingKey = signingKey;
  const document = documentFromFile(readInput(positionals[0]!));
  return report(await verifier.verify(document, options));
}
