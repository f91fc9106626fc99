import { type Bytes, base64ToBytes, hexToBytes, utf8ToBytes } from '@confidential-ai/bytes';
import { TdxAttestationError } from './errors.js';
import { pemCertificatesToDer } from './pem.js';

/**
 * DCAP collateral for one quote, in the JSON shape that Phala's dcap-qvl (`QuoteCollateralV3`) and PCCS
 * clients produce: issuer chains as PEM, CRLs as hex DER (PEM is accepted too), TCB info and QE identity as
 * the exact JSON text that Intel signed, signatures as hex `r || s`. camelCase keys are accepted as aliases.
 */
export interface TdxCollateralJson {
  /** PEM chain of the PCK CRL issuer (PCK Platform/Processor CA, then the root). */
  pck_crl_issuer_chain: string;
  /** Root CA CRL, hex DER (issued by the Intel SGX Root CA). */
  root_ca_crl: string;
  /** PCK CRL, hex DER (issued by the PCK Platform/Processor CA). */
  pck_crl: string;
  /** PEM chain of the TCB info signer (Intel SGX TCB Signing, then the root). */
  tcb_info_issuer_chain: string;
  /** The signed TCB info JSON text (the `tcbInfo` member of Intel's response, byte-exact). */
  tcb_info: string;
  /** Signature over `tcb_info`, hex `r || s`. */
  tcb_info_signature: string;
  /** PEM chain of the QE identity signer. */
  qe_identity_issuer_chain: string;
  /** The signed QE identity JSON text (the `enclaveIdentity` member, byte-exact). */
  qe_identity: string;
  /** Signature over `qe_identity`, hex `r || s`. */
  qe_identity_signature: string;
}

/** A TCB status as Intel defines it. */
export type TcbStatus =
  | 'UpToDate'
  | 'SWHardeningNeeded'
  | 'ConfigurationNeeded'
  | 'ConfigurationAndSWHardeningNeeded'
  | 'OutOfDate'
  | 'OutOfDateConfigurationNeeded'
  | 'Revoked';

/** Every {@link TcbStatus}, from best to worst. */
export const TCB_STATUSES: readonly TcbStatus[] = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
];

/** One platform TCB level of TCB info. */
export interface TcbLevel {
  /** The 16 SGX component SVNs. */
  sgxTcbComponents: number[];
  /** The 16 TDX component SVNs. */
  tdxTcbComponents: number[];
  /** PCESVN. */
  pceSvn: number;
  /** Date of the TCB level. */
  tcbDate: string;
  /** Status of the level. */
  tcbStatus: TcbStatus;
  /** Intel security advisory ids. */
  advisoryIds: string[];
}

/** A TDX module identity of TCB info v3. */
export interface TdxModuleIdentity {
  /** Id, `TDX_<version as 2 hex digits>`. */
  id: string;
  /** Expected MRSIGNERSEAM (48 bytes). */
  mrSigner: Bytes;
  /** Expected SEAM attributes (8 bytes). */
  attributes: Bytes;
  /** Mask of the SEAM attributes (8 bytes). */
  attributesMask: Bytes;
  /** Levels by the module's ISVSVN, as listed. */
  tcbLevels: IsvSvnTcbLevel[];
}

/** A TCB level keyed by an ISVSVN (QE identity, TDX module identity). */
export interface IsvSvnTcbLevel {
  /** ISVSVN of the level. */
  isvSvn: number;
  /** Date of the level. */
  tcbDate: string;
  /** Status of the level. */
  tcbStatus: TcbStatus;
  /** Intel security advisory ids. */
  advisoryIds: string[];
}

/** Parsed TDX TCB info (id `TDX`, version 3). */
export interface TcbInfo {
  /** `TDX`. */
  id: string;
  /** 3. */
  version: number;
  /** Issue date. */
  issueDate: Date;
  /** Next update: the TCB info is stale after it. */
  nextUpdate: Date;
  /** FMSPC (6 bytes). */
  fmspc: Bytes;
  /** PCE-ID (2 bytes). */
  pceId: Bytes;
  /** TCB evaluation data number. */
  tcbEvaluationDataNumber: number;
  /** Base TDX module identity (mrsigner, attributes, mask). */
  tdxModule: Omit<TdxModuleIdentity, 'id' | 'tcbLevels'>;
  /** Versioned TDX module identities. */
  tdxModuleIdentities: TdxModuleIdentity[];
  /** Platform TCB levels, as listed. */
  tcbLevels: TcbLevel[];
}

