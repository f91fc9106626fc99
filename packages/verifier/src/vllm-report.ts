import { type Bytes, bytesToHex, equalBytes, hexToBytes } from '@confidential-ai/bytes';
import { ethereumAddressFromPublicKey, type VllmSigningAlgorithm } from '@confidential-ai/tee-signing';
import { runGpuStep } from './gpu.js';
import { isPlainObject } from './http.js';
import type { ResolvedPolicy } from './policy.js';
import { checkTdxQuote, passOrSimulate } from './tdx.js';
import type { ServiceKind, VerdictBuilder } from './verdict.js';

/** What a vllm-proxy attestation report attests, once checked. */
export interface AttestedVllmKey {
  /** `ecdsa` or `ed25519`. */
  readonly signingAlgo: VllmSigningAlgorithm;
  /** ECDSA: EIP-55 address; Ed25519: 32-byte public key, lowercase hex. */
  readonly signingAddress: string;
  /** `signing_public_key` as published (ECDSA X‖Y or Ed25519 key, hex). */
  readonly signingPublicKey: string;
  /** True when the binding rests on a quote verified to the Intel root (false: simulated or TEST evidence). */
  readonly real: boolean;
}

function hexField(value: unknown): Bytes | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    return hexToBytes(value.trim(), { allowPrefix: true });
  } catch {
    return undefined;
  }
}

/**
 * Picks the report object to verify: the top level (the reference's own entry) when it is for `signingAddress` (or
 * none is asked for), else the matching entry of `all_attestations` (Redpill merges several servers' entries).
 */
function selectEntry(
  report: Record<string, unknown>,
  signingAddress: string | undefined,
): Record<string, unknown> {
  if (signingAddress === undefined) return report;
  const wanted = signingAddress.replace(/^0x/i, '').toLowerCase();
  const matches = (entry: Record<string, unknown>) =>
    typeof entry.signing_address === 'string' &&
    entry.signing_address.replace(/^0x/i, '').toLowerCase() === wanted;
  if (matches(report) || !Array.isArray(report.all_attestations)) return report;
  for (const entry of report.all_attestations) {
    if (isPlainObject(entry) && matches(entry)) {
      return { ...entry, signing_public_key: entry.signing_public_key ?? report.signing_public_key };
    }
  }
  return report;
}

/**
 * Checks a vllm-proxy attestation report (vllm-proxy.md §5) fetched with `nonce`, recording the steps
 * `attestation-report`, `tdx-quote`, `tcb-status`, `measurements`, `key-binding` and `gpu-evidence`:
 * the nonce is echoed; the signing identity is consistent (ECDSA: the Keccak address of `signing_public_key` is
 * `signing_address`); the TDX quote verifies ({@link checkTdxQuote}); REPORTDATA = identity zero-padded to 32
 * bytes ‖ nonce; the NVIDIA payload carries the nonce and passes the configured GPU verifier. A report marked
 * simulated (a server outside a TEE, vllm-proxy D11) has no quote: its steps are `simulated`.
 *
 * @returns the attested key, or undefined when a step failed.
 */
