// Builds synthetic Nitro-shaped certificate chains and attestation documents with pkijs and WebCrypto, so
// that chain rules (pathLen, keyUsage, ...) and encodings (tag 18, indefinite-length maps) can be exercised
// with valid signatures. The COSE Sig_structure here is encoded with cbor-x, independently of the package.
import * as asn1js from 'asn1js';
import { Encoder } from 'cbor-x';
import * as pkijs from 'pkijs';

const encoder = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false } as never);

export function cborEncode(value: unknown): Uint8Array<ArrayBuffer> {
  return new Uint8Array(encoder.encode(value));
}

export interface Issued {
  der: Uint8Array;
  keys: CryptoKeyPair;
  subject: string;
}

export interface CertificateSpec {
  subject: string;
  issuer?: Issued;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  pathLength?: number;
  /** First keyUsage byte (0x80 digitalSignature, 0x04 keyCertSign, 0x02 cRLSign); null omits the extension. */
  keyUsage?: number | null;
  basicConstraints?: 'critical' | 'non-critical' | 'absent';
  unknownCriticalExtension?: boolean;
  serial?: number;
  curve?: 'P-384' | 'P-256';
}

export async function generateKeys(curve: 'P-384' | 'P-256' = 'P-384'): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
}

function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [
      new pkijs.AttributeTypeAndValue({
        type: '2.5.4.6',
        value: new asn1js.PrintableString({ value: 'US' }),
      }),
      new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) }),
    ],
  });
}

export async function issue(spec: CertificateSpec): Promise<Issued> {
  const keys = await generateKeys(spec.curve);
  const certificate = new pkijs.Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({
    value: spec.serial ?? 1 + Math.floor(Math.random() * 1e9),
  });
  certificate.subject = name(spec.subject);
  certificate.issuer = name(spec.issuer?.subject ?? spec.subject);
  certificate.notBefore.value = spec.notBefore;
  certificate.notAfter.value = spec.notAfter;
  const extensions: pkijs.Extension[] = [];
  const basic = spec.basicConstraints ?? 'critical';
  if (basic !== 'absent') {
    const value = new pkijs.BasicConstraints({
      cA: spec.ca,
      ...(spec.pathLength !== undefined ? { pathLenConstraint: spec.pathLength } : {}),
    });
    extensions.push(
      new pkijs.Extension({
        extnID: '2.5.29.19',
        critical: basic === 'critical',
        extnValue: value.toSchema().toBER(false),
      }),
    );
  }
  const usage = spec.keyUsage === undefined ? (spec.ca ? 0x06 : 0x80) : spec.keyUsage;
  if (usage !== null) {
    const unused = usage === 0 ? 0 : Math.log2(usage & -usage);
    extensions.push(
      new pkijs.Extension({
        extnID: '2.5.29.15',
        critical: true,
        extnValue: new asn1js.BitString({
          valueHex: new Uint8Array([usage]).buffer,
          unusedBits: unused,
        }).toBER(false),
      }),
    );
  }
  if (spec.unknownCriticalExtension) {
    extensions.push(
      new pkijs.Extension({
        extnID: '1.3.6.1.4.1.99999.1',
        critical: true,
        extnValue: new asn1js.Null().toBER(false),
      }),
    );
  }
  certificate.extensions = extensions;
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey);
  const signer = spec.issuer?.keys.privateKey ?? keys.privateKey;
  await certificate.sign(signer, 'SHA-384');
  return { der: new Uint8Array(certificate.toSchema(true).toBER(false)), keys, subject: spec.subject };
}

export interface Chain {
  root: Issued;
  intermediates: Issued[];
  leaf: Issued;
}

export const HOUR = 3_600_000;
export const T0 = new Date('2025-06-01T12:00:00Z');

/** A Nitro-shaped chain: root, regional (pathLen 2), zonal (1), instance (0), leaf. */
export async function nitroLikeChain(
  overrides: {
    root?: Partial<CertificateSpec>;
    intermediate?: Partial<CertificateSpec>[];
    leaf?: Partial<CertificateSpec>;
  } = {},
): Promise<Chain> {
  const window = { notBefore: new Date(T0.getTime() - HOUR), notAfter: new Date(T0.getTime() + 2 * HOUR) };
  const root = await issue({
    subject: 'test.nitro-enclaves',
    ca: true,
    notBefore: new Date(T0.getTime() - 1000 * HOUR),
    notAfter: new Date(T0.getTime() + 1000 * HOUR),
    ...(overrides.root ?? {}),
  });
  const intermediates: Issued[] = [];
  let parent = root;
  for (let level = 0; level < 3; level++) {
    const next = await issue({
      subject: `level${level}.test.nitro-enclaves`,
      issuer: parent,
      ca: true,
      pathLength: 2 - level,
      ...window,
      ...(overrides.intermediate?.[level] ?? {}),
    });
    intermediates.push(next);
    parent = next;
  }
  const leaf = await issue({
    subject: 'i-test-enc1.test.aws',
    issuer: parent,
    ca: false,
    ...window,
    ...(overrides.leaf ?? {}),
  });
  return { root, intermediates, leaf };
}

