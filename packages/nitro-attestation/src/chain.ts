import { type Bytes, equalBytes } from '@confidential-ai/bytes';
import {
  type CertificateInfo,
  fingerprintOf,
  importCertificateKey,
  KEY_USAGE_DIGITAL_SIGNATURE,
  KEY_USAGE_KEY_CERT_SIGN,
  parseCertificate,
  verifyEs384,
} from './certificate.js';
import { NitroAttestationError } from './errors.js';

/** A pinned trust anchor: the parsed root and its imported key. */
export interface TrustAnchor {
  readonly info: CertificateInfo;
  readonly key: Promise<CryptoKey>;
}

/** A certificate whose signature by a given parent was verified, with its imported key. */
interface VerifiedCertificate {
  readonly info: CertificateInfo;
  readonly key: CryptoKey;
}

/**
 * A bounded LRU cache of intermediate certificates already verified as signed by a given parent. Entries hold
 * only public data (certificates and public keys); validity times and constraints are re-checked on every use.
 */
export class IntermediateCache {
  readonly #entries = new Map<string, VerifiedCertificate>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** Number of cached certificates. */
  get size(): number {
    return this.#entries.size;
  }

  get(key: string): VerifiedCertificate | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: VerifiedCertificate): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The verified chain, root first, and the leaf's key. */
export interface VerifiedChain {
  readonly certificates: readonly CertificateInfo[];
  readonly leafKey: CryptoKey;
  readonly cachedIntermediates: number;
  readonly cachedLeaf: boolean;
}

function chainError(message: string): NitroAttestationError {
  return new NitroAttestationError('ERR_NITRO_CHAIN_INVALID', message);
}

function checkCertificateAuthority(info: CertificateInfo, what: string): void {
  if (!info.isCertificateAuthority) throw chainError(`${what} is not a CA (basicConstraints cA is not true)`);
  if (!info.basicConstraintsCritical) throw chainError(`${what} does not mark basicConstraints critical`);
  if (info.keyUsage === null || (info.keyUsage & KEY_USAGE_KEY_CERT_SIGN) === 0) {
    throw chainError(`${what} lacks keyUsage keyCertSign`);
  }
}

function checkCommon(info: CertificateInfo, what: string): void {
  if (info.unknownCriticalExtensions.length > 0) {
    throw chainError(`${what} has an unsupported critical extension ${info.unknownCriticalExtensions[0]}`);
  }
}

/** Checks the root's own constraints (it is trusted by pin, but must still be a CA). */
export function checkTrustAnchor(info: CertificateInfo): void {
  checkCommon(info, 'root certificate');
  checkCertificateAuthority(info, 'root certificate');
}

function checkValidity(info: CertificateInfo, at: number, what: string): void {
  if (at < info.notBefore.getTime()) {
    throw new NitroAttestationError(
      'ERR_NITRO_CERTIFICATE_EXPIRED',
      `${what} is not yet valid at ${new Date(at).toISOString()} (notBefore ${info.notBefore.toISOString()})`,
    );
  }
  if (at > info.notAfter.getTime()) {
    throw new NitroAttestationError(
      'ERR_NITRO_CERTIFICATE_EXPIRED',
      `${what} has expired at ${new Date(at).toISOString()} (notAfter ${info.notAfter.toISOString()})`,
    );
  }
}

async function verifyIssued(
  child: CertificateInfo,
  parent: VerifiedCertificate,
  what: string,
): Promise<VerifiedCertificate> {
  if (!equalBytes(child.issuerName, parent.info.subjectName)) {
    throw chainError(`${what} issuer does not match the subject of its parent`);
  }
  if (!(await verifyEs384(parent.key, child.signature, child.tbs))) {
    throw chainError(`${what} signature does not verify with its parent's key`);
  }
  return { info: child, key: await importCertificateKey(child, what) };
}

/**
 * Rebuilds and verifies `[root, cabundle[1..], leaf]`: names, signatures, basicConstraints / pathLen, keyUsage
 * and unknown critical extensions first, then every certificate's validity (the root's included) at `at`.
 * `cabundle[0]` is ignored: the pinned root replaces it.
 */
export async function verifyChain(
  anchor: TrustAnchor,
  leafDer: Bytes,
  cabundle: readonly Bytes[],
  at: number,
  cache: IntermediateCache | null,
  cacheLeaf = false,
): Promise<VerifiedChain> {
  let parent: VerifiedCertificate = { info: anchor.info, key: await anchor.key };
  const certificates: CertificateInfo[] = [anchor.info];
  let remainingPath = anchor.info.pathLength ?? Number.POSITIVE_INFINITY;
  let cachedIntermediates = 0;

  for (let index = 1; index < cabundle.length; index++) {
    const what = `cabundle[${index}]`;
    const der = cabundle[index]!;
    const cacheKey = cache ? `${parent.info.fingerprint}>${fingerprintOf(der)}` : '';
    let verified = cache?.get(cacheKey);
    if (verified) {
      cachedIntermediates++;
    } else {
      const info = parseCertificate(der, what);
      checkCommon(info, what);
      checkCertificateAuthority(info, what);
      verified = await verifyIssued(info, parent, what);
      cache?.set(cacheKey, verified);
    }
    if (remainingPath <= 0) throw chainError(`${what} exceeds the pathLen constraint of an issuing CA`);
    remainingPath--;
    const pathLength = verified.info.pathLength;
    if (pathLength !== undefined && pathLength < remainingPath) remainingPath = pathLength;
    certificates.push(verified.info);
    parent = verified;
  }

  // Leaf entries use their own key prefix: a certificate checked as a leaf is never reused as a CA.
  const leafCacheKey = cache && cacheLeaf ? `leaf:${parent.info.fingerprint}>${fingerprintOf(leafDer)}` : '';
  let verifiedLeaf = cache && cacheLeaf ? cache.get(leafCacheKey) : undefined;
  const cachedLeaf = verifiedLeaf !== undefined;
  if (!verifiedLeaf) {
    const leaf = parseCertificate(leafDer, 'leaf certificate');
    checkCommon(leaf, 'leaf certificate');
    if (leaf.isCertificateAuthority) throw chainError('leaf certificate must not be a CA');
    if (leaf.keyUsage === null || (leaf.keyUsage & KEY_USAGE_DIGITAL_SIGNATURE) === 0) {
      throw chainError('leaf certificate lacks keyUsage digitalSignature');
    }
    verifiedLeaf = await verifyIssued(leaf, parent, 'leaf certificate');
    if (cache && cacheLeaf) cache.set(leafCacheKey, verifiedLeaf);
  }
  certificates.push(verifiedLeaf.info);

  certificates.forEach((info, index) => {
    const what =
      index === 0
        ? 'root certificate'
        : index === certificates.length - 1
          ? 'leaf certificate'
          : `cabundle[${index}]`;
    checkValidity(info, at, what);
  });
  return { certificates, leafKey: verifiedLeaf.key, cachedIntermediates, cachedLeaf };
}