export async function checkVllmReport(
  builder: VerdictBuilder,
  service: ServiceKind,
  report: unknown,
  options: {
    nonce: string;
    signingAlgo: VllmSigningAlgorithm;
    signingAddress?: string | undefined;
    policy: ResolvedPolicy;
  },
): Promise<AttestedVllmKey | undefined> {
  const { nonce, signingAlgo, policy } = options;
  if (!isPlainObject(report)) {
    builder.fail(
      'attestation-report',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      'The attestation report is not a JSON object.',
    );
    return undefined;
  }
  const entry = selectEntry(report, options.signingAddress);
  const address = entry.signing_address;
  const publicKey = entry.signing_public_key;
  const reportEvidence = {
    nonce,
    signingAlgo,
    signingAddress: typeof address === 'string' ? address : null,
    simulated: entry.simulated === true,
  };
  const echoed = entry.request_nonce ?? entry.nonce;
  if (typeof echoed === 'string' && echoed.toLowerCase() !== nonce) {
    builder.fail(
      'attestation-report',
      'ERR_VERIFY_NONCE_MISMATCH',
      'The report answers another nonce than the one sent.',
      {
        ...reportEvidence,
        echoedNonce: echoed,
      },
    );
    return undefined;
  }
  if (entry.signing_algo !== undefined && entry.signing_algo !== signingAlgo) {
    builder.fail(
      'attestation-report',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      `The report is for ${String(entry.signing_algo)}, not ${signingAlgo}.`,
      reportEvidence,
    );
    return undefined;
  }
  if (typeof address !== 'string' || typeof publicKey !== 'string') {
    builder.fail(
      'attestation-report',
      'ERR_VERIFY_EVIDENCE_MALFORMED',
      'The report lacks signing_address or signing_public_key.',
      reportEvidence,
    );
    return undefined;
  }
  builder.pass(
    'attestation-report',
    "Report fetched for this client's fresh nonce; the nonce is echoed.",
    reportEvidence,
  );
  const keyBytes = hexField(publicKey);
  let identity: Bytes | undefined;
  let signingAddress: string | undefined;
  try {
    if (signingAlgo === 'ecdsa' && keyBytes && /^(0x)?[0-9a-fA-F]{40}$/.test(address)) {
      signingAddress = ethereumAddressFromPublicKey(keyBytes);
      if (signingAddress.toLowerCase() !== `0x${address.replace(/^0x/i, '')}`.toLowerCase())
        signingAddress = undefined;
      identity = hexToBytes(address, { allowPrefix: true });
    } else if (
      signingAlgo === 'ed25519' &&
      keyBytes?.length === 32 &&
      hexField(address) &&
      equalBytes(keyBytes, hexField(address)!)
    ) {
      signingAddress = bytesToHex(keyBytes);
      identity = keyBytes;
    }
  } catch {
    signingAddress = undefined;
  }
  if (signingAddress === undefined || identity === undefined) {
    builder.fail(
      'key-binding',
      'ERR_VERIFY_KEY_BINDING',
      'signing_public_key does not belong to signing_address.',
      { signingAddress: address, signingPublicKey: publicKey },
    );
    return undefined;
  }

  const quoteBytes = hexField(entry.intel_quote ?? entry.quote);
  const simulated =
    entry.simulated === true || entry.attestation_type === 'simulated' || quoteBytes === undefined;
  let reportData: Bytes | undefined;
  let real = false;
  if (simulated) {
    const message =
      entry.simulated === true || entry.attestation_type === 'simulated'
        ? 'The server reports that it runs outside a TEE: the report is simulated and carries no TDX quote.'
        : 'The report carries no TDX quote.';
    if (entry.simulated === true || entry.attestation_type === 'simulated') {
      builder.simulate('tdx-quote', message, {
        attestationType: String(entry.attestation_type ?? 'simulated'),
      });
      builder.simulate('tcb-status', 'Not evaluated: no quote (simulated report).');
      builder.simulate('measurements', 'Not evaluated: no quote (simulated report).');
    } else {
      builder.fail('tdx-quote', 'ERR_VERIFY_TDX_QUOTE', message);
      return undefined;
    }
    reportData = hexField(entry.report_data);
  } else {
    const outcome = await checkTdxQuote(
      builder,
      quoteBytes,
      { quote: 'tdx-quote', tcb: 'tcb-status', measurements: 'measurements' },
      policy,
    );
    if (!outcome.trusted || !outcome.quote) return undefined;
    reportData = outcome.quote.body.reportData;
    real = outcome.real;
  }

  const padded = new Uint8Array(32);
  padded.set(identity.subarray(0, 32));
  const bindingEvidence = {
    source: simulated ? 'report_data field (not attested)' : 'quote REPORTDATA',
    reportData: reportData ? bytesToHex(reportData) : null,
    expectedIdentity: bytesToHex(padded),
    expectedNonce: nonce,
  };
  if (reportData?.length !== 64) {
    builder.fail(
      'key-binding',
      'ERR_VERIFY_KEY_BINDING',
      'No 64-byte report data binds the key.',
      bindingEvidence,
    );
    return undefined;
  }
  if (!equalBytes(reportData.subarray(0, 32), padded)) {
    builder.fail(
      'key-binding',
      'ERR_VERIFY_KEY_BINDING',
      'REPORTDATA[0:32] is not the signing identity.',
      bindingEvidence,
    );
    return undefined;
  }
  if (bytesToHex(reportData.subarray(32, 64)) !== nonce) {
    builder.fail(
      'key-binding',
      'ERR_VERIFY_NONCE_MISMATCH',
      "REPORTDATA[32:64] is not this client's nonce.",
      bindingEvidence,
    );
    return undefined;
  }
  const bindingMessage = `REPORTDATA binds ${signingAlgo === 'ecdsa' ? 'the signing address' : 'the Ed25519 key'} ${signingAddress} and the nonce.`;
  if (simulated)
    builder.simulate('key-binding', `${bindingMessage} Nothing attests this report data.`, bindingEvidence);
  else passOrSimulate(builder, real, 'key-binding', bindingMessage, bindingEvidence);

  await checkNvidiaPayload(builder, service, entry.nvidia_payload, nonce, policy);
  return { signingAlgo, signingAddress, signingPublicKey: publicKey.toLowerCase(), real };
}

/** The GPU step for an `nvidia_payload` (a JSON string or object `{nonce, arch, evidence_list}`). */
export async function checkNvidiaPayload(
  builder: VerdictBuilder,
  service: ServiceKind,
  raw: unknown,
  nonce: string,
  policy: ResolvedPolicy,
): Promise<void> {
  let payload: unknown = raw;
  if (typeof raw === 'string' && raw !== '') {
    try {
      payload = JSON.parse(raw);
    } catch {
      builder.fail('gpu-evidence', 'ERR_VERIFY_EVIDENCE_MALFORMED', 'nvidia_payload is not JSON.');
      return;
    }
  }
  const object = isPlainObject(payload) ? payload : undefined;
  const list = object && Array.isArray(object.evidence_list) ? object.evidence_list : [];
  const summary = {
    arch: object && typeof object.arch === 'string' ? object.arch : null,
    evidenceCount: list.length,
    ...(object?.simulated === true ? { payloadMarkedSimulated: true } : {}),
  };
  if (object && typeof object.nonce === 'string' && object.nonce.toLowerCase() !== nonce) {
    builder.fail(
      'gpu-evidence',
      'ERR_VERIFY_NONCE_MISMATCH',
      'The GPU evidence answers another nonce.',
      summary,
    );
    return;
  }
  await runGpuStep(
    builder,
    'gpu-evidence',
    { service, evidence: payload, nonce },
    list.length > 0,
    policy,
    summary,
  );
}
