import { type Bytes, equalBytes, hexToBytes, isBytes, toBytes } from '@confidential-ai/bytes';
import { type CertificateInfo, importCertificateKey, parseCertificate, verifyEs384 } from './certificate.js';
import { checkTrustAnchor, IntermediateCache, type TrustAnchor, verifyChain } from './chain.js';
import {
  type AttestationDocument,
  type CoseSign1,
  encodeSigStructure,
  type ParsedAttestationDocument,
  parseAttestationDocument,
} from './document.js';
import { NitroAttestationError } from './errors.js';
import { type AttestationDocumentInput, type DocumentEncoding, derOrPem } from './input.js';
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './root.js';
import {
  type CertificateInput,
  checkNitridingUserData,
  decodeNitridingUserData,
  type NitridingUserData,
  type PublicKeyInput,
} from './user-data.js';

/** Expected PCR values: index → bytes or hex. */
export type ExpectedPcrs =
  | Readonly<Record<number, Uint8Array | string>>
  | ReadonlyMap<number, Uint8Array | string>;

/** Options of {@link createNitroVerifier}. */
export interface NitroVerifierOptions {
  /**
   * Trust anchor as PEM or DER. Default: the AWS Nitro Enclaves root G1 shipped with this package, checked
   * against {@link AWS_NITRO_ROOT_G1_SHA256}.
   */
  root?: Uint8Array | string;
  /**
   * SHA-256 fingerprint (hex, colons allowed) the root must have. Default: the AWS G1 fingerprint when `root`
   * is not given; when a custom `root` is given and this is omitted, that root is trusted as is.
   */
  rootFingerprint?: string;
  /**
   * Cache intermediate certificates already verified (signature, constraints, key import); validity is still
   * checked at every verification time. `true` (default) = up to 64 entries, a number = that many,
   * `false` = no cache.
   */
  cache?: boolean | number;
  /**
   * Also cache the leaf certificate once verified under its parent (documents from the same enclave share it for
   * about 3 hours). Only with `cache`. Default true.
   */
  cacheLeaf?: boolean;
}

/** Options of a single verification. */
export interface VerifyOptions {
  /** Verification time (Date or milliseconds since the epoch). Default: now. */
  at?: Date | number;
  /** How to read a string document. Default `auto`. */
  encoding?: DocumentEncoding;
  /** Expected PCR values for any indices; a missing or different PCR fails with `ERR_NITRO_PCR_MISMATCH`. */
  expectedPcrs?: ExpectedPcrs;
  /** Accept debug-mode enclaves (PCR0, PCR1 and PCR2 all zero). Default false. */
  allowDebug?: boolean;
  /** The nonce the verifier asked for (bytes or hex); must equal the document's. */
  expectedNonce?: Uint8Array | string;
  /** Exact `user_data` expected. */
  expectedUserData?: Uint8Array;
  /** Exact `public_key` expected. */
  expectedPublicKey?: Uint8Array;
  /** Require `user_data` in nitriding's 68-byte layout even when nothing is bound. Default false. */
  requireNitridingUserData?: boolean;
  /** nitriding's TLS certificate: SHA-256 of its DER must equal `user_data[2:34]`. */
  tlsCertificate?: CertificateInput;
  /** The application's signing key: SHA-256 of its SPKI DER must equal `user_data[36:68]`. */
  signingKey?: PublicKeyInput;
  /** Maximum age of the document's `timestamp` relative to `at`, in milliseconds. Default: unchecked. */
  maxAge?: number;
  /** Tolerated clock skew for a `timestamp` after `at`, in milliseconds, when `maxAge` is set. Default 60 000. */
  maxFutureSkew?: number;
}

/** A certificate of the verified chain. */
export interface CertificateSummary {
  /** Subject in RFC 4514 order. */
  readonly subject: string;
  /** Issuer in RFC 4514 order. */
  readonly issuer: string;
  /** Serial number, hex. */
  readonly serialNumber: string;
  /** Start of validity. */
  readonly notBefore: Date;
  /** End of validity. */
  readonly notAfter: Date;
  /** SHA-256 of the DER, hex. */
  readonly fingerprint: string;
}