/** Parsed QE identity (id `TD_QE`). */
export interface QeIdentity {
  /** `TD_QE`. */
  id: string;
  /** 2 (or 3). */
  version: number;
  /** Issue date. */
  issueDate: Date;
  /** Next update. */
  nextUpdate: Date;
  /** TCB evaluation data number. */
  tcbEvaluationDataNumber: number;
  /** Expected MISCSELECT. */
  miscSelect: number;
  /** MISCSELECT mask. */
  miscSelectMask: number;
  /** Expected ATTRIBUTES (16 bytes). */
  attributes: Bytes;
  /** ATTRIBUTES mask (16 bytes). */
  attributesMask: Bytes;
  /** Expected MRSIGNER (32 bytes). */
  mrSigner: Bytes;
  /** Expected ISVPRODID. */
  isvProdId: number;
  /** Levels by QE ISVSVN. */
  tcbLevels: IsvSvnTcbLevel[];
}

/** Collateral decoded into bytes and typed JSON, signatures not yet checked. */
export interface DecodedCollateral {
  /** PCK CRL issuer chain, DER, leaf first. */
  pckCrlIssuerChain: Bytes[];
  /** Root CA CRL, DER. */
  rootCaCrl: Bytes;
  /** PCK CRL, DER. */
  pckCrl: Bytes;
  /** TCB info signer chain, DER, leaf first. */
  tcbInfoIssuerChain: Bytes[];
  /** Signed TCB info text as UTF-8. */
  tcbInfoBytes: Bytes;
  /** Parsed TCB info. */
  tcbInfo: TcbInfo;
  /** TCB info signature, raw `r || s`. */
  tcbInfoSignature: Bytes;
  /** QE identity signer chain, DER, leaf first. */
  qeIdentityIssuerChain: Bytes[];
  /** Signed QE identity text as UTF-8. */
  qeIdentityBytes: Bytes;
  /** Parsed QE identity. */
  qeIdentity: QeIdentity;
  /** QE identity signature, raw `r || s`. */
  qeIdentitySignature: Bytes;
}

