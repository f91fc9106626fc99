import { bytesToHex, equalBytes } from '@confidential-ai/bytes';
import {
  type AttestationVerificationResult,
  AWS_NITRO_ROOT_G1_SHA256,
  decodeNitridingUserData,
  NitroAttestationError,
  parseAttestationDocument,
  signingKeyHash,
  verifyAttestationDocument,
} from '@confidential-ai/nitro-attestation';
import { certificateDer, describeCertificate, type RootDescription } from './certificates.js';
import { isPlainObject } from './http.js';
import type { NitroPcrPolicy, ResolvedPolicy } from './policy.js';
import { passOrSimulate } from './tdx.js';
import type { VerdictBuilder } from './verdict.js';

/**
 * Reads a tee-gateway `measurements.txt` (`{"Measurements":{"HashAlgorithm":…,"PCR0":…,"PCR1":…,"PCR2":…}}`, as
 * `nitro-cli describe-enclaves` writes it), a flat `{"PCR0": …}` map or an index map `{"0": …}` into the PCR
 * policy.
 *
 * @example
 * ```ts
 * const policy = { nitroPcrs: parseNitroMeasurements(await (await fetch('/measurements.txt')).text()) };
 * ```
 * @throws TypeError when no PCR of 32, 48 or 64 bytes of hex is found.
 */