/** What was verified, and the document it was verified on. */
export interface AttestationVerificationResult {
  /** The verified payload. */
  readonly document: AttestationDocument;
  /** The COSE envelope. */
  readonly cose: CoseSign1;
  /** The verification time used. */
  readonly verifiedAt: Date;
  /** True when PCR0, PCR1 and PCR2 are all zero (a debug-mode enclave); only possible with `allowDebug`. */
  readonly debug: boolean;
  /** The verified chain, pinned root first, leaf last. */
  readonly chain: readonly CertificateSummary[];
  /** The decoded nitriding `user_data`, or null when `user_data` does not have that layout. */
  readonly nitriding: NitridingUserData | null;
  /** Each check performed; `false` means the check was not requested (failures throw). */
  readonly checks: {
    /** COSE_Sign1 ES384 signature verified with the leaf key. */
    readonly signature: true;
    /** Chain from the pinned root through `cabundle[1..]` to the leaf verified at `verifiedAt`. */
    readonly chain: true;
    /** SHA-256 fingerprint of the pinned root. */
    readonly rootFingerprint: string;
    /** Whether `cabundle[0]` is byte-identical to the pinned root (informational; it is never trusted). */
    readonly cabundleRootMatches: boolean;
    /** Intermediates taken from the verifier's cache. */
    readonly cachedIntermediates: number;
    /** Whether the leaf certificate was taken from the verifier's cache. */
    readonly cachedLeaf: boolean;
    /** PCR indices compared with expected values. */
    readonly pcrs: readonly number[];
    /** Whether the document's nonce was compared. */
    readonly nonce: boolean;
    /** Whether `user_data` / `public_key` were compared exactly. */
    readonly userData: boolean;
    readonly publicKey: boolean;
    /** Whether the TLS certificate hash in `user_data` was checked. */
    readonly tlsCertificate: boolean;
    /** Whether the signing key hash in `user_data` was checked. */
    readonly signingKey: boolean;
    /** Whether the timestamp freshness (`maxAge`) was checked. */
    readonly freshness: boolean;
  };
}

/** A reusable verifier bound to one trust anchor, with an optional cache of verified intermediates. */
export interface NitroVerifier {
  /**
   * Parses and verifies a document.
   * @throws NitroAttestationError for every decoding or verification failure.
   */
  verify(input: AttestationDocumentInput, options?: VerifyOptions): Promise<AttestationVerificationResult>;
  /** SHA-256 fingerprint of the trust anchor (hex). */
  readonly rootFingerprint: string;
  /** Number of cached certificates (intermediates, and leaves unless `cacheLeaf: false`). */
  readonly cacheSize: number;
  /** Empties the intermediate cache. */
  clearCache(): void;
}

function normalizeFingerprint(text: string): string {
  if (typeof text !== 'string') throw new TypeError('rootFingerprint must be a hex string');
  return text.replace(/:/g, '').toLowerCase();
}

function toTime(at: Date | number | undefined): number {
  if (at === undefined) return Date.now();
  const time = at instanceof Date ? at.getTime() : at;
  if (typeof time !== 'number' || !Number.isFinite(time))
    throw new TypeError('at must be a valid Date or a number');
  return time;
}

function toBytesOrHex(value: Uint8Array | string, name: string): Bytes {
  if (isBytes(value)) return toBytes(value);
  if (typeof value === 'string') {
    try {
      return hexToBytes(value, { allowPrefix: true });
    } catch (cause) {
      throw new TypeError(`${name} is not valid hex`, { cause });
    }
  }
  throw new TypeError(`${name} must be bytes or a hex string`);
}

function expectedPcrEntries(expected: ExpectedPcrs): [number, Bytes][] {
  const entries: [number | string, Uint8Array | string][] =
    expected instanceof Map ? [...expected.entries()] : Object.entries(expected);
  return entries.map(([key, value]) => {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index > 31)
      throw new RangeError(`expectedPcrs key ${key} is not 0..31`);
    return [index, toBytesOrHex(value, `expectedPcrs[${index}]`)];
  });
}

/** True when PCR0, PCR1 and PCR2 are all present and all zero bytes: a debug-mode enclave. */
export function isDebugMode(document: Pick<AttestationDocument, 'pcrs'>): boolean {
  for (const index of [0, 1, 2]) {
    const value = document.pcrs.get(index);
    if (!value || value.some((byte) => byte !== 0)) return false;
  }
  return true;
}

function summarize(info: CertificateInfo): CertificateSummary {
  return {
    subject: info.subject,
    issuer: info.issuer,
    serialNumber: info.serialNumber,
    notBefore: info.notBefore,
    notAfter: info.notAfter,
    fingerprint: info.fingerprint,
  };
}

let defaultAnchor: TrustAnchor | undefined;