export interface DocumentSpec {
  chain: Chain;
  moduleId?: string;
  timestamp?: number;
  pcrs?: Map<number, Uint8Array>;
  nonce?: Uint8Array | null;
  userData?: Uint8Array | null;
  publicKey?: Uint8Array | null;
  tagged?: boolean;
  indefinite?: boolean;
  /** Replace/extend payload fields after the defaults (raw CBOR values). */
  extra?: Record<string, unknown>;
}

export function defaultPcrs(fill = 0x11): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>();
  for (let index = 0; index < 16; index++) pcrs.set(index, new Uint8Array(48).fill(index < 3 ? fill : 0));
  return pcrs;
}

/** Signs a COSE_Sign1 attestation document with the leaf key of `spec.chain`. */
export async function makeDocument(spec: DocumentSpec): Promise<Uint8Array> {
  const { chain } = spec;
  const payloadMap = new Map<string, unknown>([
    ['module_id', spec.moduleId ?? 'i-test-enc1'],
    ['digest', 'SHA384'],
    ['timestamp', BigInt(spec.timestamp ?? T0.getTime())],
    ['pcrs', spec.pcrs ?? defaultPcrs()],
    ['certificate', chain.leaf.der],
    ['cabundle', [chain.root.der, ...chain.intermediates.map((issued) => issued.der)]],
    ['public_key', spec.publicKey === undefined ? null : spec.publicKey],
    ['user_data', spec.userData === undefined ? null : spec.userData],
    ['nonce', spec.nonce === undefined ? null : spec.nonce],
  ]);
  for (const [key, value] of Object.entries(spec.extra ?? {})) {
    if (value === undefined) payloadMap.delete(key);
    else payloadMap.set(key, value);
  }
  let payload = cborEncode(payloadMap);
  if (spec.indefinite) {
    if (payload[0]! < 0xa0 || payload[0]! > 0xb7) throw new Error('map header is not one byte');
    const indefinite = new Uint8Array(payload.length + 1);
    indefinite.set(payload);
    indefinite[0] = 0xbf;
    indefinite[payload.length] = 0xff;
    payload = indefinite;
  }
  const protectedHeader = new Uint8Array([0xa1, 0x01, 0x38, 0x22]);
  const toBeSigned = cborEncode(['Signature1', protectedHeader, new Uint8Array(0), payload]);
  const signature = new Uint8Array(
    await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-384' },
      chain.leaf.keys.privateKey,
      toBeSigned as Uint8Array<ArrayBuffer>,
    ),
  );
  const outer = cborEncode([protectedHeader, new Map(), payload, signature]);
  if (!spec.tagged) return outer;
  const tagged = new Uint8Array(outer.length + 1);
  tagged[0] = 0xd2;
  tagged.set(outer, 1);
  return tagged;
}

export function pemOf(der: Uint8Array, label = 'CERTIFICATE'): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${base64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

/** A certificate like `der` (same names, validity, extensions) but with a fresh P-384 key, self-signed. */
export async function rekeyedSelfSigned(der: Uint8Array): Promise<Uint8Array> {
  const certificate = pkijs.Certificate.fromBER(new Uint8Array(der));
  const keys = await generateKeys('P-384');
  await certificate.subjectPublicKeyInfo.importKey(keys.publicKey);
  await certificate.sign(keys.privateKey, 'SHA-384');
  return new Uint8Array(certificate.toSchema(true).toBER(false));
}

/** Position of `needle` inside `haystack` (throws when absent). */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  const index = Buffer.from(haystack).indexOf(Buffer.from(needle));
  if (index < 0) throw new Error('needle not found');
  return index;
}

/** A copy of `bytes` with the byte at `index` XORed with `mask`. */
export function flipped(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index]! ^= mask;
  return copy;
}