export function parseNitroMeasurements(input: string | Record<string, unknown>): NitroPcrPolicy {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (cause) {
      throw new TypeError('measurements are not JSON', { cause });
    }
  }
  if (!isPlainObject(value)) throw new TypeError('measurements must be a JSON object');
  const nested = value.Measurements ?? value.measurements;
  const map = isPlainObject(nested) ? nested : value;
  const pcrs: Record<number, string> = {};
  for (const [key, raw] of Object.entries(map)) {
    const match = /^(?:PCR)?(\d{1,2})$/i.exec(key);
    if (!match || typeof raw !== 'string') continue;
    const hex = raw.trim().replace(/^0x/i, '').toLowerCase();
    if (!/^(?:[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$/.test(hex))
      throw new TypeError(`${key} is not 32, 48 or 64 bytes of hex`);
    pcrs[Number(match[1])] = hex;
  }
  if (Object.keys(pcrs).length === 0) throw new TypeError('measurements name no PCR');
  return Object.freeze(pcrs);
}

type Anchor = {
  kind: 'aws' | 'policy-root' | 'test-root' | 'embedded-test-root';
  root: Uint8Array | undefined;
  description: RootDescription | undefined;
};

function nitroAnchors(cabundleRoot: Uint8Array | undefined, policy: ResolvedPolicy): Anchor[] {
  const anchors: Anchor[] = [{ kind: 'aws', root: undefined, description: undefined }];
  for (const candidate of policy.trustAnchors.nitro) {
    const der = certificateDer(candidate);
    if (der) anchors.push({ kind: 'policy-root', root: der, description: describeCertificate(der) });
  }
  if (!policy.acceptSimulated) return anchors;
  for (const candidate of policy.testRoots.nitro) {
    const der = certificateDer(candidate);
    if (der) anchors.push({ kind: 'test-root', root: der, description: describeCertificate(der) });
  }
  if (policy.testRoots.nitro.length === 0 && cabundleRoot) {
    const description = describeCertificate(cabundleRoot);
    if (description.sha256 !== AWS_NITRO_ROOT_G1_SHA256)
      anchors.push({ kind: 'embedded-test-root', root: cabundleRoot, description });
  }
  return anchors;
}

function nitroFailure(error: unknown): {
  code: 'ERR_VERIFY_NONCE_MISMATCH' | 'ERR_VERIFY_DEBUG_MODE' | 'ERR_VERIFY_NITRO_DOCUMENT';
  nitroCode: string;
} {
  const nitroCode = NitroAttestationError.isInstance(error) ? error.code : 'ERR_NITRO_UNKNOWN';
  if (nitroCode === 'ERR_NITRO_NONCE_MISMATCH') return { code: 'ERR_VERIFY_NONCE_MISMATCH', nitroCode };
  if (nitroCode === 'ERR_NITRO_DEBUG_MODE') return { code: 'ERR_VERIFY_DEBUG_MODE', nitroCode };
  return { code: 'ERR_VERIFY_NITRO_DOCUMENT', nitroCode };
}

/**
 * Verifies a Nitro attestation document (nitro-attestation.md; nitriding conventions D3/D4) into the steps
 * `attestation-document` (COSE signature and chain to the pinned AWS root, or as `simulated` to a TEST root;
 * the nonce; the debug PCRs), `measurements` (PCRs against the policy) and `key-binding` (nitriding `user_data`
 * binds SHA-256 of the signing key's SPKI).
 */
export async function checkNitroDocument(
  builder: VerdictBuilder,
  document: string | Uint8Array,
  options: { nonce: string; signingKeyPem: string; policy: ResolvedPolicy },
): Promise<{ real: boolean } | undefined> {
  const { policy, nonce } = options;
  let cabundleRoot: Uint8Array | undefined;
  try {
    cabundleRoot = parseAttestationDocument(document).document.cabundle[0];
  } catch (error) {
    builder.fail(
      'attestation-document',
      'ERR_VERIFY_NITRO_DOCUMENT',
      'The attestation document is malformed.',
      {
        nitroCode: nitroFailure(error).nitroCode,
      },
    );
    return undefined;
  }
  let result: AttestationVerificationResult | undefined;
  let used: Anchor | undefined;
  let failure: unknown;
  for (const anchor of nitroAnchors(cabundleRoot, policy)) {
    try {
      result = await verifyAttestationDocument(document, {
        at: policy.now(),
        expectedNonce: nonce,
        allowDebug: policy.allowDebug,
        ...(anchor.root ? { root: anchor.root } : {}),
      });
      used = anchor;
      break;
    } catch (error) {
      failure ??= error;
      const code = NitroAttestationError.isInstance(error) ? error.code : '';
      // Only a chain that does not lead to this anchor lets the next anchor be tried.
      if (code !== 'ERR_NITRO_CHAIN_INVALID' && code !== 'ERR_NITRO_ROOT_UNTRUSTED') {
        failure = error;
        break;
      }
    }
  }
  if (!result || !used) {
    const { code, nitroCode } = nitroFailure(failure);
    const chainProblem = nitroCode === 'ERR_NITRO_CHAIN_INVALID' || nitroCode === 'ERR_NITRO_ROOT_UNTRUSTED';
    builder.fail(
      'attestation-document',
      chainProblem ? 'ERR_VERIFY_UNTRUSTED_ROOT' : code,
      chainProblem
        ? `The document does not chain to the AWS Nitro root${policy.acceptSimulated ? ' nor to a TEST root the policy names' : ' (TEST evidence is accepted only with acceptSimulated)'}.`
        : 'The attestation document does not verify.',
      { nitroCode },
    );
    return undefined;
  }
  const real = used.kind === 'aws' || used.kind === 'policy-root';
  const root = result.chain[0];
  const document0 = result.document;
  const evidence = {
    trustAnchor: used.kind === 'aws' ? 'aws-nitro-root-g1' : used.kind,
    rootSubject: root?.subject ?? used.description?.subject ?? null,
    rootSha256: result.checks.rootFingerprint,
    moduleId: document0.moduleId,
    timestamp: new Date(document0.timestamp).toISOString(),
    nonce,
    debug: result.debug,
  };
  const anchorText =
    used.kind === 'aws'
      ? 'verified to the pinned AWS Nitro Enclaves root G1'
      : used.kind === 'policy-root'
        ? `verified to the root pinned by policy.trustAnchors "${evidence.rootSubject}" (sha256 ${result.checks.rootFingerprint.slice(0, 16)}…)`
        : `verified against the ${used.kind === 'test-root' ? 'TEST root' : "document's own TEST root"} "${evidence.rootSubject}" (sha256 ${result.checks.rootFingerprint.slice(0, 16)}…), not AWS's`;
  passOrSimulate(
    builder,
    real,
    'attestation-document',
    `COSE signature and certificate chain ${anchorText}; the nonce is echoed.`,
    evidence,
  );

  const pcrs: Record<string, string> = {};
  for (const [index, value] of document0.pcrs) if (index <= 8) pcrs[String(index)] = bytesToHex(value);
  const expected = policy.nitroPcrs;
  if (expected === 'any') builder.skip('measurements', 'Not judged: the policy accepts any PCRs.', pcrs);
  else if (expected === undefined) {
    builder.fail(
      'measurements',
      'ERR_VERIFY_POLICY_MISSING',
      'No expected PCRs were given (policy.nitroPcrs); pass them, or "any" to accept any.',
      pcrs,
    );
  } else {
    const mismatch = Object.entries(expected).find(([index, value]) => {
      const actual = document0.pcrs.get(Number(index));
      return !actual || bytesToHex(actual) !== value.replace(/^0x/i, '').toLowerCase();
    });
    if (Object.keys(expected).length === 0)
      builder.fail('measurements', 'ERR_VERIFY_POLICY_MISSING', 'policy.nitroPcrs names no PCR.', pcrs);
    else if (mismatch)
      builder.fail(
        'measurements',
        'ERR_VERIFY_MEASUREMENTS',
        `PCR${mismatch[0]} differs from the expected value.`,
        { ...pcrs, mismatch: `PCR${mismatch[0]}` },
      );
    else
      passOrSimulate(
        builder,
        real,
        'measurements',
        `PCR${Object.keys(expected).join(', PCR')} match the expected values.`,
        pcrs,
      );
  }

  let applicationKeyHash: Uint8Array;
  let expectedHash: Uint8Array;
  try {
    applicationKeyHash = decodeNitridingUserData(document0.userData).applicationKeyHash;
    expectedHash = await signingKeyHash(options.signingKeyPem);
  } catch {
    builder.fail(
      'key-binding',
      'ERR_VERIFY_KEY_BINDING',
      "user_data is not nitriding's 68-byte hash layout.",
      {},
    );
    return undefined;
  }
  const bindingEvidence = {
    userDataKeyHash: bytesToHex(applicationKeyHash),
    signingKeyHash: bytesToHex(expectedHash),
  };
  if (!equalBytes(applicationKeyHash, expectedHash)) {
    builder.fail(
      'key-binding',
      'ERR_VERIFY_KEY_BINDING',
      "user_data[36:68] is not SHA-256 of the signing key's SPKI.",
      bindingEvidence,
    );
    return undefined;
  }
  passOrSimulate(
    builder,
    real,
    'key-binding',
    "user_data[36:68] is SHA-256 of the signing key's SubjectPublicKeyInfo.",
    bindingEvidence,
  );
  return { real };
}