function createAnchor(options: NitroVerifierOptions): TrustAnchor {
  const pinnedDefault =
    options.root === undefined &&
    (options.rootFingerprint === undefined ||
      normalizeFingerprint(options.rootFingerprint) === AWS_NITRO_ROOT_G1_SHA256);
  if (pinnedDefault) {
    // The shipped root is parsed, checked and imported once per process.
    defaultAnchor ??= buildAnchor({});
    return defaultAnchor;
  }
  return buildAnchor(options);
}

function buildAnchor(options: NitroVerifierOptions): TrustAnchor {
  const der =
    options.root === undefined
      ? derOrPem(AWS_NITRO_ROOT_G1_PEM, 'CERTIFICATE', 'root')
      : derOrPem(options.root, 'CERTIFICATE', 'root');
  const info = parseCertificate(der, 'root certificate');
  const pinned =
    options.rootFingerprint !== undefined
      ? normalizeFingerprint(options.rootFingerprint)
      : options.root === undefined
        ? AWS_NITRO_ROOT_G1_SHA256
        : info.fingerprint;
  if (info.fingerprint !== pinned) {
    throw new NitroAttestationError(
      'ERR_NITRO_ROOT_UNTRUSTED',
      'root certificate does not match the pinned fingerprint',
    );
  }
  checkTrustAnchor(info);
  const key = importCertificateKey(info, 'root certificate');
  key.catch(() => {}); // surfaced when awaited in verify()
  return { info, key };
}

async function verifyParsed(
  parsed: ParsedAttestationDocument,
  anchor: TrustAnchor,
  cache: IntermediateCache | null,
  cacheLeaf: boolean,
  options: VerifyOptions,
): Promise<AttestationVerificationResult> {
  const at = toTime(options.at);
  const { document, cose } = parsed;

  const chain = await verifyChain(anchor, document.certificate, document.cabundle, at, cache, cacheLeaf);
  if (!(await verifyEs384(chain.leafKey, cose.signature, encodeSigStructure(cose)))) {
    throw new NitroAttestationError(
      'ERR_NITRO_SIGNATURE_INVALID',
      'COSE_Sign1 ES384 signature does not verify with the leaf key',
    );
  }

  let freshness = false;
  if (options.maxAge !== undefined) {
    const skew = options.maxFutureSkew ?? 60_000;
    if (at - document.timestamp > options.maxAge) {
      throw new NitroAttestationError(
        'ERR_NITRO_TIMESTAMP_INVALID',
        'attestation document is older than maxAge',
      );
    }
    if (document.timestamp - at > skew) {
      throw new NitroAttestationError(
        'ERR_NITRO_TIMESTAMP_INVALID',
        'attestation document timestamp is in the future',
      );
    }
    freshness = true;
  }

  const debug = isDebugMode(document);
  if (debug && options.allowDebug !== true) {
    throw new NitroAttestationError(
      'ERR_NITRO_DEBUG_MODE',
      'enclave runs in debug mode (PCR0, PCR1 and PCR2 are zero)',
    );
  }

  const pcrs: number[] = [];
  for (const [index, expected] of expectedPcrEntries(options.expectedPcrs ?? {})) {
    const actual = document.pcrs.get(index);
    if (!actual || !equalBytes(actual, expected)) {
      throw new NitroAttestationError(
        'ERR_NITRO_PCR_MISMATCH',
        `PCR${index} does not match the expected value`,
        {
          pcrIndex: index,
        },
      );
    }
    pcrs.push(index);
  }

  let nonce = false;
  if (options.expectedNonce !== undefined) {
    const expected = toBytesOrHex(options.expectedNonce, 'expectedNonce');
    if (!document.nonce || !equalBytes(document.nonce, expected)) {
      throw new NitroAttestationError(
        'ERR_NITRO_NONCE_MISMATCH',
        'attestation document nonce differs from the expected nonce',
      );
    }
    nonce = true;
  }

  let userData = false;
  if (options.expectedUserData !== undefined) {
    if (!document.userData || !equalBytes(document.userData, options.expectedUserData)) {
      throw new NitroAttestationError(
        'ERR_NITRO_USER_DATA_MISMATCH',
        'user_data differs from the expected bytes',
      );
    }
    userData = true;
  }
  let publicKey = false;
  if (options.expectedPublicKey !== undefined) {
    if (!document.publicKey || !equalBytes(document.publicKey, options.expectedPublicKey)) {
      throw new NitroAttestationError(
        'ERR_NITRO_USER_DATA_MISMATCH',
        'public_key differs from the expected bytes',
      );
    }
    publicKey = true;
  }

  let nitriding: NitridingUserData | null = null;
  const binding = options.tlsCertificate !== undefined || options.signingKey !== undefined;
  if (binding || options.requireNitridingUserData) {
    nitriding = await checkNitridingUserData(document.userData, {
      ...(options.tlsCertificate !== undefined ? { tlsCertificate: options.tlsCertificate } : {}),
      ...(options.signingKey !== undefined ? { signingKey: options.signingKey } : {}),
    });
  } else {
    try {
      nitriding = decodeNitridingUserData(document.userData);
    } catch {
      nitriding = null;
    }
  }

  return {
    document,
    cose,
    verifiedAt: new Date(at),
    debug,
    chain: chain.certificates.map(summarize),
    nitriding,
    checks: {
      signature: true,
      chain: true,
      rootFingerprint: anchor.info.fingerprint,
      cabundleRootMatches:
        document.cabundle[0] !== undefined && equalBytes(document.cabundle[0], anchor.info.der),
      cachedIntermediates: chain.cachedIntermediates,
      cachedLeaf: chain.cachedLeaf,
      pcrs,
      nonce,
      userData,
      publicKey,
      tlsCertificate: options.tlsCertificate !== undefined,
      signingKey: options.signingKey !== undefined,
      freshness,
    },
  };
}

