import { equalBytes } from '@confidential-ai/bytes';
import {
  type CertificateInfo,
  KEY_USAGE_DIGITAL_SIGNATURE,
  KEY_USAGE_KEY_CERT_SIGN,
  parseCertificate,
} from './certificate.js';
import { type EcdsaBackend, verifyP384 } from './ecdsa.js';
import { NvidiaAttestationError, type NvidiaAttestationErrorCode } from './errors.js';

/** Longest certificate chain accepted (NVIDIA device chains have 5 certificates, RIM chains 4). */
export const MAX_CHAIN_LENGTH = 8;

/** A trust anchor: a parsed, pinned root certificate. */
export interface TrustAnchor {
  /** The parsed root. */
  readonly certificate: CertificateInfo;
  /** True when it is the certificate NVIDIA publishes (false for a caller-supplied root). */
  readonly pinned: boolean;
}

/**
 * Signature checks already made during one verification, keyed by certificate fingerprint and issuer key, so
 * that chains sharing intermediates (several GPUs, several RIMs) check each signature once.
 */
export type SignatureMemo = Map<string, Promise<boolean>>;

/** Most certificate signatures remembered across verifications. */
const VERIFIED_LINK_LIMIT = 1024;
/**
 * Certificate signatures this process has already verified (`child fingerprint|issuer fingerprint`; positive
 * results only). A signature check is a pure function of the two certificates' bytes, so reusing it skips no
 * check; validity, constraints and names are still checked on every use.
 */
const verifiedLinks = new Set<string>();

/** Options of {@link verifyCertificateChain}. */
export interface ChainOptions {
  /** The trust anchor. */
  readonly anchor: TrustAnchor;
  /** Verification time. */
  readonly at: Date;
  /** What the chain is, for messages (`GPU 0 certificate chain`, `driver RIM signer chain`). */
  readonly what: string;
  /** Code for structural and signature failures of this chain. */
  readonly code: NvidiaAttestationErrorCode;
  /** Signature memo shared by the chains of one verification. */
  readonly memo: SignatureMemo;
  /** ECDSA implementation. */
  readonly backend?: EcdsaBackend;
  /** Reuse certificate signatures verified earlier in this process. Default true. */
  readonly reuse?: boolean;
  /** GPU index for errors. */
  readonly gpuIndex?: number;
}

function verifyIssued(
  child: CertificateInfo,
  issuer: CertificateInfo,
  options: ChainOptions,
): Promise<boolean> {
  const id = `${child.fingerprint}|${issuer.fingerprint}`;
  const reuse = options.reuse !== false;
  if (reuse && verifiedLinks.has(id)) return Promise.resolve(true);
  let result = options.memo.get(id);
  if (result === undefined) {
    result = verifyP384(issuer.spki, child.signature, child.tbs, options.backend).then((valid) => {
      if (valid && reuse) {
        if (verifiedLinks.size >= VERIFIED_LINK_LIMIT) verifiedLinks.clear();
        verifiedLinks.add(id);
      }
      return valid;
    });
    options.memo.set(id, result);
  }
  return result;
}

/**
 * Parses and verifies a certificate chain given leaf first. The chain must end at the trust anchor (byte-equal)
 * or its last certificate must be issued by it. Checks name chaining, ECDSA P-384 signatures, CA flag, keyUsage
 * keyCertSign and pathLenConstraint of issuers, digitalSignature of the leaf, unknown critical extensions, then
 * every certificate's validity at `at`. Returns the chain from leaf to anchor (anchor included).
 * @throws NvidiaAttestationError `options.code` or `ERR_NVIDIA_CERT_EXPIRED`.
 */
export async function verifyCertificateChain(
  chainDer: readonly Uint8Array[],
  options: ChainOptions,
): Promise<CertificateInfo[]> {
  const { what, at, anchor, code } = options;
  const fail = (message: string): never => {
    throw new NvidiaAttestationError(
      code,
      `${what}: ${message}`,
      options.gpuIndex === undefined ? {} : { gpuIndex: options.gpuIndex },
    );
  };
  if (chainDer.length === 0) fail('empty certificate chain');
  if (chainDer.length > MAX_CHAIN_LENGTH) fail(`more than ${MAX_CHAIN_LENGTH} certificates`);
  const chain = chainDer.map((der, index) => parseCertificate(der, `${what}[${index}]`, code));
  const root = anchor.certificate;
  const last = chain[chain.length - 1]!;
  if (!equalBytes(last.der, root.der)) {
    if (equalBytes(last.issuerName, last.subjectName))
      fail('chain ends at a root that is not the trust anchor');
    chain.push(root);
  }
  for (const [index, certificate] of chain.entries()) {
    if (certificate.unknownCriticalExtensions.length > 0) {
      fail(
        `"${certificate.label}" has an unsupported critical extension ${certificate.unknownCriticalExtensions[0]}`,
      );
    }
    if (index === 0) continue;
    if (!certificate.isCertificateAuthority) fail(`"${certificate.label}" is not a CA certificate`);
    if (certificate.keyUsage === null || (certificate.keyUsage & KEY_USAGE_KEY_CERT_SIGN) === 0) {
      fail(`"${certificate.label}" lacks keyUsage keyCertSign`);
    }
    // pathLenConstraint: the number of CA certificates below this one (the leaf excluded).
    if (certificate.pathLength !== undefined && certificate.pathLength < index - 1) {
      fail(`"${certificate.label}" pathLenConstraint ${certificate.pathLength} is exceeded`);
    }
  }
  const leaf = chain[0]!;
  if (leaf.keyUsage !== null && (leaf.keyUsage & KEY_USAGE_DIGITAL_SIGNATURE) === 0) {
    fail(`"${leaf.label}" lacks keyUsage digitalSignature`);
  }
  // Every signature check starts at once; failures are judged in chain order.
  const results = await Promise.all(
    chain.slice(0, -1).map((child, index) => verifyIssued(child, chain[index + 1]!, options)),
  );
  for (let index = 0; index < chain.length - 1; index++) {
    const child = chain[index]!;
    const issuer = chain[index + 1]!;
    if (!equalBytes(child.issuerName, issuer.subjectName)) {
      fail(`"${child.label}" is not issued by "${issuer.label}"`);
    }
    if (!results[index]) fail(`signature of "${child.label}" does not verify with "${issuer.label}"`);
  }
  for (const certificate of chain) {
    if (at < certificate.notBefore || at > certificate.notAfter) {
      throw new NvidiaAttestationError(
        'ERR_NVIDIA_CERT_EXPIRED',
        `${what}: "${certificate.label}" is not valid at ${at.toISOString()} (valid ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()})`,
        options.gpuIndex === undefined ? {} : { gpuIndex: options.gpuIndex },
      );
    }
  }
  return chain;
}
