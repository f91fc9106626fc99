import { type Bytes, bytesToHex, concatBytes } from '@confidential-ai/bytes';
import { sha256 } from '@noble/hashes/sha2.js';
import type { TcbStatus, TdxCollateralJson } from './collateral.js';
import {
  INTEL_QE_VENDOR_ID,
  SGX_REPORT_BODY_SIZE,
  TDX_BODY_TYPE_TD_REPORT10,
  TDX_BODY_TYPE_TD_REPORT15,
  TDX_QUOTE_BODY_DESCRIPTOR_SIZE,
  TDX_QUOTE_HEADER_SIZE,
  TDX_QUOTE_SIGNED_SIZE,
  TDX_TD_REPORT_BODY_SIZE,
  TDX_TD_REPORT15_BODY_SIZE,
} from './quote.js';
import { SGX_EXTENSIONS_OID } from './sgx-extensions.js';
import {
  caExtensions,
  createCrl,
  extension,
  issue,
  keyPair,
  leafExtensions,
  pem,
  sgxExtension,
  signRaw,
  subtle,
} from './testing-pki.js';

/** Options of {@link createTestTdxPlatform}. */
export interface TestTdxPlatformOptions {
  /** Start of every certificate's validity. Default 2020-01-01. */
  notBefore?: Date;
  /** End of every certificate's validity. Default 2099-12-31. */
  notAfter?: Date;
  /** FMSPC in the PCK certificate (6 bytes). Default `00806f050000`. */
  fmspc?: Uint8Array;
  /** PCESVN in the PCK certificate. Default 11. */
  pceSvn?: number;
  /** The 16 SGX TCB component SVNs in the PCK certificate. Default `[3,3,2,2,4,1,0,5,0,...]`. */
  sgxTcbComponents?: readonly number[];
}

/** Options of {@link TestTdxPlatform.createQuote}. */
export interface TestTdxQuoteOptions {
  /** Quote format version. Default 4. */
  version?: 4 | 5;
  /**
   * Version 5 only: body type 2 (TD report 1.0) or 3 (TD report 1.5, with TEE_TCB_SVN_2 and MR_SERVICETD).
   * Default 3.
   */
  bodyType?: 2 | 3;
  /** TD report 1.5 only: TEE_TCB_SVN_2 (16 bytes). Default: the same as `teeTcbSvn`. */
  teeTcbSvn2?: Uint8Array;
  /** TD report 1.5 only: MR_SERVICETD (48 bytes). Default zeros. */
  mrServiceTd?: Uint8Array;
  /** REPORTDATA (64 bytes). Default zeros. */
  reportData?: Uint8Array;
  /** TD_ATTRIBUTES (8 bytes). Default `0000001000000000` (SEPT_VE_DISABLE only). */
  tdAttributes?: Uint8Array;
  /** Set the DEBUG bit (bit 0) of TD_ATTRIBUTES. */
  debug?: boolean;
  /** TEE_TCB_SVN (16 bytes). Default `06010300...` (module ISVSVN 6, module version 1). */
  teeTcbSvn?: Uint8Array;
  /** MRTD (48 bytes). Default 48 bytes of 0x11. */
  mrTd?: Uint8Array;
  /** MRCONFIGID (48 bytes). Default zeros. */
  mrConfigId?: Uint8Array;
  /** RTMR0..3 (48 bytes each). Default 0x20..0x23 fills. */
  rtmrs?: readonly Uint8Array[];
  /** ISVSVN of the QE report. Default 6. */
  qeIsvSvn?: number;
  /** Zero bytes appended after the signature data. Default 0. */
  trailingBytes?: number;
}

/** Options of {@link TestTdxPlatform.createCollateral}. */
export interface TestCollateralOptions {
  /** Issue date of TCB info / QE identity and thisUpdate of the CRLs. Default 2025-01-01. */
  issueDate?: Date;
  /** nextUpdate of TCB info / QE identity / CRLs. Default 2099-01-01. */
  nextUpdate?: Date;
  /** Status of the TCB level the platform meets. Default `UpToDate`. */
  platformStatus?: TcbStatus;
  /** Advisory ids of that level. Default none. */
  platformAdvisoryIds?: string[];
  /** Status of the QE identity level the QE meets. Default `UpToDate`. */
  qeStatus?: TcbStatus;
  /** Status of the TDX module identity level `TDX_01` for module ISVSVN >= 4. Default `UpToDate`. */
  tdxModuleStatus?: TcbStatus;
  /** Advisory ids of that module level. Default none. */
  tdxModuleAdvisoryIds?: string[];
  /**
   * Include the catch-all TCB level (every SVN 0, `OutOfDate`, advisory `INTEL-SA-00000`) below the platform's
   * own level. Default true; without it a quote below the platform's level matches no TCB level.
   */
  includeBaselineLevel?: boolean;
  /** List the PCK leaf on the PCK CRL. */
  revokePckCertificate?: boolean;
  /** List the PCK Platform CA on the root CA CRL. */
  revokePckPlatformCa?: boolean;
  /** List the TCB signing certificate on the root CA CRL. */
  revokeTcbSigningCertificate?: boolean;
}