function bad(message: string, cause?: unknown): TdxAttestationError {
  return new TdxAttestationError('ERR_TDX_COLLATERAL_MALFORMED', `collateral: ${message}`, { cause });
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(source: Json, snake: string, camel: string): string {
  const value = source[snake] ?? source[camel];
  if (typeof value !== 'string' || value.length === 0)
    throw bad(`${snake} is missing or not a non-empty string`);
  return value;
}

function chain(text: string, what: string): Bytes[] {
  const out = pemCertificatesToDer(text);
  if (out === undefined) throw bad(`${what} is not a PEM certificate list`);
  return out;
}

function crl(text: string, what: string): Bytes {
  const trimmed = text.trim();
  const pem = /^-----BEGIN X509 CRL-----([\s\S]*)-----END X509 CRL-----$/.exec(trimmed);
  try {
    if (pem) return base64ToBytes(pem[1]!.replace(/\s/g, ''));
    return hexToBytes(trimmed, { allowPrefix: true });
  } catch (cause) {
    throw bad(`${what} is neither hex nor PEM`, cause);
  }
}

function signature(text: string, what: string): Bytes {
  try {
    return hexToBytes(text.trim(), { allowPrefix: true, length: 64 });
  } catch (cause) {
    throw bad(`${what} must be 64 bytes of hex (r || s)`, cause);
  }
}

function str(source: Json, key: string, what: string): string {
  const value = source[key];
  if (typeof value !== 'string') throw bad(`${what}.${key} is not a string`);
  return value;
}

function int(source: Json, key: string, what: string, max: number): number {
  const value = source[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw bad(`${what}.${key} is not an integer in 0..${max}`);
  }
  return value;
}

function hexField(source: Json, key: string, what: string, length: number): Bytes {
  try {
    return hexToBytes(str(source, key, what), { length });
  } catch (cause) {
    if (TdxAttestationError.isInstance(cause)) throw cause;
    throw bad(`${what}.${key} must be ${length} bytes of hex`, cause);
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function date(source: Json, key: string, what: string): Date {
  const text = str(source, key, what);
  const value = new Date(text);
  if (!DATE.test(text) || Number.isNaN(value.getTime()))
    throw bad(`${what}.${key} is not an RFC 3339 UTC date`);
  return value;
}

function array(source: Json, key: string, what: string, optional = false): unknown[] {
  const value = source[key];
  if (value === undefined && optional) return [];
  if (!Array.isArray(value)) throw bad(`${what}.${key} is not an array`);
  return value;
}

function status(source: Json, what: string): TcbStatus {
  const value = source.tcbStatus;
  if (typeof value !== 'string' || !(TCB_STATUSES as readonly string[]).includes(value)) {
    throw bad(`${what}.tcbStatus is not a known TCB status`);
  }
  return value as TcbStatus;
}

function advisories(source: Json, what: string): string[] {
  const list = array(source, 'advisoryIDs', what, true);
  return list.map((item) => {
    if (typeof item !== 'string') throw bad(`${what}.advisoryIDs holds a non-string`);
    return item;
  });
}

function components(tcb: Json, key: string, what: string, optional: boolean): number[] {
  const list = array(tcb, key, what, optional);
  if (list.length === 0 && optional) return [];
  if (list.length !== 16) throw bad(`${what}.${key} must have 16 entries`);
  return list.map((item, index) => {
    if (!isObject(item)) throw bad(`${what}.${key}[${index}] is not an object`);
    return int(item, 'svn', `${what}.${key}[${index}]`, 255);
  });
}

function isvLevels(source: Json, what: string): IsvSvnTcbLevel[] {
  return array(source, 'tcbLevels', what).map((item, index) => {
    const where = `${what}.tcbLevels[${index}]`;
    if (!isObject(item) || !isObject(item.tcb)) throw bad(`${where} is not a TCB level`);
    return {
      isvSvn: int(item.tcb, 'isvsvn', `${where}.tcb`, 65535),
      tcbDate: str(item, 'tcbDate', where),
      tcbStatus: status(item, where),
      advisoryIds: advisories(item, where),
    };
  });
}

function parseJson(text: string, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw bad(`${what} is not JSON`, cause);
  }
  if (!isObject(value)) throw bad(`${what} is not a JSON object`);
  return value;
}

/** Parses and type-checks TDX TCB info JSON text (signature not checked). */
export function parseTcbInfo(text: string): TcbInfo {
  const json = parseJson(text, 'tcb_info');
  const what = 'tcbInfo';
  const module = json.tdxModule;
  if (!isObject(module)) throw bad('tcbInfo.tdxModule is missing');
  return {
    id: str(json, 'id', what),
    version: int(json, 'version', what, 255),
    issueDate: date(json, 'issueDate', what),
    nextUpdate: date(json, 'nextUpdate', what),
    fmspc: hexField(json, 'fmspc', what, 6),
    pceId: hexField(json, 'pceId', what, 2),
    tcbEvaluationDataNumber: int(json, 'tcbEvaluationDataNumber', what, 2 ** 32 - 1),
    tdxModule: {
      mrSigner: hexField(module, 'mrsigner', `${what}.tdxModule`, 48),
      attributes: hexField(module, 'attributes', `${what}.tdxModule`, 8),
      attributesMask: hexField(module, 'attributesMask', `${what}.tdxModule`, 8),
    },
    tdxModuleIdentities: array(json, 'tdxModuleIdentities', what, true).map((item, index) => {
      const where = `${what}.tdxModuleIdentities[${index}]`;
      if (!isObject(item)) throw bad(`${where} is not an object`);
      return {
        id: str(item, 'id', where),
        mrSigner: hexField(item, 'mrsigner', where, 48),
        attributes: hexField(item, 'attributes', where, 8),
        attributesMask: hexField(item, 'attributesMask', where, 8),
        tcbLevels: isvLevels(item, where),
      };
    }),
    tcbLevels: array(json, 'tcbLevels', what).map((item, index) => {
      const where = `${what}.tcbLevels[${index}]`;
      if (!isObject(item) || !isObject(item.tcb)) throw bad(`${where} is not a TCB level`);
      return {
        sgxTcbComponents: components(item.tcb, 'sgxtcbcomponents', `${where}.tcb`, false),
        tdxTcbComponents: components(item.tcb, 'tdxtcbcomponents', `${where}.tcb`, false),
        pceSvn: int(item.tcb, 'pcesvn', `${where}.tcb`, 65535),
        tcbDate: str(item, 'tcbDate', where),
        tcbStatus: status(item, where),
        advisoryIds: advisories(item, where),
      };
    }),
  };
}

function u32Le(bytes: Bytes): number {
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
}

/** Parses and type-checks QE identity JSON text (signature not checked). */
export function parseQeIdentity(text: string): QeIdentity {
  const json = parseJson(text, 'qe_identity');
  const what = 'enclaveIdentity';
  return {
    id: str(json, 'id', what),
    version: int(json, 'version', what, 255),
    issueDate: date(json, 'issueDate', what),
    nextUpdate: date(json, 'nextUpdate', what),
    tcbEvaluationDataNumber: int(json, 'tcbEvaluationDataNumber', what, 2 ** 32 - 1),
    // MISCSELECT is written as the little-endian bytes of the u32, like the report field.
    miscSelect: u32Le(hexField(json, 'miscselect', what, 4)),
    miscSelectMask: u32Le(hexField(json, 'miscselectMask', what, 4)),
    attributes: hexField(json, 'attributes', what, 16),
    attributesMask: hexField(json, 'attributesMask', what, 16),
    mrSigner: hexField(json, 'mrsigner', what, 32),
    isvProdId: int(json, 'isvprodid', what, 65535),
    tcbLevels: isvLevels(json, what),
  };
}

/**
 * Decodes collateral (an object or its JSON text) into bytes and typed TCB info / QE identity. No signature,
 * chain or date is checked here.
 * @throws TdxAttestationError `ERR_TDX_COLLATERAL_MALFORMED`
 */
export function decodeCollateral(
  collateral: TdxCollateralJson | string | Record<string, unknown>,
): DecodedCollateral {
  let source: unknown = collateral;
  if (typeof collateral === 'string') {
    try {
      source = JSON.parse(collateral);
    } catch (cause) {
      throw bad('not JSON', cause);
    }
  }
  if (!isObject(source)) throw bad('not a JSON object');
  const tcbInfoText = field(source, 'tcb_info', 'tcbInfo');
  const qeIdentityText = field(source, 'qe_identity', 'qeIdentity');
  return {
    pckCrlIssuerChain: chain(
      field(source, 'pck_crl_issuer_chain', 'pckCrlIssuerChain'),
      'pck_crl_issuer_chain',
    ),
    rootCaCrl: crl(field(source, 'root_ca_crl', 'rootCaCrl'), 'root_ca_crl'),
    pckCrl: crl(field(source, 'pck_crl', 'pckCrl'), 'pck_crl'),
    tcbInfoIssuerChain: chain(
      field(source, 'tcb_info_issuer_chain', 'tcbInfoIssuerChain'),
      'tcb_info_issuer_chain',
    ),
    tcbInfoBytes: utf8ToBytes(tcbInfoText),
    tcbInfo: parseTcbInfo(tcbInfoText),
    tcbInfoSignature: signature(
      field(source, 'tcb_info_signature', 'tcbInfoSignature'),
      'tcb_info_signature',
    ),
    qeIdentityIssuerChain: chain(
      field(source, 'qe_identity_issuer_chain', 'qeIdentityIssuerChain'),
      'qe_identity_issuer_chain',
    ),
    qeIdentityBytes: utf8ToBytes(qeIdentityText),
    qeIdentity: parseQeIdentity(qeIdentityText),
    qeIdentitySignature: signature(
      field(source, 'qe_identity_signature', 'qeIdentitySignature'),
      'qe_identity_signature',
    ),
  };
}