/**
 * Creates a verifier bound to a trust anchor (default: the pinned AWS Nitro root G1) that caches verified
 * intermediate certificates across documents. Documents from the same region/zone/instance share
 * intermediates, so a long-lived verifier skips their signature checks and key imports.
 *
 * @throws NitroAttestationError `ERR_NITRO_ROOT_UNTRUSTED` when the root does not match the pinned fingerprint,
 *   `ERR_NITRO_CERTIFICATE_MALFORMED` / `ERR_NITRO_CHAIN_INVALID` when the root is unusable.
 * @example
 * ```ts
 * const verifier = createNitroVerifier();
 * const result = await verifier.verify(base64Doc, {
 *   expectedPcrs: { 0: pcr0Hex, 1: pcr1Hex, 2: pcr2Hex },
 *   expectedNonce: nonceHex,
 * });
 * console.log(result.document.moduleId, result.checks);
 * ```
 */
export function createNitroVerifier(options: NitroVerifierOptions = {}): NitroVerifier {
  const anchor = createAnchor(options);
  const cacheOption = options.cache ?? true;
  if (typeof cacheOption === 'number' && (!Number.isSafeInteger(cacheOption) || cacheOption < 1)) {
    throw new RangeError('cache must be a positive integer, true or false');
  }
  const cache =
    cacheOption === false ? null : new IntermediateCache(typeof cacheOption === 'number' ? cacheOption : 64);
  return {
    rootFingerprint: anchor.info.fingerprint,
    get cacheSize() {
      return cache?.size ?? 0;
    },
    clearCache() {
      cache?.clear();
    },
    async verify(input, verifyOptions = {}) {
      const parsed = parseAttestationDocument(input, {
        ...(verifyOptions.encoding !== undefined ? { encoding: verifyOptions.encoding } : {}),
      });
      return verifyParsed(parsed, anchor, cache, options.cacheLeaf !== false, verifyOptions);
    },
  };
}

/**
 * Verifies an AWS Nitro Enclaves attestation document end to end: COSE_Sign1 ES384 signature, certificate
 * chain from the pinned AWS root (or `options.root`) at `options.at` (default now), debug mode, PCRs, nonce
 * and nitriding `user_data` bindings. Uses no cache; see {@link createNitroVerifier} for repeated checks.
 *
 * @throws NitroAttestationError with a stable code for every failure (see the README's table).
 * @example
 * ```ts
 * const result = await verifyAttestationDocument(docBase64, {
 *   at: new Date('2023-09-18T15:03:30.860Z'),
 *   allowDebug: true,
 * });
 * result.checks.signature; // true
 * ```
 */
export async function verifyAttestationDocument(
  input: AttestationDocumentInput,
  options: VerifyOptions & Pick<NitroVerifierOptions, 'root' | 'rootFingerprint'> = {},
): Promise<AttestationVerificationResult> {
  const verifier = createNitroVerifier({
    cache: false,
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.rootFingerprint !== undefined ? { rootFingerprint: options.rootFingerprint } : {}),
  });
  return verifier.verify(input, options);
}