/** A synthetic TDX platform: a test root CA, PCK chain, TCB signing key, quoting enclave and attestation key. */
export interface TestTdxPlatform {
  /** DER of the test root CA; pass it as `root` to `verifyTdxQuote`. */
  root: Bytes;
  /** PEM of the test root CA. */
  rootPem: string;
  /** PEM chain PCK leaf, PCK Platform CA, root (as embedded in quotes). */
  pckChainPem: string;
  /** Builds and signs a TDX quote (v4, or v5 with a TD report 1.0 or 1.5 body). */
  createQuote(options?: TestTdxQuoteOptions): Promise<Bytes>;
  /** Builds and signs DCAP collateral (dcap-qvl JSON shape) for this platform. */
  createCollateral(options?: TestCollateralOptions): Promise<TdxCollateralJson>;
}

const QE_MRSIGNER = new Uint8Array(32).fill(0x5a);
const QE_ATTRIBUTES = Uint8Array.from([0x11, ...new Array<number>(15).fill(0)]);
const DEFAULT_SGX = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
const DEFAULT_TEE_TCB_SVN = Uint8Array.from([6, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function fill(length: number, value: number): Bytes {
  return new Uint8Array(length).fill(value);
}

function exact(
  value: Uint8Array | undefined,
  length: number,
  name: string,
  fallback: Uint8Array,
): Uint8Array {
  if (value === undefined) return fallback;
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw new RangeError(`${name} must be ${length} bytes`);
  return value;
}

function u16(value: number): Bytes {
  return Uint8Array.of(value & 0xff, (value >> 8) & 0xff);
}

function u32(value: number): Bytes {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Creates a synthetic TDX platform whose quotes and collateral verify with {@link verifyTdxQuote} when its
 * `root` is passed as the trust anchor. For tests and fake servers only: every key is generated in memory.
 *
 * @example Imported from the `/testing` subpath:
 * ```ts
 * const platform = await createTestTdxPlatform();
 * const quote = await platform.createQuote({ reportData });
 * await verifyTdxQuote(quote, { root: platform.root, expectedReportData: reportData });
 * ```
 */
export async function createTestTdxPlatform(options: TestTdxPlatformOptions = {}): Promise<TestTdxPlatform> {
  const validity = {
    notBefore: options.notBefore ?? new Date('2020-01-01T00:00:00Z'),
    notAfter: options.notAfter ?? new Date('2099-12-31T23:59:59Z'),
  };
  const fmspc = exact(options.fmspc, 6, 'fmspc', Uint8Array.from([0x00, 0x80, 0x6f, 0x05, 0x00, 0x00]));
  const pceSvn = options.pceSvn ?? 11;
  const sgxComponents = options.sgxTcbComponents ?? DEFAULT_SGX;
  if (sgxComponents.length !== 16) throw new RangeError('sgxTcbComponents must have 16 entries');

  const root = await issue('Test SGX Root CA', undefined, validity, caExtensions());
  const pckCa = await issue('Test SGX PCK Platform CA', root, validity, caExtensions());
  const pckExtensions = [
    ...leafExtensions(),
    extension(SGX_EXTENSIONS_OID, false, sgxExtension(fmspc, pceSvn, sgxComponents)),
  ];
  const pckLeaf = await issue('Test SGX PCK Certificate', pckCa, validity, pckExtensions);
  const tcbSigning = await issue('Test SGX TCB Signing', root, validity, leafExtensions());
  const attestation = await keyPair();
  const attestationKey = new Uint8Array(await subtle().exportKey('raw', attestation.publicKey)).slice(1);
  const pckChainPem = pem(pckLeaf, pckCa, root);

  async function createQuote(quoteOptions: TestTdxQuoteOptions = {}): Promise<Bytes> {
    const tdAttributes = exact(
      quoteOptions.tdAttributes,
      8,
      'tdAttributes',
      Uint8Array.of(0, 0, 0, 0x10, 0, 0, 0, 0),
    ).slice();
    if (quoteOptions.debug) tdAttributes[0]! |= 1;
    const rtmrs = quoteOptions.rtmrs ?? [fill(48, 0x20), fill(48, 0x21), fill(48, 0x22), fill(48, 0x23)];
    if (rtmrs.length !== 4) throw new RangeError('rtmrs must have 4 entries');
    const version = quoteOptions.version ?? 4;
    if (version !== 4 && version !== 5) throw new RangeError('version must be 4 or 5');
    const bodyType =
      version === 5 ? (quoteOptions.bodyType ?? TDX_BODY_TYPE_TD_REPORT15) : TDX_BODY_TYPE_TD_REPORT10;
    if (bodyType !== TDX_BODY_TYPE_TD_REPORT10 && bodyType !== TDX_BODY_TYPE_TD_REPORT15)
      throw new RangeError('bodyType must be 2 or 3');
    const teeTcbSvn = exact(quoteOptions.teeTcbSvn, 16, 'teeTcbSvn', DEFAULT_TEE_TCB_SVN);
    const header = concatBytes(
      u16(version),
      u16(2),
      u32(0x81),
      u16(0),
      u16(0),
      INTEL_QE_VENDOR_ID,
      fill(20, 0),
    );
    const body10 = concatBytes(
      teeTcbSvn,
      fill(48, 0x33), // MRSEAM
      fill(48, 0), // MRSIGNERSEAM (Intel module)
      fill(8, 0), // SEAM_ATTRIBUTES
      tdAttributes,
      Uint8Array.of(0xe7, 0x02, 0x06, 0, 0, 0, 0, 0), // XFAM
      exact(quoteOptions.mrTd, 48, 'mrTd', fill(48, 0x11)),
      exact(quoteOptions.mrConfigId, 48, 'mrConfigId', fill(48, 0)),
      fill(48, 0), // MROWNER
      fill(48, 0), // MROWNERCONFIG
      ...rtmrs.map((value, index) => exact(value, 48, `rtmrs[${index}]`, value)),
      exact(quoteOptions.reportData, 64, 'reportData', fill(64, 0)),
    );
    const body =
      bodyType === TDX_BODY_TYPE_TD_REPORT15
        ? concatBytes(
            body10,
            exact(quoteOptions.teeTcbSvn2, 16, 'teeTcbSvn2', teeTcbSvn),
            exact(quoteOptions.mrServiceTd, 48, 'mrServiceTd', fill(48, 0)),
          )
        : body10;
    const signed =
      version === 5 ? concatBytes(header, u16(bodyType), u32(body.length), body) : concatBytes(header, body);
    const expectedSize =
      version === 4
        ? TDX_QUOTE_SIGNED_SIZE
        : TDX_QUOTE_HEADER_SIZE +
          TDX_QUOTE_BODY_DESCRIPTOR_SIZE +
          (bodyType === TDX_BODY_TYPE_TD_REPORT15 ? TDX_TD_REPORT15_BODY_SIZE : TDX_TD_REPORT_BODY_SIZE);
    if (signed.length !== expectedSize) throw new Error('internal: wrong quote body size');
    const signature = await signRaw(attestation.privateKey, signed);
    const authData = Uint8Array.from({ length: 32 }, (_, index) => index);
    const qeReport = new Uint8Array(SGX_REPORT_BODY_SIZE);
    qeReport.set(Uint8Array.from(sgxComponents), 0);
    qeReport.set(QE_ATTRIBUTES, 48);
    qeReport.set(fill(32, 0x44), 64);
    qeReport.set(QE_MRSIGNER, 128);
    qeReport.set(u16(2), 256);
    qeReport.set(u16(quoteOptions.qeIsvSvn ?? 6), 258);
    qeReport.set(sha256(concatBytes(attestationKey, authData)), 320);
    const qeReportSignature = await signRaw(pckLeaf.keys.privateKey, qeReport);
    const chain = new TextEncoder().encode(pckChainPem);
    const inner = concatBytes(
      qeReport,
      qeReportSignature,
      u16(authData.length),
      authData,
      u16(5),
      u32(chain.length),
      chain,
    );
    const signatureData = concatBytes(signature, attestationKey, u16(6), u32(inner.length), inner);
    return concatBytes(
      signed,
      u32(signatureData.length),
      signatureData,
      fill(quoteOptions.trailingBytes ?? 0, 0),
    );
  }

  async function createCollateral(collateralOptions: TestCollateralOptions = {}): Promise<TdxCollateralJson> {
    const issueDate = collateralOptions.issueDate ?? new Date('2025-01-01T00:00:00Z');
    const nextUpdate = collateralOptions.nextUpdate ?? new Date('2099-01-01T00:00:00Z');
    const level = (status: TcbStatus, advisoryIds: readonly string[] = []) =>
      advisoryIds.length > 0
        ? { tcbDate: '2024-03-13T00:00:00Z', tcbStatus: status, advisoryIDs: advisoryIds }
        : { tcbDate: '2024-03-13T00:00:00Z', tcbStatus: status };
    const components = (values: readonly number[]) => values.map((svn) => ({ svn }));
    const tcbInfo = JSON.stringify({
      id: 'TDX',
      version: 3,
      issueDate: iso(issueDate),
      nextUpdate: iso(nextUpdate),
      fmspc: bytesToHex(fmspc).toUpperCase(),
      pceId: '0000',
      tcbType: 0,
      tcbEvaluationDataNumber: 17,
      tdxModule: {
        mrsigner: '00'.repeat(48),
        attributes: '0000000000000000',
        attributesMask: 'FFFFFFFFFFFFFFFF',
      },
      tdxModuleIdentities: [
        {
          id: 'TDX_01',
          mrsigner: '00'.repeat(48),
          attributes: '0000000000000000',
          attributesMask: 'FFFFFFFFFFFFFFFF',
          tcbLevels: [
            {
              tcb: { isvsvn: 4 },
              ...level(
                collateralOptions.tdxModuleStatus ?? 'UpToDate',
                collateralOptions.tdxModuleAdvisoryIds,
              ),
            },
            { tcb: { isvsvn: 2 }, ...level('OutOfDate', ['INTEL-SA-00001']) },
          ],
        },
      ],
      tcbLevels: [
        {
          tcb: {
            sgxtcbcomponents: components(sgxComponents),
            pcesvn: pceSvn,
            tdxtcbcomponents: components([5, 0, 2, ...new Array<number>(13).fill(0)]),
          },
          ...level(collateralOptions.platformStatus ?? 'UpToDate', collateralOptions.platformAdvisoryIds),
        },
        ...(collateralOptions.includeBaselineLevel === false
          ? []
          : [
              {
                tcb: {
                  sgxtcbcomponents: components(new Array<number>(16).fill(0)),
                  pcesvn: 0,
                  tdxtcbcomponents: components(new Array<number>(16).fill(0)),
                },
                ...level('OutOfDate', ['INTEL-SA-00000']),
              },
            ]),
      ],
    });
    const qeIdentity = JSON.stringify({
      id: 'TD_QE',
      version: 2,
      issueDate: iso(issueDate),
      nextUpdate: iso(nextUpdate),
      tcbEvaluationDataNumber: 17,
      miscselect: '00000000',
      miscselectMask: 'FFFFFFFF',
      attributes: bytesToHex(QE_ATTRIBUTES).toUpperCase(),
      attributesMask: 'FBFFFFFFFFFFFFFF0000000000000000',
      mrsigner: bytesToHex(QE_MRSIGNER).toUpperCase(),
      isvprodid: 2,
      tcbLevels: [{ tcb: { isvsvn: 4 }, ...level(collateralOptions.qeStatus ?? 'UpToDate') }],
    });
    const encoder = new TextEncoder();
    const rootRevoked = [
      ...(collateralOptions.revokePckPlatformCa ? [pckCa] : []),
      ...(collateralOptions.revokeTcbSigningCertificate ? [tcbSigning] : []),
    ];
    return {
      pck_crl_issuer_chain: pem(pckCa, root),
      root_ca_crl: bytesToHex(await createCrl(root, issueDate, nextUpdate, rootRevoked)),
      pck_crl: bytesToHex(
        await createCrl(
          pckCa,
          issueDate,
          nextUpdate,
          collateralOptions.revokePckCertificate ? [pckLeaf] : [],
        ),
      ),
      tcb_info_issuer_chain: pem(tcbSigning, root),
      tcb_info: tcbInfo,
      tcb_info_signature: bytesToHex(await signRaw(tcbSigning.keys.privateKey, encoder.encode(tcbInfo))),
      qe_identity_issuer_chain: pem(tcbSigning, root),
      qe_identity: qeIdentity,
      qe_identity_signature: bytesToHex(
        await signRaw(tcbSigning.keys.privateKey, encoder.encode(qeIdentity)),
      ),
    };
  }

  return { root: root.der, rootPem: pem(root), pckChainPem, createQuote, createCollateral };
}

/**
 * A getter for one platform per fake server: `given` when there is one, else a platform created on the first
 * call (generating keys takes a moment, so servers that never serve a quote never pay for it) and the same one
 * on every later call.
 *
 * @example
 * ```ts
 * const tdxPlatform = lazyTestTdxPlatform(options.tdxPlatform);
 * const quote = await (await tdxPlatform()).createQuote({ reportData });
 * ```
 */
export function lazyTestTdxPlatform(given?: TestTdxPlatform): () => Promise<TestTdxPlatform> {
  let platform: Promise<TestTdxPlatform> | undefined = given ? Promise.resolve(given) : undefined;
  return () => {
    platform ??= createTestTdxPlatform();
    return platform;
  };
}
